"""
Compare a torch module with LiteRT on the same inputs, output by output.

Shared by the parity tests and ``bench/parity.py`` so that the figures reported are the
figures tested.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Sequence, Union

import cv2
import numpy as np
import torch

from .litert import LiteRTRunner

RELATIVE_TOLERANCE = 1e-4  # max |torch - LiteRT| allowed, as a fraction of the output's range


@dataclass(frozen=True)
class OutputParity:
    """
    Agreement of one output tensor over a batch of inputs.

    Attributes
    ----------
    name
        Output name.
    max_abs_diff
        max |torch - LiteRT (XNNPACK)| over all elements and samples.
    value_range
        max - min of the LiteRT output over all samples (its range).
    litert_spread
        max |LiteRT XNNPACK - LiteRT reference kernels|: how closely the
        official runtime agrees with itself in float32.

    """

    name: str
    max_abs_diff: float
    value_range: float
    litert_spread: float

    @property
    def relative(self) -> float:
        """max_abs_diff as a fraction of the output's range."""
        return self.max_abs_diff / self.value_range if self.value_range > 0 else float('inf')

    @property
    def within_tolerance(self) -> bool:
        """Tell whether max_abs_diff <= RELATIVE_TOLERANCE x range."""
        return self.max_abs_diff <= RELATIVE_TOLERANCE * self.value_range

    @property
    def within_runtime_spread(self) -> bool:
        """Tell whether we differ from LiteRT no more than its two kernel sets differ."""
        return self.max_abs_diff <= self.litert_spread


def parity_inputs(input_size: Sequence[int], to_input: Callable[[torch.Tensor], torch.Tensor],
                  photo_rgb: np.ndarray, num_random: int, seed: int = 0) -> np.ndarray:
    """
    Build an (1 + num_random, 3, H, W) float32 batch: a real photo, then uniform noise.

    The photo is centre-cropped to a square and resized to ``input_size``; the noise is
    uniform over 0..255. Every sample then goes through ``to_input``, the network's own
    pixel scaling (e.g. ``NetworkSpec.to_input``).
    """
    height, width = photo_rgb.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = cv2.resize(photo_rgb[top:top + side, left:left + side],
                      (input_size[1], input_size[0]), interpolation=cv2.INTER_AREA)
    photo = torch.from_numpy(crop).permute(2, 0, 1)[None].float()
    noise = torch.from_numpy(np.random.default_rng(seed).uniform(
        0.0, 255.0, size=(num_random, 3, *input_size)))
    return to_input(torch.cat([photo, noise.float()])).numpy()


def compare_with_litert(module: torch.nn.Module, path: Union[str, Path],
                        batch_nchw: np.ndarray, names: Sequence[str],
                        num_threads: int = 1) -> List[OutputParity]:
    """Run ``module`` (float32, its current device) and LiteRT on ``batch_nchw``."""
    fast = LiteRTRunner(path, num_threads=num_threads)(batch_nchw)
    reference = LiteRTRunner(path, num_threads=num_threads, reference_kernels=True)(batch_nchw)
    parameter = next(module.parameters())
    with torch.inference_mode():
        ours = module(torch.from_numpy(batch_nchw).to(parameter.device, parameter.dtype))
    results = []
    for name, mine, theirs, ref in zip(names, ours, fast, reference):
        mine = mine.float().cpu().numpy()
        results.append(OutputParity(
            name=name,
            max_abs_diff=float(np.abs(mine - theirs).max()),
            value_range=float(np.ptp(theirs)),
            litert_spread=float(np.abs(theirs - ref).max())))
    return results
