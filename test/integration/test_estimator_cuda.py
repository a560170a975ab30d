"""The estimator on CUDA gives the CPU's answer, graphs the eager one (skipped without a GPU)."""

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.slots import CudaGraphs
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_rgb
import pytest
import torch

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


def test_cuda_graphs_give_the_eager_answer(model_dir, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'zidane.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    eager, graphed = (PoseEstimator(EstimatorConfig(device='cuda', cuda_graphs=graphs,
                                                    model_dir=str(model_dir)))
                      for graphs in (False, True))
    graphed.warm_up(rgb.shape[1], rgb.shape[0])
    assert isinstance(graphed.landmark_runner.run, CudaGraphs)
    assert sorted(graphed.landmark_runner.run.graphs) == [1, 2, 4, 8, 16]
    expected, found = eager(rgb, camera).persons, graphed(rgb, camera).persons
    assert len(found) == len(expected) > 0
    for person, same in zip(found, expected):  # cuDNN may choose other kernels per size
        np.testing.assert_allclose(person.keypoints_2d, same.keypoints_2d, atol=0.25)


def test_the_device_has_its_index_and_stages_timed_when_asked(model_dir,
                                                              sample_dir) -> None:
    gpu = PoseEstimator(EstimatorConfig(device='cuda', model_dir=str(model_dir)))
    assert gpu.device == torch.device('cuda', torch.cuda.current_device())
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    assert gpu(rgb, camera).timings_ms == {}
    timed = gpu(rgb, camera, timed=True).timings_ms
    assert {'preprocess', 'propose', 'landmarks', 'place', 'postprocess'} <= set(timed)
    assert all(ms >= 0.0 for ms in timed.values())
    with pytest.raises(ValueError, match='CUDA device'):
        PoseEstimator(EstimatorConfig(device=f'cuda:{torch.cuda.device_count()}',
                                      model_dir=str(model_dir)))
