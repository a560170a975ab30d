"""Shared fixtures: the verified model directory and the cached real sample images."""

from pathlib import Path

from pose3d_ros.models.blazepose import MODEL_FILES
from pose3d_ros.models.store import resolve_model_dir, verify
from pose3d_ros.samples import fetch_samples
import pytest


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
    import os

    from pose3d_ros.cli import lifter as command

    directory = tmp_path_factory.mktemp('lifter')
    saved = os.environ.get('POSE3D_LIFTER_DIR')
    os.environ['POSE3D_LIFTER_DIR'] = str(directory)
    try:
        assert command.main(['train', '--quick', '--threads', '2']) == 0
    finally:
        if saved is None:
            del os.environ['POSE3D_LIFTER_DIR']
        else:
            os.environ['POSE3D_LIFTER_DIR'] = saved
    return directory / 'quick.pt'


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
