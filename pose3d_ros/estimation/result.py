"""What the estimator returns: one :class:`Person` per person and a :class:`FrameResult`."""

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Dict, Optional, Tuple

import numpy as np

from .horizon import Horizon
from ..geometry.camera import CameraModel
from ..geometry.ground import GroundPlane
from ..geometry.rigid import RigidTransform
from ..geometry.torso import torso_quaternion
from ..models.joint_sets import BLAZEPOSE_33, JointSet


@dataclass(frozen=True, eq=False)
class Person:
    """
    One person in one image; J joints in the order of :attr:`joint_set`.

    Attributes
    ----------
    score
        Detector probability.
    bbox
        (4,) x0, y0, x1, y1 of the landmarks' extent, image pixels, clipped to the image.
    keypoints_2d
        (J, 2) u, v, image pixels of the delivered (distorted) image.
    visibility
        (J,) probability that each joint is visible.
    joints_3d
        (J, 3) metres, camera optical frame (x right, y down, z forward).
    root_prior_z
        3DMPPE distance prior of the root depth, metres.
    root_from_fit
        False when the least-squares fit was degenerate and the prior placed the person.
    alignment_2d
        (2, 2) the landmark network's hip centre and full-body scale point, delivered-image
        pixels: the region of this person in the next frame when tracking.
    track_id
        Track id, filled by tracking; None from single-image estimation (``id`` in JSON).
    joint_set
        What the joints are: BlazePose's 33 landmarks (J = 33), Human3.6M-17 from the
        lifting backend (J = 17), or MuCo-21 or Human3.6M-18 from the 3dmppe backend.
    on_ground
        Whether the person stands on the frame's floor (:attr:`FrameResult.ground`) and
        was placed with it (:mod:`~..geometry.standing`).
    height_m
        Stature over that floor, metres; None off it.
    foot
        (3,) where the person stands: the floor under their lowest visible foot joint,
        metres, camera optical frame; None off the floor.
    floor_scale
        The factor the floor scaled the least-squares skeleton by (``joints_3d`` is that
        many times the fit's, about the camera centre); 1 off the floor, and once a
        registered depth image placed the person instead.

    """

    score: float
    bbox: np.ndarray
    keypoints_2d: np.ndarray
    visibility: np.ndarray
    joints_3d: np.ndarray
    root_prior_z: float
    root_from_fit: bool
    alignment_2d: Optional[np.ndarray] = None
    track_id: Optional[int] = None
    joint_set: JointSet = BLAZEPOSE_33
    on_ground: bool = False
    height_m: Optional[float] = None
    foot: Optional[np.ndarray] = None
    floor_scale: float = 1.0

    @cached_property
    def root(self) -> np.ndarray:
        """Return the root: (3,) the hips' midpoint, metres, camera optical frame."""
        return self.joint_set.root_of(self.joints_3d)

    @cached_property
    def orientation(self) -> np.ndarray:
        """Return the torso's orientation, (4,) quaternion x, y, z, w (:mod:`..geometry.torso`)."""
        return torso_quaternion(self.joints_3d, self.joint_set)

    @property
    def fit_joints_3d(self) -> np.ndarray:
        """Return (J, 3) the joints as the least-squares fit placed them (the floor's undone)."""
        return self.joints_3d / self.floor_scale

    def transformed(self, transform: RigidTransform) -> 'Person':
        """Return the person with its 3D joints and foot point moved into another frame."""
        return replace(self, joints_3d=transform.apply(self.joints_3d),
                       foot=None if self.foot is None else transform.apply(self.foot))

    def to_json(self) -> dict:
        """Return the person as plain JSON values (floats rounded to 0.1 mm or 1e-4)."""
        return {
            'score': round(float(self.score), 4),
            'bbox': np.round(self.bbox, 2).tolist(),
            'keypoints_2d': np.round(self.keypoints_2d, 2).tolist(),
            'visibility': np.round(self.visibility, 4).tolist(),
            'joints_3d': np.round(self.joints_3d, 4).tolist(),
            'root': np.round(self.root, 4).tolist(),
            'root_prior_z': round(float(self.root_prior_z), 4),
            'id': self.track_id,
            'joint_set': self.joint_set.name,
            'on_ground': self.on_ground,
            'height_m': None if self.height_m is None else round(float(self.height_m), 4),
            'foot': None if self.foot is None else np.round(self.foot, 4).tolist(),
        }


@dataclass(frozen=True, eq=False)
class FrameResult:
    """
    Everything found in one image.

    Attributes
    ----------
    image_size
        (width, height) pixels.
    camera
        The camera model used (``camera.calibrated`` False: intrinsics were assumed).
    persons
        Persons, best detector score first (by track id when tracking).
    timings_ms
        Milliseconds per estimator stage.
    source_timings_ms
        Milliseconds each proposal source took of the ``preprocess`` and ``propose``
        stages, by source name (empty when the sources did not run).
    detected
        Whether the proposal sources ran (False: only landmark-driven regions, when
        tracking).
    warnings
        What the caller should tell a user about this frame (e.g. that no depth image
        matched it); the result is still valid.
    horizon
        The floor's horizon (:mod:`.horizon`): fitted from these persons, or the one the
        caller gave where none of them is whole (None: neither); a stream passes it to its
        next frame for the far rows.
    ground
        The floor the persons were placed on (:mod:`.grounding`), None: none known.

    """

    image_size: Tuple[int, int]
    camera: CameraModel
    persons: Tuple[Person, ...]
    timings_ms: Dict[str, float] = field(default_factory=dict)
    source_timings_ms: Dict[str, float] = field(default_factory=dict)
    detected: bool = True
    warnings: Tuple[str, ...] = ()
    horizon: Optional[Horizon] = None
    ground: Optional[GroundPlane] = None

    def to_json(self, source: str) -> dict:
        """Return one JSON-lines record for the image at ``source``."""
        fx, fy, cx, cy = self.camera.intrinsics
        return {
            'source': source,
            'image_size': list(self.image_size),
            'camera': {'fx': fx, 'fy': fy, 'cx': cx, 'cy': cy,
                       'calibrated': self.camera.calibrated},
            'persons': [person.to_json() for person in self.persons],
            'ground': None if self.ground is None else {
                'normal': np.round(self.ground.normal, 6).tolist(),
                'offset': round(self.ground.height_m, 4),
                'source': self.ground.source.value, 'inliers': self.ground.inliers},
        }
