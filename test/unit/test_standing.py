"""Standing people on a floor: the posture test, the fused placement, statures, the fit."""

import math

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.grounding import configured_floor, stream_floor, tf_floor
from pose3d_ros.evaluation.floor_scenes import FloorCamera
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.ground import fit_ground, GroundPlane, GroundSource
from pose3d_ros.geometry.rigid import RigidTransform
from pose3d_ros.geometry.standing import (CONTACT_HEIGHTS_M, CONTACT_PIXEL_STD,
                                          FIT_SCALE_STD, floor_from_people, floor_scale_std,
                                          place_on_floor, standing, STATURE_MARKS, statures)
from pose3d_ros.models.joint_sets import BLAZEPOSE_33
import pytest

CAMERA = FloorCamera(1.6, 12.0, CameraModel.from_hfov(1280, 960, 60.0))
FOCAL = float(CAMERA.camera.k[0, 0])


def body(stature: float = 1.8, sitting: bool = False) -> np.ndarray:
    """
    Return (33, 3) BlazePose joints of a person standing at the ground origin.

    Ground frame (x right, y forward, z up), metres; sitting: thighs level, on a seat.
    """
    joints = np.tile([0.0, 0.0, 0.7 * stature], (33, 1))
    scale = stature / 1.8
    for side, x in (('left', 0.1), ('right', -0.1)):
        named = {'ankle': (x, 0.0, 0.095 / scale), 'heel': (x, -0.05, 0.06 / scale),
                 'foot_index': (x, 0.14, 0.04 / scale), 'knee': (x, 0.0, 0.51),
                 'hip': (x, 0.0, 0.95), 'shoulder': (2 * x, 0.0, 1.47),
                 'eye': (0.3 * x, 0.08, 0.936 * 1.8)}
        if sitting:
            named.update(knee=(x, 0.45, 0.5), hip=(x, 0.0, 0.5), shoulder=(2 * x, 0.0, 1.05),
                         eye=(0.3 * x, 0.08, 1.25), ankle=(x, 0.45, 0.095),
                         heel=(x, 0.40, 0.06), foot_index=(x, 0.59, 0.04))
        for part, point in named.items():
            joints[BLAZEPOSE_33.index(f'{side}_{part}')] = point
    return joints * [1.0, 1.0, scale] if not sitting else joints


def seen(ground_joints: np.ndarray, x: float, y: float, lift: float = 0.0) -> tuple:
    """Return a body's (33, 3) camera-frame joints at (x, y), ``lift`` up, and their pixels."""
    placed = ground_joints + [x, y, lift]
    return CAMERA.to_camera(placed), CAMERA.project(placed)


def placed(*people: tuple) -> tuple:
    """Stack (joints, pixels) pairs into what :func:`place_on_floor` takes."""
    joints = np.array([p[0] for p in people])
    pixels = np.array([p[1] for p in people])
    return joints, pixels, np.ones(joints.shape[:2])


def test_standing_people_stand_and_sitting_or_lying_ones_do_not() -> None:
    up = CAMERA.ground.normal
    upright, _ = seen(body(), 0.5, 6.0)
    sitting, _ = seen(body(sitting=True), 0.5, 6.0)
    lying = CAMERA.to_camera(body()[:, [0, 2, 1]] + [0.0, 6.0, 0.3])  # along the floor
    joints = np.stack([upright, sitting, lying])
    assert standing(joints, BLAZEPOSE_33, up).tolist() == [True, False, False]
    # Without a floor, the image's up stands in: a camera pitched 12 degrees still sees
    # the standing one stand.
    assert standing(joints, BLAZEPOSE_33).tolist() == [True, False, False]


