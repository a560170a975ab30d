"""
pose3d_node's lifecycle over real DDS: transitions through the lifecycle services.

The node starts with ``autostart:=false`` and compressed input (best-effort sensor QoS);
the test drives configure, activate, deactivate, cleanup and shutdown through
``~/change_state`` and checks ``~/get_state`` and the node's behaviour in each state. A
second node with an empty model directory must fail configure and say how to fix it.
"""

import os
from pathlib import Path
from typing import Any, Iterator

from builtin_interfaces.msg import Time
import cv2
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.node import messages
from pose3d_ros.node_client import NodeProcess, Pose3dClient, ros_environment
from pose3d_ros.samples import read_rgb
import pytest
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header

from ..helpers import ros_context

#: Another domain than test_node_dds.py's, so that the two never see each other.
DOMAIN_ID = 1 + os.getpid() % 99


@pytest.fixture(scope='module')
def context() -> Iterator[Context]:
    """Give an rclpy context on this module's own domain, localhost discovery."""
    yield from ros_context(DOMAIN_ID)


class Lifecycle:
    """Calls a node's lifecycle services from a client node."""

    def __init__(self, client: Pose3dClient, executor: Any, node_name: str) -> None:
        self.client, self.executor = client, executor
        self.change = client.create_client(ChangeState, f'{node_name}/change_state')
        self.get = client.create_client(GetState, f'{node_name}/get_state')
        assert self.change.wait_for_service(60.0) and self.get.wait_for_service(60.0)

    def state(self) -> int:
        """Return the node's current state id."""
        future = self.get.call_async(GetState.Request())
        self.executor.spin_until_future_complete(future, 30.0)
        return future.result().current_state.id

    def trigger(self, transition: int) -> bool:
        """Request a transition; return whether it succeeded."""
        future = self.change.call_async(
            ChangeState.Request(transition=Transition(id=transition)))
        self.executor.spin_until_future_complete(future, 120.0)
        return future.result().success


def jpeg_frame(sample_dir: Path, second: int) -> tuple:
    """(CompressedImage of messi5.jpg, CameraInfo) with one stamp."""
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    height, width = rgb.shape[:2]
    header = Header(stamp=Time(sec=second), frame_id='lifecycle_optical')
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    image = CompressedImage(header=header, format='jpeg', data=jpeg.tobytes())
    camera = CameraModel.from_hfov(width, height, 60.0)
    return image, messages.camera_info_message(header, camera)


