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
* ``far_rows`` (:class:`FarRows`): small squares along the rows where people too small
  for the detector's tiles stand, below the horizon fitted from the people found
  (:mod:`.horizon`);
* ``hog`` (:class:`HogPeople`): OpenCV's HOG pedestrian detectors computed in torch
  (:mod:`.hog`), which see a silhouette and need no face.

The estimator concatenates the proposals of all its sources and the landmark-driven
regions of a tracked stream.
"""

from dataclasses import dataclass, replace
import math
from typing import Any, Callable, Dict, Optional, Protocol, Sequence, Tuple

import numpy as np
import torch

from . import hog
from .config import EstimatorConfig
from .detection import anchor_slots, decode, ssd_anchor_centres
from .devices import constant, upload
from .horizon import far_row_heights, far_rows, Horizon
from .regions import crop, Regions
from .views import merge_views, searched_views, squares, view_grids, view_regions
from ..models.blazepose import POSE_DETECTION
from ..models.runtime import Network


@dataclass(frozen=True)
class Proposals:
    """
    Candidate person regions in fixed-size slots, on the estimator's device.

    ``keypoints`` (N, 2, 2): each region's two keypoints, the hip centre and the full-body
    scale point, delivered-image pixels (the region is the square about the first through
    the second, :func:`~.landmarks.regions_from_keypoints`); ``scores`` (N,) in [0, 1].
    A source proposes as many slots as its settings and the image size say, whatever the
    image shows; ``valid`` says which hold a candidate.
    """

    keypoints: torch.Tensor
    scores: torch.Tensor
    #: (N,) bool, on the host (a source knows it without looking at the image): True where
    #: the region was built from a box and is refined once from its first landmarks; not
    #: given: none is (detector keypoints, landmark-driven regions).
    from_box: Optional[np.ndarray] = None
    #: (N,) the pose presence each candidate's person needs; NaN (and not given): the
    #: landmark stage's own, ``min_pose_presence`` or, from a box, ``min_box_pose_presence``.
    min_presence: Optional[torch.Tensor] = None
    #: (N,) bool: True where the region follows a tracked person (a stream's seed); not
    #: given: none does.
    tracked: Optional[torch.Tensor] = None
    #: (N,) bool: the slots that hold a candidate; not given: all of them.
    valid: Optional[torch.Tensor] = None

    def __post_init__(self) -> None:
        """Fill what is not given: ``from_box`` and ``tracked`` False, ``valid`` True."""
        count, device = len(self.scores), self.scores.device
        if self.from_box is None:
            object.__setattr__(self, 'from_box', np.zeros(count, bool))
        if self.tracked is None:
            object.__setattr__(self, 'tracked', torch.zeros(count, dtype=torch.bool,
                                                            device=device))
        if self.valid is None:
            object.__setattr__(self, 'valid', torch.ones(count, dtype=torch.bool,
                                                         device=device))
        if self.min_presence is None:
            object.__setattr__(self, 'min_presence', torch.full_like(self.scores, math.nan))

    @staticmethod
    def from_boxes(corners: torch.Tensor, scores: torch.Tensor, min_presence: float = math.nan,
                   valid: Optional[torch.Tensor] = None) -> 'Proposals':
        """
        Propose the upright region about each (N, 4) box (corners, image pixels).

        The region keypoints are the box centre and the point half the box's longer side
        above it, so the region is the box's longer side times ``REGION_SCALE``: a first
        guess, refined from the landmarks it gives. ``min_presence``: the pose presence
        their persons need (NaN: the landmark stage's own for boxes); ``valid`` (N,) bool:
        the slots that hold a box (default: all).
        """
        centre = (corners[:, :2] + corners[:, 2:]) / 2
        half = (corners[:, 2:] - corners[:, :2]).amax(1) / 2
        scale_point = torch.stack([centre[:, 0], centre[:, 1] - half], -1)
        return Proposals(torch.stack([centre, scale_point], 1), scores,
                         np.ones(len(scores), bool), torch.full_like(scores, min_presence),
                         valid=valid)

    @staticmethod
    def cat(parts: Sequence['Proposals']) -> 'Proposals':
        """Concatenate proposal sets (at least one; one is returned as it is)."""
        if len(parts) == 1:
            return parts[0]
        return Proposals(torch.cat([p.keypoints for p in parts]),
                         torch.cat([p.scores for p in parts]),
                         np.concatenate([p.from_box for p in parts]),
                         torch.cat([p.min_presence for p in parts]),
                         torch.cat([p.tracked for p in parts]),
                         torch.cat([p.valid for p in parts]))


#: One part of the search: (index, count), the index-th of count parts. A single image is
#: searched whole; a stream spreads the search over frames (``search_frames``).
SearchPart = Tuple[int, int]
WHOLE: SearchPart = (0, 1)


@dataclass(frozen=True)
class Search:
    """What one call of the sources searches: its ``part``, where far people stand, and why."""

    part: SearchPart = WHOLE
    #: The floor's horizon (:mod:`.horizon`); None: unknown, and no far rows are looked at.
    horizon: Optional[Horizon] = None
    #: True: a frame of a stream, which sees the whole search over ``search_frames`` frames
    #: and can afford less per frame; False: a single image.
    stream: bool = False


@dataclass(frozen=True)
class Frame:
    """The image the sources look at: on the estimator's device, and as delivered."""

    #: (3, H, W) float pixels, 0..255, on the estimator's device.
    image: torch.Tensor
    #: (H, W, 3) uint8 RGB on the host: for what runs on the CPU (OpenCV), no copy back.
    rgb: np.ndarray


class ProposalSource(Protocol):
    """What the estimator asks of a proposal source."""

    def prepare(self, frame: Frame, config: EstimatorConfig, search: Search) -> Any:
        """
        Make this source's input from the frame (the preprocess stage).

        A source whose regions are the search (the finer detector grids, the near-field,
        frame-edge and far-row squares) looks at the ``search.part`` of them only; the
        others ignore it.
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

    def prepare(self, frame: Frame, config: EstimatorConfig,
                search: Search) -> _PreparedViews:
        """Crop the views of this part of the search to the detector's input in one batch."""
        image = frame.image
        height, width = image.shape[-2:]
        layout = (width, height, config.detector_grids, config.tile_overlap)
        seen = searched_views(*layout, config.search_grid, search.part)
        views = view_regions(*layout, image.device).select(
            constant(seen, image.device, torch.long))
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
        min_scores = constant(tuple(
            config.min_detection_score if grid == 1 else config.tile_min_detection_score
            for grid in prepared.grids), raw_scores.device, raw_scores.dtype)
        detections = merge_views(
            decode(raw_boxes, raw_scores, self.anchors, min_scores, POSE_DETECTION.input_size[0],
                   slots=anchor_slots(config.max_persons)),
            prepared.views, config.nms_iou, config.duplicate_similarity, config.max_persons)
        return Proposals(detections.keypoints[:, :2], detections.scores,
                         valid=detections.valid)


class FixedSquares:
    """
    Squares laid over the image by a rule, proposed as boxes scoring 0: the search.

    The landmark network looks at each; the verifier drops the ones that hold nobody.
    Scores of 0 rank them below every detection. Subclasses give the squares
    (:meth:`layout`); a part of the search looks at every count-th square.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def prepare(self, frame: Frame, config: EstimatorConfig,
                search: Search) -> Tuple[int, int, Search]:
        """Return the image's (width, height) and the search: all this source needs."""
        return frame.image.shape[-1], frame.image.shape[-2], search

    def propose(self, prepared: Tuple[int, int, Search], config: EstimatorConfig) -> Proposals:
        """Return this part's squares of :meth:`layout` (every count-th) as boxes."""
        width, height, search = prepared
        index, count = search.part
        boxes = [(u - side / 2, v - side / 2, u + side / 2, v + side / 2) for u, v, side
                 in list(self.layout(width, height, config, search))[index::count]]
        corners = upload(boxes, self.device, torch.float32).reshape(-1, 4)
        proposals = Proposals.from_boxes(corners, corners.new_zeros(len(corners)),
                                         self.min_presence(config))
        return proposals if self.REFINED else replace(
            proposals, from_box=np.zeros(len(corners), bool))

    #: Whether the landmark stage refines each square's region from its first landmarks
    #: (:meth:`Proposals.from_boxes`); False: a square is already the region.
    REFINED = True

    def min_presence(self, config: EstimatorConfig) -> float:
        """Return the pose presence a person on these squares needs; NaN: a box's."""
        return math.nan

    def layout(self, width: int, height: int, config: EstimatorConfig,
               search: Search) -> Sequence[Tuple[float, float, float]]:
        """Return the squares as (u, v) centre and side, pixels; none when off."""
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

    def layout(self, width: int, height: int, config: EstimatorConfig,
               search: Search) -> Sequence[Tuple[float, float, float]]:
        """Cover the image, neighbours overlapping by half (``near_field``)."""
        if not config.near_field:
            return ()
        side = config.near_field_scale * height
        return [(u, v, side) for u, v in squares(width, height, side, self.OVERLAP)]


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

    def layout(self, width: int, height: int, config: EstimatorConfig,
               search: Search) -> Sequence[Tuple[float, float, float]]:
        """Stand squares on both side edges, rows half-overlapping (``frame_edges``)."""
        if not config.frame_edges:
            return ()
        side = config.frame_edge_scale * height
        columns = (side * (self.INSIDE - 0.5), width - side * (self.INSIDE - 0.5))
        return [(u, v, side) for _, v in squares(side, height, side, 0.5) for u in columns]


class FarRows(FixedSquares):
    """
    Small squares along the rows where far people stand (:func:`~.horizon.far_rows`).

    People too small for the detector's finest tiles, down to ``far_row_min_height``
    pixels, stand near the horizon, at a row their height gives; the landmark network
    finds them on a square about their size (:mod:`.horizon`). Without a horizon (nobody
    found yet) there is nothing to look at. The squares are the size of the people they
    look for, so the network looks once (not refined: measured as many found, at half
    the cost).
    """

    REFINED = False

    def looks(self, config: EstimatorConfig, stream: bool) -> bool:
        """Return whether ``far_rows`` has them looked at: auto, all but a CPU stream."""
        return config.far_rows == 'on' or (config.far_rows == 'auto' and not (
            stream and self.device.type == 'cpu'))

    def layout(self, width: int, height: int, config: EstimatorConfig,
               search: Search) -> Sequence[Tuple[float, float, float]]:
        """Return the far rows' squares under the search's horizon (none without one)."""
        if search.horizon is None or not self.looks(config, search.stream):
            return ()
        heights = far_row_heights(config.far_row_min_height, width, height,
                                  config.detector_grids)
        return far_rows(search.horizon, heights, width, height)

    def min_presence(self, config: EstimatorConfig) -> float:
        """Return ``far_row_pose_presence``: a hundred small squares, a hundred chances."""
        return config.far_row_pose_presence


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

    def prepare(self, frame: Frame, config: EstimatorConfig, search: Search) -> Frame:
        """Return the frame itself: each detector builds its own pyramid from it."""
        return frame

    def propose(self, frame: Frame, config: EstimatorConfig) -> Proposals:
        """Run the detectors ``hog_detectors`` names; their person boxes (none when off)."""
        parts, engine = [], self.engine(config)
        for name in HOG_DETECTORS[config.hog_detectors]:
            windows, scores, valid = hog.detect_slots(
                frame.rgb if engine == 'opencv' else frame.image, name, config.hog_min_score,
                config.hog_scale_step, config.hog_upscale, max_detections=config.max_persons,
                engine=engine, device=self.device)
            parts.append(Proposals.from_boxes(hog.HOG_MODELS[name].person_boxes(windows),
                                              torch.sigmoid(scores), valid=valid))
        if not parts:
            empty = frame.image.new_zeros(0)
            return Proposals.from_boxes(empty.reshape(0, 4), empty)
        return Proposals.cat(parts)


#: The settings that leave BlazePose's detector on its grids of before as the only proposal
#: source, as it was before the sources that need no face and the search (the benchmarks'
#: and tests' reference).
DETECTOR_ONLY = {'near_field': False, 'frame_edges': False, 'far_rows': 'off',
                 'hog_detectors': 'none', 'detector_grids': (1, 2, 3)}


#: Every proposal source, made from the detector network and the estimator's device. Each
#: reads its own settings per frame and proposes nothing when they turn it off.
SOURCES: Dict[str, Callable[[Network, torch.device], ProposalSource]] = {
    'detector': DetectorViews,
    'near_field': lambda detector, device: NearField(device),
    'frame_edges': lambda detector, device: FrameEdges(device),
    'far_rows': lambda detector, device: FarRows(device),
    'hog': lambda detector, device: HogPeople(device),
}
