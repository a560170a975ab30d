"""
pose3d_node end to end over real DDS (loopback, an isolated ROS_DOMAIN_ID per run).

The node runs in its own process, started with ``--params-file`` (config/pose3d.yaml with
a few values changed, so that the test can tell they were read); a client node in this
process publishes a real photograph and CameraInfo and checks what comes back. Every bad
input is followed by a valid frame that must still be answered.
"""

import math
import os
from pathlib import Path
import platform
import statistics
import time
from typing import Any, Iterator, Optional

from builtin_interfaces.msg import Time
import cv2
from diagnostic_msgs.msg import DiagnosticStatus
import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.proposals import DETECTOR_ONLY
from pose3d_ros.evaluation.composites import composites
from pose3d_ros.evaluation.recall import match
from pose3d_ros.geometry import boxes
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.ground import GroundPlane
from pose3d_ros.models.blazepose import LANDMARK_NAMES
from pose3d_ros.node import messages
from pose3d_ros.node.parameters import BY_NAME
from pose3d_ros.node_client import NodeProcess, Pose3dClient, ros_environment, stamp_of
from pose3d_ros.samples import read_rgb
import pytest
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter, parameter_value_to_python
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import Marker
import yaml

from ..helpers import ros_context

REPO = Path(__file__).resolve().parents[2]
#: One DDS domain per test run (valid Fast DDS ids are 0-232).
DOMAIN_ID = 100 + os.getpid() % 100
NAMESPACE = '/cam'
#: The params file's key: the node named pose3d in any namespace.
NODE_KEY = '/**/pose3d'
FRAME = 'cam_optical'
#: Values changed from config/pose3d.yaml in the params file the node starts with.
FILE_CHANGES = {'reliable_input': True, 'max_persons': 7, 'marker_scale': 0.06,
                'min_joint_visibility': 0.4, 'use_depth': True}
ANSWER_TIMEOUT_S = 60.0
#: The composite with a person BlazePose's detector alone misses.
FACELESS_SCENE = 'street-pair'
_STAMPS = iter(range(1000, 100000))


def header(frame_id: str = FRAME) -> Header:
    """Return a header with a fresh, unique stamp (never the wall clock)."""
    return Header(stamp=Time(sec=next(_STAMPS), nanosec=123456789), frame_id=frame_id)


@pytest.fixture(scope='module')
def context() -> Iterator[Context]:
    """Give an rclpy context on the run's own domain, discovering on localhost only."""
    yield from ros_context(DOMAIN_ID)


@pytest.fixture(scope='module')
def params_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/pose3d.yaml with FILE_CHANGES applied."""
    config = yaml.safe_load((REPO / 'config' / 'pose3d.yaml').read_text())
    config[NODE_KEY]['ros__parameters'].update(FILE_CHANGES)
    path = tmp_path_factory.mktemp('params') / 'pose3d.yaml'
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope='module')
def node(context: Context, params_file: Path, model_dir: Path) -> Iterator[NodeProcess]:
    """Run the node under test, namespace /cam, started with the params file."""
    process = NodeProcess(['-r', f'__ns:={NAMESPACE}', '--params-file', str(params_file),
                           '-p', 'device:=cpu', '-p', 'tile_grids:=[2, 3]'],
                          ros_environment(DOMAIN_ID))
    with process:
        yield process


@pytest.fixture(scope='module')
def client(context: Context, node: NodeProcess) -> Iterator[tuple]:
    """(client node, executor) once the node is active and subscribed."""
    executor = SingleThreadedExecutor(context=context)
    pose_client = Pose3dClient(NAMESPACE, reliable=True, context=context)
    executor.add_node(pose_client)
    if not pose_client.wait_for_node(executor, 120.0):
        pytest.fail(f'the node did not subscribe within 120 s; its log:\n{node.log()}')
    yield pose_client, executor
    executor.shutdown()
    pose_client.destroy_node()


@pytest.fixture(scope='module')
def photo(sample_dir: Path) -> tuple:
    """(RGB messi5.jpg, its camera model with fx = fy = 500 px)."""
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    height, width = rgb.shape[:2]
    camera = CameraModel.from_values(width, height, [500.0, 0.0, width / 2.0, 0.0, 500.0,
                                                     height / 2.0, 0.0, 0.0, 1.0])
    return rgb, camera


def request(client: tuple, image: Any, info: Optional[CameraInfo],
            timeout_s: float = ANSWER_TIMEOUT_S, **kwargs: Any):
    """Publish until answered; fail with the node's log tail when no answer comes."""
    pose_client, executor = client
    answer = pose_client.request(executor, image, info, timeout_s, **kwargs)
    assert answer is not None, f'no answer within {timeout_s} s'
    return answer


