"""
The verifier's physics: who the metric result says is a person, whatever proposed them.

The landmark stage asks the landmark network (its pose presence, higher for a box than
for a detection, and enough visible landmarks) and, before it removes duplicate
skeletons, whether the landmarks form a body (:func:`body_shaped`): they must span a body
of their region's size, not collapse into a corner of it, as the network's answers to
shapes and clutter do, and the network's own segmentation must hold the skeleton's torso.
After the ``place`` stage the metric result says more, as physics (:class:`Evidence`): a
person's two distance estimates must agree, the 3DMPPE size prior of their region (a
person's region covers about 2 m of the world) and the least-squares fit of the metric
skeleton to the 2D landmarks; and the placed skeleton, projected, must land on those
landmarks.
"""

from dataclasses import dataclass
from typing import Tuple

import numpy as np
import torch

from .backends import Placement
from .config import EstimatorConfig
from .landmarks import KeptPersons
from ..geometry.camera import CameraModel
from ..models.joint_sets import JointSet


def body_shaped(pixels: torch.Tensor, sides: torch.Tensor, support: torch.Tensor,
                config: EstimatorConfig) -> torch.Tensor:
    """
    Return (N,) bool: whose landmarks form a body, as the landmark stage sees them.

    ``pixels`` (N, 33, 2) image landmarks, ``sides`` (N,) their region sides and
    ``support`` (N,) :attr:`~.landmarks.Landmarks.body_support`, on the device. The
    landmarks' extent (inside the image or not), its longer side over the region side,
    must reach ``min_body_extent``: about 0.6 to 0.8 for a person, whom the region holds
    whole, less for the network's answers to shapes and clutter, which collapse into a
    corner of it; and the support must reach ``min_body_support``: near 1 for a person,
    low for a skeleton drawn on part of someone else, a leg or an arm.
    """
    extent = (pixels.amax(1) - pixels.amin(1)).amax(-1) / sides
    return (extent >= config.min_body_extent) & (support >= config.min_body_support)


@dataclass(frozen=True)
class Evidence:
    """
    What the metric result says of N persons.

    ``distance_ratio`` (N,) the fitted root depth over the size prior's depth (1: they
    agree); ``reprojection`` (N,) the mean distance between the placed joints' projections
    and the 2D keypoints, over visible joints, as a fraction of the region side.
    """

    distance_ratio: np.ndarray
    reprojection: np.ndarray

    @staticmethod
    def of(placement: Placement, camera: CameraModel, sides: np.ndarray,
           joint_set: JointSet) -> 'Evidence':
        """Measure N placed persons (``placement`` in ``joint_set``, region ``sides``)."""
        fx, fy, _, _ = camera.intrinsics
        joints = placement.joints
        depth = np.clip(joints[..., 2:], 1e-6, None)
        error = (joints[..., :2] / depth - camera.normalised(placement.keypoints)) * [fx, fy]
        weights = placement.visibility
        mean_px = (np.linalg.norm(error, axis=-1) * weights).sum(-1) / \
            np.clip(weights.sum(-1), 1e-9, None)
        return Evidence(joint_set.root_of(joints)[:, 2] / placement.prior_z, mean_px / sides)

    def verified(self, config: EstimatorConfig) -> np.ndarray:
        """Return (N,) bool: who passes every check the settings set."""
        bound = np.log(config.max_distance_ratio)
        return (np.abs(np.log(np.clip(self.distance_ratio, 1e-9, None))) <= bound) & \
            (self.reprojection <= config.max_reprojection_error)


def verify(kept: KeptPersons, placement: Placement, camera: CameraModel, joint_set: JointSet,
           config: EstimatorConfig) -> Tuple[KeptPersons, Placement]:
    """Return the placed persons the physics accepts (:meth:`Evidence.verified`)."""
    accepted = Evidence.of(placement, camera, kept.sides, joint_set).verified(config)
    return kept.select(accepted), placement.select(accepted)
