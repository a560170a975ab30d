"""Shared fixtures: the verified model directory and the cached real sample images."""

import json
from pathlib import Path

from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models.blazepose import MODEL_FILES
from pose3d_ros.models.store import resolve_model_dir, verify
from pose3d_ros.samples import fetch_samples
import pytest


def write_calibration(path: Path, camera: CameraModel) -> Path:
    """Write ``camera`` as a camera_calibration YAML file (JSON is YAML); return ``path``."""
    path.write_text(json.dumps({
        'image_width': camera.width, 'image_height': camera.height,
        'distortion_model': camera.distortion_model,
        'camera_matrix': {'rows': 3, 'cols': 3, 'data': camera.k.ravel().tolist()},
        'distortion_coefficients': {'rows': 1, 'cols': len(camera.d),
                                    'data': camera.d.tolist()}}))
    return path


@pytest.fixture(scope='session')
def model_dir() -> Path:
    """Directory with intact model files; fails (never skips) when they are missing."""
    problems = {name: p for name, p in verify(MODEL_FILES).items() if p}
    if problems:
        pytest.fail(f'model files not ready ({problems}); run `pose3d-models fetch` '
                    '(scripts/test.sh does this)')
    return resolve_model_dir()


@pytest.fixture(scope='session')
def sample_dir() -> Path:
    """Directory with the real sample photographs from Debian's opencv-doc."""
    return fetch_samples()


@pytest.fixture(scope='session')
def estimator(model_dir: Path):
    """One CPU estimator with the default configuration, shared by the integration tests."""
    from pose3d_ros.estimation.config import EstimatorConfig
    from pose3d_ros.estimation.estimator import PoseEstimator
    return PoseEstimator(EstimatorConfig(device='cpu'), model_dir)


@pytest.fixture(scope='session')
def quick_lifter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the quick lifting network once, with ``pose3d-lifter train --quick``."""
    from pose3d_ros.cli import lifter as command

    directory = tmp_path_factory.mktemp('lifter')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('POSE3D_LIFTER_DIR', str(directory))
        assert command.main(['train', '--quick', '--threads', '2']) == 0
    return directory / 'quick.pt'


#: The depth correction the test-written RootNet predicts for everyone.
DESIGNED_GAMMA = 1.1


def designed_depth_bin(joint_set, joint: int) -> int:
    """
    Return the depth bin the test-written PoseNet puts ``joint`` of ``joint_set`` in.

    The pelvis and hips get the middle bin (depth 0 relative to the root, as trained
    networks give the root), the others 16 + their index.
    """
    if joint_set.joint_names[joint] in ('pelvis', 'left_hip', 'right_hip'):
        return 32
    return 16 + joint


def designed_mppe(joints: int = 21) -> tuple:
    """
    Return a RootNet and a PoseNet with random backbones and heads of known output.

    RootNet's root heatmap is flat (its soft-argmax is the heatmap centre, 31.5 cells) and
    its gamma is ``DESIGNED_GAMMA``; PoseNet's volumes are flat in x and y and peak at
    :func:`designed_depth_bin` of each joint. So their answers follow from the box alone.
    """
    import torch
    from pose3d_ros.mppe.checkpoint import POSENET_JOINT_SETS
    from pose3d_ros.mppe.networks import DEPTH_BINS, PoseNet, RootNet

    torch.manual_seed(0)
    rootnet, posenet = RootNet(), PoseNet(joints)
    with torch.no_grad():
        rootnet.root.xy_layer.weight.zero_()
        rootnet.root.xy_layer.bias.zero_()
        rootnet.root.depth_layer.weight.zero_()
        rootnet.root.depth_layer.bias.fill_(DESIGNED_GAMMA)
        posenet.head.final_layer.weight.zero_()
        posenet.head.final_layer.bias.zero_()
        for joint in range(joints):
            depth_bin = designed_depth_bin(POSENET_JOINT_SETS[joints], joint)
            posenet.head.final_layer.bias[joint * DEPTH_BINS + depth_bin] = 50.0
    return rootnet, posenet


@pytest.fixture(scope='session')
def mppe_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """Write the designed RootNet and 21-joint PoseNet as official snapshot files."""
    from pose3d_ros.mppe.checkpoint import write_snapshot

    directory = tmp_path_factory.mktemp('mppe')
    rootnet, posenet = designed_mppe()
    return (write_snapshot(rootnet, directory / 'rootnet_snapshot_24.pth.tar'),
            write_snapshot(posenet, directory / 'posenet_snapshot_24.pth.tar'))


def ros_context(domain_id: int):
    """
    Yield an rclpy Context on DDS domain ``domain_id`` with discovery on localhost only.

    For module fixtures of the DDS tests (each module its own domain); os.environ is
    restored afterwards.
    """
    import os

    from pose3d_ros.node.client import ros_environment
    import rclpy
    from rclpy.context import Context

    saved = dict(os.environ)
    os.environ.update(ros_environment(domain_id))
    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.shutdown(context=context)
        os.environ.clear()
        os.environ.update(saved)
