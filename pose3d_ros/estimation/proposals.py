"""
Proposal sources: each turns an image into candidate person regions for the landmark stage.

A source works in two steps, so that the estimator times them as its ``preprocess`` and
``propose`` stages: :meth:`ProposalSource.prepare` makes its input from the uploaded image
(crops, resizing) and :meth:`ProposalSource.propose` runs on it and returns
:class:`Proposals`. The landmark network then looks at every proposal and keeps the real
persons, so a source may propose generously. Sources that need no face propose boxes
(:meth:`Proposals.from_boxes`): the landmark stage builds an upright region about each box
and refines it once from its first landmarks. The sources (:data:`SOURCES`):

* ``detector`` (:class:`DetectorViews`): BlazePose's detector over the full frame and the
  tiles of :mod:`.views`; its keypoints give the region directly;
* ``near_field`` (:class:`NearField`): a few large squares covering the image, for people
  too close or too cut by the frame for any detector;
* ``frame_edges`` (:class:`FrameEdges`): squares on the left and right frame edges, for
  people the edge cuts;
* ``hog`` (:class:`HogPeople`): OpenCV's HOG pedestrian detectors computed in torch
  (:mod:`.hog`), which see a silhouette and need no face.

The estimator concatenates the proposals of all its sources and the landmark-driven
regions of a tracked stream.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Protocol, Sequence, Tuple

import torch

from . import hog
from .config import EstimatorConfig
from .detection import decode, ssd_anchor_centres
from .regions import crop, Regions
from .views import merge_views, searched_views, squares, view_grids, view_regions
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
    #: (N,) bool: True where the region was built from a box and is refined once from its
    #: first landmarks; not given: none is (detector keypoints, landmark-driven regions).
    from_box: Optional[torch.Tensor] = None

    def __post_init__(self) -> None:
        """Make an absent ``from_box`` all False."""
        if self.from_box is None:
            object.__setattr__(self, 'from_box', torch.zeros(
                len(self.scores), dtype=torch.bool, device=self.scores.device))

    @staticmethod
    def from_boxes(corners: torch.Tensor, scores: torch.Tensor) -> 'Proposals':
        """
        Propose the upright region about each (N, 4) box (corners, image pixels).

        The region keypoints are the box centre and the point half the box's longer side
        above it, so the region is the box's longer side times ``REGION_SCALE``: a first
        guess, refined from the landmarks it gives.
        """
        centre = (corners[:, :2] + corners[:, 2:]) / 2
        half = (corners[:, 2:] - corners[:, :2]).amax(1) / 2
        scale_point = torch.stack([centre[:, 0], centre[:, 1] - half], -1)
        return Proposals(torch.stack([centre, scale_point], 1), scores,
                         torch.ones(len(scores), dtype=torch.bool, device=scores.device))

    @staticmethod
    def cat(parts: Sequence['Proposals']) -> 'Proposals':
        """Concatenate proposal sets (at least one; one is returned as it is)."""
        if len(parts) == 1:
            return parts[0]
        return Proposals(torch.cat([p.keypoints for p in parts]),
                         torch.cat([p.scores for p in parts]),
                         torch.cat([p.from_box for p in parts]))


#: One part of the search: (index, count), the index-th of count parts. A single image is
#: searched whole; a stream spreads the search over frames (``search_frames``).
SearchPart = Tuple[int, int]
WHOLE: SearchPart = (0, 1)


class ProposalSource(Protocol):
    """What the estimator asks of a proposal source."""

    def prepare(self, image: torch.Tensor, config: EstimatorConfig, part: SearchPart) -> Any:
        """
        Make this source's input from the (3, H, W) float image (the preprocess stage).

        A source whose regions are the search (the finer detector grids, the near-field and
        frame-edge squares) looks at the ``part`` of them only; the others ignore it.
        """

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
    (grid 1) takes ``min_detection_score``, tiles ``tile_min_detection_score``. Grids from
    ``search_grid`` up are the search (:func:`~.views.searched_views`).
    """

    def __init__(self, detector: Network, device: torch.device) -> None:
        self.detector = detector
        self.anchors = ssd_anchor_centres().to(device)

    def prepare(self, image: torch.Tensor, config: EstimatorConfig,
                part: SearchPart) -> _PreparedViews:
        """Crop the views of this part of the search to the detector's input in one batch."""
        height, width = image.shape[-2:]
        layout = (width, height, config.detector_grids, config.tile_overlap)
        seen = searched_views(*layout, config.search_grid, part)
        views = view_regions(*layout, image.device).select(
            torch.tensor(seen, dtype=torch.long, device=image.device))
        grids = tuple(view_grids(*layout)[i] for i in seen)
        size = POSE_DETECTION.input_size[0]
        return _PreparedViews(views, grids,
                              POSE_DETECTION.to_input(crop(image, views, size, 'zeros')))

    def propose(self, prepared: _PreparedViews, config: EstimatorConfig) -> Proposals:
        """Run the detector on every view; return the merged detections' region keypoints."""
        if not prepared.grids:  # every grid is the search, and this part holds no view of it
            empty = prepared.batch.new_zeros(0)
            return Proposals(empty.reshape(0, 2, 2), empty)
        raw_boxes, raw_scores = (output.float() for output in self.detector(prepared.batch))
        per_view = [decode(raw_boxes[i], raw_scores[i], self.anchors,
                           POSE_DETECTION.input_size[0],
                           min_score=config.min_detection_score if grid == 1 else
                           config.tile_min_detection_score)
                    for i, grid in enumerate(prepared.grids)]
        detections = merge_views(per_view, prepared.views, config.nms_iou,
                                 config.duplicate_similarity, config.max_persons)
        return Proposals(detections.keypoints[:, :2], detections.scores)


