"""Tracking and One Euro smoothing on synthetic persons."""

from typing import List

import numpy as np
from pose3d_ros.estimation.one_euro import OneEuroFilter, OneEuroParameters
from pose3d_ros.estimation.pipeline import PipelineConfig
from pose3d_ros.estimation.result import Person
from pose3d_ros.estimation.tracking import PoseTracker, TrackingConfig, Untracked
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
        TrackingConfig(track_min_hits=0)
    with pytest.raises(ValueError):
        PipelineConfig(detect_every=0)


# ------------------------------------------------------------------ tracker (synthetic)
def synthetic_person(centre: tuple, size: float = 100.0) -> Person:
    """Return a person whose 33 keypoints fill a box of ``size`` around ``centre``."""
    grid = np.random.default_rng(1).uniform(-0.5, 0.5, (33, 2)) * size + centre
    joints = np.column_stack([(grid - 320) / 500 * 3.0, np.full(33, 3.0)])
    return Person(score=0.9, bbox=np.concatenate([grid.min(0), grid.max(0)]),
                  keypoints_2d=grid, visibility=np.ones(33), joints_3d=joints,
                  root_prior_z=3.0, root_from_fit=True,
                  alignment_2d=np.array([centre, (centre[0], centre[1] - size)]))


def test_ids_survive_motion_misses_and_crossing() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False, track_max_missed=3))
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
    tracker = PoseTracker(TrackingConfig(smoothing=False, track_min_hits=3, track_max_missed=1))
    person = synthetic_person((200, 200))
    assert tracker.update([person], 0.0) == ()
    assert tracker.update([person], 0.1) == ()
    assert [p.track_id for p in tracker.update([person], 0.2)] == [1]
    tracker.update([], 0.3)
    assert tracker.tracks and tracker.lost_last_frame
    tracker.update([], 0.4)
    assert not tracker.tracks  # unseen for more than track_max_missed frames
    assert tracker.update([person], 0.5) == ()  # a new track must be born again


def test_untracked_stream_passes_persons_as_they_are() -> None:
    untracked = Untracked()
    person = synthetic_person((200, 200))
    assert untracked.update([person], 0.0) == (person,) and person.track_id is None
    seeds, scores = untracked.seeds()
    assert seeds.shape == (0, 2, 2) and scores.shape == (0,) and not untracked.lost_last_frame
