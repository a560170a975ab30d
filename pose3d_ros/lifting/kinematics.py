"""
Random human poses from a kinematic model with joint limits and anthropometric lengths.

Poses are Human3.6M-17 skeletons (:data:`pose3d_ros.models.joint_sets.HUMAN36M_17`) with
the joints defined as our estimator defines them from BlazePose's landmarks: the pelvis is
the hip midpoint, the thorax the shoulder midpoint, the spine halfway between them, the
head the ear midpoint and the nose in front of it. That way a network trained on these
poses sees at run time the same joints it was trained on.

Segment lengths are fractions of the stature (Winter, "Biomechanics and Motor Control of
Human Movement", 4th ed., Fig. 4.1; Drillis and Contini), each scaled by a per-person
factor around 1. Joint angles are drawn uniformly within limits of the normal range of
motion (hip, knee, shoulder, elbow, trunk and neck), so that every plausible pose is
covered rather than any particular activity.

Person frame: X to the person's left, Y up, Z forward (where the person faces), metres,
origin at the pelvis.
"""

from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from ..models.joint_sets import HUMAN36M_17

NAMES = HUMAN36M_17.joint_names
J = {name: index for index, name in enumerate(NAMES)}

#: Segment lengths and offsets as fractions of the stature.
ANTHROPOMETRY: Dict[str, float] = {
    'hip_half_width': 0.057,  # hip joint centre from the pelvis midline
    'thigh': 0.245,
    'shank': 0.246,
    'trunk': 0.288,  # hip midpoint to shoulder midpoint (0.818 - 0.530)
    'shoulder_half_width': 0.100,
    'upper_arm': 0.186,
    'forearm': 0.146,
    'neck': 0.110,  # shoulder midpoint to ear midpoint
    'nose_forward': 0.050,  # nose in front of the ear midpoint
    'nose_down': 0.010,
}


@dataclass(frozen=True)
class PoseLimits:
    """
    Ranges the random poses are drawn from, degrees unless stated.

    Flexion moves a limb forward (for the knee: the shank backward; for the elbow: the
    forearm forward), abduction away from the body's midline, rotation about the limb's
    own axis (it turns the plane the knee or elbow bends in).
    """

    stature_m: Tuple[float, float] = (1.50, 1.95)
    segment_spread: float = 0.05  # relative standard deviation of each segment's length
    hip_flexion: Tuple[float, float] = (-25.0, 120.0)
    hip_abduction: Tuple[float, float] = (-20.0, 45.0)
    hip_rotation: Tuple[float, float] = (-35.0, 45.0)
    knee_flexion: Tuple[float, float] = (0.0, 140.0)
    shoulder_flexion: Tuple[float, float] = (-50.0, 180.0)
    shoulder_abduction: Tuple[float, float] = (-10.0, 170.0)
    shoulder_rotation: Tuple[float, float] = (-70.0, 70.0)
    elbow_flexion: Tuple[float, float] = (0.0, 145.0)
    trunk_flexion: Tuple[float, float] = (-20.0, 70.0)
    trunk_side_bend: Tuple[float, float] = (-25.0, 25.0)
    trunk_twist: Tuple[float, float] = (-35.0, 35.0)
    neck_flexion: Tuple[float, float] = (-40.0, 50.0)
    neck_side_bend: Tuple[float, float] = (-30.0, 30.0)
    neck_twist: Tuple[float, float] = (-60.0, 60.0)
    body_tilt: Tuple[float, float] = (-15.0, 15.0)  # whole-body pitch and roll


def rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """Return (N, 3, 3) right-handed rotations by ``angle`` (N,) radians about x, y or z."""
    cos, sin = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    rows = {'x': ((one, zero, zero), (zero, cos, -sin), (zero, sin, cos)),
            'y': ((cos, zero, sin), (zero, one, zero), (-sin, zero, cos)),
            'z': ((cos, -sin, zero), (sin, cos, zero), (zero, zero, one))}[axis]
    return np.stack([np.stack(row, -1) for row in rows], -2)


def _uniform(rng: np.random.Generator, bounds: Tuple[float, float], count: int) -> np.ndarray:
    return np.radians(rng.uniform(bounds[0], bounds[1], count))


