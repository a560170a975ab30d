"""
The One Euro filter (Casiez, Roussel and Vogel, CHI 2012), as MediaPipe applies it.

Vectorised over any array shape. A first-order low-pass whose cutoff rises with speed,
``cutoff = min_cutoff + beta * |dx/dt|``, so a still joint is smoothed hard and a moving
one follows with little lag.
As in MediaPipe's ``OneEuroFilter``: the derivative is taken from the last *raw* value,
multiplied by ``value_scale`` (1 / the person's size for image landmarks, so the filter
behaves the same near and far), and low-passed at ``derivative_cutoff``; time comes from
the caller (message stamps), never from the wall clock.
"""

from dataclasses import dataclass
import math
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class OneEuroParameters:
    """Cutoffs in Hz; ``beta`` in Hz per unit of scaled speed."""

    min_cutoff: float
    beta: float
    derivative_cutoff: float = 1.0

    def __post_init__(self) -> None:
        """Reject cutoffs that are not positive and a negative beta."""
        if not (self.min_cutoff > 0 and self.derivative_cutoff > 0 and self.beta >= 0):
            raise ValueError(f'One Euro needs min_cutoff > 0, derivative_cutoff > 0 and '
                             f'beta >= 0, got {self}')


#: MediaPipe's settings for pose landmarks (pose_landmark_filtering.pbtxt).
IMAGE_LANDMARKS = OneEuroParameters(min_cutoff=0.05, beta=80.0, derivative_cutoff=1.0)
WORLD_LANDMARKS = OneEuroParameters(min_cutoff=0.1, beta=40.0, derivative_cutoff=1.0)
#: Our default for metric camera-frame joints: MediaPipe's world-landmark cutoffs with beta
#: 10 instead of 40. With 40 the network's per-frame limb-depth noise passes (2.1x less
#: jitter on a still noisy scene); 10 gives 4.0x with 1.3 frames of lag
#: (bench/tracking.py, docs/tracking.md).
CAMERA_JOINTS = OneEuroParameters(min_cutoff=0.1, beta=10.0, derivative_cutoff=1.0)


def _alpha(cutoff: np.ndarray, dt: float) -> np.ndarray:
    """Return the exponential smoothing factor of a first-order low-pass at ``cutoff`` Hz."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """
    Filter a stream of same-shaped arrays; :meth:`__call__` takes each new value.

    The first value passes unchanged. A value whose time is not after the previous one's
    (a repeated or reordered stamp) is returned as the last filtered value.
    """

    def __init__(self, parameters: OneEuroParameters) -> None:
        self.parameters = parameters
        self.time: Optional[float] = None
        self.raw: Optional[np.ndarray] = None
        self.filtered: Optional[np.ndarray] = None
        self.derivative: Optional[np.ndarray] = None

    def __call__(self, value: np.ndarray, time_s: float, value_scale: float = 1.0) -> np.ndarray:
        """Return the filtered ``value`` observed at ``time_s`` seconds."""
        value = np.asarray(value, dtype=np.float64)
        if self.time is None:
            self.time, self.raw, self.filtered = time_s, value, value
            self.derivative = np.zeros_like(value)
            return value
        dt = time_s - self.time
        if dt <= 0.0:
            return self.filtered
        p = self.parameters
        derivative = (value - self.raw) * value_scale / dt
        self.derivative = self.derivative + _alpha(p.derivative_cutoff, dt) * (
            derivative - self.derivative)
        cutoff = p.min_cutoff + p.beta * np.abs(self.derivative)
        self.filtered = self.filtered + _alpha(cutoff, dt) * (value - self.filtered)
        self.time, self.raw = time_s, value
        return self.filtered
