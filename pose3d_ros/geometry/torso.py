"""The torso frame of a skeleton: where a person stands and which way they face."""

import numpy as np

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


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Convert a (3, 3) rotation matrix to a unit quaternion (x, y, z, w), w >= 0."""
    m = rotation
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s,
             0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s,
             (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s,
             (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s,
             (m[1, 0] - m[0, 1]) / s]
    q = np.asarray(q) / np.linalg.norm(q)
    return q if q[3] >= 0 else -q
