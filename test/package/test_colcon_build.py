"""``colcon build`` of a temporary workspace holding this package (colcon-core, colcon-ros)."""

import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import threading

from pose3d_ros.node_client import ros_environment
import pytest

REPO = Path(__file__).resolve().parents[2]
#: Local files that are not part of the package source.
NOT_SOURCE = ('.venv', '.git', 'build', 'install', 'log', '*.egg-info', '__pycache__',
              '.pytest_cache', 'pose3d_render')


@pytest.fixture(scope='module')
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the package with colcon; return the workspace's install/pose3d_ros."""
    workspace = tmp_path_factory.mktemp('colcon_ws')
    shutil.copytree(REPO, workspace / 'src' / 'pose3d_ros',
                    ignore=shutil.ignore_patterns(*NOT_SOURCE))
    colcon = Path(sys.executable).parent / 'colcon'
    build = subprocess.run([str(colcon), 'build', '--event-handlers', 'console_direct+'],
                           cwd=workspace, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    return workspace / 'install' / 'pose3d_ros'


def test_installs_executables_launch_config_and_index(install: Path) -> None:
    for script in ('pose3d_node', 'pose3d-estimate', 'pose3d-models', 'pose3d-demo',
                   'pose3d-lifter'):
        assert (install / 'lib' / 'pose3d_ros' / script).is_file(), script
    share = install / 'share' / 'pose3d_ros'
    for name in ('package.xml', 'launch/pose3d.launch.py', 'config/pose3d.yaml',
                 'config/pose3d.rviz'):
        assert (share / name).is_file(), name
    resource = install / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'pose3d_ros'
    assert resource.is_file()


def test_installed_executable_runs_the_node(install: Path, tmp_path: Path) -> None:
    """Run the installed pose3d_node: with no models, configure fails and says the fix."""
    site = next(install.glob('lib/python3*/site-packages'))
    environment = ros_environment(200 + os.getpid() % 30)
    environment['PYTHONPATH'] = str(site)
    node = subprocess.Popen(
        [str(install / 'lib' / 'pose3d_ros' / 'pose3d_node'), '--ros-args', '-p',
         f'model_dir:={tmp_path}'], cwd=tmp_path, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(120.0, node.kill)  # never hang CI on a missing line
    watchdog.start()
    try:
        lines = []
        for line in node.stdout:
            lines.append(line)
            if 'autostart: configure failed' in line:
                break
        node.send_signal(signal.SIGINT)
        rest, _ = node.communicate(timeout=30)  # what it says while shutting down, too
        assert node.returncode == 0, ''.join(lines) + rest
    finally:
        watchdog.cancel()
        node.kill()
    assert 'pose3d-models fetch' in ''.join(lines)
    probe = subprocess.run(
        [sys.executable, '-c', 'import pose3d_ros.node.node as m; print(m.__file__)'],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert probe.stdout.strip().startswith(str(site)), probe.stdout + probe.stderr
