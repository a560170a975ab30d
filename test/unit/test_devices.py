"""Devices resolved and checked, TF32 kept to the estimator's calls, out of memory said."""

from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.devices import memory_checked, precision, resolve_device
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.timing import StageTimes
import pytest
import torch


@pytest.mark.parametrize('name', ['cudax', 'gpu', 'cuda:', 'cuda:-1', 'CPU', '', 'cuda:0 '])
def test_a_device_name_that_is_none_fails_with_what_it_may_be(name: str) -> None:
    with pytest.raises(ValueError, match='device must be auto, cpu, cuda or cuda:N'):
        resolve_device(name)


def test_devices_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert resolve_device('cpu') == resolve_device('auto') == torch.device('cpu')
    for name in ('cuda', 'cuda:0'):
        with pytest.raises(ValueError, match='CUDA is not available'):
            resolve_device(name)


def test_cuda_devices_get_their_index_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 1)
    assert resolve_device('cuda') == resolve_device('auto') == torch.device('cuda', 1)
    assert resolve_device('cuda:0') == torch.device('cuda', 0)
    with pytest.raises(ValueError, match=r'has 2 CUDA devices \(cuda:0 to cuda:1\)'):
        resolve_device('cuda:2')


def test_the_estimator_refuses_cuda_settings_without_cuda(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match='CUDA is not available'):
        PoseEstimator(EstimatorConfig(device='cuda:1'))
    for name in ('fp16', 'cuda_graphs'):
        with pytest.raises(ValueError, match=f'{name} needs a CUDA device'):
            PoseEstimator(EstimatorConfig(device='cpu', **{name: True}))


def test_tf32_is_set_for_the_block_and_restored_after() -> None:
    flags = (torch.backends.cudnn, torch.backends.cuda.matmul)
    before = [flag.allow_tf32 for flag in flags]
    try:
        for outside in (True, False):
            for inside in (True, False):
                for flag in flags:
                    flag.allow_tf32 = outside
                with pytest.raises(RuntimeError):
                    with precision(inside):
                        assert [flag.allow_tf32 for flag in flags] == [inside, inside]
                        raise RuntimeError('restored even so')
                assert [flag.allow_tf32 for flag in flags] == [outside, outside]
    finally:
        for flag, value in zip(flags, before):
            flag.allow_tf32 = value


def test_running_out_of_memory_is_a_value_error_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r'cpu ran out of memory while warming up \(CUDA out '
                                         r'of memory\. Tried to allocate 2\.00 GiB\); try'):
        with memory_checked(torch.device('cpu'), 'warming up'):
            raise torch.cuda.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB\n'
                                              'more detail')
    with memory_checked(torch.device('cpu'), 'loading'):  # anything else passes through
        pass


def test_stages_are_timed_on_the_cpu_and_on_cuda_only_when_asked() -> None:
    cpu = StageTimes(torch.device('cpu'), measure=False)
    for _ in range(2):
        with cpu.stage('landmarks'):
            sum(range(1000))
    assert set(cpu.milliseconds()) == {'landmarks'} and cpu.milliseconds()['landmarks'] > 0
    quiet = StageTimes(torch.device('cuda'), measure=False)  # records nothing, waits for nothing
    with quiet.stage('landmarks'):
        pass
    assert quiet.milliseconds() == {}
