"""
Shared fixtures, and each test's level as a marker.

Tests are grouped by level in folders, and each folder's tests carry its marker:
``unit`` (no model files, no photographs), ``integration`` (the real networks on real
photographs), ``dds`` (the node as its own process, over DDS) and ``package`` (linters,
colcon, launch and RViz files); ``gpu`` tests need CUDA. ``pytest -m unit`` runs one level.

The fixtures of optional resources never fetch anything: when a resource is absent they
skip with the command that makes it (``scripts/test.sh`` makes all of them first).
"""

from pathlib import Path

from pose3d_ros.models.blazepose import MODEL_FILES
from pose3d_ros.models.store import resolve_model_dir, verify
from pose3d_ros.samples import ALL_IMAGES, sample_dir as samples_directory, STREET_IMAGES
import pytest

from .helpers import designed_mppe, load_interfaces

LEVELS = ('unit', 'integration', 'dds', 'package')


def pytest_collection_modifyitems(items: list) -> None:
    """Mark every test with its folder's level."""
    for item in items:
        level = Path(str(item.fspath)).parent.name
        if level in LEVELS:
            item.add_marker(getattr(pytest.mark, level))


@pytest.fixture(scope='session')
def model_dir() -> Path:
    """Directory with intact model files; skips (saying how to get them) when missing."""
    problems = {name: p for name, p in verify(MODEL_FILES).items() if p}
    if problems:
        pytest.skip(f'model files not ready ({problems}): run `pose3d-models fetch` '
                    '(scripts/test.sh does)')
    return resolve_model_dir()


@pytest.fixture(scope='session')
def sample_dir() -> Path:
    """Directory with the real sample photographs (street scenes too); skips when absent."""
    directory = samples_directory()
    missing = [name for name in ALL_IMAGES + STREET_IMAGES
               if not (directory / name).is_file()]
    if missing:
        pytest.skip(f'sample photographs not cached ({", ".join(missing)}): run '
                    '`python -m pose3d_ros.samples` (scripts/test.sh does)')
    return directory


@pytest.fixture(scope='session')
def mediapipe_python() -> Path:
    """Return the python of MediaPipe's own environment; skips when it was not built."""
    from pose3d_ros.evaluation.mediapipe_reference import environment_python

    python = environment_python(create=False)
    if python is None:
        pytest.skip('MediaPipe 0.10.14 environment not built: run `python -m '
                    'pose3d_ros.evaluation.mediapipe_reference` (scripts/test.sh does)')
    return python


@pytest.fixture(scope='session')
def interfaces() -> Path:
    """
    Return the prefix of tf2_msgs and the hri_msgs subset, built, loaded in this process.

    Built once per definitions' digest into the cache (``pose3d-interfaces build``, about
    20 s); skips, naming what is missing, where the build tools are not installed
    (requirements-interfaces.txt, which scripts/test.sh installs).
    """
    from pose3d_ros.interfaces.build import build, default_prefix, missing_tools

    missing = missing_tools()
    if missing:
        pytest.skip('cannot build the interfaces, missing: ' + ', '.join(missing))
    prefix = build(default_prefix())
    load_interfaces(prefix)
    return prefix


@pytest.fixture(scope='session')
def estimator(model_dir: Path):
    """One CPU estimator with the default configuration, shared by the integration tests."""
    from pose3d_ros.estimation.config import EstimatorConfig
    from pose3d_ros.estimation.estimator import PoseEstimator
    return PoseEstimator(EstimatorConfig(device='cpu', model_dir=str(model_dir)))


@pytest.fixture(scope='session')
def quick_lifter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the quick lifting network once, with ``pose3d-lifter train --quick``."""
    from pose3d_ros.cli import lifter as command

    directory = tmp_path_factory.mktemp('lifter')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('POSE3D_LIFTER_DIR', str(directory))
        assert command.main(['train', '--quick', '--threads', '2']) == 0
    return directory / 'quick.pt'


@pytest.fixture(scope='session')
def mppe_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """Write the designed RootNet and 21-joint PoseNet as official snapshot files."""
    from pose3d_ros.mppe.checkpoint import write_snapshot

    directory = tmp_path_factory.mktemp('mppe')
    rootnet, posenet = designed_mppe()
    return (write_snapshot(rootnet, directory / 'rootnet_snapshot_24.pth.tar'),
            write_snapshot(posenet, directory / 'posenet_snapshot_24.pth.tar'))
