"""People on the floor, on real photographs and on floor scenes of real people."""

import json
import math

import numpy as np
from pose3d_ros.cli.estimate import main
from pose3d_ros.evaluation.floor_placement import evaluate, evaluate_walks
from pose3d_ros.evaluation.floor_scenes import floor_scenes, floor_walks
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
    # Those on the floor. The worst (measured 12 %) is a man striding at 4.5 m from the low
    # camera, his back foot's toe the contact; the others are within 3 %.
    on_floor = sorted(abs(p.range_error) for p in placements if p.floor == 'parameters' and
                      p.on_ground)
    assert len(on_floor) >= 15 and on_floor[-2] <= 0.05 and on_floor[-1] <= 0.15
    assert np.median(errors(placements, 'parameters', 'height_error')) <= 0.05


def test_the_floor_fitted_from_the_people_is_the_true_one(measured) -> None:
    _, fits = measured
    # Six people of 1.60 to 1.84 m in one image (docs/ground.md): within the targets
    # (3 degrees, 5 %) from the low camera; from the raised ones, measured 2.5 and 3.6
    # degrees, 2 and 6 %.
    low, *raised = fits
    assert low.normal_error_deg <= 3.0 and abs(low.offset_error) <= 0.05, low
    for fit in raised:
        assert fit.normal_error_deg <= 4.5 and abs(fit.offset_error) <= 0.08, fit
    assert all(fit.inliers >= 4 for fit in fits)


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


#: Two of the bench's walks (camera height m, pitch deg), 6 s at 5 fps, measured from 3 s.
WALK_CAMERAS, WALK_SECONDS, WALK_FPS, SETTLE_S = ((1.5, 5.0), (4.0, 20.0)), 6.0, 5.0, 3.0


@pytest.fixture(scope='module')
def walked(estimator, sample_dir, model_dir) -> tuple:
    """Every matched person-frame of the walks on each floor, and each stream's floor."""
    return evaluate_walks(estimator, floor_walks(sample_dir, WALK_SECONDS, WALK_FPS, model_dir,
                                                 cameras=WALK_CAMERAS), SETTLE_S)


def test_a_stream_fits_its_floor_to_its_walking_people(walked) -> None:
    placements, streams = walked
    for stream in streams:
        # Found within a second; the footprints of six walkers, each a trail.
        assert stream.first_s <= 1.0, stream
        assert stream.fit.normal_error_deg <= 3.0, stream
        assert abs(stream.fit.offset_error) <= 0.05, stream
        assert stream.fit.inliers >= 30, stream
    # Placed on it, people are placed better than each on their own.
    alone, on_floor = errors(placements, 'none', 'range_error'), \
        errors(placements, 'people (stream)', 'range_error')
    assert len(on_floor) >= 100
    assert np.median(on_floor) < np.median(alone) and max(on_floor) <= 0.15
    assert np.median(errors(placements, 'people (stream)', 'height_error')) <= 0.06
