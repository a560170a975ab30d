"""The ground plane: its sources, rays meeting it, and the robust fit to people's feet."""

import math

import numpy as np
from pose3d_ros.geometry.ground import fit_ground, GroundPlane, GroundSource
from pose3d_ros.geometry.rigid import RigidTransform
import pytest


def test_a_level_camera_sees_the_floor_below_its_y_axis() -> None:
    ground = GroundPlane.from_camera_pose(1.5, 0.0)
    np.testing.assert_allclose(ground.normal, [0.0, -1.0, 0.0])
    assert ground.source is GroundSource.PARAMETERS
    # A pixel 50 rows below the centre of a camera with fy = 500 looks 0.1 down per metre
    # ahead: it meets the floor 15 m away.
    np.testing.assert_allclose(ground.meet(np.array([[0.0, 0.1, 1.0]])), [[0.0, 1.5, 15.0]])
    assert np.isnan(ground.meet(np.array([[0.0, -0.1, 1.0], [0.3, 0.0, 1.0]]))).all()
    np.testing.assert_allclose(ground.heights(np.array([[2.0, 1.5, 7.0], [0.0, 0.0, 3.0]])),
                               [0.0, 1.5])


def test_the_optical_axis_of_a_pitched_camera_meets_the_floor_at_height_over_sine() -> None:
    ground = GroundPlane.from_camera_pose(1.5, math.radians(30.0))
    np.testing.assert_allclose(ground.meet(np.array([[0.0, 0.0, 1.0]])), [[0.0, 0.0, 3.0]])
    assert ground.pitch_rad == pytest.approx(math.radians(30.0))
    assert ground.roll_rad == pytest.approx(0.0)


def test_roll_turns_up_towards_the_image_x_axis() -> None:
    rolled = GroundPlane.from_camera_pose(2.0, math.radians(10.0), math.radians(90.0))
    assert rolled.normal[0] == pytest.approx(-math.cos(math.radians(10.0)))
    assert rolled.normal[1] == pytest.approx(0.0, abs=1e-12)
    assert rolled.roll_rad == pytest.approx(math.radians(90.0))


def camera_pose_in_ground(height_m: float, pitch_rad: float) -> tuple:
    """Return (rotation, translation) of a ground frame (x forward, z up) in the camera."""
    forward, left, up = np.eye(3)
    z = math.cos(pitch_rad) * forward - math.sin(pitch_rad) * up  # optical axis
    y = -math.cos(pitch_rad) * up - math.sin(pitch_rad) * forward  # image down
    x = -left  # image right
    rotation = np.stack([x, y, z])  # rows: the camera axes in ground coordinates
    return rotation, -rotation @ np.array([0.0, 0.0, height_m])


def test_the_ground_frame_from_tf_is_the_floor_the_pose_describes() -> None:
    rotation, translation = camera_pose_in_ground(1.2, math.radians(20.0))
    from_tf = GroundPlane.from_transform(RigidTransform(rotation, translation))
    from_pose = GroundPlane.from_camera_pose(1.2, math.radians(20.0))
    assert from_tf.source is GroundSource.TF
    np.testing.assert_allclose(from_tf.normal, from_pose.normal, atol=1e-12)
    assert from_tf.height_m == pytest.approx(1.2)
    # The ground frame's origin, right under the camera, is on the floor.
    assert from_tf.heights(translation[None])[0] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match='above the ground'):  # a camera under the floor
        GroundPlane.from_transform(RigidTransform(rotation,
                                                  rotation @ np.array([0.0, 0.0, 1.2])))


def test_planes_are_checked() -> None:
    with pytest.raises(ValueError, match='unit'):
        GroundPlane(np.array([0.0, -2.0, 0.0]), 1.0, GroundSource.PARAMETERS)
    with pytest.raises(ValueError, match='unit'):
        GroundPlane(np.array([np.nan, -1.0, 0.0]), 1.0, GroundSource.PARAMETERS)
    with pytest.raises(ValueError, match='above the ground'):
        GroundPlane.from_camera_pose(0.0, 0.0)


def feet_on(ground: GroundPlane, count: int, rng: np.random.Generator,
            noise_m: float = 0.02) -> np.ndarray:
    """Return (count, 3) foot points on the floor 2-15 m ahead, up to 5 m either side."""
    ahead = np.array([0.0, 0.0, 1.0]) - ground.normal[2] * ground.normal  # along the floor
    ahead /= np.linalg.norm(ahead)
    side = np.cross(ground.normal, ahead)
    points = (-ground.height_m * ground.normal + rng.uniform(2, 15, (count, 1)) * ahead +
              rng.uniform(-5, 5, (count, 1)) * side)
    return points + ground.normal * rng.normal(0.0, noise_m, (count, 1))


def test_the_fit_finds_the_floor_through_feet_and_leaves_out_those_above_it() -> None:
    rng = np.random.default_rng(7)
    truth = GroundPlane.from_camera_pose(3.0, math.radians(25.0), math.radians(3.0))
    feet = feet_on(truth, 30, rng)
    raised = feet_on(truth, 8, rng) + truth.normal * rng.uniform(0.3, 1.0, (8, 1))
    points = np.concatenate([feet, raised, [[np.nan, np.nan, np.nan]]])
    fitted, inliers = fit_ground(points)
    assert fitted.source is GroundSource.PEOPLE
    angle = math.degrees(math.acos(np.clip(fitted.normal @ truth.normal, -1.0, 1.0)))
    assert angle < 1.0, angle
    assert fitted.height_m == pytest.approx(3.0, rel=0.02)
    assert inliers.shape == (len(points),)
    assert inliers[:len(feet)].all() and not inliers[len(feet):].any()
    assert fitted.inliers == len(feet)
    # The stated uncertainty covers the error.
    assert math.radians(angle) < 3.0 * fitted.normal_std_rad + 1e-3
    assert abs(fitted.height_m - 3.0) < 3.0 * fitted.height_std_m + 1e-3


def test_the_fit_refuses_too_few_feet_or_feet_along_one_line() -> None:
    ground = GroundPlane.from_camera_pose(1.5, math.radians(10.0))
    assert fit_ground(np.zeros((2, 3))) is None
    line = ground.meet(np.column_stack([np.zeros(10), np.linspace(0.1, 0.3, 10),
                                        np.ones(10)]))  # all straight ahead
    assert fit_ground(line) is None
    # Beside them, a few more feet make the floor known.
    wide = np.concatenate([line, feet_on(ground, 5, np.random.default_rng(1))])
    assert fit_ground(wide)[0].inliers == 15