def _limb(rng: np.random.Generator, limits: PoseLimits, count: int, side: float,
          arm: bool) -> Tuple[np.ndarray, np.ndarray]:
    """
    Return the upper and lower segment directions of one limb, (N, 3) unit vectors.

    ``side`` is +1 for the person's left, -1 for the right. At rest both point down.
    """
    flexion, abduction, twist, bend = (
        (limits.shoulder_flexion, limits.shoulder_abduction, limits.shoulder_rotation,
         limits.elbow_flexion) if arm else
        (limits.hip_flexion, limits.hip_abduction, limits.hip_rotation, limits.knee_flexion))
    # Flexion about X sends the down vector forward (+Z) for negative angles.
    upper = (rotation('x', -_uniform(rng, flexion, count)) @
             rotation('z', side * _uniform(rng, abduction, count)) @
             rotation('y', side * _uniform(rng, twist, count)))
    # The knee bends the shank backward, the elbow the forearm forward.
    sign = -1.0 if arm else 1.0
    lower = upper @ rotation('x', sign * _uniform(rng, bend, count))
    down = np.array([0.0, -1.0, 0.0])
    return upper @ down, lower @ down


def sample_poses(count: int, rng: np.random.Generator,
                 limits: PoseLimits = PoseLimits()) -> np.ndarray:
    """
    Draw ``count`` random poses.

    Returns
    -------
    np.ndarray
        (count, 17, 3) Human3.6M-17 joints, metres, person frame (X left, Y up, Z forward),
        pelvis at the origin, the whole body tilted by up to ``limits.body_tilt``.

    """
    if count < 1:
        raise ValueError(f'count must be >= 1, got {count}')
    stature = rng.uniform(*limits.stature_m, count)
    length = {name: stature * fraction * rng.normal(1.0, limits.segment_spread, count)
              for name, fraction in ANTHROPOMETRY.items()}
    joints = np.zeros((count, len(NAMES), 3))
    for side, prefix in ((1.0, 'left'), (-1.0, 'right')):
        hip = np.stack([side * length['hip_half_width'], np.zeros(count), np.zeros(count)], -1)
        thigh, shank = _limb(rng, limits, count, side, arm=False)
        knee = hip + thigh * length['thigh'][:, None]
        joints[:, J[f'{prefix}_hip']] = hip
        joints[:, J[f'{prefix}_knee']] = knee
        joints[:, J[f'{prefix}_ankle']] = knee + shank * length['shank'][:, None]
    trunk = (rotation('y', _uniform(rng, limits.trunk_twist, count)) @
             rotation('z', _uniform(rng, limits.trunk_side_bend, count)) @
             rotation('x', _uniform(rng, limits.trunk_flexion, count)))
    thorax = trunk @ np.array([0.0, 1.0, 0.0]) * length['trunk'][:, None]
    joints[:, J['thorax']] = thorax
    joints[:, J['spine']] = thorax / 2.0
    for side, prefix in ((1.0, 'left'), (-1.0, 'right')):
        shoulder = thorax + trunk @ np.array([side, 0.0, 0.0]) * \
            length['shoulder_half_width'][:, None]
        upper, lower = _limb(rng, limits, count, side, arm=True)
        elbow = shoulder + (trunk @ upper[..., None])[..., 0] * length['upper_arm'][:, None]
        joints[:, J[f'{prefix}_shoulder']] = shoulder
        joints[:, J[f'{prefix}_elbow']] = elbow
        joints[:, J[f'{prefix}_wrist']] = elbow + (trunk @ lower[..., None])[..., 0] * \
            length['forearm'][:, None]
    head = trunk @ rotation('y', _uniform(rng, limits.neck_twist, count)) @ \
        rotation('z', _uniform(rng, limits.neck_side_bend, count)) @ \
        rotation('x', _uniform(rng, limits.neck_flexion, count))
    joints[:, J['head']] = thorax + head @ np.array([0.0, 1.0, 0.0]) * length['neck'][:, None]
    joints[:, J['nose']] = joints[:, J['head']] + \
        head @ np.array([0.0, -1.0, 0.0]) * length['nose_down'][:, None] + \
        head @ np.array([0.0, 0.0, 1.0]) * length['nose_forward'][:, None]
    tilt = rotation('x', _uniform(rng, limits.body_tilt, count)) @ \
        rotation('z', _uniform(rng, limits.body_tilt, count))
    return joints @ tilt.transpose(0, 2, 1)
