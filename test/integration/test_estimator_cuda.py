"""The estimator on CUDA gives the CPU's answer (skipped without a GPU)."""

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_rgb

from ..helpers import GPU

pytestmark = list(GPU)


def test_cuda_matches_cpu(estimator, model_dir, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_values(548, 342, [500, 0, 273.5, 0, 500, 170.5, 0, 0, 1],
                                     (-0.2, 0.05, 0.0, 0.0, 0.0))
    gpu = PoseEstimator(EstimatorConfig(device='cuda', model_dir=str(model_dir)))
    assert gpu.device.type == 'cuda'
    expected, found = estimator(rgb, camera).persons, gpu(rgb, camera).persons
    assert len(found) == len(expected) == 1
    np.testing.assert_allclose(found[0].keypoints_2d, expected[0].keypoints_2d, atol=1.0)
    np.testing.assert_allclose(found[0].joints_3d, expected[0].joints_3d, atol=0.02)


def test_fp16_close_to_fp32(estimator, model_dir, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(548, 342, 60.0)
    half = PoseEstimator(EstimatorConfig(device='cuda', fp16=True, model_dir=str(model_dir)))
    expected, found = estimator(rgb, camera).persons, half(rgb, camera).persons
    assert len(found) == len(expected) == 1
    np.testing.assert_allclose(found[0].keypoints_2d, expected[0].keypoints_2d, atol=3.0)
    np.testing.assert_allclose(found[0].root, expected[0].root, rtol=0.03)
