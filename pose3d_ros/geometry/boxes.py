"""
Axis-aligned boxes in one convention: corners ``(..., 4)`` as x0, y0, x1, y1.

Every box in the package is this: detections, a person's ``bbox``, the tracker's
predictions. Other conventions exist only where an outside format defines them, and are
converted at that border: the detector's centre-size output (:func:`from_centre_size`) and
3DMPPE's x, y, w, h squares (:func:`pose3d_ros.mppe.preprocessing.process_boxes`).
The functions take NumPy arrays or torch tensors and return the same kind.
"""

from typing import Union

import numpy as np
import torch

Array = Union[np.ndarray, torch.Tensor]


def _xp(values: Array):
    return torch if torch.is_tensor(values) else np


def from_centre_size(boxes: Array) -> Array:
    """Turn (..., 4) x_centre, y_centre, width, height into corners."""
    centre, size = boxes[..., :2], boxes[..., 2:]
    return _xp(boxes).concatenate([centre - size / 2, centre + size / 2], axis=-1)


def extent(points: Array) -> Array:
    """Return the corners (N, 4) of the extent of (N, K, 2) points."""
    xp = _xp(points)
    return xp.concatenate([xp.amin(points, axis=1), xp.amax(points, axis=1)], axis=-1)


def clip(boxes: Array, width: int, height: int) -> Array:
    """Clip (..., 4) corners to the pixel centres of a ``width`` x ``height`` image."""
    limits = [width - 1.0, height - 1.0] * 2
    if torch.is_tensor(boxes):
        return boxes.clamp(boxes.new_zeros(4), boxes.new_tensor(limits))
    return np.clip(boxes, 0.0, limits)


def area(boxes: Array) -> Array:
    """Return the (...,) areas of (..., 4) corners."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def overlap(a: Array, b: Array, over: str = 'union') -> Array:
    """
    Return the (..., N, M) IoU of (..., N, 4) and (..., M, 4) corners: intersection / union.

    ``over='smaller'``: over the smaller of the two areas instead, 1 when one box holds
    the other; ``over='first'``: over the area of ``a``'s box, the part of it inside ``b``'s.
    """
    xp = _xp(a)
    size = (xp.minimum(a[..., :, None, 2:], b[..., None, :, 2:]) -
            xp.maximum(a[..., :, None, :2], b[..., None, :, :2])).clip(0, None)
    inter = size[..., 0] * size[..., 1]
    area_a, area_b = area(a)[..., :, None], area(b)[..., None, :]
    if over == 'union':
        denominator = area_a + area_b - inter
    elif over == 'smaller':
        denominator = xp.minimum(area_a, area_b)
    elif over == 'first':
        denominator = area_a
    else:
        raise ValueError(f"over must be 'union', 'smaller' or 'first', got {over!r}")
    return inter / denominator.clip(1e-12, None)