def valid_frame(photo: tuple, frame_id: str = FRAME) -> tuple:
    """(Image, CameraInfo) of the photograph with one fresh stamp."""
    rgb, camera = photo
    stamp = header(frame_id)
    return messages.image_message(stamp, rgb), messages.camera_info_message(stamp, camera)


def test_params_file_values_are_used(client: tuple, params_file: Path) -> None:
    pose_client, executor = client
    expected = yaml.safe_load(params_file.read_text())[NODE_KEY]['ros__parameters']
    assert set(expected) == set(BY_NAME), 'config/pose3d.yaml must list every parameter'
    expected['device'] = 'cpu'  # the command line's -p after --params-file wins
    parameters = AsyncParameterClient(pose_client, f'{NAMESPACE}/pose3d')
    assert parameters.wait_for_services(10.0)
    future = parameters.get_parameters(list(expected))
    executor.spin_until_future_complete(future, 10.0)
    got = {name: parameter_value_to_python(value)
           for name, value in zip(expected, future.result().values)}
    got['detector_grids'] = list(got['detector_grids'])
    assert got == expected


def test_photo_answered_in_input_frame_and_stamp(client: tuple, photo: tuple,
                                                 estimator: Any) -> None:
    image, info = valid_frame(photo)
    answer = request(client, image, info)
    for topic, message in answer.messages.items():
        assert stamp_of(message) == (image.header.stamp.sec, image.header.stamp.nanosec), topic
    assert answer.messages['poses'].header.frame_id == FRAME
    assert answer.messages['joints'].header.frame_id == FRAME
    assert answer.messages['skeletons'].header.frame_id == FRAME
    assert all(m.header.frame_id == FRAME for m in answer.messages['markers'].markers)

    # The same answer as the estimator in this process (default configuration).
    expected = estimator(*photo).persons
    poses = answer.messages['poses'].poses
    assert len(expected) == 1 and len(poses) == 1
    root = np.array([poses[0].position.x, poses[0].position.y, poses[0].position.z])
    assert np.allclose(root, expected[0].root, atol=1e-3)
    assert 1.0 < root[2] < 6.0  # a player a few metres from the camera
    q = poses[0].orientation
    assert np.isclose(np.linalg.norm([q.x, q.y, q.z, q.w]), 1.0)

    joints = answer.messages['joints'].poses
    assert len(joints) == len(LANDMARK_NAMES) * len(poses)
    xyz = np.array([[p.position.x, p.position.y, p.position.z] for p in joints])
    assert np.allclose(xyz, expected[0].joints_3d, atol=1e-3)

    cloud = answer.messages['skeletons']
    assert [f.name for f in cloud.fields] == ['x', 'y', 'z', 'confidence', 'person_id',
                                              'joint_id']
    points = np.frombuffer(bytes(cloud.data), dtype=np.dtype(
        [('x', '<f4'), ('y', '<f4'), ('z', '<f4'), ('confidence', '<f4'),
         ('person_id', '<u4'), ('joint_id', '<u4')]))
    assert cloud.width == len(points) == len(LANDMARK_NAMES)
    assert np.array_equal(points['joint_id'], np.arange(len(LANDMARK_NAMES)))
    assert np.allclose(np.stack([points['x'], points['y'], points['z']], 1), xyz, atol=1e-5)

    markers = answer.messages['markers'].markers
    assert markers[0].action == Marker.DELETEALL
    by_ns = {m.ns: m for m in markers[1:]}
    assert set(by_ns) == {'joints', 'bones', 'labels'}
    assert all(m.id == int(points['person_id'][0]) for m in markers[1:])
    assert by_ns['joints'].scale.x == pytest.approx(FILE_CHANGES['marker_scale'])
    shown = int(np.sum(expected[0].visibility >= FILE_CHANGES['min_joint_visibility']))
    assert len(by_ns['joints'].points) == shown
    colour = by_ns['joints'].color
    assert all(0.0 <= c <= 1.0 for c in (colour.r, colour.g, colour.b, colour.a))
    assert f'{np.linalg.norm(root):.2f} m' in by_ns['labels'].text


