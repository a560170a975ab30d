"""
Detector views of one image: the letterboxed full frame plus overlapping square tiles.

The BlazePose detector sees a 224 x 224 input, so a person far from the camera covers
only a few input pixels of the full frame and is missed. Square tiles of the frame, each
resized to 224 x 224, show such people larger. Every view is an axis-aligned square
:class:`Regions` entry in image pixels, cropped in one batch; detections of every view
are mapped back to image pixels and merged (:func:`merge_views`).
"""

import functools
import math
from typing import Sequence, Tuple

import torch

from .detection import Detections, weighted_nms
from .regions import crop_to_image, Regions


@functools.lru_cache(maxsize=16)
def view_regions(width: int, height: int, tile_grids: Tuple[int, ...], overlap: float,
                 device: torch.device) -> Regions:
    """
    Return the full frame then, for each grid g, tiles of side ``max(width, height) / g``.

    Built once per image size and settings (a stream keeps its size): callers must not
    modify the returned tensors.

    The full frame is the square letterbox MediaPipe uses (side ``max(width, height)``,
    centred). Tiles of one grid are spaced evenly so that neighbours overlap by at least
    ``overlap`` of their side; a tile larger than the image along an axis is centred on it.
    """
    long_side = max(width, height)
    boxes = [(width / 2.0, height / 2.0, float(long_side))]
    for grid in tile_grids:
        side = long_side / grid
        stride = side * (1.0 - overlap)
        starts = []
        for extent in (width, height):
            count = max(1, math.ceil((extent - side) / stride - 1e-9) + 1)
            if extent <= side:
                starts.append([(extent - side) / 2.0])
            else:
                starts.append([(extent - side) * i / (count - 1) for i in range(count)])
        boxes += [(x + side / 2.0, y + side / 2.0, side) for y in starts[1] for x in starts[0]]
    values = torch.tensor(boxes, dtype=torch.float32, device=device)
    return Regions(values[:, :2], values[:, 2], torch.zeros(len(boxes), device=device))


def to_image(detections: Detections, view: Regions) -> Detections:
    """Map one view's detections from its normalised coordinates to image pixels."""
    count = detections.scores.shape[0]
    repeat = Regions(view.centres.expand(count, 2), view.sides.expand(count),
                     view.rotations.expand(count))
    centres = crop_to_image(detections.boxes[:, None, :2], repeat, 1)[:, 0]
    keypoints = crop_to_image(detections.keypoints, repeat, 1)
    sizes = detections.boxes[:, 2:] * view.sides[:, None]
    return Detections(torch.cat([centres, sizes], 1), keypoints, detections.scores)


def intersection_over_smaller(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return the intersection over the smaller area of (N, 4) and (M, 4) centre-size boxes."""
    a_min, a_max = a[:, :2] - a[:, 2:] / 2, a[:, :2] + a[:, 2:] / 2
    b_min, b_max = b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2
    size = (torch.minimum(a_max[:, None], b_max[None]) -
            torch.maximum(a_min[:, None], b_min[None])).clamp(min=0)
    smaller = torch.minimum((a[:, 2] * a[:, 3])[:, None], (b[:, 2] * b[:, 3])[None])
    return size[..., 0] * size[..., 1] / smaller.clamp(min=1e-12)


def merge_views(per_view: Sequence[Detections], views: Regions, nms_iou: float,
                merge_overlap: float, max_persons: int) -> Detections:
    """
    Merge detections of every view into one set in image pixels.

    Each view is first reduced by MediaPipe's weighted NMS in its own coordinates, so a
    person the full frame finds is exactly what MediaPipe finds. Views are then taken in
    order (full frame first): a detection is dropped when its box overlaps an already kept
    box by more than ``merge_overlap`` of the smaller box. The ``max_persons`` best-scoring
    detections are returned.
    """
    kept = None
    for index, detections in enumerate(per_view):
        merged = to_image(weighted_nms(detections, nms_iou), views.select(index))
        if kept is None:
            kept = merged
            continue
        if len(merged.scores) and len(kept.scores):
            overlap = intersection_over_smaller(merged.boxes, kept.boxes)
            merged = merged.select(overlap.amax(1) <= merge_overlap)
        kept = Detections.cat([kept, merged])
    order = torch.argsort(kept.scores, descending=True)[:max_persons]
    return kept.select(order)