class FixedSquares:
    """
    Squares laid over the image by a fixed rule, proposed as boxes scoring 0: the search.

    The landmark network looks at each; the verifier drops the ones that hold nobody.
    Scores of 0 rank them below every detection. Subclasses give the squares' centres
    and side (:meth:`layout`); a part of the search looks at every count-th square.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def prepare(self, image: torch.Tensor, config: EstimatorConfig,
                part: SearchPart) -> Tuple[int, int, SearchPart]:
        """Return the image's (width, height) and the part: all this source needs."""
        return image.shape[-1], image.shape[-2], part

    def propose(self, prepared: Tuple[int, int, SearchPart],
                config: EstimatorConfig) -> Proposals:
        """Return this part's squares of :meth:`layout` (every count-th) as boxes."""
        width, height, (index, count) = prepared
        centres, side = self.layout(width, height, config)
        boxes = [(u - side / 2, v - side / 2, u + side / 2, v + side / 2)
                 for u, v in list(centres)[index::count]]
        corners = torch.tensor(boxes, dtype=torch.float32, device=self.device).reshape(-1, 4)
        return Proposals.from_boxes(corners, corners.new_zeros(len(corners)))

    def layout(self, width: int, height: int,
               config: EstimatorConfig) -> Tuple[Sequence[Tuple[float, float]], float]:
        """Return the squares' (u, v) centres (none when off) and their side, pixels."""
        raise NotImplementedError


class NearField(FixedSquares):
    """
    Squares of side ``near_field_scale`` x the image height, half-overlapping over the image.

    A person close to the camera fills the frame and is often cut by it: no detector
    finds them (BlazePose's needs a face, HOG a whole silhouette), but the landmark network
    does on a region that holds them.
    """

    #: Neighbouring squares overlap by this fraction of their side.
    OVERLAP = 0.5

    def layout(self, width: int, height: int,
               config: EstimatorConfig) -> Tuple[Sequence[Tuple[float, float]], float]:
        """Cover the image, neighbours overlapping by half (``near_field``)."""
        side = config.near_field_scale * height
        return (squares(width, height, side, self.OVERLAP) if config.near_field else ()), side


