"""Benchmark crowds: composites with a known number of real people."""

from pathlib import Path

import numpy as np
from pose3d_ros.evaluation.crowds import crowd, grid_shape
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_player, read_rgb
import pytest


def test_grid_holds_everyone_and_shows_them_largest() -> None:
    assert grid_shape(1, (640, 480), 1.5) == (1, 1)
    for persons in (2, 5, 10, 20):
        columns, rows = grid_shape(persons, (1280, 720), 1.47)
        assert columns * rows >= persons and (columns - 1) * rows < persons
    assert grid_shape(4, (2000, 200), 1.0) == (4, 1)  # a wide strip: one row
    assert grid_shape(4, (200, 2000), 1.0) == (1, 4)
    with pytest.raises(ValueError):
        grid_shape(0, (640, 480), 1.0)


def test_crowd_of_five_real_people_is_found(estimator, sample_dir: Path) -> None:
    frame = crowd(read_player(), read_rgb(sample_dir / 'building.jpg'), 5, (640, 480))
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    result = estimator(frame, CameraModel.from_hfov(640, 480, 60.0))
    assert len(result.persons) == 5
    hips = np.array([p.keypoints_2d[[23, 24]].mean(0) for p in result.persons])
    distances = np.linalg.norm(hips[:, None] - hips[None], axis=-1) + np.eye(5) * 1e9
    assert distances.min() > 50  # five different people, not one found twice
