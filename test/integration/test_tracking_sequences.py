"""Tracking, smoothing and landmark-driven regions on clips made of a real photograph."""

from pathlib import Path

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.pipeline import Pipeline, PipelineConfig
from pose3d_ros.estimation.tracking import TrackingConfig
from pose3d_ros.evaluation import sequences
from pose3d_ros.evaluation.identities import Identities
from pose3d_ros.samples import read_player, read_rgb
import pytest

RAW = PipelineConfig(tracker=TrackingConfig(smoothing=False))


@pytest.fixture(scope='module')
def full_frame_estimator(model_dir: Path) -> PoseEstimator:
    """Load a CPU estimator on the full frame only (the canvases hold large people)."""
    return PoseEstimator(EstimatorConfig(device='cpu', detector_grids=(1,),
                                         model_dir=str(model_dir)))


@pytest.fixture(scope='module')
def player(sample_dir: Path) -> np.ndarray:
    """Crop the player of messi5.jpg, with some of the crowd behind him."""
    return read_player()


def test_translated_and_scaled_person_keeps_one_id(full_frame_estimator: PoseEstimator,
                                                   player: np.ndarray) -> None:
    clip = sequences.translated(player)
    found = sequences.run(Pipeline(full_frame_estimator, PipelineConfig(detect_every=10)),
                          clip)
    assert all(f['a'] is not None for f in found), 'the player was lost'
    assert sequences.id_switches(found, 'a') == 0
    detected = [f['detected'] for f in found]
    assert sum(detected) <= 6, detected  # most frames use landmark-driven regions


def test_two_people_crossing_swap_ids_only_at_the_crossing(
        estimator: PoseEstimator, player: np.ndarray) -> None:
    clip = sequences.crossing(player)
    found = sequences.run(Pipeline(estimator), clip)  # tiles: a wide frame
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
    raw = sequences.jitter(sequences.run(Pipeline(full_frame_estimator, RAW), clip))
    smooth = sequences.jitter(sequences.run(Pipeline(full_frame_estimator), clip))
    for key in ('2d', '3d', 'root'):  # with the default filters of every joint
        assert raw[key] / smooth[key] >= 3.0, (key, raw, smooth)


def test_moving_person_is_not_lagged(full_frame_estimator: PoseEstimator,
                                     sample_dir: Path) -> None:
    clip = sequences.moving(read_rgb(sample_dir / 'messi5.jpg'))
    raw = sequences.run(Pipeline(full_frame_estimator, RAW), clip)
    smooth = sequences.run(Pipeline(full_frame_estimator), clip)
    for name, lag in sequences.lag_frames(raw, smooth).items():
        assert -0.5 <= lag <= 2.0, (name, lag)


@pytest.fixture(scope='module')
def moving(sample_dir: Path, model_dir: Path) -> dict:
    """Build the moving composites of several real people at 10 fps, by name."""
    return {clip.name: clip for clip in sequences.moving_clips(
        sample_dir, 10.0, sequences.SCENARIOS, model_dir)}


def tracked(estimator: PoseEstimator, clip: sequences.MovingClip) -> Identities:
    """Track a moving composite with the default stream settings; measure its ids."""
    return sequences.measured(clip, sequences.track(Pipeline(estimator), clip))


def test_the_moving_composites_hide_and_bring_back_real_people(moving: dict) -> None:
    clip = moving['hidden-behind']
    assert len(clip.frames) == 51 and clip.boxes.shape == (51, 2, 4)
    assert clip.in_view[:, 0].all()  # the man in front, always
    hidden = ~clip.in_view[:, 1]
    assert 0.5 <= hidden.sum() / clip.fps <= 2.0 and (clip.shown[hidden, 1] < 0.3).all()
    out = ~moving['re-entering'].in_view[:, 0]
    assert np.isnan(moving['re-entering'].boxes[out, 0]).any()  # out of the frame
    for walk in (w for scenario in sequences.SCENARIOS for w in scenario.walks):
        assert all(0.5 <= speed <= 2.0 for speed in walk.speeds), walk


def test_a_person_hidden_behind_another_keeps_their_id(estimator: PoseEstimator,
                                                       moving: dict) -> None:
    result = tracked(estimator, moving['hidden-behind'])
    assert [gap.kept for gap in result.gaps] == [True], result
    assert result.id_switches == 0 and result.id_jumps == 0, result


def test_a_re_entering_person_gets_their_id_back_within_the_window_only(
        estimator: PoseEstimator, moving: dict) -> None:
    soon = tracked(estimator, moving['re-entering'])
    assert [(gap.person, gap.kept) for gap in soon.gaps] == [(0, True)], soon
    late = tracked(estimator, moving['re-entering-late'])
    long_gaps = [gap for gap in late.gaps if gap.seconds > 2.0]
    assert len(long_gaps) == 1 and not long_gaps[0].kept, late


def test_two_people_of_different_appearance_crossing_do_not_swap(
        estimator: PoseEstimator, moving: dict) -> None:
    result = tracked(estimator, moving['crossing'])
    assert result.id_switches == 0 and result.id_jumps == 0, result
    assert result.fragmentation == 1.0, result
