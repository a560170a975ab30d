"""Tracking, One Euro smoothing and landmark-driven regions (unit and real-image tests)."""

from pathlib import Path
from typing import List

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.one_euro import OneEuroFilter, OneEuroParameters
from pose3d_ros.estimation.result import Person
from pose3d_ros.estimation.stream import StreamConfig, StreamEstimator
from pose3d_ros.estimation.tracking import PoseTracker, TrackingConfig
from pose3d_ros.evaluation import sequences
from pose3d_ros.samples import read_player, read_rgb
import pytest

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
    return read_player()


def test_translated_and_scaled_person_keeps_one_id(full_frame_estimator: PoseEstimator,
                                                   player: np.ndarray) -> None:
    clip = sequences.translated(player)
    found = sequences.run(StreamEstimator(full_frame_estimator, StreamConfig(detect_every=10)),
                          clip)
    assert all(f['a'] is not None for f in found), 'the player was lost'
    assert sequences.id_switches(found, 'a') == 0
    detected = [f['detected'] for f in found]
    assert sum(detected) <= 6, detected  # most frames use landmark-driven regions


def test_two_people_crossing_swap_ids_only_at_the_crossing(
        estimator: PoseEstimator, player: np.ndarray) -> None:
    clip = sequences.crossing(player)
    found = sequences.run(StreamEstimator(estimator), clip)  # tiles: a wide frame
    apart = [i for i, flag in enumerate(clip.apart) if flag]
    before = [i for i in apart if i < len(found) // 2]
    after = [i for i in apart if i > len(found) // 2]
    for i in before + after:
        assert found[i]['a'] is not None and found[i]['b'] is not None, i
        assert found[i]['a'].track_id != found[i]['b'].track_id, i
    for label in ('a', 'b'):  # no switch while the two are apart
        for frames in (before, after):
            mask = [i in frames for i in range(len(found))]
            assert sequences.id_switches(found, label, mask) == 0, (label, frames)


def test_smoothing_reduces_jitter_on_a_still_noisy_scene(
        full_frame_estimator: PoseEstimator, sample_dir: Path) -> None:
    clip = sequences.noisy_still(read_rgb(sample_dir / 'messi5.jpg'))
    raw = sequences.jitter(sequences.run(StreamEstimator(full_frame_estimator, StreamConfig(
        tracking=TrackingConfig(smoothing=False))), clip))
    smooth = sequences.jitter(sequences.run(StreamEstimator(full_frame_estimator), clip))
    for key in ('2d', '3d', 'root'):  # with the default filters of every joint
        assert raw[key] / smooth[key] >= 3.0, (key, raw, smooth)


def test_moving_person_is_not_lagged(full_frame_estimator: PoseEstimator,
                                     sample_dir: Path) -> None:
    clip = sequences.moving(read_rgb(sample_dir / 'messi5.jpg'))
    raw = sequences.run(StreamEstimator(full_frame_estimator, StreamConfig(
        tracking=TrackingConfig(smoothing=False))), clip)
    smooth = sequences.run(StreamEstimator(full_frame_estimator), clip)
    for name, lag in sequences.lag_frames(raw, smooth).items():
        assert -0.5 <= lag <= 2.0, (name, lag)
