"""
Registered depth images: measure each person's root depth and fuse it with the monocular one.

The rule (documented in docs/node.md):

1. For each torso landmark (shoulders and hips) that is visible (at least
   ``VISIBILITY_THRESHOLD``, :mod:`pose3d_ros.models.blazepose`) and
   inside the image, take the median of the valid depth pixels in a
   ``WINDOW`` x ``WINDOW`` window around it; zeros, NaN, infinities and values outside
   ``[MIN_DEPTH_M, MAX_DEPTH_M]`` are not valid.
2. The sensor sees the body's surface, and the joints lie about ``BODY_DEPTH_M`` behind
   it; each such value plus that, minus the joint's depth offset from the root (known
   from the metric skeleton), estimates the root depth; the measurement is the median of
   these estimates and needs at least ``MIN_SAMPLES`` of them.
3. The measured and monocular root depths are combined by inverse-variance weighting, with
   standard deviations ``MONOCULAR_SIGMA`` x z (monocular) and
   ``DEPTH_SIGMA_M + DEPTH_SIGMA_QUADRATIC`` x z² (sensor; stereo and structured-light
   error grows with the square of the distance). At 2 m this weights the sensor 100:1.
4. The person is slid along the ray through the root to the fused depth: the skeleton
   keeps its shape and the root its image position (joints away from the root shift a
   little in the image). Without a valid measurement the monocular estimate stands.
"""

from typing import Optional, Tuple

import numpy as np

from ..models.blazepose import VISIBILITY_THRESHOLD
from ..models.joint_sets import BLAZEPOSE_33, JointSet

WINDOW = 5
MIN_DEPTH_M, MAX_DEPTH_M = 0.2, 20.0
MIN_SAMPLES = 2
#: Depth of a torso joint behind the body surface the sensor sees (metres).
BODY_DEPTH_M = 0.1
MONOCULAR_SIGMA = 0.15
DEPTH_SIGMA_M, DEPTH_SIGMA_QUADRATIC = 0.01, 0.005


def measured_root_depth(depth_m: np.ndarray, keypoints_2d: np.ndarray, visibility: np.ndarray,
                        joints_3d: np.ndarray, root: np.ndarray, image_size: Tuple[int, int],
                        joint_set: JointSet = BLAZEPOSE_33) -> Optional[float]:
    """
    Return one person's root depth from a registered depth image (steps 1-2), or None.

    ``depth_m`` is (h, w) metres registered to the colour image of ``image_size`` (w, h)
    (another resolution is scaled to it); ``keypoints_2d`` (J, 2) pixels of the colour
    image, ``visibility`` (J,), ``joints_3d`` (J, 3) of ``joint_set`` and ``root`` (3,)
    metres in the camera optical frame. The torso joints (shoulders and hips) are read.
    """
    height, width = depth_m.shape[:2]
    scale = np.array([width / image_size[0], height / image_size[1]])
    half = WINDOW // 2
    estimates = []
    for joint in joint_set.shoulders + joint_set.hips:
        if visibility[joint] < VISIBILITY_THRESHOLD:
            continue
        u, v = np.floor((keypoints_2d[joint] + 0.5) * scale).astype(int)
        if not (0 <= u < width and 0 <= v < height):
            continue
        window = depth_m[max(v - half, 0):v + half + 1, max(u - half, 0):u + half + 1]
        valid = window[np.isfinite(window) & (window >= MIN_DEPTH_M) & (window <= MAX_DEPTH_M)]
        if valid.size:
            estimates.append(float(np.median(valid)) + BODY_DEPTH_M -
                             (joints_3d[joint, 2] - root[2]))
    return float(np.median(estimates)) if len(estimates) >= MIN_SAMPLES else None


def fuse_depths(monocular_z: float, measured_z: float) -> float:
    """Combine the monocular and measured root depths by inverse variance (step 3)."""
    var_mono = (MONOCULAR_SIGMA * monocular_z) ** 2
    var_depth = (DEPTH_SIGMA_M + DEPTH_SIGMA_QUADRATIC * measured_z ** 2) ** 2
    return (monocular_z * var_depth + measured_z * var_mono) / (var_mono + var_depth)


def move_to_depth(joints_3d: np.ndarray, root: np.ndarray,
                  depth: float) -> Tuple[np.ndarray, np.ndarray]:
    """Slide a skeleton along the ray through its root so that the root is at ``depth`` m."""
    shift = root * (depth / root[2]) - root
    return joints_3d + shift, root + shift
