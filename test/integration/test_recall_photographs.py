"""Who is found in the labelled real photographs (bench/recall.py measures the rest)."""

from pathlib import Path
import subprocess
import sys

import numpy as np
from pose3d_ros.evaluation.recall import load_labels, match
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_rgb

ROOT = Path(__file__).resolve().parents[2]


def test_whole_people_facing_the_camera_are_found_and_nothing_else(estimator,
                                                                   sample_dir) -> None:
    for image in load_labels():
        rgb = read_rgb(sample_dir / image.name)
        persons = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])).persons
        result = match(np.array([p.bbox for p in persons]).reshape(-1, 4), image)
        easy = [i for i, p in enumerate(image.persons)
                if p.facing == 'front' and not (p.truncated or p.occluded)]
        assert not set(easy) & set(result.missed), (image.name, result)
        assert result.false_alarms == (), (image.name, result)


def test_recall_benchmark_prints_its_tables(sample_dir, model_dir, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(ROOT / 'bench' / 'recall.py'), '--device', 'cpu',
                          '--runtime', 'litert', '--render', str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    for header in ('| image | source |', '| category | labelled |', '| source | labelled |'):
        assert header in run.stdout
    assert '| all | 8 |' in run.stdout
    assert (tmp_path / 'bus_recall.png').stat().st_size > 10_000