def test_diagnostics(client: tuple, photo: tuple) -> None:
    pose_client, executor = client
    request(client, *valid_frame(photo))
    status = pose_client.next_diagnostics(executor, 10.0)
    assert status is not None, 'no /diagnostics within 10 s'
    values = {v.key: v.value for v in status.values}
    assert 'pose3d' in status.name
    for key in ('input rate (Hz)', 'processed rate (Hz)', 'dropped frames',
                'latency receive to publish (ms)', 'device', 'propose (ms)',
                'landmarks (ms)', 'place (ms)'):
        assert key in values, key
    assert values['device'] == 'cpu'
    assert float(values['latency receive to publish (ms)']) > 0.0


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='mallopt is glibc-only')
def test_node_started_with_freed_memory_kept(node: NodeProcess) -> None:
    """The executable applies pose3d_ros/malloc_settings.py before rclpy (node/start.py)."""
    assert node.wait_for_log('freed memory kept for the next frame', 60.0), node.log()


def test_a_parameter_the_node_does_not_have_is_reported(node: NodeProcess) -> None:
    """An old params file's tile_grids (now detector_grids) is named, not silently ignored."""
    assert node.wait_for_log('tile_grids: not a parameter of pose3d_node, ignored', 60.0), \
        node.log()


def test_person_keeps_its_track_id_across_frames(client: tuple, photo: tuple) -> None:
    ids = []
    for _ in range(4):
        answer = request(client, *valid_frame(photo))
        markers = answer.messages['markers'].markers[1:]
        cloud = np.frombuffer(bytes(answer.messages['skeletons'].data), dtype=np.dtype(
            [('xyz', '<f4', 4), ('person_id', '<u4'), ('joint_id', '<u4')]))
        assert {m.id for m in markers} == set(cloud['person_id'].tolist())
        ids.append(int(cloud['person_id'][0]))
    assert len(set(ids)) == 1 and ids[0] >= 1, ids  # track ids start at 1


def test_a_person_the_face_detector_misses_is_found(client: tuple, sample_dir: Path,
                                                    model_dir: Path) -> None:
    # Two real people side by side in a street, one partly hidden: BlazePose's detector
    # alone finds one.
    scene = next(c for c in composites(sample_dir, model_dir)
                 if c.labels.name == FACELESS_SCENE)
    height, width = scene.rgb.shape[:2]
    camera = CameraModel.from_hfov(width, height, 60.0)
    detector_only = PoseEstimator(EstimatorConfig(device='cpu', model_dir=str(model_dir),
                                                  **DETECTOR_ONLY))
    alone = match(np.array([p.bbox for p in detector_only(scene.rgb, camera).persons]
                           ).reshape(-1, 4), scene.labels)
    stamp = header()
    answer = request(client, messages.image_message(stamp, scene.rgb),
                     messages.camera_info_message(stamp, camera))
    # Each published skeleton's joints, projected, span the person's box in the image.
    cloud = np.frombuffer(bytes(answer.messages['skeletons'].data), dtype=np.dtype(
        [('xyz', '<f4', 4), ('person_id', '<u4'), ('joint_id', '<u4')]))
    fx, fy, cx, cy = camera.intrinsics
    pixels = cloud['xyz'][:, :2] / cloud['xyz'][:, 2:3] * [fx, fy] + [cx, cy]
    found = np.array([np.concatenate([pixels[cloud['person_id'] == i].min(0),
                                      pixels[cloud['person_id'] == i].max(0)])
                      for i in np.unique(cloud['person_id'])]).reshape(-1, 4)
    by_node = match(boxes.clip(found, width, height), scene.labels)
    assert len(by_node.hits) > len(alone.hits) and by_node.false_alarms == (), (by_node, alone)


