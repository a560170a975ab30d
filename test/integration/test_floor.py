"""People on the floor, on real photographs and on floor scenes of real people."""

import json
import math

import numpy as np
from pose3d_ros.cli.estimate import main
from pose3d_ros.evaluation.floor_placement import evaluate
from pose3d_ros.evaluation.floor_scenes import floor_scenes
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_rgb
import pytest

#: Three of the bench's cameras (height m, pitch deg): low and level, raised, high.
CAMERAS = ((1.5, 5.0), (4.0, 20.0), (6.0, 30.0))


@pytest.fixture(scope='module')
def measured(estimator, sample_dir, model_dir) -> tuple:
    """Every matched person on each floor, and the floors fitted from the people."""
    return evaluate(estimator, list(floor_scenes(sample_dir, model_dir, cameras=CAMERAS)))


def errors(placements: list, floor: str, what: str) -> np.ndarray:
    values = np.array([getattr(p, what) for p in placements if p.floor == floor])
    return np.abs(values[np.isfinite(values)])


def test_the_camera_pose_places_standing_people_on_the_floor(measured) -> None:
    placements, _ = measured
    alone, with_floor = errors(placements, 'none', 'range_error'), \
        errors(placements, 'parameters', 'range_error')
    assert len(with_floor) >= 15  # of the 18 pasted
    assert np.median(with_floor) <= 0.03 and np.median(with_floor) < np.median(alone)
    # Those on the floor; a person whose feet the network does not see keeps the fit.
    on_floor = [abs(p.range_error) for p in placements if p.floor == 'parameters' and
                p.on_ground]
    assert len(on_floor) >= 15 and max(on_floor) <= 0.08
    assert np.median(errors(placements, 'parameters', 'height_error')) <= 0.05


def test_the_floor_fitted_from_the_people_is_the_true_one(measured) -> None:
    _, fits = measured
    for fit in fits:
        assert fit.normal_error_deg <= 3.0, fit
        assert abs(fit.offset_error) <= 0.05, fit
        assert fit.inliers >= 4, fit


def test_everyone_at_the_bus_is_of_adult_height(estimator, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'bus.jpg')
    result = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0]))
    assert result.ground is not None and result.ground.inliers >= 3
    assert 1.2 <= result.ground.height_m <= 1.7  # labelled: 1.46 m
    standing = [p for p in result.persons if p.on_ground]
    assert len(standing) >= 3
    assert all(1.5 <= p.height_m <= 2.0 for p in standing), [p.height_m for p in standing]


def test_the_command_writes_the_floor_and_takes_the_camera_pose(sample_dir, tmp_path,
                                                                model_dir) -> None:
    records = {}
    for name, arguments in (('people', []),
                            ('parameters', ['--camera-height', '1.46', '--camera-pitch', '5.7'])):
        output = tmp_path / f'{name}.jsonl'
        assert main([str(sample_dir / 'bus.jpg'), '--device', 'cpu', '--output', str(output),
                     *arguments]) == 0
        records[name] = json.loads(output.read_text().splitlines()[0])
    for source, record in records.items():
        ground = record['ground']
        assert ground['source'] == source
        assert len(ground['normal']) == 3 and math.isclose(np.linalg.norm(ground['normal']), 1,
                                                           rel_tol=1e-5)
        on = [p for p in record['persons'] if p['on_ground']]
        assert len(on) >= 3 and all(1.5 <= p['height_m'] <= 2.0 for p in on)
        assert all(len(p['foot']) == 3 for p in on)
    assert records['parameters']['ground']['offset'] == 1.46
    assert records['people']['ground']['inliers'] >= 3
