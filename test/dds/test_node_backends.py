"""pose3d_node with the lifting and 3dmppe backends over real DDS: outputs carry their joints."""

import os
from pathlib import Path
from typing import Iterator

from builtin_interfaces.msg import Time
import numpy as np
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models.joint_sets import HUMAN36M_17, JointSet, MUCO_21
from pose3d_ros.node import messages
from pose3d_ros.node_client import NodeProcess, Pose3dClient, ros_environment, stamp_of
from pose3d_ros.samples import read_rgb
import pytest
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import Header

from ..helpers import ros_context

#: A domain of its own (test_node_lifecycle.py uses 1-99, test_node_dds.py 100-199).
DOMAIN_ID = 200 + os.getpid() % 30


@pytest.fixture(scope='module')
def context() -> Iterator[Context]:
    """Give an rclpy context on this module's own domain, localhost discovery."""
    yield from ros_context(DOMAIN_ID)


def backend_parameters(backend: str, request: pytest.FixtureRequest) -> list:
    """Return the node parameters of ``backend`` with its test weights."""
    if backend == 'lifting':
        return [f'lifter_weights:={request.getfixturevalue("quick_lifter")}']
    rootnet, posenet = request.getfixturevalue('mppe_checkpoints')
    return [f'rootnet_checkpoint:={rootnet}', f'posenet_checkpoint:={posenet}']


@pytest.mark.parametrize('backend, joint_set', [('lifting', HUMAN36M_17),
                                                ('3dmppe', MUCO_21)])
def test_node_publishes_the_backends_skeletons(context: Context, request: pytest.FixtureRequest,
                                               model_dir: Path, sample_dir: Path,
                                               backend: str, joint_set: JointSet) -> None:
    arguments = ['-r', '__ns:=/lift', '-p', 'device:=cpu', '-p', 'reliable_input:=true',
                 '-p', f'pose_backend:={backend}', '-p', f'model_dir:={model_dir}']
    for parameter in backend_parameters(backend, request):
        arguments += ['-p', parameter]
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    header = Header(stamp=Time(sec=7, nanosec=5), frame_id='camera_optical')
    with NodeProcess(arguments, ros_environment(DOMAIN_ID)) as node:
        client = Pose3dClient('/lift', reliable=True, context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(client)
        try:
            assert client.wait_for_node(executor, 120.0), node.log()
            answer = client.request(executor, messages.image_message(header, rgb),
                                    messages.camera_info_message(header, camera), 120.0)
            assert answer is not None, node.log()
        finally:
            executor.shutdown()
            client.destroy_node()
        assert 'run by' in node.log()
    cloud = answer.messages['skeletons']
    assert stamp_of(cloud) == (7, 5) and cloud.header.frame_id == 'camera_optical'
    (person,) = messages.persons_from_cloud(cloud, camera)
    count = len(joint_set.joint_names)
    assert person.joint_set is joint_set and person.joints_3d.shape == (count, 3)
    assert 1.5 < person.root[2] < 4.0
    assert len(answer.messages['joints'].poses) == count
    bones = [m for m in answer.messages['markers'].markers if m.ns == 'bones'][0]
    assert 0 < len(bones.points) <= 2 * len(joint_set.edges)
    pose = answer.messages['poses'].poses[0]
    np.testing.assert_allclose([pose.position.x, pose.position.y, pose.position.z],
                               person.root, atol=1e-4)