def test_lifecycle_transitions(context: Context, model_dir: Path, sample_dir: Path) -> None:
    arguments = ['-r', '__ns:=/lc', '-p', 'autostart:=false', '-p', 'device:=cpu',
                 '-p', 'image_transport:=compressed', '-p', 'detector_grids:=[1]']
    executor = SingleThreadedExecutor(context=context)
    client = Pose3dClient('/lc', reliable=False, compressed=True, context=context)
    executor.add_node(client)
    with NodeProcess(arguments, ros_environment(DOMAIN_ID)) as node:
        lifecycle = Lifecycle(client, executor, '/lc/pose3d')
        assert lifecycle.state() == State.PRIMARY_STATE_UNCONFIGURED
        assert not lifecycle.trigger(Transition.TRANSITION_ACTIVATE)  # not configured yet

        assert lifecycle.trigger(Transition.TRANSITION_CONFIGURE)
        assert lifecycle.state() == State.PRIMARY_STATE_INACTIVE
        assert node.wait_for_log('models loaded on cpu', 10.0)
        client.spin_for(executor, 1.0)
        assert client.image_publisher.get_subscription_count() == 0  # inactive: no input

        assert lifecycle.trigger(Transition.TRANSITION_ACTIVATE)
        assert lifecycle.state() == State.PRIMARY_STATE_ACTIVE
        assert client.wait_for_node(executor, 30.0)

        # Before any CameraInfo, frames wait (with a warning) while require_camera_info.
        image, _ = jpeg_frame(sample_dir, 5)
        assert client.request(executor, image, None, 3.0, republish_s=0.5) is None
        assert node.wait_for_log('waiting for CameraInfo', 5.0)
        parameters = AsyncParameterClient(client, '/lc/pose3d')
        future = parameters.set_parameters([Parameter('require_camera_info', value=False)])
        executor.spin_until_future_complete(future, 10.0)
        assert future.result().results[0].successful
        image, _ = jpeg_frame(sample_dir, 6)
        assert client.request(executor, image, None, 60.0, republish_s=0.5) is not None

        image, info = jpeg_frame(sample_dir, 7)
        answer = client.request(executor, image, info, 60.0, republish_s=0.5)
        assert answer is not None, node.log()
        assert len(answer.messages['poses'].poses) == 1
        assert answer.messages['poses'].header.frame_id == 'lifecycle_optical'

        assert lifecycle.trigger(Transition.TRANSITION_DEACTIVATE)
        assert lifecycle.state() == State.PRIMARY_STATE_INACTIVE
        client.spin_for(executor, 1.0)
        assert client.image_publisher.get_subscription_count() == 0
        image, info = jpeg_frame(sample_dir, 8)
        client.send(image, info)
        client.spin_for(executor, 2.0)
        assert (8, 0) not in client.answers  # inactive: nothing is processed

        # Re-activation starts the inputs and the worker again.
        assert lifecycle.trigger(Transition.TRANSITION_ACTIVATE)
        assert client.wait_for_node(executor, 30.0)
        image, info = jpeg_frame(sample_dir, 9)
        assert client.request(executor, image, info, 60.0, republish_s=0.5) is not None
        assert lifecycle.trigger(Transition.TRANSITION_DEACTIVATE)

        assert lifecycle.trigger(Transition.TRANSITION_CLEANUP)
        assert lifecycle.state() == State.PRIMARY_STATE_UNCONFIGURED
        assert lifecycle.trigger(Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)
        assert lifecycle.state() == State.PRIMARY_STATE_FINALIZED
        assert node.stop() == 0
        assert 'Traceback' not in node.log(), node.log()
    executor.shutdown()
    client.destroy_node()


@pytest.mark.parametrize('argument, reason', [
    ('model_dir:={tmp}', 'pose3d-models fetch'),
    ('max_persons:=0', 'max_persons'),
    ('detector_grids:=[0]', 'detector_grids must be a non-empty list of distinct integers'),
    ('marker_scale:=large', 'marker_scale'),
    ('pose_backend:=3dmppe', 'set rootnet_checkpoint to its path'),
    ('ground_frame:=/base_footprint', 'ground_frame must be empty, or a TF frame id'),
    ('target_frame:=base_link', "target_frame 'base_link' needs TF: tf2_ros cannot be imported"),
    ('hri:=true', 'hri: hri_msgs cannot be imported'),
    ('device:=cuda:7', "device 'cuda:7' requested but")])
def test_configure_fails_with_the_reason(context: Context, tmp_path: Path, argument: str,
                                         reason: str) -> None:
    arguments = ['-r', '__ns:=/broken', '-p', argument.format(tmp=tmp_path)]
    executor = SingleThreadedExecutor(context=context)
    client = Pose3dClient('/broken', context=context)
    executor.add_node(client)
    with NodeProcess(arguments, ros_environment(DOMAIN_ID)) as node:
        assert node.wait_for_log('autostart: configure failed', 60.0), node.log()
        assert reason in node.log(), node.log()
        lifecycle = Lifecycle(client, executor, '/broken/pose3d')
        assert lifecycle.state() == State.PRIMARY_STATE_UNCONFIGURED
        assert not lifecycle.trigger(Transition.TRANSITION_CONFIGURE)  # still wrong
        assert node.alive()
        assert node.stop() == 0
        assert 'Traceback' not in node.log(), node.log()
    executor.shutdown()
    client.destroy_node()
