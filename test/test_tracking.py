"""Tracking, One Euro smoothing and landmark-driven regions (unit and real-image tests)."""

from dataclasses import replace
from pathlib import Path
from typing import List

import cv2
import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.one_euro import OneEuroFilter, OneEuroParameters
from pose3d_ros.estimation.result import Person
from pose3d_ros.estimation.stream import StreamConfig, StreamEstimator
from pose3d_ros.estimation.tracking import PoseTracker, TrackingConfig
from pose3d_ros.geometry.camera import CameraModel
import pytest

from .conftest import read_rgb

FPS = 30.0


# ------------------------------------------------------------------ One Euro filter
def test_one_euro_passes_the_first_value_and_holds_a_constant() -> None:
    f = OneEuroFilter(OneEuroParameters(0.1, 40.0))
    assert np.allclose(f(np.array([1.0, 2.0]), 0.0), [1.0, 2.0])
    for i in range(1, 10):
        assert np.allclose(f(np.array([1.0, 2.0]), i / FPS), [1.0, 2.0])


def test_one_euro_smooths_noise_and_follows_motion() -> None:
    rng = np.random.default_rng(0)
    noisy = OneEuroFilter(OneEuroParameters(0.5, 0.0))
    out = np.array([noisy(np.array([rng.normal()]), i / FPS) for i in range(300)])
    assert np.std(out[100:]) < 0.3  # white noise of std 1, heavily smoothed when still
    ramp = OneEuroFilter(OneEuroParameters(0.1, 1.0))
    speed = 30.0  # units per second: fast, so the cutoff rises
    follow = [ramp(np.array([speed * i / FPS]), i / FPS)[0] for i in range(60)]
    lag_frames = (speed * 59 / FPS - follow[-1]) / (speed / FPS)
    assert 0.0 < lag_frames < 2.0


def test_one_euro_uses_the_stamps_and_ignores_repeats() -> None:
    f = OneEuroFilter(OneEuroParameters(1.0, 0.0))
    f(np.array([0.0]), 0.0)
    slow = f(np.array([1.0]), 1.0)[0]  # a long gap: follows far
    g = OneEuroFilter(OneEuroParameters(1.0, 0.0))
    g(np.array([0.0]), 0.0)
    fast = g(np.array([1.0]), 0.01)[0]  # a short gap: moves little
    assert slow > 0.8 and fast < 0.1
    assert g(np.array([5.0]), 0.01)[0] == fast  # repeated stamp: unchanged


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError):
        OneEuroParameters(0.0, 1.0)
    with pytest.raises(ValueError):
        TrackingConfig(min_hits=0)
    with pytest.raises(ValueError):
        StreamConfig(detect_every=0)


# ------------------------------------------------------------------ tracker (synthetic)
def synthetic_person(centre: tuple, size: float = 100.0) -> Person:
    """Return a person whose 33 keypoints fill a box of ``size`` around ``centre``."""
    grid = np.random.default_rng(1).uniform(-0.5, 0.5, (33, 2)) * size + centre
    joints = np.column_stack([(grid - 320) / 500 * 3.0, np.full(33, 3.0)])
    return Person(score=0.9, bbox=np.concatenate([grid.min(0), grid.max(0)]),
                  keypoints_2d=grid, visibility=np.ones(33), joints_3d=joints,
                  root=joints.mean(0), root_prior_z=3.0, root_from_fit=True,
                  alignment_2d=np.array([centre, (centre[0], centre[1] - size)]))


def test_ids_survive_motion_misses_and_crossing() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False, max_missed=3))
    ids: List[dict] = []
    for frame in range(40):
        a = synthetic_person((100 + 10 * frame, 200))
        b = synthetic_person((500 - 10 * frame, 260))
        persons = [a, b] if frame not in (19, 20, 21) else [a]  # b hidden while crossing
        out = tracker.update(persons, frame / FPS)
        ids.append({'a' if p.keypoints_2d.mean(0)[1] < 230 else 'b': p.track_id for p in out})
    assert {frame['a'] for frame in ids} == {1}
    assert {frame['b'] for frame in ids if 'b' in frame} == {2}


def test_birth_and_death() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False, min_hits=3, max_missed=1))
    person = synthetic_person((200, 200))
    assert tracker.update([person], 0.0) == ()
    assert tracker.update([person], 0.1) == ()
    assert [p.track_id for p in tracker.update([person], 0.2)] == [1]
    tracker.update([], 0.3)
    assert tracker.tracks and tracker.lost_last_frame
    tracker.update([], 0.4)
    assert not tracker.tracks  # unseen for more than max_missed frames
    assert tracker.update([person], 0.5) == ()  # a new track must be born again


# ------------------------------------------------------------------ real image sequences
@pytest.fixture(scope='module')
def full_frame_estimator(model_dir: Path) -> PoseEstimator:
    """Load a CPU estimator on the full frame only (the canvases hold large people)."""
    return PoseEstimator(EstimatorConfig(device='cpu', tile_grids=()), model_dir)


@pytest.fixture(scope='module')
def player(sample_dir: Path) -> np.ndarray:
    """Crop the player of messi5.jpg, with some of the crowd behind him."""
    return read_rgb(sample_dir / 'messi5.jpg')[70:342, 60:460]


def paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    """Paste ``image`` with its top-left corner at (x, y), clipped to the canvas."""
    height, width = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + image.shape[1], width), \
        min(y + image.shape[0], height)
    canvas[y0:y1, x0:x1] = image[y0 - y:y1 - y, x0 - x:x1 - x]


