"""
People as ROS data over real DDS: body frames on /tf and REP-155's bodies interface.

tf2_msgs and the hri_msgs subset are built here (the ``interfaces`` fixture, as
``pose3d-interfaces build`` does) and put on the node's path; without tf2_ros the node
sends its body frames as tf2_msgs/TFMessage on /tf (the tf2_ros path is tested in
test_node_tf.py). The node runs with ``hri:=true`` on bus.jpg: its people are bodies;
then on a street without them (leuvenA.jpg's cobbles), they are gone.
"""

import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List, Tuple

from builtin_interfaces.msg import Time
import cv2
import numpy as np
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.interfaces.build import environment
from pose3d_ros.node import messages
from pose3d_ros.node_client import NodeProcess, Pose3dClient, ros_environment, stamp_of
from pose3d_ros.samples import read_rgb
import pytest
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import Header

from ..helpers import ros_context

REPO = Path(__file__).resolve().parents[2]
#: Its own DDS domain while it runs (the modules run one after another).
DOMAIN_ID = 50 + os.getpid() % 40
NAMESPACE, FRAME = '/hri_cam', 'hri_optical'
ANSWER_TIMEOUT_S = 60.0
_STAMPS = iter(range(9000, 100000))


@pytest.fixture(scope='module')
def context() -> Iterator[Context]:
    """Give an rclpy context on this module's own domain, localhost discovery."""
    yield from ros_context(DOMAIN_ID)


@pytest.fixture(scope='module')
def node(context: Context, interfaces: Path, model_dir: Path) -> Iterator[NodeProcess]:
    """Run the node with hri and body frames, the built interfaces on its path."""
    variables = ros_environment(DOMAIN_ID)
    for name, value in environment(interfaces).items():
        variables[name] = os.pathsep.join(p for p in (value, variables.get(name)) if p)
    with NodeProcess(['-r', f'__ns:={NAMESPACE}', '-p', 'device:=cpu', '-p', 'hri:=true',
                      '-p', 'reliable_input:=true'], variables) as process:
        yield process


class Listener:
    """Collects /tf and /humans/bodies/tracked by stamp, and any body's topics."""

    def __init__(self, client: Pose3dClient) -> None:
        from hri_msgs.msg import IdsList
        from tf2_msgs.msg import TFMessage

        self.client = client
        self.frames: Dict[Tuple[int, int], List[Any]] = {}
        self.tracked: Dict[Tuple[int, int], List[str]] = {}
        self.body_messages: Dict[Tuple[str, str, Tuple[int, int]], Any] = {}
        client.create_subscription(TFMessage, '/tf', self._on_tf, 100)
        client.create_subscription(IdsList, '/humans/bodies/tracked',
                                   lambda m: self.tracked.setdefault(stamp_of(m), list(m.ids)),
                                   10)

    def _on_tf(self, message: Any) -> None:
        for transform in message.transforms:
            self.frames.setdefault(stamp_of(transform), []).append(transform)

    def watch_body(self, body: str) -> None:
        """Collect a body's skeleton2d and roi."""
        from hri_msgs.msg import NormalizedRegionOfInterest2D, Skeleton2D

        for topic, kind in (('skeleton2d', Skeleton2D), ('roi', NormalizedRegionOfInterest2D)):
            self.client.create_subscription(
                kind, f'/humans/bodies/{body}/{topic}',
                lambda m, t=topic: self.body_messages.setdefault((body, t, stamp_of(m)), m), 10)


@pytest.fixture(scope='module')
def client(context: Context, node: NodeProcess) -> Iterator[tuple]:
    """(client node, executor, listener) once the node is active and subscribed."""
    executor = SingleThreadedExecutor(context=context)
    pose_client = Pose3dClient(NAMESPACE, reliable=True, context=context)
    listener = Listener(pose_client)
    executor.add_node(pose_client)
    if not pose_client.wait_for_node(executor, 120.0):
        pytest.fail(f'the node did not subscribe within 120 s; its log:\n{node.log()}')
    yield pose_client, executor, listener
    executor.shutdown()
    pose_client.destroy_node()


def send(client: tuple, rgb: np.ndarray) -> Tuple[Any, Tuple[int, int]]:
    """Publish ``rgb`` until answered, then a little longer for /tf and the bodies."""
    pose_client, executor, _ = client
    header = Header(stamp=Time(sec=next(_STAMPS), nanosec=7), frame_id=FRAME)
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    answer = pose_client.request(executor, messages.image_message(header, rgb),
                                 messages.camera_info_message(header, camera),
                                 ANSWER_TIMEOUT_S)
    assert answer is not None, 'no answer'
    pose_client.spin_for(executor, 1.0)
    return answer, (header.stamp.sec, header.stamp.nanosec)


