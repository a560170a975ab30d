"""
Detector views of one image: for each grid g, overlapping squares of side long side / g.

Grid 1 is the letterboxed full frame MediaPipe's detector sees. The BlazePose detector
sees a 224 x 224 input, so a person far from the camera covers only a few input pixels of
the full frame and is missed; square tiles of the frame (g >= 2), each resized to
224 x 224, show such people larger. Every view is an axis-aligned square :class:`Regions`
entry in image pixels, cropped in one batch; detections of every view are mapped back to
image pixels and merged (:func:`merge_views`).
"""

import functools
import math
from typing import Tuple

import torch

from .detection import Detections, weighted_nms
from .devices import upload
from .landmarks import regions_from_keypoints, skeleton_similarity
from .regions import crop_to_image, Regions
from .suppression import best_slots


def squares(width: int, height: int, side: float,
            overlap_fraction: float) -> Tuple[Tuple[float, float], ...]:
    """
    Return the centres (u, v) of squares of ``side`` pixels covering a width x height image.

    Squares are spaced evenly, row by row, so that neighbours overlap by at least
    ``overlap_fraction`` of their side; a square larger than the image along an axis is
    centred on it.
    """
    stride = side * (1.0 - overlap_fraction)
    starts = []
    for extent in (width, height):
        count = max(1, math.ceil((extent - side) / stride - 1e-9) + 1)
        if extent <= side:
            starts.append([(extent - side) / 2.0])
        else:
            starts.append([(extent - side) * i / (count - 1) for i in range(count)])
    return tuple((x + side / 2.0, y + side / 2.0) for y in starts[1] for x in starts[0])


@functools.lru_cache(maxsize=16)
def _layout(width: int, height: int, grids: Tuple[int, ...],
            overlap_fraction: float) -> Tuple[Tuple[float, float, float, int], ...]:
    """Return each view's centre u, v, side (pixels) and grid; see :func:`view_regions`."""
    long_side = max(width, height)
    return tuple((u, v, long_side / grid, grid) for grid in grids
                 for u, v in squares(width, height, long_side / grid, overlap_fraction))


@functools.lru_cache(maxsize=16)
def view_regions(width: int, height: int, grids: Tuple[int, ...], overlap_fraction: float,
                 device: torch.device) -> Regions:
    """
    Return, grid by grid, the squares of side ``max(width, height) / g`` covering the image.

    Built once per image size and settings (a stream keeps its size): callers must not
    modify the returned tensors.

    Squares of one grid overlap by at least ``overlap_fraction`` of their side
    (:func:`squares`). So grid 1 is one square, the centred letterbox of side
    ``max(width, height)`` that MediaPipe's detector sees.
    """
    layout = _layout(width, height, grids, overlap_fraction)
    values = upload([view[:3] for view in layout], device, torch.float32).reshape(-1, 3)
    return Regions(values[:, :2], values[:, 2], torch.zeros(len(layout), device=device))


def view_grids(width: int, height: int, grids: Tuple[int, ...],
               overlap_fraction: float) -> Tuple[int, ...]:
    """Return the grid of each view of :func:`view_regions`, in its order."""
    return tuple(view[3] for view in _layout(width, height, grids, overlap_fraction))


@functools.lru_cache(maxsize=64)
def searched_views(width: int, height: int, grids: Tuple[int, ...], overlap_fraction: float,
                   search_grid: int, part: Tuple[int, int]) -> Tuple[int, ...]:
    """
    Return the indices of the views of :func:`view_regions` that one part of a search sees.

    Views of grids under ``search_grid`` are in every part; the finer ones, the search,
    are dealt out to ``part`` = (index, count): every count-th of them, from the index-th,
    so that each part spans the whole image and the count parts together see every view.
    """
    index, count = part
    views = view_grids(width, height, grids, overlap_fraction)
    searched = [i for i, grid in enumerate(views) if grid >= search_grid]
    return tuple(sorted([i for i, grid in enumerate(views) if grid < search_grid] +
                        searched[index::count]))


def to_image(detections: Detections, views: Regions) -> Detections:
    """Map (V, K) detections from their views' normalised coordinates to image pixels."""
    count = detections.scores.shape[-1]
    repeat = Regions(*(values.repeat_interleave(count, 0) for values in (
        views.centres, views.sides, views.rotations)))
    flat = detections.flatten()
    corners = crop_to_image(flat.boxes.reshape(-1, 2, 2), repeat, 1).reshape(
        detections.boxes.shape)
    keypoints = crop_to_image(flat.keypoints, repeat, 1).reshape(detections.keypoints.shape)
    return Detections(corners, keypoints, detections.scores, detections.valid)


#: Per person a frame may hold (``max_persons``): the detections each view keeps after its
#: weighted NMS, and those of all views the merge compares, the best-scoring (measured: at
#: most 2 per view and 54 in all in the real photographs and 20-person composites).
LEADERS_PER_PERSON = 2
MERGE_SLOTS_PER_PERSON = 8


def merge_views(per_view: Detections, views: Regions, nms_iou: float, min_similarity: float,
                max_persons: int) -> Detections:
    """
    Merge (V, K) detections of every view into ``max_persons`` slots in image pixels.

    Each view is first reduced by MediaPipe's weighted NMS in its own coordinates, so a
    person the full frame finds is exactly what MediaPipe finds; a view keeps its
    ``LEADERS_PER_PERSON * max_persons`` best. Of these, the
    ``MERGE_SLOTS_PER_PERSON * max_persons`` best of
    all views are compared, views taken in order (coarsest grid, the full frame, first):
    a detection is dropped when its four keypoints repeat a kept detection's of an earlier
    view (:func:`~.landmarks.skeleton_similarity` at least ``min_similarity``, the region
    side as the scale), not when the boxes overlap: the full frame's NMS may merge two
    people standing side by side into one detection between them, and a tile that tells
    them apart must not be dropped for it. The ``max_persons`` best-scoring detections
    kept fill the slots returned (fewer slots when the views have fewer), best first (ties
    in view order).
    """
    merged = to_image(weighted_nms(per_view, nms_iou, LEADERS_PER_PERSON * max_persons), views)
    count, per = merged.scores.shape
    flat = merged.flatten()
    slots = min(MERGE_SLOTS_PER_PERSON * max_persons, len(flat.scores))
    chosen = torch.sort(best_slots(flat.scores, flat.valid, slots))[0]  # back in view order
    compared = flat.select(chosen)
    view = torch.div(chosen, per, rounding_mode='floor')
    sides = regions_from_keypoints(compared.keypoints).sides
    every = torch.ones(compared.keypoints.shape[:2], dtype=torch.bool, device=sides.device)
    repeats = skeleton_similarity(compared.keypoints, every, sides) >= min_similarity
    kept = torch.zeros_like(compared.valid)
    for index in range(count):  # each view against the kept detections of those before
        here = (view == index) & compared.valid
        kept |= here & ~(repeats & kept[None, :]).any(1)
    order = best_slots(compared.scores, kept, max_persons)
    best = compared.select(order)
    return Detections(best.boxes, best.keypoints, best.scores, kept[order])
