"""
Pose backends: where each kept person's 3D skeleton comes from, and how it is placed in metres.

Every backend answers the estimator's ``place`` stage the same way
(:class:`PoseBackend`): from the persons the landmark stage kept, it returns those it could
place and their :class:`Placement` in its :attr:`~PoseBackend.joint_set`. One per
``pose_backend`` setting (:data:`BACKENDS`):

* ``blazepose`` (:class:`WorldLandmarks`): the landmark network's metric world landmarks,
  placed by the root localisation (:func:`pose3d_ros.geometry.root.place`);
* ``lifting`` (:class:`Lifting`): the Martinez network lifts the 2D landmarks, mapped to
  Human3.6M-17, and the root localisation places them (``pose3d-lifter lift`` uses the same
  :meth:`Lifting.lift_and_place` for another detector's keypoints);
* ``3dmppe`` (:class:`RootNetPoseNet`): 3DMPPE's RootNet and PoseNet on each person's box.
"""

from dataclasses import dataclass, fields
from typing import Callable, Dict, List, Optional, Protocol, Tuple

import numpy as np
import torch

from .config import EstimatorConfig
from .landmarks import KeptPersons
from ..geometry import boxes
from ..geometry.camera import CameraModel
from ..geometry.root import place, prior_depth
from ..lifting.lifter import Lifter, lifter_dir
from ..models.joint_sets import BLAZEPOSE_33, HUMAN36M_17, JointSet
from ..mppe.backend import Mppe
from ..mppe.preprocessing import process_boxes


@dataclass(frozen=True)
class Placement:
    """
    The placed persons in the backend's joint set (N persons, J joints).

    ``keypoints`` (N, J, 2) delivered-image pixels; ``visibility`` (N, J) in [0, 1];
    ``joints`` (N, J, 3) metres, camera optical frame (x right, y down, z forward), their
    root the hips' midpoint; ``prior_z`` (N,) the distance prior, metres; ``from_fit`` (N,)
    False where the prior alone placed the person.
    """

    keypoints: np.ndarray
    visibility: np.ndarray
    joints: np.ndarray
    prior_z: np.ndarray
    from_fit: np.ndarray

    def select(self, index: np.ndarray) -> 'Placement':
        """Return the persons at ``index`` (indices or a boolean mask)."""
        return Placement(*(getattr(self, field.name)[index] for field in fields(self)))


class PoseBackend(Protocol):
    """What the estimator asks of a pose backend."""

    #: The joints its skeletons have.
    joint_set: JointSet

    def warm_up(self, image: torch.Tensor, camera: CameraModel) -> None:
        """Run what a frame without persons does not reach (the estimator's warm-up)."""

    def place(self, image: torch.Tensor, kept: KeptPersons, camera: CameraModel,
              config: EstimatorConfig) -> Tuple[KeptPersons, Placement]:
        """Return the persons of ``kept`` this backend placed, and their placement."""


def inside_image(pixels: torch.Tensor, camera: CameraModel) -> torch.Tensor:
    """Return which (..., 2) delivered-image pixels lie inside the image, (...,) bool."""
    u, v = pixels[..., 0], pixels[..., 1]
    return (u >= 0) & (u <= camera.width - 1) & (v >= 0) & (v <= camera.height - 1)


def _root_fit_inputs(kept: KeptPersons, camera: CameraModel,
                     joint_set: JointSet) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Return what the root fit needs of the kept persons, in ``joint_set``.

    (N, J, 2) undistorted normalised rays; (N, J) weights, the visibility of landmarks
    inside the image (the joints that only average others weigh 0: the torso is counted
    once); (N,) the distance prior of their regions, metres.
    """
    fx, fy, cx, cy = camera.intrinsics
    rays = joint_set.convert((kept.pixels - [cx, cy]) / [fx, fy])
    weights = joint_set.convert((kept.visibility * kept.inside)[..., None])[..., 0]
    weights[:, list(joint_set.redundant)] = 0.0
    return rays, weights, prior_depth(fx, fy, kept.sides)


def _placement(kept: KeptPersons, joint_set: JointSet, joints: np.ndarray,
               prior_z: np.ndarray, from_fit: np.ndarray) -> Placement:
    """Return the placement with the landmarks' 2D keypoints and visibility in the set."""
    return Placement(joint_set.convert(kept.delivered),
                     joint_set.convert(kept.visibility[..., None])[..., 0], joints, prior_z,
                     from_fit)


class WorldLandmarks:
    """Backend ``blazepose``: the world landmarks, placed by the root localisation."""

    joint_set = BLAZEPOSE_33

    def warm_up(self, image: torch.Tensor, camera: CameraModel) -> None:
        """Nothing beyond the landmark stage."""

    def place(self, image: torch.Tensor, kept: KeptPersons, camera: CameraModel,
              config: EstimatorConfig) -> Tuple[KeptPersons, Placement]:
        """Fit each person's translation to the landmarks inside the image."""
        rays, weights, prior_z = _root_fit_inputs(kept, camera, BLAZEPOSE_33)
        relative = kept.world - BLAZEPOSE_33.root_of(kept.world)[:, None]
        joints, from_fit = place(relative, rays, weights, BLAZEPOSE_33, prior_z,
                                 config.root_prior_strength)
        return kept, _placement(kept, BLAZEPOSE_33, joints, prior_z, from_fit)


