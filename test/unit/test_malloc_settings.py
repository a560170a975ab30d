"""The glibc malloc settings the package's programs apply at start-up."""

import ctypes
import platform
import subprocess
import sys
import types

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


def test_node_executable_applies_the_settings_before_importing_the_node(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pose3d_ros.node import start

    events = []
    stub = types.ModuleType('pose3d_ros.node.node')

    def run_node(args: list, freed_memory_kept: bool) -> None:
        events.append(('node runs', args, freed_memory_kept))

    def attribute(name: str) -> object:  # what `from .node import main` reads
        if name != 'main':
            raise AttributeError(name)
        events.append('node module read: main')
        return run_node

    stub.__getattr__ = attribute
    monkeypatch.setitem(sys.modules, 'pose3d_ros.node.node', stub)
    monkeypatch.setattr(start, 'keep_freed_memory', lambda: events.append('settings') or True)
    start.main(['--ros-args'])
    assert events == ['settings', 'node module read: main', ('node runs', ['--ros-args'], True)]


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='mallopt is glibc-only')
def test_node_compute_thread_reuses_freed_memory() -> None:
    """Settings applied as pose3d_node's executable does: a new thread's big blocks are kept."""
    code = """
import resource
import sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from pose3d_ros.node import start
assert 'rclpy' not in sys.modules and 'torch' not in sys.modules
start.keep_freed_memory()
import pose3d_ros.node.node  # what start.main imports next; rclpy and torch start threads


def faults_per_block():
    faults = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        block = np.ones(100 * 2 ** 20 // 8)  # 100 MB, every page written
        del block
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
    return faults


print(*ThreadPoolExecutor(1).submit(faults_per_block).result())
"""
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    first, second = (int(value) for value in run.stdout.split())
    assert first > 0 and second <= first // 10, (first, second)
