"""3D pose errors: MPJPE and Procrustes-aligned MPJPE (the Human3.6M protocols 1 and 2)."""

import numpy as np


def _check(predicted: np.ndarray, target: np.ndarray) -> None:
    if predicted.shape != target.shape or predicted.ndim != 3 or predicted.shape[-1] != 3:
        raise ValueError(f'expected two (N, J, 3) arrays of one shape, got {predicted.shape} '
                         f'and {target.shape}')


def mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """Return the mean per-joint position error of (N, J, 3) skeletons, in their unit."""
    _check(predicted, target)
    return float(np.linalg.norm(predicted - target, axis=-1).mean())


def procrustes_align(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """
    Return each predicted skeleton moved onto its target by the best similarity transform.

    Per skeleton: translation, rotation (no reflection) and uniform scale minimising the
    squared joint distances (Umeyama 1991). (N, J, 3) in, (N, J, 3) out.
    """
    _check(predicted, target)
    mu_p, mu_t = predicted.mean(1, keepdims=True), target.mean(1, keepdims=True)
    p, t = predicted - mu_p, target - mu_t
    u, s, vt = np.linalg.svd(p.transpose(0, 2, 1) @ t)
    sign = np.sign(np.linalg.det(u @ vt))
    d = np.ones_like(s)
    d[:, -1] = sign
    rotation = (u * d[:, None, :]) @ vt  # applied as p @ rotation
    scale = (s * d).sum(-1) / (p ** 2).sum((1, 2)).clip(min=1e-12)
    return scale[:, None, None] * p @ rotation + mu_t


def pa_mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """Return the MPJPE after Procrustes alignment of each skeleton to its target."""
    return mpjpe(procrustes_align(predicted, target), target)