def test_debug_image_only_while_subscribed(client: tuple, photo: tuple) -> None:
    pose_client, executor = client
    image, info = valid_frame(photo)
    answer = request(client, image, info)
    assert 'debug_image' not in answer.messages
    subscription = pose_client.watch('debug_image')
    try:
        image, info = valid_frame(photo)
        answer = request(client, image, info, topics=('markers', 'debug_image'))
        debug = answer.messages['debug_image']
        assert stamp_of(debug) == stamp_of(image) and debug.header.frame_id == FRAME
        assert (debug.width, debug.height, debug.encoding) == (image.width, image.height,
                                                               'bgr8')
        drawn = messages.image_to_rgb(debug)
        assert np.abs(drawn.astype(int) - photo[0]).max() > 100  # skeleton lines drawn
    finally:
        pose_client.destroy_subscription(subscription)


def test_frame_id_from_camera_info_when_image_has_none(client: tuple, photo: tuple) -> None:
    image, info = valid_frame(photo, frame_id='')
    info.header.frame_id = 'info_frame'
    pose_client, executor = client
    pose_client.info_publisher.publish(info)  # cached before the image (topics are unordered)
    pose_client.spin_for(executor, 0.5)
    answer = request(client, image, info)
    assert answer.messages['poses'].header.frame_id == 'info_frame'


def test_registered_depth_moves_the_person(client: tuple, node: NodeProcess,
                                           photo: tuple) -> None:
    pose_client, executor = client
    monocular = request(client, *valid_frame(photo)).messages['poses'].poses[0].position
    assert node.wait_for_log('no depth image on depth/image', 10.0)  # none sent yet
    rgb = photo[0]
    depth = np.full(rgb.shape[:2], 3.0, np.float32)  # a wall of 3 m behind everything
    publisher = pose_client.create_publisher(Image, 'depth/image', 1)
    try:
        deadline = time.monotonic() + 10.0
        while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
            pose_client.spin_for(executor, 0.1)
        # Tracking smooths the root (One Euro, 1 s between stamps): the jump to the
        # measured depth settles over a few frames, each with its own depth image.
        for _ in range(4):
            image, info = valid_frame(photo)
            publisher.publish(Image(header=image.header, width=rgb.shape[1],
                                    height=rgb.shape[0], encoding='32FC1',
                                    step=rgb.shape[1] * 4, data=depth.tobytes()))
            pose_client.spin_for(executor, 0.5)
            fused = request(client, image, info).messages['poses'].poses[0].position
    finally:
        pose_client.destroy_publisher(publisher)
    # The torso reads 3 m (+ 0.1 m to the joints, minus each joint's offset from the
    # pelvis); the sensor dominates the fusion.
    assert 3.0 < fused.z < 3.2 and abs(monocular.z - 3.1) > 0.3
    # Slid along the ray through the pelvis: about the same direction (to within the
    # smoothing between the two frames, about 1 degree).
    assert fused.x / fused.z == pytest.approx(monocular.x / monocular.z, abs=0.02)
    assert fused.y / fused.z == pytest.approx(monocular.y / monocular.z, abs=0.02)


def _raw(width: int, height: int, encoding: str, data: bytes, step: int) -> Image:
    return Image(header=header(), width=width, height=height, encoding=encoding,
                 step=step, data=data)


