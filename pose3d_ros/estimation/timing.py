"""
Per-stage timing of one estimator call that never makes the GPU wait unless asked to.

On the CPU the clock is read around each stage: it costs nothing, so the stages are always
timed. On CUDA the work is queued and the clock says nothing about it: a stage is timed
with a pair of CUDA events recorded in the stream, read once the call's results have
arrived, and only when timings are asked for (``measure``: the node at its diagnostics'
rate, the benchmarks every call); otherwise nothing is recorded and the call's only wait
is for its results.
"""

from contextlib import contextmanager
import time
from typing import Dict, Iterator, List, Tuple

import torch


class StageTimes:
    """Milliseconds per named stage, summed over its ``with`` blocks (:meth:`stage`)."""

    def __init__(self, device: torch.device, measure: bool) -> None:
        self.device = device
        #: Whether anything is timed: always on the CPU, on CUDA when asked.
        self.measure = measure or device.type != 'cuda'
        self._ms: Dict[str, float] = {}
        self._events: List[Tuple[str, torch.cuda.Event, torch.cuda.Event]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block into ``name``."""
        if not self.measure:
            yield
        elif self.device.type == 'cuda':
            start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
            start.record()
            try:
                yield
            finally:
                end.record()
                self._events.append((name, start, end))
        else:
            start_s = time.perf_counter()
            try:
                yield
            finally:
                self._add(name, (time.perf_counter() - start_s) * 1e3)

    def _add(self, name: str, ms: float) -> None:
        self._ms[name] = self._ms.get(name, 0.0) + ms

    def milliseconds(self) -> Dict[str, float]:
        """Return the stages' milliseconds; on CUDA, waits for the last stage's end."""
        events, self._events = self._events, []
        for name, start, end in events:
            end.synchronize()
            self._add(name, start.elapsed_time(end))
        return dict(self._ms)
