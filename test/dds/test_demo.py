"""The README's main command: pose3d-demo runs the real node over DDS on the built-in clip."""

from pathlib import Path
import subprocess
import sys

from pose3d_ros.node_client import ros_environment


def test_demo_prints_people_with_ids_and_distances(
        model_dir: Path, sample_dir: Path, tmp_path: Path) -> None:
    environment = ros_environment(233 - 1 - (hash(str(tmp_path)) % 20))
    done = subprocess.run(
        [sys.executable, '-m', 'pose3d_ros.cli.demo', '--frames', '10', '--device', 'cpu',
         '--output', str(tmp_path)], env=environment, capture_output=True, text=True,
        timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    frames = [line for line in lines if line.startswith('frame ')]
    assert len(frames) == 10
    answered = [line for line in frames if '1 person(s): #1 at ' in line]
    assert answered, done.stdout
    distances = [float(line.split(' at ')[1].split(' m')[0]) for line in answered]
    assert all(2.0 < d < 8.0 for d in distances), distances  # a person a few metres away
    assert (tmp_path / 'pose3d_demo_last_frame.png').stat().st_size > 10_000
