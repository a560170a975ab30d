"""Docstring style: ament_pep257 (the ROS 2 defaults)."""

from pathlib import Path

from ament_pep257.main import main
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257() -> None:
    paths = [str(ROOT / p) for p in ('pose3d_ros', 'test', 'bench', 'launch')
             if (ROOT / p).exists()]
    assert main(argv=paths) == 0, 'Found code style errors / warnings'