def _bad_inputs(photo: tuple) -> dict:
    """Map each case to (image, CameraInfo, answered?, text expected in the log)."""
    rgb, camera = photo
    height, width = rgb.shape[:2]
    good, info = valid_frame(photo)
    zero_k, nan_k = CameraInfo(), CameraInfo()
    for message, k in ((zero_k, [0.0] * 9), (nan_k, [float('nan')] + list(info.k[1:]))):
        message.width, message.height, message.k = width, height, k
    big = cv2.resize(rgb[:, :, 1], (8000, 8000), interpolation=cv2.INTER_NEAREST)
    big_camera = CameraModel.from_hfov(8000, 8000, 60.0)
    tiny_camera = CameraModel.from_hfov(1, 1, 60.0)
    mismatch = CameraModel.from_hfov(640, 480, 60.0)
    return {
        'truncated data': (_raw(width, height, 'rgb8', good.data[:len(good.data) // 2],
                                width * 3), info, False, 'data has'),
        'unknown encoding': (_raw(width, height, 'xyz42', bytes(good.data), width * 3), info,
                             False, "unsupported encoding 'xyz42'"),
        'float encoding 32FC3': (_raw(width, height, '32FC3', bytes(width * height * 12),
                                      width * 12), info, False, "unsupported encoding '32FC3'"),
        'float encoding 32FC1': (_raw(width, height, '32FC1', bytes(width * height * 4),
                                      width * 4), info, False, "unsupported encoding '32FC1'"),
        '0 x 0': (_raw(0, 0, 'rgb8', b'', 0), info, False, 'empty image (0 x 0)'),
        '1 x 1 (with its CameraInfo)': (
            _raw(1, 1, 'rgb8', b'\x80\x80\x80', 3),
            messages.camera_info_message(header(), tiny_camera), True, None),
        '8000 x 8000 mono8 (with its CameraInfo)': (
            _raw(8000, 8000, 'mono8', big.tobytes(), 8000),
            messages.camera_info_message(header(), big_camera), True, None),
        'CameraInfo with K all zero': (_raw(width, height, 'rgb8', bytes(good.data),
                                            width * 3), zero_k, True, 'K is all zero'),
        'CameraInfo with NaN in K': (_raw(width, height, 'rgb8', bytes(good.data), width * 3),
                                     nan_k, True, 'K is not finite'),
        'image/CameraInfo size mismatch': (
            _raw(width, height, 'rgb8', bytes(good.data), width * 3),
            messages.camera_info_message(header(), mismatch), False,
            f'image is {width} x {height} but CameraInfo'),
    }


BAD_INPUTS = ('truncated data', 'unknown encoding', 'float encoding 32FC3',
              'float encoding 32FC1', '0 x 0', '1 x 1 (with its CameraInfo)',
              '8000 x 8000 mono8 (with its CameraInfo)', 'CameraInfo with K all zero',
              'CameraInfo with NaN in K', 'image/CameraInfo size mismatch')


@pytest.mark.parametrize('case', BAD_INPUTS)
def test_bad_input_then_valid_frame(client: tuple, node: NodeProcess, photo: tuple,
                                    case: str) -> None:
    image, info, answered, log_text = _bad_inputs(photo)[case]
    info.header = image.header
    pose_client, executor = client
    since = len(node.log())
    if answered:
        answer = request(client, image, info, timeout_s=180.0, republish_s=20.0)
        assert len(answer.messages['poses'].poses) <= 1
    else:
        for _ in range(3):
            # CameraInfo first: the node uses the latest one, and topics are not ordered.
            pose_client.info_publisher.publish(info)
            pose_client.spin_for(executor, 0.3)
            pose_client.send(image, None)
            pose_client.spin_for(executor, 0.5)
        pose_client.spin_for(executor, 2.0)
        assert stamp_of(image) not in pose_client.answers
    if log_text is not None:
        assert node.wait_for_log(log_text, 10.0, since), f'{log_text!r} not logged'
        if not answered:  # the problem shows in /diagnostics too
            status = pose_client.next_diagnostics(executor, 5.0)
            assert status is not None, 'no /diagnostics within 5 s'
            assert status.level == DiagnosticStatus.WARN and log_text in status.message, \
                status
    request(client, *valid_frame(photo))
    assert node.alive()


def test_burst_at_100_hz_keeps_latency_bounded(client: tuple, node: NodeProcess,
                                               photo: tuple) -> None:
    pose_client, executor = client
    single = []
    for _ in range(3):
        answer = request(client, *valid_frame(photo), republish_s=30.0)
        single.append(answer.latency_s())
    burst, start = [], time.monotonic()
    for _ in range(100):
        image, info = valid_frame(photo)
        burst.append(stamp_of(image))
        pose_client.send(image, info)
        pose_client.spin_for(executor, 0.01)
    duration = time.monotonic() - start
    final = request(client, *valid_frame(photo), republish_s=30.0)
    answered = sum(stamp in pose_client.answers for stamp in burst)
    # Newest frame wins: the last frame waits at most for the one in progress.
    frame_s = statistics.median(single)
    assert final.latency_s() < 3.0 * frame_s + 1.0, (final.latency_s(), single)
    # No backlog: only frames the node had time for were processed (100 if it is fast).
    assert answered <= duration / frame_s + 3, (answered, duration, frame_s)
    assert answered < 100 or frame_s < duration / 100


def test_runtime_parameter_changes_are_validated(client: tuple, photo: tuple) -> None:
    pose_client, executor = client
    parameters = AsyncParameterClient(pose_client, f'{NAMESPACE}/pose3d')
    assert parameters.wait_for_services(10.0)

    def set_one(name: str, value: Any) -> Any:
        future = parameters.set_parameters([Parameter(name, value=value)])
        executor.spin_until_future_complete(future, 10.0)
        return future.result().results[0]

    for name, value in (('min_detection_score', 1.5), ('max_persons', 0),
                        ('detector_grids', [0]), ('detector_grids', [3, 2]),
                        ('tile_overlap', -0.1),
                        ('image_transport', 'compressed'), ('device', 'cuda'),
                        ('marker_scale', 'big')):
        result = set_one(name, value)
        assert not result.successful, (name, value)
        assert result.reason, (name, value)
    result = set_one('max_persons', 3)
    assert result.successful, result.reason
    assert set_one('detector_grids', [1]).successful
    assert set_one('frame_id', 'override_frame').successful
    answer = request(client, *valid_frame(photo))
    assert answer.messages['poses'].header.frame_id == 'override_frame'
    assert set_one('frame_id', '').successful


def test_the_camera_pose_parameters_place_people_on_a_drawn_floor(client: tuple,
                                                                  sample_dir: Path) -> None:
    pose_client, executor = client
    parameters = AsyncParameterClient(pose_client, f'{NAMESPACE}/pose3d')
    assert parameters.wait_for_services(10.0)

    def set_floor(height: float, pitch: float) -> None:
        future = parameters.set_parameters([Parameter('camera_height', value=height),
                                            Parameter('camera_pitch', value=pitch)])
        executor.spin_until_future_complete(future, 10.0)
        assert all(r.successful for r in future.result().results)

    set_floor(1.46, 5.7)  # bus.jpg's camera, from its labels
    try:
        rgb = read_rgb(sample_dir / 'bus.jpg')
        for _ in range(6):  # a stream deals its search out: frames until all three stand
            answer = request(client, *valid_frame((rgb, CameraModel.from_hfov(
                rgb.shape[1], rgb.shape[0], 60.0))))
            markers = answer.messages['markers'].markers[1:]
            feet = {m.id: [m.points[0].x, m.points[0].y, m.points[0].z]
                    for m in markers if m.ns == 'feet'}
            if len(feet) >= 3:
                break
        status = pose_client.next_diagnostics(executor, 10.0)
    finally:
        set_floor(0.0, 0.0)
    ground = GroundPlane.from_camera_pose(1.46, math.radians(5.7))
    grid = [m for m in markers if m.ns == 'floor']
    assert len(grid) == 1
    np.testing.assert_allclose(ground.heights(np.array([[p.x, p.y, p.z]
                                                        for p in grid[0].points])), 0.0,
                               atol=1e-4)
    assert feet  # the bus stop's standing people
    np.testing.assert_allclose(ground.heights(np.array(list(feet.values()))), 0.0, atol=1e-4)
    # Each of them stands on it: their lowest ankle is a few centimetres above the floor,
    # and the distance of their root is that of the foot point, give or take a stride.
    cloud = np.frombuffer(bytes(answer.messages['skeletons'].data), dtype=np.dtype(
        [('xyz', '<f4', 4), ('person_id', '<u4'), ('joint_id', '<u4')]))
    ankles = [LANDMARK_NAMES.index('left_ankle'), LANDMARK_NAMES.index('right_ankle')]
    for identifier, foot in feet.items():
        joints = cloud['xyz'][cloud['person_id'] == identifier, :3].astype(np.float64)
        assert 0.0 <= ground.heights(joints[ankles]).min() <= 0.2, identifier
        root = joints[[LANDMARK_NAMES.index('left_hip'), LANDMARK_NAMES.index('right_hip')]]
        assert abs(root.mean(axis=0)[2] - foot[2]) < 0.5, identifier
    values = {v.key: v.value for v in status.values}
    assert values['floor source'] == 'parameters'
    assert float(values['floor camera height (m)']) == pytest.approx(1.46)
    assert int(values['people on the floor']) == len(feet)


def test_ctrl_c_shuts_down_cleanly(client: tuple, node: NodeProcess) -> None:
    assert node.stop() == 0, node.log()
    assert 'Traceback' not in node.log(), node.log()
