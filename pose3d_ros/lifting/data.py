"""
Training pairs for the lifting network: random poses seen by random cameras, with 2D noise.

Each kinematic pose (:mod:`.kinematics`) is turned to a random heading, placed in front of
a camera at a random distance, image position, pitch and roll, and projected; the 2D joints
get Gaussian noise proportional to the skeleton's size in the image, as a keypoint
detector's errors are.

The network sees each person through a virtual camera turned to look straight at the
pelvis (:func:`facing_rotation`): the noisy 2D skeleton in normalised camera coordinates
(``K^-1`` applied, so any focal length and principal point give the same input) is
rotated into that camera, centred on the pelvis and divided by its RMS size. Its target
is the 3D skeleton relative to the pelvis in that virtual camera's frame, metres. So the
same view of a body gives the same input and the same answer wherever the person is in
the image, and at any distance; :func:`to_skeletons` turns the answer back to the real
camera's frame (x right, y down, z forward).
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .kinematics import J, PoseLimits, rotation, sample_poses
from ..models.joint_sets import HUMAN36M_17

PELVIS = J['pelvis']
HIPS = HUMAN36M_17.hips
#: The 16 joints the network reads and predicts: Human3.6M-17 without the pelvis.
LIFTED = tuple(index for index in range(17) if index != PELVIS)

#: Why a 2D skeleton cannot be lifted (:func:`network_input_each`).
DEGENERATE = 'a 2D skeleton is degenerate (no extent, or not finite)'
BEHIND = 'a 2D skeleton spans more than a half-space around its pelvis'

#: Person frame (X left, Y up, Z forward) to camera frame for a person facing the camera:
#: their left is the image's right, up is -y, their forward is toward the camera (-z).
PERSON_TO_CAMERA = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class ViewRanges:
    """How the random cameras see the poses."""

    distance_m: Tuple[float, float] = (1.5, 8.0)
    image_offset: float = 0.5  # |x / z| and |y / z| of the pelvis, at most
    camera_pitch_deg: Tuple[float, float] = (-25.0, 25.0)
    camera_roll_deg: Tuple[float, float] = (-5.0, 5.0)
    noise: Tuple[float, float] = (0.0, 0.03)  # 2D noise sigma, fraction of the 2D size


def place_in_view(poses: np.ndarray, rng: np.random.Generator,
                  ranges: ViewRanges = ViewRanges()) -> np.ndarray:
    """
    Turn, tilt and place person-frame poses in front of a camera.

    ``poses`` is (N, 17, 3) metres in the person frame; returns (N, 17, 3) metres in the
    camera frame, every pelvis in front of the camera within ``ranges``.
    """
    count = len(poses)
    heading = rotation('y', rng.uniform(0.0, 2.0 * np.pi, count))
    view = (rotation('x', np.radians(rng.uniform(*ranges.camera_pitch_deg, count))) @
            rotation('z', np.radians(rng.uniform(*ranges.camera_roll_deg, count))))
    turn = view @ PERSON_TO_CAMERA @ heading
    distance = rng.uniform(*ranges.distance_m, count)
    offset = rng.uniform(-ranges.image_offset, ranges.image_offset, (count, 2))
    pelvis = np.concatenate([offset * distance[:, None], distance[:, None]], axis=1)
    return poses @ turn.transpose(0, 2, 1) + pelvis[:, None, :]


def facing_rotation(rays: np.ndarray) -> np.ndarray:
    """
    Return the smallest rotations that turn each ray onto the optical axis.

    ``rays`` is (N, 2) normalised camera coordinates (x / z, y / z); the result R is
    (N, 3, 3) with ``R @ (x, y, 1)`` along +z, applied to column vectors.
    """
    direction = np.concatenate([rays, np.ones((len(rays), 1))], axis=1)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    axis = np.cross(direction, [0.0, 0.0, 1.0])  # sin(angle) times the unit axis
    cosine = direction[:, 2]
    skew = np.zeros((len(rays), 3, 3))
    skew[:, 0, 1], skew[:, 0, 2], skew[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    skew -= skew.transpose(0, 2, 1)
    return np.eye(3) + skew + skew @ skew / (1.0 + cosine)[:, None, None]


def network_input_each(points: np.ndarray
                       ) -> Tuple[np.ndarray, np.ndarray, List[Optional[str]]]:
    """
    Turn 2D skeletons into the network's input, each on its own merits.

    ``points`` is (N, 17, 2) Human3.6M-17 joints in normalised camera coordinates. The
    pelvis, thorax and spine are rebuilt from the hips and shoulders
    (:meth:`JointSet.rebuild_redundant`), the skeleton is seen through the virtual camera
    facing its pelvis, then centred and scaled (:func:`normalise_2d`). Returns the (N, 32)
    inputs, the (N, 3, 3) rotations into the virtual cameras, and per skeleton None or
    why it cannot be lifted (:data:`DEGENERATE`, :data:`BEHIND`; its input is then 0).

    Raises
    ------
    ValueError
        ``points`` is not (N, 17, 2).

    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (17, 2):
        raise ValueError(f'expected (N, 17, 2) Human3.6M-17 points, got {points.shape}')
    points = HUMAN36M_17.rebuild_redundant(points)
    finite = np.isfinite(points).all(axis=(1, 2))
    points[~finite] = 0.0
    rotations = facing_rotation(points[:, PELVIS])
    rays = np.concatenate([points, np.ones(points.shape[:2] + (1,))], axis=2)
    seen = rays @ rotations.transpose(0, 2, 1)
    facing = (seen[..., 2] > 1e-6).all(axis=1)
    virtual = np.divide(seen[..., :2], seen[..., 2:], out=np.zeros_like(seen[..., :2]),
                        where=facing[:, None, None])
    scaled, extent = _centred_and_scaled(virtual)
    reasons = [DEGENERATE if not finite[n] else BEHIND if not facing[n] else
               DEGENERATE if not extent[n] else None for n in range(len(points))]
    scaled[[reason is not None for reason in reasons]] = 0.0
    return scaled.reshape(len(points), 2 * len(LIFTED)), rotations, reasons


