"""The glibc malloc settings the package's programs apply at start-up."""

import ctypes
import platform
import subprocess
import sys

from pose3d_ros import malloc_settings
import pytest


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='mallopt is glibc-only')
def test_settings_apply_in_a_fresh_process() -> None:
    code = ('from pose3d_ros.malloc_settings import keep_freed_memory; '
            'print(keep_freed_memory(), keep_freed_memory())')
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ['True', 'True']  # applied once, then remembered


def test_without_mallopt_nothing_is_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMallopt:

        def __init__(self, name: object) -> None:
            pass

    monkeypatch.setattr(ctypes, 'CDLL', NoMallopt)
    malloc_settings.keep_freed_memory.cache_clear()
    try:
        assert malloc_settings.keep_freed_memory() is False
    finally:
        malloc_settings.keep_freed_memory.cache_clear()
