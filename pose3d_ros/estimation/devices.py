"""
Where an estimator runs and in what precision, made explicit and kept to itself.

* A device is resolved once to an indexed one (``cuda:N``, checked against the devices
  present), so that an estimator's weights and frames stay on one GPU whatever device
  another thread made current; its calls run inside that device's context.
* TF32: PyTorch lets cuDNN's convolutions use TF32 on Ampere and later GPUs by default, so
  "float32" results drift from the CPU's and LiteRT's. The ``tf32`` setting says what this
  estimator's calls use; it is set on entry and restored on exit (:func:`precision`), so
  other users of PyTorch in the process keep theirs.
* Host values reach a GPU through pinned memory (:func:`upload`): a plain copy would make
  the host wait for the device's queued work.
* Running out of GPU memory while loading or warming up is a setting's problem (a
  smaller ``max_persons``, fp16, another device): a ValueError with its reason
  (:func:`memory_checked`), as every bad device is.
"""

from contextlib import contextmanager, nullcontext
import functools
import re
from typing import Any, ContextManager, Iterator, Optional

import torch

from .config import DEVICE_PATTERN

#: How CUDA, cuDNN and cuBLAS say they ran out of memory in a RuntimeError.
OUT_OF_MEMORY = ('out of memory', 'ALLOC_FAILED')


def resolve_device(name: str) -> torch.device:
    """
    Return the device ``name`` means, CUDA ones with their index.

    ``auto``: CUDA's current device when CUDA is available, else the CPU. ``cuda``: the
    current device. ValueError for a name that is none of ``auto``, ``cpu``, ``cuda`` or
    ``cuda:N``, for CUDA where it is not available, and for an index it does not have.
    """
    if not isinstance(name, str) or not re.fullmatch(DEVICE_PATTERN, name):
        raise ValueError(f'device must be auto, cpu, cuda or cuda:N, got {name!r}')
    if name == 'cpu' or (name == 'auto' and not torch.cuda.is_available()):
        return torch.device('cpu')
    if not torch.cuda.is_available():
        raise ValueError(f'device {name!r} requested but CUDA is not available')
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if ':' not in name else int(name.split(':')[1])
    if index >= count:
        raise ValueError(f'device {name!r} requested but this machine has {count} CUDA '
                         f'device{"s" if count != 1 else ""} (cuda:0 to cuda:{count - 1})')
    return torch.device('cuda', index)


def upload(values: Any, device: torch.device,
           dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """
    Return host ``values`` (an array, a sequence) as a tensor on ``device``, not waiting.

    A plain copy to a GPU waits for the work queued before it; through pinned memory the
    copy is queued too, and the host goes on.
    """
    tensor = torch.as_tensor(values, dtype=dtype)
    if device.type != 'cuda':
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


@functools.lru_cache(maxsize=256)
def constant(values: tuple, device: torch.device,
             dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Return a tuple's values on ``device``, made once (:func:`upload`); do not modify it."""
    return upload(values, device, dtype)


def on_device(device: torch.device) -> ContextManager:
    """Return the context in which ``device`` is current (CUDA), else one doing nothing."""
    return torch.cuda.device(device) if device.type == 'cuda' else nullcontext()


@contextmanager
def precision(tf32: bool, matmul: bool = True) -> Iterator[None]:
    """
    Let cuDNN's float32 convolutions use TF32 (``tf32``) or not, then restore the setting.

    ``matmul``: cuBLAS's float32 matrix products likewise. Where the process set TF32 per
    operator (``fp32_precision``), PyTorch refuses the older flags: that interface is used.
    The flags are the process's: another thread's PyTorch work while the block runs sees
    this setting too (the node runs every network call on one thread).
    """
    try:
        flags = [torch.backends.cudnn] + ([torch.backends.cuda.matmul] if matmul else [])
        name, values = 'allow_tf32', [flag.allow_tf32 for flag in flags]
        wanted = tf32
    except RuntimeError:
        flags = [torch.backends.cudnn.conv] + ([torch.backends.cuda.matmul] if matmul else [])
        name, values = 'fp32_precision', [flag.fp32_precision for flag in flags]
        wanted = 'tf32' if tf32 else 'ieee'
    for flag in flags:
        setattr(flag, name, wanted)
    try:
        yield
    finally:
        for flag, value in zip(flags, values):
            setattr(flag, name, value)


@contextmanager
def memory_checked(device: torch.device, doing: str) -> Iterator[None]:
    """Turn running out of ``device``'s memory while ``doing`` into a ValueError with why."""
    try:
        yield
    except RuntimeError as exc:  # torch.cuda.OutOfMemoryError, and cuDNN's and cuBLAS's
        if not isinstance(exc, torch.cuda.OutOfMemoryError) and not any(
                sign in str(exc) for sign in OUT_OF_MEMORY):
            raise
        if device.type == 'cuda':
            torch.cuda.empty_cache()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else 'out of memory'
        raise ValueError(f'{device} ran out of memory while {doing} ({first}); try a smaller '
                         'max_persons, fp16, or another device') from exc
