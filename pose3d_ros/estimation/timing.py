"""Per-stage wall-clock timing that waits for the GPU before reading the clock."""

from contextlib import contextmanager
import time
from typing import Dict, Iterator

import torch


@contextmanager
def stage(timings_ms: Dict[str, float], name: str, device: torch.device) -> Iterator[None]:
    """Add the time spent in the ``with`` block to ``timings_ms[name]``, milliseconds."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    try:
        yield
    finally:
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        timings_ms[name] = timings_ms.get(name, 0.0) + (time.perf_counter() - start) * 1e3
