"""Rigid transforms between frames: quaternions, points, inverse, composition, persons."""

from dataclasses import replace
import math

import numpy as np
from pose3d_ros.estimation.result import Person
from pose3d_ros.geometry.rigid import quaternion_to_matrix, RigidTransform
import pytest

#: A quarter turn about z: x goes to y.
QUARTER_Z = [0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)]


def test_a_quarter_turn_about_z_moves_x_onto_y() -> None:
    turn = RigidTransform.from_quaternion(QUARTER_Z, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(turn.apply([[1.0, 0.0, 0.0], [0.0, 2.0, 0.5]]),
                               [[1.0, 1.0, 0.0], [-1.0, 0.0, 0.5]], atol=1e-12)
    np.testing.assert_allclose(turn.quaternion, QUARTER_Z, atol=1e-12)


def test_inverse_and_composition() -> None:
    rng = np.random.default_rng(0)
    a = RigidTransform.from_quaternion(rng.normal(size=4), rng.normal(size=3))
    b = RigidTransform.from_quaternion(rng.normal(size=4), rng.normal(size=3))
    points = rng.normal(size=(5, 3))
    np.testing.assert_allclose((a @ b).apply(points), a.apply(b.apply(points)), atol=1e-12)
    np.testing.assert_allclose(a.inverse().apply(a.apply(points)), points, atol=1e-12)
    identity = RigidTransform.identity()
    np.testing.assert_allclose(identity.apply(points), points)
    assert np.isnan(a.apply([np.nan, 0.0, 0.0])).all()  # a missing point stays missing


def test_bad_rotations_and_translations_are_refused() -> None:
    with pytest.raises(ValueError, match='quaternion'):
        quaternion_to_matrix([0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match='quaternion'):
        quaternion_to_matrix([np.nan, 0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match='rotation'):
        RigidTransform(np.diag([1.0, 1.0, -1.0]), np.zeros(3))  # a mirror
    with pytest.raises(ValueError, match='translation'):
        RigidTransform(np.eye(3), [0.0, np.inf, 0.0])
    # A quaternion off unit length is normalised, as tf2 does.
    np.testing.assert_allclose(quaternion_to_matrix(2.0 * np.array(QUARTER_Z)),
                               quaternion_to_matrix(QUARTER_Z))


def test_a_person_moved_into_another_frame() -> None:
    joints = np.random.default_rng(1).normal(size=(33, 3)) + [0.0, 0.0, 4.0]
    person = Person(score=0.9, bbox=np.zeros(4), keypoints_2d=np.zeros((33, 2)),
                    visibility=np.ones(33), joints_3d=joints, root_prior_z=4.0,
                    root_from_fit=True, on_ground=True, foot=np.array([0.0, 1.5, 4.0]))
    turn = RigidTransform.from_quaternion(QUARTER_Z, [0.5, 0.0, 1.0])
    moved = person.transformed(turn)
    np.testing.assert_allclose(moved.joints_3d, turn.apply(joints))
    np.testing.assert_allclose(moved.root, turn.apply(person.root))
    np.testing.assert_allclose(moved.foot, turn.apply(person.foot))
    np.testing.assert_array_equal(moved.keypoints_2d, person.keypoints_2d)  # pixels stay
    assert replace(person, foot=None).transformed(turn).foot is None