def main_person(persons: tuple, centre_x: float) -> Person:
    """Return the person whose keypoints' centre is nearest ``centre_x`` (None if none)."""
    near = [p for p in persons if abs(p.keypoints_2d[:25].mean(0)[0] - centre_x) < 120]
    return min(near, key=lambda p: abs(p.keypoints_2d[:25].mean(0)[0] - centre_x),
               default=None)


def test_translated_and_scaled_person_keeps_one_id(full_frame_estimator: PoseEstimator,
                                                   player: np.ndarray) -> None:
    stream = StreamEstimator(full_frame_estimator, StreamConfig(detect_every=10))
    camera = CameraModel.from_hfov(960, 400, 60.0)
    ids, detected = [], []
    for frame in range(30):
        scale = 1.0 - 0.015 * frame
        person = cv2.resize(player, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((400, 960, 3), 90, np.uint8)
        x = 10 + 15 * frame
        paste(canvas, person, x, 400 - person.shape[0])
        result = stream(canvas, camera, frame / FPS)
        found = main_person(result.persons, x + 0.5 * person.shape[1])
        assert found is not None, f'frame {frame}: the player was not found'
        ids.append(found.track_id)
        detected.append(result.detected)
    assert len(set(ids)) == 1, ids
    assert sum(detected) <= 6, detected  # most frames use landmark-driven regions


def test_two_people_crossing_swap_ids_only_at_the_crossing(
        estimator: PoseEstimator, player: np.ndarray) -> None:
    stream = StreamEstimator(estimator)  # with tiles: two people in a wide frame
    camera = CameraModel.from_hfov(1100, 400, 60.0)
    other = player[:, ::-1]
    width = player.shape[1]
    labels = []
    for frame in range(36):
        a_x, b_x = 20 + 19 * frame, 1100 - width - 20 - 19 * frame
        canvas = np.full((400, 1100, 3), 90, np.uint8)
        paste(canvas, other, b_x, 400 - player.shape[0])
        paste(canvas, player, a_x, 400 - player.shape[0])  # a passes in front of b
        persons = stream(canvas, camera, frame / FPS).persons
        apart = abs(a_x - b_x) > width  # not overlapping at all
        found = {name: main_person(persons, x + width / 2)
                 for name, x in (('a', a_x), ('b', b_x))}
        labels.append((apart, {k: p.track_id for k, p in found.items() if p is not None}))
    before = [ids for apart, ids in labels[:10] if apart]
    after = [ids for apart, ids in labels[-10:] if apart]
    assert before and after
    for ids in before + after:
        assert set(ids) == {'a', 'b'} and ids['a'] != ids['b'], labels
    # No switch while apart: constant ids before the crossing and after it.
    assert len({tuple(sorted(ids.items())) for ids in before}) == 1, labels
    assert len({tuple(sorted(ids.items())) for ids in after}) == 1, labels


def jitter(stream: StreamEstimator, frames: List[np.ndarray], camera: CameraModel) -> tuple:
    """RMS frame-to-frame motion of the main person's 2D keypoints (px) and root (m)."""
    keypoints, roots = [], []
    for index, frame in enumerate(frames):
        person = main_person(stream(frame, camera, index / FPS).persons, 274)
        keypoints.append(person.keypoints_2d[:25])
        roots.append(person.root)
    keypoints, roots = np.array(keypoints)[5:], np.array(roots)[5:]
    rms = [float(np.sqrt(np.mean(np.sum(np.diff(a, axis=0) ** 2, axis=-1))))
           for a in (keypoints, roots)]
    return tuple(rms)


def test_smoothing_reduces_jitter_on_a_still_noisy_scene(
        full_frame_estimator: PoseEstimator, sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    rng = np.random.default_rng(0)
    frames = [np.clip(rgb + rng.normal(0.0, 4.0, rgb.shape), 0, 255).astype(np.uint8)
              for _ in range(30)]
    camera = CameraModel.from_hfov(548, 342, 60.0)
    raw = jitter(StreamEstimator(full_frame_estimator, StreamConfig(
        tracking=TrackingConfig(smoothing=False))), frames, camera)
    smooth = jitter(StreamEstimator(full_frame_estimator), frames, camera)
    assert raw[0] / smooth[0] >= 3.0, (raw, smooth)
    assert raw[1] / smooth[1] >= 3.0, (raw, smooth)


def test_moving_person_is_not_lagged(full_frame_estimator: PoseEstimator,
                                     sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(800, 342, 60.0)
    frames = []
    for frame in range(30):
        canvas = np.full((342, 800, 3), 90, np.uint8)
        paste(canvas, rgb, 8 * frame, 0)
        frames.append(canvas)
    runs = {}
    for smoothing in (False, True):
        stream = StreamEstimator(full_frame_estimator, StreamConfig(
            tracking=replace(TrackingConfig(), smoothing=smoothing)))
        runs[smoothing] = [max(stream(f, camera, i / FPS).persons,
                               key=lambda p: p.bbox[2] - p.bbox[0]) for i, f in enumerate(frames)]
    for name in ('keypoints_2d', 'joints_3d', 'root'):
        raw = np.array([getattr(p, name)[..., 0].mean() for p in runs[False]])
        smooth = np.array([getattr(p, name)[..., 0].mean() for p in runs[True]])
        per_frame = np.median(np.diff(raw[5:]))
        lag = np.mean(raw[10:] - smooth[10:]) / per_frame
        assert lag <= 2.0, (name, lag)