def test_a_person_placed_too_far_comes_back_to_the_floor_by_the_fused_rule() -> None:
    joints, pixels, visibility = placed(seen(body(), -0.4, 5.0), seen(body(1.6), 1.0, 12.0))
    wrong = joints * np.array([1.15, 0.9])[:, None, None]  # the fit's scales, rays kept
    sizes = np.ptp(pixels, axis=1).max(axis=1)
    result = place_on_floor(wrong, pixels, visibility, sizes, FOCAL, (1280, 960),
                            BLAZEPOSE_33, CAMERA.ground)
    assert result.on_ground.all()
    # The floor alone says the true scale (the heels or toes touch it first).
    np.testing.assert_allclose(result.floor_scale, [1 / 1.15, 1 / 0.9], rtol=1e-9)
    # Fused in log scale by the two spreads.
    contact = [BLAZEPOSE_33.index(name) for name in CONTACT_HEIGHTS_M
               if name in BLAZEPOSE_33.joint_names]
    rests = [CONTACT_HEIGHTS_M[BLAZEPOSE_33.joint_names[j]] for j in contact]
    spreads = []
    for person in range(2):
        rays = wrong[person, contact]
        first = int(np.argmin([(h - 1.6) / (r @ CAMERA.ground.normal)
                               for h, r in zip(rests, rays)]))
        spreads.append(floor_scale_std(CAMERA.ground, rays[first][None],
                                       CONTACT_PIXEL_STD * sizes[person:person + 1], FOCAL)[0])
    weight = FIT_SCALE_STD ** 2 / (FIT_SCALE_STD ** 2 + np.square(spreads))
    np.testing.assert_allclose(np.log(result.scale), weight * np.log(result.floor_scale),
                               rtol=1e-9)
    # Where they stand: the floor under their contact joint.
    np.testing.assert_allclose(CAMERA.ground.heights(result.feet), 0.0, atol=1e-9)


def test_a_person_on_a_step_is_not_on_this_floor_and_keeps_the_fit() -> None:
    joints, pixels, visibility = placed(seen(body(), 0.0, 6.0, lift=1.0))
    result = place_on_floor(joints, pixels, visibility, np.array([300.0]), FOCAL,
                            (1280, 960), BLAZEPOSE_33, CAMERA.ground)
    assert not result.on_ground[0]
    np.testing.assert_array_equal(result.joints, joints)
    assert np.isnan(result.height_m[0]) and np.isnan(result.feet[0]).all()


def test_statures_come_from_the_head_marks_ray_and_the_foot_point_alone() -> None:
    joints, pixels, visibility = placed(seen(body(1.8), 0.3, 7.0), seen(body(1.55), -1.0, 4.0))
    feet = CAMERA.to_camera(np.array([[0.3, 7.08, 0.0], [-1.0, 4.08, 0.0]]))  # under the eyes
    np.testing.assert_allclose(statures(joints, feet, BLAZEPOSE_33, CAMERA.ground),
                               [1.8, 1.55], rtol=1e-9)
    # The skeleton's size and depth do not count: only the marks' ray does.
    np.testing.assert_allclose(statures(joints * 1.3, feet, BLAZEPOSE_33, CAMERA.ground),
                               [1.8, 1.55], rtol=1e-9)
    assert STATURE_MARKS['blazepose33'][1] == 0.936