class FrameEdges(FixedSquares):
    """
    Squares standing on the left and right frame edges, partly outside: people the edge cuts.

    A person cut by the side of the frame shows half a body and often no face; a square of
    ``frame_edge_scale`` x the image height with ``INSIDE`` of its side in the image, at
    rows half-overlapping from top to bottom, holds them where the landmark network can
    see them.
    """

    #: The fraction of each square's side inside the image.
    INSIDE = 0.65

    def layout(self, width: int, height: int,
               config: EstimatorConfig) -> Tuple[Sequence[Tuple[float, float]], float]:
        """Stand squares on both side edges, rows half-overlapping (``frame_edges``)."""
        side = config.frame_edge_scale * height
        if not config.frame_edges:
            return (), side
        columns = (side * (self.INSIDE - 0.5), width - side * (self.INSIDE - 0.5))
        return [(u, v) for _, v in squares(side, height, side, 0.5) for u in columns], side


#: Which of OpenCV's HOG people detectors (:data:`.hog.HOG_MODELS`) each ``hog_detectors``
#: setting runs.
HOG_DETECTORS = {'none': (), 'people_64x128': ('people_64x128',),
                 'daimler_48x96': ('daimler_48x96',),
                 'both': ('people_64x128', 'daimler_48x96')}


class HogPeople:
    """
    OpenCV's HOG pedestrian detectors computed in torch (:mod:`.hog`): silhouettes, no face.

    Each detector scans an image pyramid (the image first enlarged ``hog_upscale`` times,
    so that people shorter than its window are found); its windows, shrunk to the person
    they hold, are boxes for the landmark stage. Scores are the sigmoid of the SVM margin.
    On the CPU OpenCV's own implementation computes the windows by default, as LiteRT runs
    the networks there when faster: it measures 2.4 to 2.9 times faster than torch
    (``bench/hog.py``).
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def engine(self, config: EstimatorConfig) -> str:
        """Return what computes the windows: ``hog_runtime``, ``auto`` resolved by device."""
        if config.hog_runtime != 'auto':
            return config.hog_runtime
        return 'opencv' if self.device.type == 'cpu' else 'torch'

    def prepare(self, image: torch.Tensor, config: EstimatorConfig,
                part: SearchPart) -> torch.Tensor:
        """Return the image itself: each detector builds its own pyramid from it."""
        return image

    def propose(self, image: torch.Tensor, config: EstimatorConfig) -> Proposals:
        """Run the detectors ``hog_detectors`` names; their person boxes (none when off)."""
        parts = []
        for name in HOG_DETECTORS[config.hog_detectors]:
            windows, scores = hog.detect(image, name, config.hog_min_score,
                                         config.hog_scale_step, config.hog_upscale,
                                         max_detections=config.max_persons,
                                         engine=self.engine(config))
            parts.append(Proposals.from_boxes(hog.HOG_MODELS[name].person_boxes(windows),
                                              torch.sigmoid(scores)))
        if not parts:
            return Proposals.from_boxes(image.new_zeros((0, 4)), image.new_zeros(0))
        return Proposals.cat(parts)


#: The settings that leave BlazePose's detector on its grids of before as the only proposal
#: source, as it was before the sources that need no face and the search (the benchmarks'
#: and tests' reference).
DETECTOR_ONLY = {'near_field': False, 'frame_edges': False, 'hog_detectors': 'none',
                 'detector_grids': (1, 2, 3)}


#: Every proposal source, made from the detector network and the estimator's device. Each
#: reads its own settings per frame and proposes nothing when they turn it off.
SOURCES: Dict[str, Callable[[Network, torch.device], ProposalSource]] = {
    'detector': DetectorViews,
    'near_field': lambda detector, device: NearField(device),
    'frame_edges': lambda detector, device: FrameEdges(device),
    'hog': lambda detector, device: HogPeople(device),
}
