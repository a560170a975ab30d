"""
One estimator call reads the device once, the final copy of its results (on the CPU).

Every way a tensor's value reaches Python or NumPy is counted (``Tensor.__bool__``,
``item``, ``tolist``, ``cpu``, ``numpy``) during one call on a real photograph, with the
settings a GPU runs (PyTorch, HOG in torch, every proposal source) and the CPU's. On a
GPU each would make the CPU wait for the device; here they are counted where they would
happen. Either slot batching (:mod:`pose3d_ros.estimation.slots`) gives the same persons.
"""

from pathlib import Path
import traceback
from typing import List
import warnings

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.proposals import Search
from pose3d_ros.estimation.slots import compact, padded
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_rgb
import pytest
import torch

from ..helpers import needs_cuda

#: What turns a tensor's values into Python or NumPy values.
CONVERSIONS = ('__bool__', 'item', 'tolist', 'cpu', 'numpy')

#: The search a GPU runs: every source, HOG computed in torch, on the CPU here.
GPU_LIKE = {'runtime': 'torch', 'device': 'cpu', 'hog_runtime': 'torch',
            'hog_detectors': 'both', 'near_field': True, 'far_rows': 'on'}


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Record each conversion made while the test runs: its name and where it was made."""
    made: List[str] = []
    for name in CONVERSIONS:
        def counted(self, *args, _original=getattr(torch.Tensor, name), _name=name, **kwargs):
            caller = traceback.extract_stack(limit=2)[0]
            made.append(f'{_name} at {Path(caller.filename).name}:{caller.lineno} '
                        f'{caller.name}')
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, counted)
    return made


def persons_of(result) -> list:
    """Return each person's score, keypoints and joints, for comparing two results."""
    return [(p.score, p.keypoints_2d, p.joints_3d) for p in result.persons]


@pytest.mark.parametrize('image', ['bus.jpg', 'zidane.jpg', 'messi5.jpg'])
@pytest.mark.parametrize('settings', [GPU_LIKE, {'runtime': 'torch', 'device': 'cpu'}],
                         ids=['gpu-like', 'cpu-defaults'])
def test_one_call_reads_the_device_once(image: str, settings: dict, model_dir: Path,
                                        sample_dir: Path, conversions: List[str]) -> None:
    rgb = read_rgb(sample_dir / image)
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    answers = {}
    for batching in (compact, padded):
        estimator = PoseEstimator(EstimatorConfig(model_dir=str(model_dir), **settings))
        estimator.slot_batching = batching
        horizon = estimator(rgb, camera).horizon  # where far people stand: one look, not two
        seeds = np.array([[[rgb.shape[1] / 2, rgb.shape[0] * 0.6],
                           [rgb.shape[1] / 2, rgb.shape[0] * 0.3]]])
        conversions.clear()
        result = estimator(rgb, camera, seeds, np.ones(1), search=Search(horizon=horizon))
        assert len(conversions) == 1 and conversions[0].startswith('numpy at landmarks.py'), \
            conversions
        answers[batching.__name__] = persons_of(result)
    assert len(answers['compact']) == len(answers['padded']) > 0
    for (score, pixels, joints), (same_score, same_pixels, same_joints) in zip(
            answers['compact'], answers['padded']):
        assert score == same_score
        np.testing.assert_allclose(same_pixels, pixels, atol=1e-3)
        np.testing.assert_allclose(same_joints, joints, atol=1e-5)


@needs_cuda
def test_one_call_on_cuda_waits_for_the_device_once(model_dir: Path, sample_dir: Path,
                                                    conversions: List[str]) -> None:
    rgb = read_rgb(sample_dir / 'bus.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    estimator = PoseEstimator(EstimatorConfig(model_dir=str(model_dir),
                                              **{**GPU_LIKE, 'device': 'cuda'}))
    assert estimator.slot_batching is padded
    horizon = estimator(rgb, camera).horizon
    conversions.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')  # every wait for the device, copies too
        try:
            result = estimator(rgb, camera, search=Search(horizon=horizon))
        finally:
            torch.cuda.set_sync_debug_mode('default')
    assert len(conversions) == 1 and len(result.persons) > 0, conversions
    waits = [str(warning.message) for warning in caught
             if 'synchroniz' in str(warning.message)]
    assert len(waits) == 1, waits


def test_a_distorted_camera_still_reads_the_device_once(model_dir: Path, sample_dir: Path,
                                                        conversions: List[str]) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_values(548, 342, [500, 0, 273.5, 0, 500, 170.5, 0, 0, 1],
                                     (-0.2, 0.05, 0.0, 0.0, 0.0))
    estimator = PoseEstimator(EstimatorConfig(model_dir=str(model_dir), **GPU_LIKE))
    estimator.slot_batching = padded
    seeds = np.array([[[300.0, 200.0], [300.0, 100.0]]])
    conversions.clear()
    result = estimator(rgb, camera, seeds, np.ones(1), search=Search(stream=True))
    assert len(conversions) == 1, conversions
    assert len(result.persons) >= 1


def test_calls_keep_tf32_to_themselves(estimator: PoseEstimator, sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    flags = (torch.backends.cudnn, torch.backends.cuda.matmul)
    before = [flag.allow_tf32 for flag in flags]
    seen = []
    place = estimator.backend.place

    def spy(*args):
        seen.append([flag.allow_tf32 for flag in flags])
        return place(*args)
    try:
        for flag in flags:
            flag.allow_tf32 = True
        estimator.backend.place = spy
        estimator(rgb, camera)
        assert seen and all(inside == [False, False] for inside in seen)  # tf32 off
        assert [flag.allow_tf32 for flag in flags] == [True, True]  # the process's again
    finally:
        del estimator.backend.place
        for flag, value in zip(flags, before):
            flag.allow_tf32 = value
