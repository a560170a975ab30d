"""
The verifier's physics: who the metric result says is a person, whatever proposed them.

The landmark stage has already asked the landmark network (its pose presence, higher for
a box than for a detection, and enough visible landmarks) and removed duplicate
skeletons. After the ``place`` stage the metric result says more, as physics
(:class:`Evidence`): a person's two distance estimates must agree, the 3DMPPE size prior
of their region (a person's region covers about 2 m of the world) and the least-squares
fit of the metric skeleton to the 2D landmarks; and the placed skeleton, projected, must
land on those landmarks; and the landmarks must span a body of their region's size, not
collapse into a corner of it, as the network's answers to shapes and clutter do; and the
network's own segmentation must hold the skeleton's torso.
"""

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .backends import Placement
from .config import EstimatorConfig
from .landmarks import KeptPersons
from ..geometry.camera import CameraModel
from ..models.joint_sets import JointSet


@dataclass(frozen=True)
class Evidence:
    """
    What the metric result says of N persons.

    ``distance_ratio`` (N,) the fitted root depth over the size prior's depth (1: they
    agree); ``reprojection`` (N,) the mean distance between the placed joints' projections
    and the 2D keypoints, over visible joints, as a fraction of the region side;
    ``body_extent`` (N,) the longer side of the 33 landmarks' extent (inside the image or
    not) over the region side: about 0.6 to 0.8 for a person, whom the region holds whole;
    ``body_support`` (N,) the network's own person segmentation at its torso landmarks
    (:func:`~.landmarks.body_support`): near 1 for a person, low for a skeleton the network
    draws on part of someone else, a leg or an arm.
    """

    distance_ratio: np.ndarray
    reprojection: np.ndarray
    body_extent: np.ndarray
    body_support: np.ndarray

    @staticmethod
    def of(kept: KeptPersons, placement: Placement, camera: CameraModel,
           joint_set: JointSet) -> 'Evidence':
        """Measure the placed persons (N of ``kept`` and ``placement`` in ``joint_set``)."""
        fx, fy, _, _ = camera.intrinsics
        joints = placement.joints
        depth = np.clip(joints[..., 2:], 1e-6, None)
        error = (joints[..., :2] / depth - camera.normalised(placement.keypoints)) * [fx, fy]
        weights = placement.visibility
        mean_px = (np.linalg.norm(error, axis=-1) * weights).sum(-1) / \
            np.clip(weights.sum(-1), 1e-9, None)
        extent = kept.pixels.max(1) - kept.pixels.min(1)
        return Evidence(joint_set.root_of(joints)[:, 2] / placement.prior_z,
                        mean_px / kept.sides, extent.max(-1) / kept.sides, kept.body_support)

    def verified(self, config: EstimatorConfig) -> np.ndarray:
        """Return (N,) bool: who passes every check the settings set."""
        bound = np.log(config.max_distance_ratio)
        return (np.abs(np.log(np.clip(self.distance_ratio, 1e-9, None))) <= bound) & \
            (self.reprojection <= config.max_reprojection_error) & \
            (self.body_extent >= config.min_body_extent) & \
            (self.body_support >= config.min_body_support)


def verify(kept: KeptPersons, placement: Placement, camera: CameraModel, joint_set: JointSet,
           config: EstimatorConfig) -> Tuple[KeptPersons, Placement]:
    """Return the placed persons the physics accepts (:meth:`Evidence.verified`)."""
    accepted = Evidence.of(kept, placement, camera, joint_set).verified(config)
    return kept.select(accepted), placement.select(accepted)