def test_bodies_have_frames_topics_and_ids_and_leave(client: tuple, sample_dir: Path,
                                                     node: NodeProcess) -> None:
    pose_client, executor, listener = client
    bus = read_rgb(sample_dir / 'bus.jpg')
    answer, stamp = send(client, bus)
    ids = sorted({m.id for m in answer.messages['markers'].markers if m.ns == 'joints'})
    bodies = [f'b{i}' for i in ids]
    assert len(bodies) >= 2, node.log()  # the first frame of a stream: its first search part
    # /humans/bodies/tracked lists exactly the people in the markers.
    assert sorted(listener.tracked[stamp]) == sorted(bodies)
    # /tf: one body frame each, parent the image's frame, the image's stamp, at the poses.
    frames = {t.child_frame_id: t for t in listener.frames[stamp]}
    assert sorted(frames) == sorted(f'body_{b}' for b in bodies)
    assert all(t.header.frame_id == FRAME for t in frames.values())
    poses = answer.messages['poses'].poses  # in track id order, as the markers' ids
    assert len(poses) == len(ids)
    for identifier, pose in zip(ids, poses):
        t = frames[f'body_b{identifier}'].transform
        np.testing.assert_allclose([t.translation.x, t.translation.y, t.translation.z],
                                   [pose.position.x, pose.position.y, pose.position.z],
                                   atol=1e-9)
        np.testing.assert_allclose([t.rotation.x, t.rotation.y, t.rotation.z, t.rotation.w],
                                   [pose.orientation.x, pose.orientation.y,
                                    pose.orientation.z, pose.orientation.w], atol=1e-9)
    # Each body's own topics carry its 2D skeleton and box, normalised, at the stamp.
    for body in bodies:
        listener.watch_body(body)
    pose_client.spin_for(executor, 1.0)  # discovery
    _, later = send(client, bus)
    for body in bodies:
        roi = listener.body_messages[(body, 'roi', later)]
        skeleton = listener.body_messages[(body, 'skeleton2d', later)]
        assert 0.0 <= roi.xmin < roi.xmax <= 1.0 and 0.0 <= roi.ymin < roi.ymax <= 1.0
        points = np.array([[p.x, p.y, p.c] for p in skeleton.skeleton])
        assert points.shape == (18, 3) and ((points >= 0) & (points <= 1)).all()
        assert roi.xmin <= points[1, 0] <= roi.xmax  # the neck is inside the box
    # Without the people, the list empties, no body frame goes out, their topics go.
    street = cv2.resize(read_rgb(sample_dir / 'leuvenA.jpg'), bus.shape[1::-1])
    _, empty = send(client, street)
    assert listener.tracked[empty] == [], node.log()
    assert empty not in listener.frames
    pose_client.spin_for(executor, 2.0)  # the graph catches up
    for body in bodies:
        for topic in ('skeleton2d', 'roi'):
            assert pose_client.count_publishers(f'/humans/bodies/{body}/{topic}') == 0


def docs_example() -> str:
    """Return the consumer example of docs/node.md (the block after 'This consumer')."""
    text = (REPO / 'docs' / 'node.md').read_text()
    start = text.index('```python\n', text.index('This consumer prints')) + len('```python\n')
    return text[start:text.index('```', start)]


def test_the_documented_consumer_prints_each_person(
        client: tuple, sample_dir: Path, node: NodeProcess, tmp_path: Path) -> None:
    script = tmp_path / 'people.py'
    script.write_text(docs_example())
    consumer = subprocess.Popen([sys.executable, str(script), NAMESPACE],
                                env=ros_environment(DOMAIN_ID), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    try:
        pose_client, executor, _ = client
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and \
                pose_client.count_subscribers(f'{NAMESPACE}/pose3d/skeletons') < 2:
            pose_client.spin_for(executor, 0.2)  # the consumer has subscribed
        answer, _ = send(client, read_rgb(sample_dir / 'bus.jpg'))
        pose_client.spin_for(executor, 2.0)
    finally:
        consumer.send_signal(signal.SIGINT)
        output, _ = consumer.communicate(timeout=20.0)
    ids = sorted({m.id for m in answer.messages['markers'].markers if m.ns == 'joints'})
    lines = [line for line in output.splitlines() if line.endswith(f'in {FRAME}')]
    printed = {int(line.split(',')[0]) for line in lines}
    assert set(ids) <= printed, output
    for line, pose in zip(lines[-len(ids):], answer.messages['poses'].poses):
        distance = float(line.split(', ')[1].split()[0])
        assert distance == pytest.approx(np.linalg.norm(
            [pose.position.x, pose.position.y, pose.position.z]), abs=0.01), line
