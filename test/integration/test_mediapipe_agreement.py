"""Agreement with MediaPipe's own pipeline (mediapipe 0.10.14, legacy Pose, static mode)."""

from pose3d_ros.evaluation.mediapipe_reference import agreement


def test_agrees_with_mediapipe_on_a_real_photograph(estimator, sample_dir,
                                                    mediapipe_python) -> None:
    found = agreement(estimator, sample_dir / 'messi5.jpg', mediapipe_python)
    assert found.mean_2d_px <= 3.0, found
    assert found.mean_world_m <= 0.02, found
