"""
Rigid transforms between frames: a rotation and a translation, as TF gives them.

A :class:`RigidTransform` maps points of one frame into another,
``X_to = rotation @ X_from + translation`` (metres), as a TF lookup of ``source`` in
``target`` (geometry_msgs/Transform: translation, then a unit quaternion x, y, z, w)
describes it. Nothing here imports ROS.
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Convert a (3, 3) rotation matrix to a unit quaternion (x, y, z, w), w >= 0."""
    m = np.asarray(rotation, dtype=np.float64)
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


def quaternion_to_matrix(quaternion: Sequence[float]) -> np.ndarray:
    """
    Return the (3, 3) rotation of a quaternion (x, y, z, w).

    Raises ValueError for a quaternion that is not finite or has no length (TF rejects
    those too); any other length is normalised.
    """
    q = np.asarray(quaternion, dtype=np.float64)
    norm = float(np.linalg.norm(q)) if q.shape == (4,) else 0.0
    if not np.isfinite(q).all() or norm < 1e-9:
        raise ValueError(f'a rotation needs a finite, non-zero quaternion (x, y, z, w), got {q}')
    x, y, z, w = q / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@dataclass(frozen=True)
class RigidTransform:
    """
    ``X_to = rotation @ X_from + translation``: (3, 3) rotation, (3,) translation, metres.

    Raises ValueError when the rotation is not a finite proper rotation or the translation
    not a finite 3-vector.
    """

    rotation: np.ndarray
    translation: np.ndarray

    def __post_init__(self) -> None:
        """Check and freeze both arrays as float64."""
        rotation = np.array(self.rotation, dtype=np.float64)
        translation = np.array(self.translation, dtype=np.float64)
        if rotation.shape != (3, 3) or not np.isfinite(rotation).all() or \
                not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) or \
                np.linalg.det(rotation) < 0:
            raise ValueError(f'not a rotation matrix: {rotation.tolist()}')
        if translation.shape != (3,) or not np.isfinite(translation).all():
            raise ValueError(f'a translation must be a finite 3-vector, got {translation}')
        for name, value in (('rotation', rotation), ('translation', translation)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def identity(cls) -> 'RigidTransform':
        """Return the transform that leaves every point where it is."""
        return cls(np.eye(3), np.zeros(3))

    @classmethod
    def from_quaternion(cls, quaternion: Sequence[float],
                        translation: Sequence[float]) -> 'RigidTransform':
        """Return the transform of a quaternion (x, y, z, w) and a translation, as TF's."""
        return cls(quaternion_to_matrix(quaternion), np.asarray(translation, dtype=np.float64))

    @property
    def quaternion(self) -> np.ndarray:
        """Return the rotation as a unit quaternion: x, y, z, w, with w >= 0."""
        return matrix_to_quaternion(self.rotation)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Return (..., 3) points moved into the target frame (NaN stays NaN)."""
        return np.asarray(points, dtype=np.float64) @ self.rotation.T + self.translation

    def inverse(self) -> 'RigidTransform':
        """Return the transform back from the target frame."""
        return RigidTransform(self.rotation.T, -self.rotation.T @ self.translation)

    def __matmul__(self, other: 'RigidTransform') -> 'RigidTransform':
        """Return ``self`` after ``other``: ``(a @ b).apply(x) == a.apply(b.apply(x))``."""
        return RigidTransform(self.rotation @ other.rotation,
                              self.rotation @ other.translation + self.translation)
