"""
BlazePose person detector decoding: SSD anchors, box/keypoint decoding, weighted NMS.

Constants follow MediaPipe's ``pose_detection`` graph (SsdAnchorsCalculator,
TensorsToDetectionsCalculator and NonMaxSuppressionCalculator options of the 0.10.14
release). All functions are pure torch on fixed-size, masked tensors
(:mod:`.suppression`): they run on the tensors' device and never wait for it.
"""

from dataclasses import dataclass
import math
from typing import Tuple

import torch

from .suppression import leaders
from ..geometry.boxes import from_centre_size, overlap


@dataclass(frozen=True)
class AnchorOptions:
    """
    SSD anchor layout of the detector (MediaPipe SsdAnchorsCalculatorOptions).

    The detector uses ``fixed_anchor_size``: every anchor is 1 x 1, so the scale options
    (min 0.1484375, max 0.75) change nothing and are not kept; only centres matter.
    """

    input_size: int = 224
    num_layers: int = 5
    strides: Tuple[int, ...] = (8, 16, 32, 32, 32)
    anchor_offset: float = 0.5
    anchors_per_scale: int = 2  # aspect ratio 1.0 plus the interpolated scale


def ssd_anchor_centres(options: AnchorOptions = AnchorOptions()) -> torch.Tensor:
    """
    Return the anchor centres, (2254, 2) as (x, y) normalised to [0, 1].

    Anchors have a fixed size of 1 (``fixed_anchor_size``), so only centres are needed.
    Layers sharing a stride are merged into one feature map with their anchors
    interleaved per cell, in row-major cell order, as the network's outputs are.
    """
    centres = []
    layer = 0
    while layer < options.num_layers:
        stride = options.strides[layer]
        same = sum(1 for s in options.strides[layer:] if s == stride)
        per_cell = same * options.anchors_per_scale
        size = math.ceil(options.input_size / stride)
        grid = (torch.arange(size, dtype=torch.float64) + options.anchor_offset) / size
        y, x = torch.meshgrid(grid, grid, indexing='ij')
        cell = torch.stack([x, y], dim=-1).reshape(-1, 1, 2)
        centres.append(cell.expand(-1, per_cell, 2).reshape(-1, 2))
        layer += same
    return torch.cat(centres).float()


#: Anchors each detector view keeps for weighted NMS, best first, the slots of its
#: fixed-size decoding: at least ANCHOR_SLOTS, and ANCHORS_PER_PERSON per person a frame may
#: hold (``max_persons``). The real photographs' views hold at most 9 anchors scoring 0.5
#: or more; a view with more loses its weakest, which the NMS would merge into a stronger
#: one.
ANCHOR_SLOTS = 32
ANCHORS_PER_PERSON = 4


def anchor_slots(max_persons: int) -> int:
    """Return the anchors a detector view keeps when a frame holds ``max_persons``."""
    return max(ANCHOR_SLOTS, ANCHORS_PER_PERSON * max_persons)


@dataclass(frozen=True)
class Detections:
    """
    Person detections in fixed-size slots: the detector's face box, four keypoints, a score.

    Coordinates are fractions of the detector input as decoded, or image pixels once a
    view has mapped them (:func:`pose3d_ros.estimation.views.to_image`). Every field has
    the same leading slot dimensions (...): (V views, K) as decoded, (K,) once merged.

    Attributes
    ----------
    boxes
        (..., 4) face box, corners x0, y0, x1, y1 (:mod:`pose3d_ros.geometry.boxes`).
    keypoints
        (..., 4, 2) detection keypoints (mid-hip, full-body scale point, mid-shoulder,
        upper-body scale point) as (x, y).
    scores
        (...) probabilities.
    valid
        (...) bool: the slots that hold a detection; the others' values mean nothing.

    """

    boxes: torch.Tensor
    keypoints: torch.Tensor
    scores: torch.Tensor
    valid: torch.Tensor

    def select(self, index: torch.Tensor) -> 'Detections':
        """Return the slots at ``index`` (indices; a boolean mask would read the device)."""
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index],
                          self.valid[index])

    def flatten(self) -> 'Detections':
        """Return the slots of every view in one dimension, view after view."""
        return Detections(self.boxes.reshape(-1, 4), self.keypoints.reshape(-1, 4, 2),
                          self.scores.reshape(-1), self.valid.reshape(-1))


def decode(raw_boxes: torch.Tensor, raw_scores: torch.Tensor, anchors: torch.Tensor,
           min_scores: torch.Tensor, input_size: int = 224, score_clip: float = 100.0,
           slots: int = ANCHOR_SLOTS) -> Detections:
    """
    Decode V views' detector outputs: each view's ``slots`` best anchors, best first.

    Parameters
    ----------
    raw_boxes
        (V, 2254, 12) regressor outputs.
    raw_scores
        (V, 2254, 1) score logits.
    anchors
        (2254, 2) anchor centres from :func:`ssd_anchor_centres`.
    min_scores
        (V,) each view's probability threshold: anchors under it are not valid.
    input_size
        Network input side in pixels (the regressors' scale).
    score_clip
        Logits are clipped to +-score_clip before the sigmoid.
    slots
        Anchors kept per view (at most the anchors' count).

    Returns
    -------
    Detections
        (V, slots), each view's in descending score (ties in anchor order).

    """
    scores = torch.sigmoid(raw_scores[..., 0].clamp(-score_clip, score_clip))
    scores, order = torch.sort(scores, dim=-1, descending=True, stable=True)
    scores, order = scores[:, :slots], order[:, :slots]
    raw = torch.gather(raw_boxes, 1, order[..., None].expand(-1, -1, 12)) / input_size
    centres = anchors[order]  # (V, slots, 2)
    boxes = from_centre_size(torch.cat([raw[..., 0:2] + centres, raw[..., 2:4]], dim=-1))
    keypoints = raw[..., 4:12].reshape(*order.shape, 4, 2) + centres[..., None, :]
    return Detections(boxes, keypoints, scores, scores >= min_scores[:, None])


def weighted_nms(detections: Detections, iou_threshold: float = 0.3,
                 count: int = ANCHOR_SLOTS) -> Detections:
    """
    Merge overlapping detections of each view as MediaPipe's WEIGHTED NMS does.

    ``detections`` (V, K) in descending score per view, as :func:`decode` gives them. The
    highest-scoring remaining detection absorbs every remaining detection whose IoU with
    it exceeds ``iou_threshold``; the merged box and keypoints are the score-weighted mean
    of the group and the score is the leader's. Returns each view's first ``count``
    merged detections, (V, count), best first (:func:`~.suppression.leaders`).
    """
    close = overlap(detections.boxes, detections.boxes) > iou_threshold
    index, found, groups = leaders(
        detections.scores, detections.valid,
        lambda best: torch.take_along_dim(close, best[..., None], -2)[..., 0, :],
        min(count, detections.scores.shape[-1]))
    weights = groups * detections.scores[..., None, :]  # (V, leader, member)
    total = weights.sum(-1).clamp(min=1e-12)
    boxes = (weights @ detections.boxes) / total[..., None]
    keypoints = torch.einsum('...lm,...mkc->...lkc', weights,
                             detections.keypoints) / total[..., None, None]
    return Detections(boxes, keypoints, detections.scores.gather(-1, index), found)
