"""
pose3d_node with TF over real DDS: the floor of ``ground_frame`` and outputs in ``target_frame``.

tf2_ros is not on PyPI, so the node runs with the stand-in of test/stand_ins/tf2_ros on its
path (the real package's interface, checked in test/unit/test_tf_interface.py), whose
buffer holds bus.jpg's camera pose as a static transform: ``cam_optical`` 1.46 m above
``base_footprint``, pitched 5.7 degrees down (from the photograph's labels). Three nodes:
one with both frames known, one whose ground frame is unknown (the floor falls back to
the camera pose parameters), one whose target frame is unknown (frames are skipped). The
interfaces built here (tf2_msgs) are on the node's path, so its body frames go out through
the stand-in's TransformBroadcaster, as through tf2_ros's. A node without tf2_ros refusing
``target_frame`` is tested in test_node_lifecycle.py.
"""

import json
import math
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from builtin_interfaces.msg import Time
import numpy as np
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.rigid import matrix_to_quaternion
from pose3d_ros.interfaces.build import environment as interface_environment
from pose3d_ros.models.blazepose import LANDMARK_NAMES
from pose3d_ros.node import messages
from pose3d_ros.node_client import Answer, NodeProcess, Pose3dClient, ros_environment
from pose3d_ros.samples import read_rgb
import pytest
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import Header

from ..helpers import ros_context

REPO = Path(__file__).resolve().parents[2]
#: Its own DDS domain (the other modules use 1-229).
DOMAIN_ID = 230 + os.getpid() % 3
CAMERA_FRAME, FLOOR_FRAME = 'cam_optical', 'base_footprint'
HEIGHT_M, PITCH_DEG = 1.46, 5.7
ANSWER_TIMEOUT_S = 60.0
_STAMPS = iter(range(5000, 100000))


def camera_pose() -> Dict[str, object]:
    """Return the optical frame's pose in base_footprint (x forward, y left, z up)."""
    pitch = math.radians(PITCH_DEG)
    forward = np.array([math.cos(pitch), 0.0, -math.sin(pitch)])  # the optical axis
    right = np.array([0.0, -1.0, 0.0])
    rotation = np.column_stack([right, np.cross(forward, right), forward])  # x, y, z
    return {'parent': FLOOR_FRAME, 'child': CAMERA_FRAME, 'translation': [0.0, 0.0, HEIGHT_M],
            'rotation': matrix_to_quaternion(rotation).tolist()}


def node_process(interfaces: Optional[Path], *parameters: str) -> NodeProcess:
    """
    Return the node with the stand-in tf2_ros and the camera pose in its buffer.

    ``interfaces``: the built tf2_msgs, for body frames through the stand-in's broadcaster
    (which needs it, as the real one); None: without them (``body_frames:=false``).
    """
    environment = ros_environment(DOMAIN_ID)
    built = {} if interfaces is None else interface_environment(interfaces)
    for name in ('PYTHONPATH', 'LD_LIBRARY_PATH'):
        first = [str(REPO / 'test' / 'stand_ins')] if name == 'PYTHONPATH' else []
        environment[name] = os.pathsep.join(
            first + [p for p in (built.get(name), environment.get(name)) if p])
    environment['TF2_STAND_IN'] = json.dumps([camera_pose()])
    arguments = ['-r', '__ns:=/tf_cam', '-p', 'device:=cpu', '-p', 'reliable_input:=true']
    for parameter in parameters:
        arguments += ['-p', parameter]
    return NodeProcess(arguments, environment)


@pytest.fixture(scope='module')
def context() -> Iterator[Context]:
    """Give an rclpy context on this module's own domain, localhost discovery."""
    yield from ros_context(DOMAIN_ID)


@pytest.fixture(scope='module')
def bus(sample_dir: Path) -> tuple:
    """(RGB bus.jpg, its camera model: a 60 degree horizontal field of view)."""
    rgb = read_rgb(sample_dir / 'bus.jpg')
    return rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)


def frames(context: Context, node: NodeProcess, bus: tuple, count: int,
           timeout_s: float = ANSWER_TIMEOUT_S, tf: Optional[list] = None) -> List[Answer]:
    """
    Send bus.jpg ``count`` times (fresh stamps); return the answers (None: unanswered).

    The last item is the next diagnostics. ``tf`` collects what /tf carries meanwhile.
    """
    from tf2_msgs.msg import TFMessage

    executor = SingleThreadedExecutor(context=context)
    client = Pose3dClient('/tf_cam', reliable=True, context=context)
    client.watch('debug_image')
    if tf is not None:
        client.create_subscription(TFMessage, '/tf', lambda m: tf.extend(m.transforms), 100)
    executor.add_node(client)
    try:
        if not client.wait_for_node(executor, 120.0):
            pytest.fail(f'the node did not subscribe within 120 s; its log:\n{node.log()}')
        answers = []
        for _ in range(count):
            header = Header(stamp=Time(sec=next(_STAMPS), nanosec=5), frame_id=CAMERA_FRAME)
            rgb, camera = bus
            answers.append(client.request(
                executor, messages.image_message(header, rgb),
                messages.camera_info_message(header, camera), timeout_s,
                topics=('markers', 'poses', 'joints', 'skeletons', 'debug_image')))
        answers.append(client.next_diagnostics(executor, 10.0))
        return answers
    finally:
        executor.shutdown()
        client.destroy_node()


