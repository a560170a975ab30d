"""
BlazePose person detector decoding: SSD anchors, box/keypoint decoding, weighted NMS.

Constants follow MediaPipe's ``pose_detection`` graph (SsdAnchorsCalculator,
TensorsToDetectionsCalculator and NonMaxSuppressionCalculator options of the 0.10.14
release). All functions are pure torch and run on the tensors' device.
"""

from dataclasses import dataclass
import math
from typing import Tuple

import torch

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


@dataclass(frozen=True)
class Detections:
    """
    Person detections: the detector's face box, four keypoints and a score each.

    Coordinates are fractions of the detector input as decoded, or image pixels once a
    view has mapped them (:func:`pose3d_ros.estimation.views.to_image`).

    Attributes
    ----------
    boxes
        (N, 4) face box, corners x0, y0, x1, y1 (:mod:`pose3d_ros.geometry.boxes`).
    keypoints
        (N, 4, 2) detection keypoints (mid-hip, full-body scale point, mid-shoulder,
        upper-body scale point) as (x, y).
    scores
        (N,) probabilities.

    """

    boxes: torch.Tensor
    keypoints: torch.Tensor
    scores: torch.Tensor

    def select(self, index: torch.Tensor) -> 'Detections':
        """Return the detections at ``index`` (indices or a boolean mask)."""
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index])

    @staticmethod
    def cat(parts: 'list[Detections]') -> 'Detections':
        """Concatenate detection sets."""
        return Detections(torch.cat([p.boxes for p in parts]),
                          torch.cat([p.keypoints for p in parts]),
                          torch.cat([p.scores for p in parts]))


def decode(raw_boxes: torch.Tensor, raw_scores: torch.Tensor, anchors: torch.Tensor,
           input_size: int = 224, score_clip: float = 100.0,
           min_score: float = 0.5) -> Detections:
    """
    Decode one sample's detector outputs, keeping those scoring at least ``min_score``.

    Parameters
    ----------
    raw_boxes
        (2254, 12) regressor output of one sample.
    raw_scores
        (2254, 1) score logits of one sample.
    anchors
        (2254, 2) anchor centres from :func:`ssd_anchor_centres`.
    input_size
        Network input side in pixels (the regressors' scale).
    score_clip
        Logits are clipped to +-score_clip before the sigmoid.
    min_score
        Probability threshold.

    """
    scores = torch.sigmoid(raw_scores[:, 0].clamp(-score_clip, score_clip))
    keep = scores >= min_score
    raw = raw_boxes[keep] / input_size
    centres = anchors[keep]
    boxes = from_centre_size(torch.cat([raw[:, 0:2] + centres, raw[:, 2:4]], dim=1))
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + centres[:, None, :]
    return Detections(boxes, keypoints, scores[keep])


def weighted_nms(detections: Detections, iou_threshold: float = 0.3) -> Detections:
    """
    Merge overlapping detections as MediaPipe's WEIGHTED non-maximum suppression does.

    The highest-scoring remaining detection absorbs every remaining detection whose IoU
    with it exceeds ``iou_threshold``; the merged box and keypoints are the score-weighted
    mean of the group and the score is the leader's.
    """
    order = torch.argsort(detections.scores, descending=True)
    boxes, keypoints, scores = (detections.boxes[order], detections.keypoints[order],
                                detections.scores[order])
    iou = overlap(boxes, boxes)
    remaining = torch.ones(len(scores), dtype=torch.bool, device=scores.device)
    merged = []
    for leader in range(len(scores)):
        if not remaining[leader]:
            continue
        group = remaining & (iou[leader] > iou_threshold)
        group[leader] = True
        remaining &= ~group
        weights = scores[group] / scores[group].sum()
        merged.append((
            (boxes[group] * weights[:, None]).sum(0),
            (keypoints[group] * weights[:, None, None]).sum(0),
            scores[leader]))
    if not merged:
        return Detections(boxes[:0], keypoints[:0], scores[:0])
    out_boxes, out_keypoints, out_scores = zip(*merged)
    return Detections(torch.stack(out_boxes), torch.stack(out_keypoints),
                      torch.stack(out_scores))