def network_input(points: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """
    Turn 2D skeletons into the network's (N, 32) input and (N, 3, 3) rotations.

    As :func:`network_input_each`, for skeletons that must all be taken.

    Raises
    ------
    ValueError
        A skeleton cannot be lifted (the message says why), or ``points`` is not
        (N, 17, 2).

    """
    inputs, rotations, reasons = network_input_each(points)
    refused = [reason for reason in reasons if reason is not None]
    if refused:
        raise ValueError(refused[0])
    return inputs, rotations


def to_skeletons(outputs: np.ndarray, rotations: Optional[np.ndarray] = None) -> np.ndarray:
    """
    Turn (N, 48) network outputs into (N, 17, 3) skeletons relative to the pelvis, metres.

    The pelvis, thorax and spine are rebuilt from the hips and shoulders, and the result
    is turned from the virtual cameras back to the real camera by ``rotations`` (N, 3, 3)
    from :func:`network_input`; without them it stays in the virtual cameras' frames.
    """
    joints = np.zeros((len(outputs), 17, 3))
    joints[:, list(LIFTED)] = np.asarray(outputs, np.float64).reshape(len(outputs), 16, 3)
    joints = HUMAN36M_17.rebuild_redundant(joints)
    joints -= joints[:, [PELVIS]]
    return joints if rotations is None else joints @ rotations


def normalise_2d(points: np.ndarray) -> np.ndarray:
    """
    Centre 2D skeletons on the pelvis and divide by their RMS size.

    ``points`` is (N, 17, 2) in normalised camera coordinates (x / z, y / z); the pelvis
    is taken as the hip midpoint, as it is defined. Returns the (N, 16, 2) lifted joints.

    Raises
    ------
    ValueError
        A skeleton has no extent (all joints at one point) or is not finite.

    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (17, 2):
        raise ValueError(f'expected (N, 17, 2) Human3.6M-17 points, got {points.shape}')
    scaled, extent = _centred_and_scaled(points)
    if not extent.all():
        raise ValueError(DEGENERATE)
    return scaled


def _centred_and_scaled(points: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Return :func:`normalise_2d`'s (N, 16, 2) and (N,) which have a finite extent."""
    centred = points - points[:, list(HIPS)].mean(axis=1, keepdims=True)
    size = np.sqrt((centred ** 2).sum(-1).mean(-1))
    extent = np.isfinite(size) & (size > 1e-9)
    scaled = np.divide(centred[:, list(LIFTED)], size[:, None, None],
                       out=np.zeros((len(points), len(LIFTED), 2)), where=extent[:, None, None])
    return scaled, extent


def make_pairs(count: int, seed: int, limits: PoseLimits = PoseLimits(),
               ranges: ViewRanges = ViewRanges()) -> Tuple[np.ndarray, np.ndarray]:
    """
    Generate ``count`` training pairs, reproducibly from ``seed``.

    Returns
    -------
    inputs
        (count, 32) float32: the noisy 2D skeleton as :func:`network_input` makes it.
    targets
        (count, 48) float32: the 3D skeleton relative to the pelvis in the virtual
        camera's frame, metres (16 joints x (x, y, z)).

    """
    rng = np.random.default_rng(seed)
    camera = place_in_view(sample_poses(count, rng, limits), rng, ranges)
    points = camera[..., :2] / camera[..., 2:]
    extent = np.sqrt(((points - points[:, [PELVIS]]) ** 2).sum(-1).mean(-1))
    sigma = rng.uniform(*ranges.noise, count) * extent
    inputs, rotations = network_input(points + rng.normal(size=points.shape) *
                                      sigma[:, None, None])
    relative = (camera - camera[:, [PELVIS]]) @ rotations.transpose(0, 2, 1)
    return (inputs.astype(np.float32),
            relative[:, list(LIFTED)].reshape(count, -1).astype(np.float32))
