"""Physics on a real photograph: the 3D answer moves exactly as image and camera changes say."""

from pose3d_ros.evaluation.physics import MIRROR, PhysicsChecks
from pose3d_ros.models.blazepose import LANDMARK_NAMES
from pose3d_ros.samples import read_rgb
import pytest


@pytest.fixture(scope='module')
def checks(estimator, sample_dir) -> PhysicsChecks:
    return PhysicsChecks(estimator, read_rgb(sample_dir / 'messi5.jpg'))


@pytest.mark.parametrize('name, bound', [
    ('downscale', 0.02), ('focal_length', 0.02), ('crop', 0.02), ('mirror', 0.08),
    ('distortion', 0.03), ('pasted_scales', 0.10)])
def test_check_within_bound(checks: PhysicsChecks, name: str, bound: float) -> None:
    check = getattr(checks, name)()
    assert check.bound == bound
    assert check.passed, f'{check.what}: {check.error:.4f} > {check.bound}'


def test_mirror_table_swaps_left_and_right() -> None:
    assert LANDMARK_NAMES[MIRROR[LANDMARK_NAMES.index('left_wrist')]] == 'right_wrist'
    assert LANDMARK_NAMES[MIRROR[0]] == 'nose'
    assert sorted(MIRROR) == list(range(33))
