"""Code style: ament_flake8 (99 columns, Google import order, single quotes, docstrings)."""

from pathlib import Path

from ament_flake8.main import main_with_errors
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8() -> None:
    paths = [str(ROOT / p) for p in ('pose3d_ros', 'test', 'bench', 'launch', 'setup.py')
             if (ROOT / p).exists()]
    rc, errors = main_with_errors(argv=paths)
    assert rc == 0, f'Found {len(errors)} code style errors / warnings:\n' + '\n'.join(errors)