def test_the_floor_from_people_placed_one_by_one() -> None:
    rng = np.random.default_rng(3)
    spots = [(-2.0, 5.0), (1.5, 7.0), (-0.5, 10.0), (2.5, 14.0), (0.0, 4.0)]
    people = [seen(body(), x, y) for x, y in spots]
    joints, pixels, visibility = placed(*people)
    errors = 1.0 + 0.02 * rng.standard_normal(len(spots))  # each fit's own scale error
    fitted, inliers = floor_from_people(joints * errors[:, None, None], pixels, visibility,
                                        (1280, 960), BLAZEPOSE_33, 0.0)
    assert fitted.source is GroundSource.PEOPLE and inliers.all()
    angle = math.degrees(math.acos(min(1.0, fitted.normal @ CAMERA.ground.normal)))
    assert angle < 3.0
    assert fitted.height_m == pytest.approx(1.6, rel=0.08)
    # Three people in a row across the image leave the tilt about the row to their axes.
    row = placed(*[seen(body(), x, 8.0) for x in (-2.0, 0.0, 2.0)])
    plane, _ = floor_from_people(*row, (1280, 960), BLAZEPOSE_33, 0.0)
    assert math.degrees(math.acos(min(1.0, plane.normal @ CAMERA.ground.normal))) < 3.0
    # Two are not enough.
    assert floor_from_people(*placed(*people[:2]), (1280, 960), BLAZEPOSE_33, 0.0) is None
    # Each person's stature on the fitted floor weighs in: 1.8 m people all placed 10 %
    # too far give a floor 10 % too high by their skeletons, near the truth by their
    # statures.
    shared = floor_from_people(joints * 1.1, pixels, visibility, (1280, 960), BLAZEPOSE_33,
                               0.0)[0]
    weighed = floor_from_people(joints * 1.1, pixels, visibility, (1280, 960), BLAZEPOSE_33,
                                1.8)[0]
    assert shared.height_m == pytest.approx(1.76, rel=0.02)
    assert weighed.height_m == pytest.approx(1.6, rel=0.03)


def test_feet_placed_one_by_one_fit_with_their_error_along_the_rays() -> None:
    rng = np.random.default_rng(0)
    feet = CAMERA.to_camera(np.column_stack([rng.uniform(-3, 3, 12), rng.uniform(3, 20, 12),
                                             np.zeros(12)]))
    scattered = feet * (1.0 + 0.1 * rng.standard_normal(12))[:, None]
    exact, _ = fit_ground(scattered)  # most points are "off" the plane by 0.1 m
    loose, inliers = fit_ground(scattered, relative_std=0.1)
    assert inliers.sum() > exact.inliers and loose.height_std_m >= 0.1 * loose.height_m / 4


def test_the_configured_floor_is_the_camera_pose_with_its_uncertainty() -> None:
    assert configured_floor(EstimatorConfig()) is None  # the height is unknown
    floor = configured_floor(EstimatorConfig(camera_height=2.0, camera_pitch=20.0,
                                             ground_tilt_std=0.5, ground_height_std=0.05))
    assert floor.source is GroundSource.PARAMETERS and floor.height_m == 2.0
    assert math.degrees(floor.pitch_rad) == pytest.approx(20.0)
    assert floor.normal_std_rad == pytest.approx(math.radians(0.5))
    assert floor.height_std_m == 0.05
    with pytest.raises(ValueError, match='camera_pitch'):
        EstimatorConfig(camera_pitch=95.0)


def test_a_stream_floor_is_tf_then_parameters_then_the_people() -> None:
    from_tf = GroundPlane.from_camera_pose(1.2, 0.1, source=GroundSource.TF)
    people = GroundPlane.from_camera_pose(1.4, 0.2, source=GroundSource.PEOPLE)
    posed = EstimatorConfig(camera_height=2.0)
    assert stream_floor(posed, from_tf, people) is from_tf
    assert stream_floor(posed, None, people).source is GroundSource.PARAMETERS
    assert stream_floor(EstimatorConfig(), None, people) is people
    assert stream_floor(EstimatorConfig(ground_from_people=False), None, people) is None


def test_the_floor_of_a_ground_frame_from_tf_carries_the_settings_uncertainty() -> None:
    # base_footprint in the optical frame of a camera 1.6 m up, pitched 12 degrees.
    ground_in_camera = RigidTransform(CAMERA.rotation, CAMERA.to_camera(np.zeros((1, 3)))[0])
    floor = tf_floor(EstimatorConfig(ground_tilt_std=0.5, ground_height_std=0.03),
                     ground_in_camera)
    assert floor.source is GroundSource.TF and floor.height_m == pytest.approx(1.6)
    np.testing.assert_allclose(floor.normal, CAMERA.ground.normal, atol=1e-12)
    assert floor.normal_std_rad == pytest.approx(math.radians(0.5))
    assert floor.height_std_m == 0.03
