"""The network runtimes: PyTorch and LiteRT agree, and ``auto`` picks one it can run."""

from pathlib import Path

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models import runtime
from pose3d_ros.models.blazepose import NETWORKS, NetworkSpec
from pose3d_ros.samples import read_rgb
import pytest
import torch

CPU = torch.device('cpu')


@pytest.mark.parametrize('network', NETWORKS, ids=lambda n: n.name)
def test_runtimes_return_the_same_outputs(network: NetworkSpec, model_dir: Path) -> None:
    (on_torch,) = runtime.load_networks([network], 'torch', CPU, torch.float32, 2, model_dir)
    (on_litert,) = runtime.load_networks([network], 'litert', CPU, torch.float32, 2, model_dir)
    assert (on_torch.name, on_litert.name) == ('torch', 'litert')
    low, high = network.input_range
    batch = torch.from_numpy(np.random.default_rng(3).uniform(
        low, high, (2, 3, *network.input_size)).astype(np.float32))
    with torch.inference_mode():
        ours, theirs = on_torch(batch), on_litert(batch)
    assert len(ours) == len(theirs) == len(network.outputs)
    for spec, a, b in zip(network.outputs, ours, theirs):
        assert a.shape == b.shape == (2, *spec.shape), spec.name
        assert b.dtype == torch.float32
        spread = float(b.max() - b.min())
        # Segmentation logits are ill-conditioned (docs/tflite-parity.md): a looser bound.
        bound = 0.05 if spec.name == 'Identity_2' and network.name == 'pose_landmark_full' \
            else 1e-3
        assert float((a - b).abs().max()) <= bound * spread, spec.name


def test_estimator_results_agree_across_runtimes(model_dir: Path, sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    results = {name: PoseEstimator(EstimatorConfig(
        device='cpu', runtime=name, model_dir=str(model_dir)))(rgb, camera)
        for name in ('torch', 'litert')}
    (a,), (b,) = results['torch'].persons, results['litert'].persons
    assert np.abs(a.keypoints_2d - b.keypoints_2d).mean() < 0.2  # pixels
    assert np.abs(a.joints_3d - b.joints_3d).max() < 0.01  # metres
    assert np.linalg.norm(a.root - b.root) < 0.005


def test_auto_runs_one_of_the_runtimes_on_the_cpu(model_dir: Path) -> None:
    estimator = PoseEstimator(EstimatorConfig(device='cpu', runtime='auto',
                                              model_dir=str(model_dir)))
    assert estimator.runtime in ('torch', 'litert')
    assert estimator.landmarker.name == estimator.runtime


def test_without_litert_auto_falls_back_and_litert_says_how_to_install(
        model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, 'litert_available', lambda: False)
    estimator = PoseEstimator(EstimatorConfig(device='cpu', runtime='auto',
                                              model_dir=str(model_dir)))
    assert estimator.runtime == 'torch'
    with pytest.raises(ValueError, match='pip install ai-edge-litert'):
        PoseEstimator(EstimatorConfig(device='cpu', runtime='litert', model_dir=str(model_dir)))


def test_litert_is_refused_on_cuda_and_in_half_precision(model_dir: Path) -> None:
    # Checked before anything is loaded, so no GPU is needed to see the refusal.
    for device, dtype in ((torch.device('cuda'), torch.float32), (CPU, torch.float16)):
        with pytest.raises(ValueError, match='float32 on the CPU'):
            runtime.load_networks(NETWORKS, 'litert', device, dtype, 1, model_dir)


def test_unknown_runtime_and_negative_threads_are_rejected() -> None:
    with pytest.raises(ValueError, match='runtime'):
        EstimatorConfig(runtime='onnx')
    with pytest.raises(ValueError, match='threads'):
        EstimatorConfig(threads=-1)
    with pytest.raises(ValueError, match='runtime'):
        runtime.load_networks(NETWORKS, 'onnx', CPU, torch.float32, 1)
