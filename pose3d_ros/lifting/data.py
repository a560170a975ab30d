"""
Training pairs for the lifting network: random poses seen by random cameras, with 2D noise.

Each kinematic pose (:mod:`.kinematics`) is turned to a random heading, placed in front of
a camera at a random distance, image position, pitch and roll, and projected; the 2D joints
get Gaussian noise proportional to the skeleton's size in the image, as a keypoint
detector's errors are. The network's input is the noisy 2D skeleton in normalised camera
coordinates (``K^-1`` applied, so any focal length and principal point give the same
input), centred on the pelvis and divided by its RMS size: what the network sees does not
depend on the camera or the distance. Its target is the 3D skeleton relative to the pelvis
in the camera frame (x right, y down, z forward), metres.
"""

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .kinematics import J, PoseLimits, rotation, sample_poses

PELVIS = J['pelvis']
HIPS = (J['left_hip'], J['right_hip'])
SHOULDERS = (J['left_shoulder'], J['right_shoulder'])
THORAX, SPINE = J['thorax'], J['spine']
#: The 16 joints the network reads and predicts: Human3.6M-17 without the pelvis.
LIFTED = tuple(index for index in range(17) if index != PELVIS)

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


def derive_centre_joints(points: np.ndarray) -> np.ndarray:
    """
    Recompute the pelvis, thorax and spine from the hips and shoulders, (N, 17, D).

    The estimator makes these three from BlazePose's hip and shoulder landmarks
    (:data:`pose3d_ros.models.joint_sets.HUMAN36M_17`), so their 2D noise is the noise of
    those landmarks; training points get the same structure.
    """
    points = np.array(points, dtype=np.float64)
    points[:, PELVIS] = points[:, list(HIPS)].mean(axis=1)
    points[:, THORAX] = points[:, list(SHOULDERS)].mean(axis=1)
    points[:, SPINE] = (points[:, PELVIS] + points[:, THORAX]) / 2.0
    return points


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
    centred = points - points[:, list(HIPS)].mean(axis=1, keepdims=True)
    size = np.sqrt((centred ** 2).sum(-1).mean(-1))
    if not (np.isfinite(size).all() and (size > 1e-9).all()):
        raise ValueError('a 2D skeleton is degenerate (no extent, or not finite)')
    return centred[:, list(LIFTED)] / size[:, None, None]


def make_pairs(count: int, seed: int, limits: PoseLimits = PoseLimits(),
               ranges: ViewRanges = ViewRanges()) -> Tuple[np.ndarray, np.ndarray]:
    """
    Generate ``count`` training pairs, reproducibly from ``seed``.

    Returns
    -------
    inputs
        (count, 32) float32: the noisy, normalised 2D skeleton (16 joints x (x, y)).
    targets
        (count, 48) float32: the 3D skeleton relative to the pelvis, camera frame, metres
        (16 joints x (x, y, z)).

    """
    rng = np.random.default_rng(seed)
    camera = place_in_view(sample_poses(count, rng, limits), rng, ranges)
    points = camera[..., :2] / camera[..., 2:]
    extent = np.sqrt(((points - points[:, [PELVIS]]) ** 2).sum(-1).mean(-1))
    sigma = rng.uniform(*ranges.noise, count) * extent
    noisy = derive_centre_joints(points + rng.normal(size=points.shape) * sigma[:, None, None])
    relative = camera - camera[:, [PELVIS]]
    return (normalise_2d(noisy).reshape(count, -1).astype(np.float32),
            relative[:, list(LIFTED)].reshape(count, -1).astype(np.float32))
