"""
Runtimes for the bundled networks behind one calling convention: PyTorch or LiteRT.

A loaded network maps an (N, 3, H, W) float tensor, RGB scaled to the network's input
range (:meth:`NetworkSpec.to_input`), to the tuple of output tensors its
:attr:`NetworkSpec.outputs` lists, each (N, *shape), on the input's device. The estimator
cannot tell the runtimes apart.

- ``torch``: our PyTorch translation of the TFLite graph, on the CPU or a CUDA device, in
  float32 or float16, with channels-last activations (faster convolutions on both).
- ``litert``: the official TFLite interpreter with XNNPACK, CPU only, one sample per call
  (the files have a fixed batch of 1).
- ``auto``: PyTorch on CUDA; on the CPU whichever of the two runs the networks faster on
  this machine, timed once at load.
"""

import statistics
import time
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import torch

from .blazepose import NetworkSpec
from .precision import float32_heads
from .store import PathLike, verified_path

RUNTIMES = ('auto', 'torch', 'litert')

#: Calls timed per network and runtime when ``auto`` chooses on the CPU (after one warm-up).
AUTO_TIMING_CALLS = 3

Network = Callable[[torch.Tensor], Tuple[torch.Tensor, ...]]


def litert_available() -> bool:
    """Return whether the LiteRT interpreter (``ai-edge-litert``) can be imported."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return True


class TorchNetwork:
    """
    A network run by PyTorch on ``device`` in ``dtype``, channels-last.

    In float16 the layers giving the outputs run in float32
    (:func:`~.precision.float32_heads`): coordinates in crop pixels keep their fractions.
    """

    name = 'torch'

    def __init__(self, spec: NetworkSpec, device: torch.device, dtype: torch.dtype,
                 model_dir: Optional[PathLike] = None) -> None:
        self.module = spec.load(model_dir).to(device, dtype).to(
            memory_format=torch.channels_last)
        if dtype == torch.float16:
            float32_heads(self.module)
        self.dtype = dtype

    def __call__(self, batch: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run an (N, 3, H, W) batch; outputs in the module's dtype, float32 for float16."""
        return tuple(self.module(batch.to(self.dtype).contiguous(
            memory_format=torch.channels_last)))


class LiteRTNetwork:
    """A network run by the LiteRT interpreter (XNNPACK) on the CPU, sample by sample."""

    name = 'litert'

    def __init__(self, spec: NetworkSpec, threads: int,
                 model_dir: Optional[PathLike] = None) -> None:
        from ..tflite.litert import LiteRTRunner

        self.runner = LiteRTRunner(verified_path(spec.file, model_dir), num_threads=threads)

    def __call__(self, batch: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run an (N, 3, H, W) float32 CPU batch; float32 outputs in our layout."""
        return tuple(torch.from_numpy(output) for output in self.runner(batch.numpy()))


def _median_ms(network: Network, spec: NetworkSpec) -> float:
    """Median milliseconds of one batch-1 call of ``network`` on an input of its range."""
    low, high = spec.input_range
    sample = torch.from_numpy(np.random.default_rng(0).uniform(
        low, high, (1, 3, *spec.input_size)).astype(np.float32))
    network(sample)
    times = []
    for _ in range(AUTO_TIMING_CALLS):
        start = time.perf_counter()
        network(sample)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def load_networks(specs: Sequence[NetworkSpec], runtime: str, device: torch.device,
                  dtype: torch.dtype, threads: int,
                  model_dir: Optional[PathLike] = None) -> Tuple[Network, ...]:
    """
    Load ``specs`` in one runtime, the faster one on the CPU for ``'auto'``.

    ``threads`` is the CPU thread count LiteRT uses (PyTorch's is process-wide and set by
    the caller). The returned networks carry the runtime's name in ``.name``.

    Raises
    ------
    ValueError
        An unknown runtime; LiteRT asked for on CUDA, in float16 or without
        ``ai-edge-litert`` installed.
    ModelFileError
        A model file is missing or altered.

    """
    if runtime not in RUNTIMES:
        raise ValueError(f'runtime must be one of {RUNTIMES}, got {runtime!r}')
    if runtime == 'litert':
        if device.type != 'cpu' or dtype != torch.float32:
            raise ValueError(f'the litert runtime runs float32 on the CPU, not {device} '
                             f'{dtype}')
        if not litert_available():
            raise ValueError('the litert runtime needs ai-edge-litert: pip install '
                             'ai-edge-litert')
        return tuple(LiteRTNetwork(spec, threads, model_dir) for spec in specs)
    on_torch = tuple(TorchNetwork(spec, device, dtype, model_dir) for spec in specs)
    if runtime == 'torch' or device.type != 'cpu' or not litert_available():
        return on_torch
    on_litert = tuple(LiteRTNetwork(spec, threads, model_dir) for spec in specs)
    with torch.inference_mode():
        cost = {networks: sum(_median_ms(network, spec) for network, spec in zip(networks, specs))
                for networks in (on_torch, on_litert)}
    return min(cost, key=cost.get)