def points(marker: object) -> np.ndarray:
    return np.array([[p.x, p.y, p.z] for p in marker.points]).reshape(-1, 3)


def test_the_floor_from_tf_and_outputs_in_the_floor_frame(
        context: Context, bus: tuple, model_dir: Path, interfaces: Path) -> None:
    tf: list = []
    with node_process(interfaces, f'ground_frame:={FLOOR_FRAME}',
                      f'target_frame:={FLOOR_FRAME}') as node:
        *answers, status = frames(context, node, bus, 4, tf=tf)
        assert node.stop() == 0, node.log()
    assert all(answers), node.log()
    answer = max(answers, key=lambda a: sum(m.ns == 'feet' for m in a.messages['markers'].markers))
    stamp = answer.messages['poses'].header.stamp
    for topic in ('poses', 'joints', 'skeletons'):
        header = answer.messages[topic].header
        assert (header.frame_id, header.stamp) == (FLOOR_FRAME, stamp), topic
    assert all(m.header.frame_id == FLOOR_FRAME for m in answer.messages['markers'].markers)
    assert answer.messages['debug_image'].header.frame_id == CAMERA_FRAME  # a camera image
    markers = answer.messages['markers'].markers
    # In base_footprint the floor is z = 0: the grid, and everyone's foot point, on it.
    grid = [m for m in markers if m.ns == 'floor']
    assert len(grid) == 1
    np.testing.assert_allclose(points(grid[0])[:, 2], 0.0, atol=1e-4)
    feet = {m.id: points(m)[0] for m in markers if m.ns == 'feet'}
    assert len(feet) >= 2, node.log()
    np.testing.assert_allclose([foot[2] for foot in feet.values()], 0.0, atol=1e-4)
    # Each stands on it, upright: ankles a few centimetres up, eyes at a person's height.
    cloud = np.frombuffer(bytes(answer.messages['skeletons'].data), dtype=np.dtype(
        [('xyz', '<f4', 4), ('person_id', '<u4'), ('joint_id', '<u4')]))
    index = {name: LANDMARK_NAMES.index(name) for name in
             ('left_ankle', 'right_ankle', 'left_eye', 'right_eye', 'left_hip', 'right_hip')}
    roots = []
    for identifier in dict.fromkeys(cloud['person_id'].tolist()):
        joints = cloud['xyz'][cloud['person_id'] == identifier, :3].astype(np.float64)
        roots.append(joints[[index['left_hip'], index['right_hip']]].mean(axis=0))
        if identifier in feet:
            assert 0.0 <= joints[[index['left_ankle'], index['right_ankle']]][:, 2].min() <= 0.2
            assert 1.3 <= joints[[index['left_eye'], index['right_eye']]][:, 2].mean() <= 2.0
            assert joints[:, 0].min() > 0.5  # ahead of the camera: x forward
    # The poses are the roots of the skeletons, in the same frame.
    positions = [[p.position.x, p.position.y, p.position.z]
                 for p in answer.messages['poses'].poses]
    np.testing.assert_allclose(positions, roots, atol=1e-4)
    # The body frames went out through tf2_ros's broadcaster: parent the target frame,
    # each where its person's pose is.
    bodies = {t.child_frame_id: t for t in tf if t.header.stamp == stamp}
    assert len(bodies) == len(positions)
    assert all(t.header.frame_id == FLOOR_FRAME for t in bodies.values())
    np.testing.assert_allclose(sorted([t.transform.translation.x, t.transform.translation.y,
                                       t.transform.translation.z] for t in bodies.values()),
                               sorted(positions), atol=1e-6)
    values = {v.key: v.value for v in status.values}
    assert values['floor source'] == 'tf'
    assert float(values['floor camera height (m)']) == pytest.approx(HEIGHT_M, abs=1e-3)
    assert float(values['floor pitch (deg)']) == pytest.approx(PITCH_DEG, abs=1e-2)


def test_an_unknown_ground_frame_falls_back_to_the_parameters(
        context: Context, bus: tuple, model_dir: Path) -> None:
    with node_process(None, 'ground_frame:=no_such_floor', 'camera_height:=2.0',
                      'body_frames:=false') as node:
        *answers, status = frames(context, node, bus, 1)
        assert node.stop() == 0, node.log()
    assert answers[0] is not None, node.log()
    assert answers[0].messages['poses'].header.frame_id == CAMERA_FRAME
    assert f"ground_frame: no transform from 'no_such_floor' to '{CAMERA_FRAME}'" in node.log()
    values = {v.key: v.value for v in status.values}
    assert values['floor source'] == 'parameters' and values['floor camera height (m)'] == \
        '2.000'


def test_an_unknown_target_frame_skips_the_frames(
        context: Context, bus: tuple, model_dir: Path) -> None:
    with node_process(None, 'target_frame:=no_such_frame', 'body_frames:=false') as node:
        answers = frames(context, node, bus, 1, timeout_s=8.0)
        assert node.stop() == 0, node.log()
    assert answers[0] is None  # no outputs for a frame TF cannot place
    log = node.log()
    assert f"target_frame: no transform from '{CAMERA_FRAME}' to 'no_such_frame'" in log
    assert 'frame skipped' in log
    # Throttled: one line per 5 s, though each of the frame's resends (one a second) failed.
    assert log.count('target_frame: no transform') <= 2, log
