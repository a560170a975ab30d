"""The stream pipeline's own logic, around a stand-in estimator: schedule, settings, depth."""

from dataclasses import replace
from typing import List, Optional

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.horizon import Horizon
from pose3d_ros.estimation.pipeline import DEPTH_MAX_AGE_S, Pipeline, PipelineConfig
from pose3d_ros.estimation.proposals import Search
from pose3d_ros.estimation.result import FrameResult, Person
from pose3d_ros.estimation.tracking import TrackingConfig
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.ground import GroundPlane, GroundSource
from pose3d_ros.models.blazepose import LANDMARK_NAMES
import pytest

CAMERA = CameraModel.from_hfov(64, 48, 60.0)
J = {name: i for i, name in enumerate(LANDMARK_NAMES)}


def standing(z: float = 3.0) -> Person:
    """Return a person at depth ``z`` whose torso covers the middle of a 64 x 48 image."""
    keypoints = np.full((33, 2), 32.0)
    for name, uv in (('left_shoulder', (20, 10)), ('right_shoulder', (40, 10)),
                     ('left_hip', (25, 30)), ('right_hip', (35, 30))):
        keypoints[J[name]] = uv
    joints = np.zeros((33, 3)) + [0.0, 0.0, z]
    return Person(score=0.9, bbox=np.array([20.0, 10.0, 40.0, 30.0]), keypoints_2d=keypoints,
                  visibility=np.ones(33), joints_3d=joints, root_prior_z=z, root_from_fit=True,
                  alignment_2d=np.array([[30.0, 30.0], [30.0, 5.0]]))


class StandIn:
    """Answers every frame with one standing person and a horizon; records its calls."""

    def __init__(self) -> None:
        self.config = EstimatorConfig()
        self.calls: List[dict] = []

    def __call__(self, rgb: np.ndarray, camera: CameraModel, seeds: Optional[np.ndarray],
                 seed_scores: Optional[np.ndarray], detect: bool = True,
                 search: Search = Search(), ground: Optional[GroundPlane] = None,
                 timed: bool = False) -> FrameResult:
        self.calls.append({'seeds': len(seeds), 'detect': detect, 'search': search.part,
                           'horizon': search.horizon, 'stream': search.stream,
                           'ground': ground, 'timed': timed})
        return FrameResult((camera.width, camera.height), camera, (standing(),),
                           {'propose': 1.0}, horizon=Horizon(20.0 + len(self.calls), 0.5, 1))


def frame() -> np.ndarray:
    return np.zeros((48, 64, 3), np.uint8)


def test_detector_schedule_with_and_without_tracking() -> None:
    tracked = StandIn()
    pipeline = Pipeline(tracked, PipelineConfig(detect_every=3))
    results = [pipeline(frame(), CAMERA, i / 10) for i in range(6)]
    assert [call['detect'] for call in tracked.calls] == [True, False, False, True, False, False]
    assert [call['seeds'] for call in tracked.calls] == [0, 1, 1, 1, 1, 1]
    # The search is dealt out to the detection frames, one part each, in turn.
    assert [call['search'] for call in tracked.calls] == [(0, 12), (1, 12), (1, 12),
                                                          (1, 12), (2, 12), (2, 12)]
    assert {p.track_id for r in results for p in r.persons} == {1}
    assert all('track' in r.timings_ms and 'propose' in r.timings_ms for r in results)
    # The far rows lie under the horizon of the frame before.
    assert all(call['stream'] for call in tracked.calls)
    assert tracked.calls[0]['horizon'] is None
    assert [call['horizon'].row for call in tracked.calls[1:]] == [21.0, 22.0, 23.0, 24.0, 25.0]
    untracked = StandIn()
    results = [Pipeline(untracked, PipelineConfig(tracking=False))(frame(), CAMERA, i / 10)
               for i in range(3)]
    assert all(call['detect'] and call['seeds'] == 0 for call in untracked.calls)
    assert {p.track_id for r in results for p in r.persons} == {None}


def test_time_going_backwards_restarts_the_tracks() -> None:
    pipeline = Pipeline(StandIn(), PipelineConfig(detect_every=10))
    first = pipeline(frame(), CAMERA, 5.0).persons[0].track_id
    pipeline(frame(), CAMERA, 5.1)
    again = pipeline(frame(), CAMERA, 0.0)  # a looped video
    assert again.detected and again.persons[0].track_id == first + 1


def test_reconfigure_takes_runtime_settings_and_refuses_the_others() -> None:
    estimator = StandIn()
    pipeline = Pipeline(estimator)
    pipeline(frame(), CAMERA, 0.0)
    tracker = pipeline.tracker
    pipeline.reconfigure(PipelineConfig(), replace(estimator.config, max_persons=2))
    assert estimator.config.max_persons == 10  # with the next frame, not within one
    pipeline(frame(), CAMERA, 0.1)
    assert estimator.config.max_persons == 2 and pipeline.tracker is tracker  # tracks kept
    pipeline.reconfigure(PipelineConfig(tracker=TrackingConfig(track_keep_lost_s=1.5)),
                         estimator.config)
    pipeline(frame(), CAMERA, 0.2)
    assert pipeline.tracker is not tracker  # a tracking setting restarts the tracks
    assert pipeline.config.tracker.track_keep_lost_s == 1.5
    with pytest.raises(ValueError, match='device, pose_backend cannot change while running'):
        pipeline.reconfigure(PipelineConfig(), replace(estimator.config, device='cpu',
                                                       pose_backend='lifting'))
    with pytest.raises(ValueError, match='use_depth'):
        pipeline.reconfigure(PipelineConfig(use_depth=True), estimator.config)


def test_depth_stage_uses_the_nearest_depth_image_or_says_why_not() -> None:
    pipeline = Pipeline(StandIn(), PipelineConfig(use_depth=True, tracking=False))
    alone = pipeline(frame(), CAMERA, 1.0)
    assert alone.persons[0].root[2] == pytest.approx(3.0)
    assert len(alone.warnings) == 1 and 'no depth image' in alone.warnings[0]
    pipeline.add_depth(np.full((48, 64), 2.0, np.float32), 1.0 + DEPTH_MAX_AGE_S / 2)
    pipeline.add_depth(np.full((48, 64), 9.0, np.float32), 1.0 + DEPTH_MAX_AGE_S * 0.9)
    fused = pipeline(frame(), CAMERA, 1.0)
    assert fused.warnings == () and 'depth' in fused.timings_ms
    assert 2.0 < fused.persons[0].root[2] < 2.2  # the sensor (2 m + body depth) dominates
    np.testing.assert_allclose(fused.persons[0].joints_3d - fused.persons[0].root,
                               alone.persons[0].joints_3d - alone.persons[0].root, atol=1e-9)


def test_the_floor_given_or_configured_reaches_the_estimator() -> None:
    estimator = StandIn()
    pipeline = Pipeline(estimator)
    pipeline(frame(), CAMERA, 0.0)
    assert estimator.calls[-1]['ground'] is None  # no TF, no camera pose, no people yet
    from_tf = GroundPlane.from_camera_pose(1.2, 0.1, source=GroundSource.TF)
    pipeline(frame(), CAMERA, 0.1, from_tf)
    assert estimator.calls[-1]['ground'] is from_tf
    pipeline.reconfigure(pipeline.config, replace(estimator.config, camera_height=2.5))
    result = pipeline(frame(), CAMERA, 0.2)
    assert estimator.calls[-1]['ground'].source is GroundSource.PARAMETERS
    assert 'floor' in result.timings_ms  # the people's floor is kept up to date all the same
