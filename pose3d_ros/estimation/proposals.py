"""
Proposal sources: each turns an image into candidate person regions for the landmark stage.

A source works in two steps, so that the estimator times them as its ``preprocess`` and
``propose`` stages: :meth:`ProposalSource.prepare` makes its input from the uploaded image
(crops, resizing) and :meth:`ProposalSource.propose` runs on it and returns
:class:`Proposals`. The landmark network then looks at every proposal and keeps the real
persons, so a source may propose generously. The first source is BlazePose's detector over
the views of :mod:`.views` (:class:`DetectorViews`); the estimator concatenates the
proposals of all its sources and the landmark-driven regions of a tracked stream.
"""

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, Tuple

import torch

from .config import EstimatorConfig
from .detection import decode, ssd_anchor_centres
from .regions import crop, Regions
from .views import merge_views, view_grids, view_regions
from ..models.blazepose import POSE_DETECTION
from ..models.runtime import Network


@dataclass(frozen=True)
class Proposals:
    """
    Candidate person regions, on the estimator's device.

    ``keypoints`` (N, 2, 2): each region's two keypoints, the hip centre and the full-body
    scale point, delivered-image pixels (the region is the square about the first through
    the second, :func:`~.landmarks.regions_from_keypoints`); ``scores`` (N,) in [0, 1].
    """

    keypoints: torch.Tensor
    scores: torch.Tensor

    @staticmethod
    def cat(parts: Sequence['Proposals']) -> 'Proposals':
        """Concatenate proposal sets (at least one; one is returned as it is)."""
        if len(parts) == 1:
            return parts[0]
        return Proposals(torch.cat([p.keypoints for p in parts]),
                         torch.cat([p.scores for p in parts]))


class ProposalSource(Protocol):
    """What the estimator asks of a proposal source."""

    def prepare(self, image: torch.Tensor, config: EstimatorConfig) -> Any:
        """Make this source's input from the (3, H, W) float image (the preprocess stage)."""

    def propose(self, prepared: Any, config: EstimatorConfig) -> Proposals:
        """Return the candidate regions found in the prepared input (the propose stage)."""


@dataclass(frozen=True)
class _PreparedViews:
    views: Regions
    grids: Tuple[int, ...]  # (V,) each view's grid
    batch: torch.Tensor  # (V, 3, 224, 224) detector input


class DetectorViews:
    """
    BlazePose's person detector on the full frame and the tiles of ``detector_grids``.

    One detector forward over all views; SSD decoding, MediaPipe's weighted NMS per view,
    and the views merged in image pixels (:func:`~.views.merge_views`). The full frame
    (grid 1) takes ``min_detection_score``, tiles ``tile_min_detection_score``.
    """

    def __init__(self, detector: Network, device: torch.device) -> None:
        self.detector = detector
        self.anchors = ssd_anchor_centres().to(device)

    def prepare(self, image: torch.Tensor, config: EstimatorConfig) -> _PreparedViews:
        """Crop every view to the detector's input in one batch."""
        height, width = image.shape[-2:]
        views = view_regions(width, height, config.detector_grids, config.tile_overlap,
                             image.device)
        grids = view_grids(width, height, config.detector_grids, config.tile_overlap)
        size = POSE_DETECTION.input_size[0]
        return _PreparedViews(views, grids,
                              POSE_DETECTION.to_input(crop(image, views, size, 'zeros')))

    def propose(self, prepared: _PreparedViews, config: EstimatorConfig) -> Proposals:
        """Run the detector on every view; return the merged detections' region keypoints."""
        raw_boxes, raw_scores = (output.float() for output in self.detector(prepared.batch))
        per_view = [decode(raw_boxes[i], raw_scores[i], self.anchors,
                           POSE_DETECTION.input_size[0],
                           min_score=config.min_detection_score if grid == 1 else
                           config.tile_min_detection_score)
                    for i, grid in enumerate(prepared.grids)]
        detections = merge_views(per_view, prepared.views, config.nms_iou,
                                 config.view_merge_overlap, config.max_persons)
        return Proposals(detections.keypoints[:, :2], detections.scores)
