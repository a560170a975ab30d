"""Tracking and One Euro smoothing on synthetic persons."""

from typing import List

import numpy as np
from pose3d_ros.estimation.appearance import BINS, PARTS
from pose3d_ros.estimation.one_euro import OneEuroFilter, OneEuroParameters
from pose3d_ros.estimation.pipeline import PipelineConfig
from pose3d_ros.estimation.result import Person
from pose3d_ros.estimation.tracking import PoseTracker, TrackingConfig, TrackState, Untracked
from pose3d_ros.geometry.camera import CameraModel
import pytest

FPS = 30.0
CAMERA = CameraModel.from_hfov(640, 480)


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
    tracker = PoseTracker(TrackingConfig(smoothing=False))
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
    tracker = PoseTracker(TrackingConfig(smoothing=False, track_min_hits=3,
                                         track_keep_lost_s=0.15))
    person = synthetic_person((200, 200))
    assert tracker.update([person], 0.0) == ()
    assert tracker.tracks[0].state is TrackState.TENTATIVE
    assert tracker.update([person], 0.1) == ()
    assert [p.track_id for p in tracker.update([person], 0.2)] == [1]
    assert tracker.tracks[0].state is TrackState.CONFIRMED
    tracker.update([], 0.3)
    assert tracker.tracks[0].state is TrackState.LOST and tracker.lost_last_frame
    tracker.update([], 0.4)
    assert not tracker.tracks  # unseen for more than track_keep_lost_s
    assert tracker.update([person], 0.5) == ()  # a new track must be born again
    tracker.update([], 0.6)
    assert not tracker.tracks  # a tentative track missed ends at once


def test_untracked_stream_passes_persons_as_they_are() -> None:
    untracked = Untracked()
    person = synthetic_person((200, 200))
    assert untracked.update([person], 0.0) == (person,) and person.track_id is None
    seeds, scores = untracked.seeds(0.0, CAMERA)
    assert seeds.shape == (0, 2, 2) and scores.shape == (0,) and not untracked.lost_last_frame


def coloured(part_colours: List[int]) -> np.ndarray:
    """Return a (3 parts, BINS) descriptor with all of each part in one bin."""
    descriptor = np.zeros((len(PARTS), BINS))
    descriptor[np.arange(len(PARTS)), part_colours] = 1.0
    return descriptor


def test_a_lost_person_comes_back_with_their_id_within_the_window_only() -> None:
    config = TrackingConfig(smoothing=False, track_keep_lost_s=2.0)
    for gap_s, same in ((1.5, True), (2.5, False)):
        tracker = PoseTracker(config)
        person = synthetic_person((200, 200))
        looks = [coloured([1, 2, 3])]
        assert [p.track_id for p in tracker.update([person], 0.0, looks)] == [1]
        tracker.update([], 0.1, [])
        back = synthetic_person((330, 200))  # 0.8 m from where they were last seen
        ids = [p.track_id for p in tracker.update([back], gap_s, looks)]
        assert ids == ([1] if same else [2]), gap_s


def test_appearance_refuses_another_person_and_reidentifies_the_right_one() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False))
    a, b = coloured([1, 2, 3]), coloured([10, 20, 30])
    tracker.update([synthetic_person((200, 200))], 0.0, [a])
    tracker.update([synthetic_person((400, 200))], 0.1, [b])  # elsewhere, other clothes
    assert [t.track_id for t in tracker.tracks] == [1, 2]
    # The first person is where the second was (1.2 m from their own last place, in
    # 0.6 s): the 2D skeleton would pair them with track 2, their clothes say track 1.
    out = tracker.update([synthetic_person((400, 200))], 0.7, [a])
    assert [p.track_id for p in out] == [1]
    without = PoseTracker(TrackingConfig(smoothing=False, reid=False))
    without.update([synthetic_person((200, 200))], 0.0)
    without.update([synthetic_person((400, 200))], 0.1)
    assert [p.track_id for p in without.update([synthetic_person((400, 200))], 0.7)] == [2]


def test_no_association_faster_than_a_person_moves() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False, track_max_speed=3.0))
    tracker.update([synthetic_person((100, 200))], 0.0)
    far = synthetic_person((160, 200))  # 0.36 m in 1/30 s: 11 m/s
    assert [p.track_id for p in tracker.update([far], 1 / FPS)] == [2]
    assert [p.track_id for p in tracker.update([far], 2 / FPS)] == [2]  # then it stays


def test_a_lost_tracks_region_moves_with_its_metric_motion() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False))
    for frame in range(10):  # 10 px per frame at 3 m: 1.8 m/s to the right
        tracker.update([synthetic_person((200 + 10 * frame, 200))], frame / FPS)
    tracker.update([], 10 / FPS)
    seeds, _ = tracker.seeds(20 / FPS, CAMERA)
    shift = seeds[0, 0] - np.array([290.0, 200.0])
    assert 60.0 < shift[0] < 140.0 and abs(shift[1]) < 10.0, shift  # about 11 frames on


