"""Message conversions of the node (no DDS): markers, pose arrays, cloud, torso frame."""

from dataclasses import replace
import math

from builtin_interfaces.msg import Time
import numpy as np
from pose3d_ros.estimation.result import FrameResult, Person
from pose3d_ros.evaluation.floor_scenes import FloorCamera
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.ground import GroundPlane
from pose3d_ros.geometry.rigid import matrix_to_quaternion, RigidTransform
from pose3d_ros.geometry.torso import torso_quaternion
from pose3d_ros.models.blazepose import LANDMARK_NAMES, SKELETON_EDGES
from pose3d_ros.node import messages
from pose3d_ros.node.outputs import Scene
import pytest
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

J = {name: i for i, name in enumerate(LANDMARK_NAMES)}
#: A camera 1.5 m up, pitched 20 degrees: its rotation from a base frame to optical axes.
FLOOR_CAMERA = FloorCamera(1.5, 20.0, CameraModel.from_hfov(64, 48, 60.0))
HEADER = Header(stamp=Time(sec=42, nanosec=7), frame_id='camera_optical')


def upright_person(track_id: int, x: float = 0.0, facing_camera: bool = True) -> Person:
    """Return a person standing upright at (x, 0, 3) m, facing the camera (or away)."""
    joints = np.zeros((33, 3)) + [x, 0.0, 3.0]
    side = -1.0 if facing_camera else 1.0  # the person's left is the image's right
    joints[J['left_hip']] += [-0.1 * side, 0.0, 0.0]
    joints[J['right_hip']] += [0.1 * side, 0.0, 0.0]
    joints[J['left_shoulder']] += [-0.2 * side, -0.5, 0.0]
    joints[J['right_shoulder']] += [0.2 * side, -0.5, 0.0]
    joints[J['nose']] += [0.0, -0.7, 0.0]
    visibility = np.ones(33)
    visibility[J['left_ankle']] = 0.1
    return Person(score=0.9, bbox=np.array([0, 0, 10, 10.0]), keypoints_2d=np.zeros((33, 2)),
                  visibility=visibility, joints_3d=joints,
                  root_prior_z=3.0, root_from_fit=True, track_id=track_id)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate v by the unit quaternion q = (x, y, z, w)."""
    u, w = q[:3], q[3]
    return 2 * u.dot(v) * u + (w * w - u.dot(u)) * v + 2 * w * np.cross(u, v)


def test_torso_frame_of_a_person_facing_the_camera() -> None:
    q = torso_quaternion(upright_person(0).joints_3d)
    # Facing the camera: forward is toward it (-z optical), up is -y, their left is +x.
    assert np.allclose(rotate(q, np.array([1.0, 0, 0])), [0, 0, -1], atol=1e-9)
    assert np.allclose(rotate(q, np.array([0, 1.0, 0])), [1, 0, 0], atol=1e-9)
    assert np.allclose(rotate(q, np.array([0, 0, 1.0])), [0, -1, 0], atol=1e-9)
    away = torso_quaternion(upright_person(0, facing_camera=False).joints_3d)
    assert np.allclose(rotate(away, np.array([1.0, 0, 0])), [0, 0, 1], atol=1e-9)


def test_degenerate_torso_gives_identity() -> None:
    assert np.allclose(torso_quaternion(np.zeros((33, 3))), [0, 0, 0, 1])


@pytest.mark.parametrize('angle', [0.0, 0.5, 2.0, np.pi - 1e-3, np.pi])
@pytest.mark.parametrize('axis', [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, -2, 0.5]])
def test_matrix_to_quaternion_round_trip(angle: float, axis: list) -> None:
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    q = matrix_to_quaternion(rotation)
    assert np.isclose(np.linalg.norm(q), 1.0) and q[3] >= 0
    for v in np.eye(3):
        assert np.allclose(rotate(q, v), rotation @ v, atol=1e-9)


def test_the_floor_and_the_feet_on_it_are_drawn() -> None:
    ground = GroundPlane.from_camera_pose(1.5, math.radians(20.0))
    standing = replace(upright_person(4), on_ground=True, height_m=1.7,
                       foot=np.array([0.0, 1.0, 3.0]))
    array = messages.markers(HEADER, [standing, upright_person(9, x=1.0)], scale=0.05,
                             lifetime_s=0.5, min_visibility=0.5,
                             floor_lines=messages.floor_grid(ground))
    by_key = {(m.ns, m.id): m for m in array.markers[1:]}
    assert ('feet', 4) in by_key and ('feet', 9) not in by_key  # only who is on the floor
    assert [(p.x, p.y, p.z) for p in by_key['feet', 4].points] == [(0.0, 1.0, 3.0)]
    grid = by_key['floor', 0]
    assert grid.type == Marker.LINE_LIST and grid.header == HEADER
    points = np.array([[p.x, p.y, p.z] for p in grid.points])
    assert len(points) == 2 * (2 * messages.FLOOR_GRID_HALF_WIDTH_M + 1 +
                               messages.FLOOR_GRID_LENGTH_M + 1)
    np.testing.assert_allclose(ground.heights(points), 0.0, atol=1e-9)
    # It starts under the camera and runs ahead (z grows), to either side (x).
    pitch = math.radians(20.0)
    np.testing.assert_allclose(points[0], [-5.0, 1.5 * math.cos(pitch), 1.5 * math.sin(pitch)],
                               atol=1e-9)
    assert points[:, 2].max() > 10.0
    assert ('floor', 0) not in {(m.ns, m.id) for m in messages.markers(
        HEADER, [standing], 0.05, 0.5, 0.5).markers}
    values = messages.floor_values(ground, 1)
    assert values['floor source'] == 'parameters' and values['people on the floor'] == '1'
    assert float(values['floor pitch (deg)']) == pytest.approx(20.0)
    assert messages.floor_values(None, 0) == {'floor source': 'none'}


def test_markers() -> None:
    persons = [upright_person(4), upright_person(9, x=1.0)]
    array = messages.markers(HEADER, persons, scale=0.05, lifetime_s=0.5, min_visibility=0.5)
    assert array.markers[0].action == Marker.DELETEALL
    assert len(array.markers) == 1 + 3 * len(persons)
    for marker in array.markers:
        assert marker.header == HEADER
    by_key = {(m.ns, m.id): m for m in array.markers[1:]}
    assert set(by_key) == {(ns, i) for ns in ('joints', 'bones', 'labels') for i in (4, 9)}
    joints = by_key['joints', 4]
    assert joints.type == Marker.SPHERE_LIST and len(joints.points) == 32  # ankle hidden
    shown = np.delete(persons[0].joints_3d, J['left_ankle'], axis=0)
    assert np.allclose([[p.x, p.y, p.z] for p in joints.points], shown)
    for ns in ('joints', 'bones'):  # points are in the header frame: identity pose
        pose = by_key[ns, 4].pose
        assert (pose.position.x, pose.position.y, pose.position.z) == (0.0, 0.0, 0.0)
        assert pose.orientation.w == 1.0
    # The label floats above the head, along the body, whatever frame the joints are in.
    head = persons[0].joints_3d[J['nose']]
    up = (head - persons[0].root) / np.linalg.norm(head - persons[0].root)
    label = by_key['labels', 4].pose.position
    np.testing.assert_allclose([label.x, label.y, label.z], head + 0.25 * up, atol=1e-9)
    assert joints.lifetime.sec == 0 and joints.lifetime.nanosec == 500_000_000
    bones = by_key['bones', 4]
    hidden_edges = sum(J['left_ankle'] in edge for edge in SKELETON_EDGES)
    assert len(bones.points) == 2 * (len(SKELETON_EDGES) - hidden_edges)
    assert by_key['labels', 9].text == f'#9 {np.hypot(1.0, 3.0):.2f} m'
    assert by_key['joints', 4].color != by_key['joints', 9].color
    for marker in array.markers[1:]:
        c = marker.color
        assert all(0.0 <= v <= 1.0 for v in (c.r, c.g, c.b)) and c.a == 1.0
    assert messages.colour_message(4) == by_key['joints', 4].color  # deterministic


def test_pose_arrays_and_cloud() -> None:
    persons = [upright_person(3), upright_person(5, x=-1.0)]
    poses = messages.root_poses(HEADER, persons)
    assert poses.header == HEADER and len(poses.poses) == 2
    assert (poses.poses[1].position.x, poses.poses[1].position.z) == (-1.0, 3.0)
    joints = messages.joint_poses(HEADER, persons)
    assert len(joints.poses) == 66
    assert joints.poses[33 + J['nose']].position.y == pytest.approx(-0.7)
    cloud = messages.skeleton_cloud(HEADER, persons)
    assert cloud.header == HEADER and cloud.width == 66 and cloud.height == 1
    assert cloud.point_step == 24 and len(cloud.data) == cloud.row_step == 66 * 24
    dtype = np.dtype({'names': [f.name for f in cloud.fields],
                      'formats': ['<f4' if f.datatype == 7 else '<u4' for f in cloud.fields],
                      'offsets': [f.offset for f in cloud.fields], 'itemsize': 24})
    points = np.frombuffer(bytes(cloud.data), dtype)
    assert list(points['person_id'][::33]) == [3, 5]
    assert list(points['joint_id'][:33]) == list(range(33))
    assert points['confidence'][J['left_ankle']] == pytest.approx(0.1)
    assert points['x'][33] == pytest.approx(-1.0)
    empty = messages.skeleton_cloud(HEADER, [])
    assert empty.width == 0 and len(empty.data) == 0


def test_image_and_camera_info_round_trip() -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    image = messages.image_message(HEADER, rgb)
    assert np.array_equal(messages.image_to_rgb(image), rgb)
    camera = CameraModel.from_values(8, 6, [5.0, 0, 4, 0, 6.0, 3, 0, 0, 1], [0.1, 0, 0, 0, 0])
    info = messages.camera_info_message(HEADER, camera)
    back = messages.camera_from_info(info, 60.0)
    assert np.allclose(back.k, camera.k) and np.allclose(back.d, camera.d)
    assert (back.width, back.height, back.calibrated) == (8, 6, True)


def test_camera_info_binning_roi_and_uncalibrated() -> None:
    info = messages.camera_info_message(HEADER, CameraModel.from_values(
        640, 480, [500.0, 0, 320, 0, 500.0, 240, 0, 0, 1]))
    info.binning_x = info.binning_y = 2
    info.roi.x_offset, info.roi.y_offset, info.roi.width, info.roi.height = 100, 40, 400, 300
    camera = messages.camera_from_info(info, 60.0)
    assert (camera.width, camera.height) == (200, 150)
    assert camera.intrinsics == pytest.approx((250.0, 250.0, 110.0, 100.0))
    info.k = [0.0] * 9
    uncalibrated = messages.camera_from_info(info, 90.0)
    assert not uncalibrated.calibrated
    assert uncalibrated.intrinsics[0] == pytest.approx(100.0)  # 200 px wide at 90 degrees


def test_persons_from_cloud_round_trip() -> None:
    persons = [upright_person(3), upright_person(5, x=-1.0)]
    camera = CameraModel.from_values(640, 480, [500.0, 0, 320, 0, 500.0, 240, 0, 0, 1])
    back = messages.persons_from_cloud(messages.skeleton_cloud(HEADER, persons), camera)
    assert [p.track_id for p in back] == [3, 5]
    for original, rebuilt in zip(persons, back):
        assert np.allclose(rebuilt.joints_3d, original.joints_3d, atol=1e-6)
        assert np.allclose(rebuilt.visibility, original.visibility, atol=1e-6)
        hips = original.joints_3d[[J['left_hip'], J['right_hip']]].mean(0)
        assert np.allclose(rebuilt.root, hips, atol=1e-6)
        projected = original.joints_3d[:, :2] / original.joints_3d[:, 2:] * 500 + [320, 240]
        assert np.allclose(rebuilt.keypoints_2d, projected, atol=1e-3)


def test_rectified_camera_uses_p_without_distortion() -> None:
    camera = CameraModel.from_values(640, 480, [500.0, 0, 320, 0, 500.0, 240, 0, 0, 1],
                                     [-0.2, 0.05, 0.0, 0.0, 0.0])
    info = messages.camera_info_message(HEADER, camera)
    info.p = [480.0, 0.0, 322.0, 0.0, 0.0, 481.0, 238.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    raw = messages.camera_from_info(info, 60.0)
    assert raw.distorted and raw.intrinsics == pytest.approx((500.0, 500.0, 320.0, 240.0))
    rectified = messages.camera_from_info(info, 60.0, rectified=True)
    assert not rectified.distorted
    assert rectified.intrinsics == pytest.approx((480.0, 481.0, 322.0, 238.0))


def test_a_scene_in_a_target_frame_moves_persons_poses_and_floor() -> None:
    ground = GroundPlane.from_camera_pose(1.5, math.radians(20.0))
    person = replace(upright_person(4), on_ground=True, foot=np.array([0.0, 1.4, 3.0]))
    result = FrameResult((64, 48), CameraModel.from_hfov(64, 48, 60.0), (person,),
                         ground=ground)
    # The optical frame in a floor frame (x right, y forward, z up), 1.5 m up, pitched.
    to_base = RigidTransform(np.linalg.inv(FLOOR_CAMERA.rotation), [0.0, 0.0, 1.5])
    scene = Scene.of(result, to_base)
    np.testing.assert_allclose(scene.persons[0].joints_3d, to_base.apply(person.joints_3d))
    np.testing.assert_allclose(scene.floor_lines[:, 2], 0.0, atol=1e-9)  # the floor: z = 0
    assert scene.persons[0].foot[2] == pytest.approx(to_base.apply(person.foot)[2])
    # The pose's orientation is the torso's in that frame: up is the base's z.
    pose = messages.root_poses(HEADER, scene.persons).poses[0]
    q = np.array([pose.orientation.x, pose.orientation.y, pose.orientation.z,
                  pose.orientation.w])
    np.testing.assert_allclose(rotate(q, np.array([0.0, 0.0, 1.0])),
                               to_base.rotation @ [0.0, -1.0, 0.0], atol=1e-9)
    # Labels say the distance from the camera, and the debug image is the camera's.
    distance = f'{np.linalg.norm(person.root):.2f} m'
    assert scene.labels == [f'#4 {distance}'] and scene.in_camera == (person,)
    text = [m for m in messages.markers(HEADER, scene.persons, 0.05, 0.5, 0.5,
                                        labels=scene.labels).markers if m.ns == 'labels']
    assert text[0].text == f'#4 {distance}'
    plain = Scene.of(result)
    assert plain.persons == (person,) and plain.in_camera == (person,)
    np.testing.assert_allclose(plain.floor_lines, messages.floor_grid(ground))
    assert Scene.of(replace(result, ground=None), to_base).floor_lines is None
