"""The torso frame of a skeleton: where a person stands and which way they face."""

import numpy as np

from .rigid import matrix_to_quaternion
from ..models.joint_sets import BLAZEPOSE_33, JointSet


def torso_quaternion(joints: np.ndarray, joint_set: JointSet = BLAZEPOSE_33) -> np.ndarray:
    """
    Return the torso orientation of one skeleton as a quaternion (x, y, z, w).

    ``joints`` is (J, 3) of ``joint_set`` in the camera optical frame. The torso frame
    follows REP 103 for a body: x forward (the way the chest faces), y to the person's left
    (right hip to left hip), z up (mid-hip to mid-shoulder), re-orthogonalised with z kept
    exact. A degenerate torso (coincident joints) gives the identity.
    """
    left_hip, right_hip = joint_set.hips
    hips = joints[left_hip] - joints[right_hip]
    up = joints[list(joint_set.shoulders)].mean(axis=0) - joint_set.root_of(joints)
    if np.linalg.norm(up) < 1e-6:
        return np.array([0.0, 0.0, 0.0, 1.0])
    z = up / np.linalg.norm(up)
    left = hips - hips.dot(z) * z
    if np.linalg.norm(left) < 1e-6:
        return np.array([0.0, 0.0, 0.0, 1.0])
    y = left / np.linalg.norm(left)
    x = np.cross(y, z)
    return matrix_to_quaternion(np.stack([x, y, z], axis=1))