def test_a_person_lost_behind_another_is_looked_for_at_their_edge() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False))
    front = synthetic_person((400, 200), size=200.0)  # x 300..500, standing still
    for frame in range(6):  # walking right, into the front person's box
        behind = synthetic_person((250 + 10 * frame, 200), size=60.0)
        tracker.update([front, behind], frame / FPS)
    tracker.update([front], 6 / FPS)  # now hidden
    width = behind.bbox[2] - behind.bbox[0]
    seeds, scores = tracker.seeds(10 / FPS, CAMERA)
    # The front person's region; the motion puts the hidden one inside their box, so the
    # only guess is beside its right edge, at the hidden person's height.
    assert len(seeds) == 2, seeds
    np.testing.assert_allclose(seeds[1, 0], [front.bbox[2] + width / 2, 200.0], atol=1.0)
    assert scores[1] < scores[0]  # a guess ranks below a person seen last frame
    seeds, _ = tracker.seeds(40 / FPS, CAMERA)  # by now the motion is beyond the edge too
    assert len(seeds) == 3 and seeds[1, 0, 0] > seeds[2, 0, 0], seeds


def test_the_guess_beside_follows_whoever_hid_the_person() -> None:
    tracker = PoseTracker(TrackingConfig(smoothing=False))
    front = synthetic_person((400, 200), size=200.0)  # x 308..492, standing
    for frame in range(8):  # walking right, towards the front person, not yet behind
        behind = synthetic_person((172 + 15 * frame, 200), size=60.0)
        tracker.update([front, behind], frame / FPS)
    assert behind.bbox[2] < front.bbox[0]  # last seen clear of the front person's box
    tracker.update([front], 8 / FPS)  # where the motion puts them now, the front box covers
    hidden = next(t for t in tracker.tracks if t.state is TrackState.LOST)
    assert hidden.hidden_by == next(t.track_id for t in tracker.tracks if t is not hidden)
    width = behind.bbox[2] - behind.bbox[0]
    for frame in range(9, 15):  # the front person walks off: the guess keeps to their edge
        front = synthetic_person((400 + 5 * (frame - 8), 200), size=200.0)
        tracker.update([front], frame / FPS)
        seeds, _ = tracker.seeds((frame + 1) / FPS, CAMERA)
        beside = seeds[np.isclose(seeds[:, 0, 1], 200.0) & (seeds[:, 0, 0] > front.bbox[2])]
        np.testing.assert_allclose(beside[:, 0, 0], [front.bbox[2] + width / 2], atol=1.0)
    tracker.update([], 15 / FPS)  # the front person lost too: no edge to guess at
    assert len(tracker.seeds(16 / FPS, CAMERA)[0]) == 2  # each lost track's motion guess


def test_a_person_coming_out_from_behind_who_hid_them_gets_their_id_back() -> None:
    own, front_colours = coloured([1, 2, 3]), coloured([10, 20, 30])
    # Coming out, a fifth of their strips read their clothes, the rest the front person's:
    # alike 0.45, below reid_min_similarity (0.6), above its covered share.
    mixed = 0.2 * own + 0.8 * front_colours
    for remembered, expected in ((True, 2), (False, 3)):
        tracker = PoseTracker(TrackingConfig(smoothing=False))
        front = synthetic_person((400, 200), size=200.0)  # x 308..492, standing
        for frame in range(6):  # walking right, into the front person's box
            tracker.update([front, synthetic_person((250 + 10 * frame, 200), size=60.0)],
                           frame / FPS, [front_colours, own])
        tracker.update([front], 6 / FPS, [front_colours])
        hidden = next(t for t in tracker.tracks if t.state is TrackState.LOST)
        assert hidden.hidden_by == 1
        if not remembered:
            hidden.hidden_by = None
        out = tracker.update([front, synthetic_person((505, 200), size=60.0)], 1.0,
                             [front_colours, mixed])  # at the front person's right edge
        assert [p.track_id for p in out] == [1, expected], remembered


def test_a_covered_persons_mixed_colours_do_not_refuse_their_track() -> None:
    own, other = coloured([1, 2, 3]), coloured([10, 20, 30])
    # Their own colours and, over 70 %, the front person's arm: alike 0.55, below 0.6.
    mixed = 0.3 * own + 0.7 * coloured([40, 41, 42])
    for front_there, ids in ((True, [1, 2]), (False, [3])):
        tracker = PoseTracker(TrackingConfig(smoothing=False, track_min_hits=1))
        tracker.update([synthetic_person((200, 200)), synthetic_person((300, 200))], 0.0,
                       [own, other])
        moved = synthetic_person((230, 200))  # a third of their box under the other's
        persons, looks = ([moved, synthetic_person((300, 200))], [mixed, other]) \
            if front_there else ([moved], [mixed])
        out = tracker.update(persons, 0.1, looks)
        assert sorted(p.track_id for p in out) == ids, front_there


def test_appearances_must_match_the_persons() -> None:
    with pytest.raises(ValueError, match='appearances'):
        PoseTracker().update([synthetic_person((200, 200))], 0.0, [])