@dataclass(frozen=True)
class Lifted:
    """
    What :meth:`Lifting.lift_and_place` made of N 2D skeletons.

    ``lifted`` (N,) which were lifted; ``reasons`` per skeleton None or why it was refused;
    for the L lifted ones, ``joints`` (L, 17, 3) Human3.6M-17 metres, camera optical frame,
    and ``from_fit`` (L,).
    """

    lifted: np.ndarray
    reasons: List[Optional[str]]
    joints: np.ndarray
    from_fit: np.ndarray


class Lifting:
    """Backend ``lifting``: the Martinez network on the 2D landmarks, then the root fit."""

    joint_set = HUMAN36M_17

    def __init__(self, lifter: Lifter) -> None:
        self.lifter = lifter

    @classmethod
    def from_config(cls, config: EstimatorConfig, device: torch.device,
                    dtype: torch.dtype) -> 'Lifting':
        """Load ``lifter_weights`` (default: ``default.pt`` in the lifter cache)."""
        return cls(Lifter.load(config.lifter_weights or lifter_dir() / 'default.pt'))

    def warm_up(self, image: torch.Tensor, camera: CameraModel) -> None:
        """Nothing beyond the landmark stage (the lifter runs on the CPU in NumPy)."""

    def lift_and_place(self, rays: np.ndarray, weights: np.ndarray, prior_z: np.ndarray,
                       prior_strength: float) -> Lifted:
        """
        Lift (N, 17, 2) Human3.6M-17 rays and place the skeletons the lifter takes.

        ``rays`` are undistorted normalised image coordinates, ``weights`` (N, 17) each
        joint's weight in the root fit, ``prior_z`` (N,) the distance priors, metres. A
        skeleton the lifter refuses (:meth:`Lifter.lift_each`) is left out with its reason.
        """
        relative, reasons = self.lifter.lift_each(rays)
        lifted = np.array([reason is None for reason in reasons], bool)
        joints, from_fit = place(relative[lifted], rays[lifted], weights[lifted],
                                 HUMAN36M_17, prior_z[lifted], prior_strength)
        return Lifted(lifted, reasons, joints, from_fit)

    def place(self, image: torch.Tensor, kept: KeptPersons, camera: CameraModel,
              config: EstimatorConfig) -> Tuple[KeptPersons, Placement]:
        """Lift and place every kept person; drop the ones the lifter refuses."""
        rays, weights, prior_z = _root_fit_inputs(kept, camera, HUMAN36M_17)
        done = self.lift_and_place(rays, weights, prior_z, config.root_prior_strength)
        kept = kept.select(done.lifted)
        return kept, _placement(kept, HUMAN36M_17, done.joints, prior_z[done.lifted],
                                done.from_fit)


class RootNetPoseNet:
    """
    Backend ``3dmppe``: Moon et al.'s RootNet and PoseNet on each person's box.

    A person's box is the extent of its 33 landmarks in the ideal pinhole image, clipped
    to the image: a tight box inside the image, as the official code gets from its
    detector (BlazePose has no head-top landmark, so the box stops near the ears).
    Persons whose box the official code rejects (empty) are dropped. PoseNet has no
    visibility output: a joint's visibility is 1 inside the image, else 0. The root is the
    hips' midpoint, as for every backend; RootNet sets its depth.
    """

    def __init__(self, mppe: Mppe) -> None:
        self.mppe = mppe
        self.joint_set = mppe.joint_set

    @classmethod
    def from_config(cls, config: EstimatorConfig, device: torch.device,
                    dtype: torch.dtype) -> 'RootNetPoseNet':
        """Load the official snapshots ``rootnet_checkpoint`` and ``posenet_checkpoint``."""
        return cls(Mppe.load(config.rootnet_checkpoint, config.posenet_checkpoint, device,
                             dtype))

    def warm_up(self, image: torch.Tensor, camera: CameraModel) -> None:
        """Run both networks once: a blank frame has nobody for them to look at."""
        height = camera.height
        self.mppe(image, np.array([[0.0, 0.0, height, height]]), camera.intrinsics)

    def place(self, image: torch.Tensor, kept: KeptPersons, camera: CameraModel,
              config: EstimatorConfig) -> Tuple[KeptPersons, Placement]:
        """Run RootNet and PoseNet on each kept person's box."""
        extent = boxes.clip(boxes.extent(kept.pixels), camera.width, camera.height)
        squares, valid = process_boxes(extent, camera.width, camera.height)
        output = self.mppe(image, squares[valid], camera.intrinsics,
                           camera.distort if camera.distorted else None)
        keypoints = camera.distort(torch.from_numpy(output.pixels))
        visibility = inside_image(keypoints, camera).double().numpy()
        return kept.select(valid), Placement(keypoints.numpy(), visibility, output.joints,
                                             output.prior_z, np.ones(len(keypoints), bool))


#: Each ``pose_backend`` setting's backend, made from the settings, device and dtype.
BACKENDS: Dict[str, Callable[[EstimatorConfig, torch.device, torch.dtype], PoseBackend]] = {
    'blazepose': lambda config, device, dtype: WorldLandmarks(),
    'lifting': Lifting.from_config,
    '3dmppe': RootNetPoseNet.from_config,
}
