"""
Stable person ids across frames, and One Euro smoothing of every tracked joint.

Motion: each track's root (mid-hip, metres, camera frame) and velocity follow a
constant-velocity Kalman filter with a human speed limit (:mod:`.motion`), and its image
motion a constant velocity in pixels from the last two observations.

Association, over all tracks and persons at once (Hungarian), in two rounds:

1. by the 2D skeleton: the mean of the boxes' IoU and an OKS-like keypoint score (the
   track's person moved by its image motion), at least ``track_match_threshold``;
2. re-identification, for the persons and the confirmed tracks round 1 left: by
   appearance (:mod:`.appearance`, at least ``reid_min_similarity``, or
   :data:`COVERED_SIMILARITY` of it for a person coming out from behind whoever hid a lost
   track), the nearest in metres (the filter's Mahalanobis distance) among equals.

Neither round pairs a person with a track they could not have walked from: farther from
its last root than ``track_max_speed`` allows in the time since (:func:`.motion.reachable`,
the monocular distance ``track_depth_tolerance`` uncertain), nor, with ``reid``, one whose
appearance disagrees: less alike than ``reid_min_similarity``, or than
:data:`COVERED_SIMILARITY` of it for a person another's box covers (their histograms hold
both people's colours). A track's appearance is the running mean of its person's
descriptors while nobody overlaps them.

Lifecycle: a new person starts a tentative track, confirmed once seen ``track_min_hits``
times; only confirmed tracks seen in this frame are reported. A tentative track missed
ends; a confirmed one missed is lost: not reported, kept ``track_keep_lost_s`` seconds
for its person to come back with the same id, then deleted. :class:`Untracked` stands in
for the tracker when a stream is not tracked.

Smoothing (after MediaPipe's pose landmark filtering): One Euro filters on the 2D keypoints
and the region keypoints (speed scaled by the person's size in pixels), and on the metric
3D joints in the camera frame (speed relative to the person's distance, because monocular
depth noise grows with it); the root is the mid-hip of the filtered joints. Filtering the
camera-frame joints rather than hip-centred ones and a translation keeps their errors
together: the root fit moves the translation against the relative joints' depth noise, and
filtering the two apart measured 1.6x less jitter reduction instead of 2.1x. Time is the
frame's stamp. A track's filters restart when it is re-acquired after a miss.
"""

from dataclasses import dataclass, field, replace
import enum
import itertools
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment
import torch

from .appearance import similarity
from .motion import MetricMotion, reachable
from .one_euro import CAMERA_JOINTS, IMAGE_LANDMARKS, OneEuroFilter, OneEuroParameters
from .result import Person
from ..geometry.boxes import overlap
from ..geometry.camera import CameraModel
from ..models.blazepose import VISIBILITY_THRESHOLD
from ..settings.schema import setting, validate

#: MediaPipe's filter for the auxiliary (region) landmarks.
REGION_LANDMARKS = OneEuroParameters(min_cutoff=0.01, beta=10.0, derivative_cutoff=1.0)
#: Keypoint distance scale of the similarity, fraction of the person's size.
KEYPOINT_SIGMA = 0.1
#: Weight of a new descriptor in a track's running mean of its appearance.
APPEARANCE_UPDATE = 0.2
#: A person overlapped by another's box over more than this fraction of their own box is
#: not clearly seen: their descriptor does not update their track's appearance.
CLEARLY_SEEN = 0.15
#: Share of ``reid_min_similarity`` below which the appearance of a person another's box
#: covers disagrees with a track.
COVERED_SIMILARITY = 0.5
#: A lost track's region, a guess where its person went, carries this share of the
#: track's score: of two skeletons of one person, the region of a track seen last frame
#: (or a detection) is kept before it.
LOST_SEED_SCORE = 0.5


@dataclass(frozen=True)
class TrackingConfig:
    """
    Settings of :class:`PoseTracker`; every field is a setting (:mod:`pose3d_ros.settings`).

    The One Euro filters of the 2D keypoints (speed in person sizes per second) and of the
    3D joints (speed in distances per second) are :attr:`image_filter` and
    :attr:`world_filter`; the region keypoints use MediaPipe's :data:`REGION_LANDMARKS`.
    """

    track_min_hits: int = setting(1, 'Track birth: frames a new person must be seen before '
                                     'it is published.', low=1, high=100, runtime=True)
    track_keep_lost_s: float = setting(
        3.0, 'Track death: seconds a confirmed track may go unseen (lost: not published) and '
             'still get its person back with its id.', low=0.0, high=60.0, runtime=True,
        unit='s')
    track_match_threshold: float = setting(
        0.2, 'Minimum similarity of a person and a track to be associated frame to frame '
             '(the mean of their box IoU and keypoint similarity).', low=0.0, high=1.0,
        runtime=True)
    track_max_speed: float = setting(
        3.0, 'Fastest a tracked person moves: no person is associated with a track farther '
             'from its last root than this speed allows in the time since (plus the '
             'measurement tolerances).', low=0.1, high=20.0, runtime=True, unit='m/s')
    track_depth_tolerance: float = setting(
        0.3, 'How far off a monocular distance may be along the viewing ray when gating by '
             'speed, fraction of the distance.', low=0.0, high=2.0, runtime=True)
    reid: bool = setting(True, "Appearance re-identification: each track keeps its person's "
                               'torso and leg colours, re-attaches a lost track to its '
                               'person and refuses an association whose appearance '
                               'disagrees.', runtime=True)
    reid_min_similarity: float = setting(
        0.6, 'Minimum appearance similarity (mean Bhattacharyya coefficient of the torso and '
             'leg colour histograms, the torso counting twice) of a person and a track to be '
             'associated.', low=0.0, high=1.0, runtime=True)
    smoothing: bool = setting(True, 'One Euro filtering of every tracked joint (time from the '
                                    'image stamps).', runtime=True)
    image_min_cutoff: float = setting(
        IMAGE_LANDMARKS.min_cutoff, 'One Euro min_cutoff of the 2D keypoints (MediaPipe: '
                                    '0.05).', low=0.001, high=100.0, runtime=True, unit='Hz')
    image_beta: float = setting(
        IMAGE_LANDMARKS.beta, 'One Euro beta of the 2D keypoints, speed in person sizes per '
                              'second (MediaPipe: 80).', low=0.0, high=10000.0, runtime=True)
    world_min_cutoff: float = setting(
        CAMERA_JOINTS.min_cutoff, 'One Euro min_cutoff of the 3D joints (MediaPipe world '
                                  'landmarks: 0.1); the root is their mid-hip.', low=0.001,
        high=100.0, runtime=True, unit='Hz')
    world_beta: float = setting(
        CAMERA_JOINTS.beta, 'One Euro beta of the 3D joints, speed in distances per second '
                            '(MediaPipe world landmarks: 40; 10 keeps the limb-depth noise '
                            'out).', low=0.0, high=10000.0, runtime=True)
    derivative_cutoff: float = setting(
        CAMERA_JOINTS.derivative_cutoff, 'One Euro cutoff of the speed estimate (MediaPipe: '
                                         '1).', low=0.001, high=100.0, runtime=True, unit='Hz')

    def __post_init__(self) -> None:
        """Reject a value outside its range with the setting's one message (ValueError)."""
        validate(self)

    @property
    def image_filter(self) -> OneEuroParameters:
        """Return the One Euro parameters of the 2D keypoints."""
        return OneEuroParameters(self.image_min_cutoff, self.image_beta, self.derivative_cutoff)

    @property
    def world_filter(self) -> OneEuroParameters:
        """Return the One Euro parameters of the 3D joints."""
        return OneEuroParameters(self.world_min_cutoff, self.world_beta, self.derivative_cutoff)


@dataclass
class _Filters:
    """One track's One Euro filters."""

    keypoints: OneEuroFilter
    joints: OneEuroFilter
    region: OneEuroFilter


class TrackState(enum.Enum):
    """Where a track is in its life."""

    TENTATIVE = 'tentative'  # seen fewer than track_min_hits times
    CONFIRMED = 'confirmed'  # seen enough, and in the last frame it was looked for
    LOST = 'lost'  # confirmed, then missed: kept for re-identification


@dataclass
class Track:
    """One tracked person: the last observation, its motion, appearance and filters."""

    track_id: int
    person: Person
    time: float
    motion: MetricMotion
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # pixels / s
    hits: int = 1
    missed: int = 0
    state: TrackState = TrackState.TENTATIVE
    appearance: Optional[np.ndarray] = None  # (3 parts, bins), see .appearance
    filters: Optional[_Filters] = None
    region: Optional[np.ndarray] = None  # smoothed region keypoints (2, 2) for the next frame
    hidden_by: Optional[int] = None  # lost: the id of the track that covered it then

    def predicted_shift(self, time_s: float) -> np.ndarray:
        """Return the expected image motion (2,) since the last observation, pixels."""
        return self.velocity * max(time_s - self.time, 0.0)


def _size(person: Person) -> float:
    """Return a person's size in pixels: the mean side of the keypoints' extent."""
    extent = person.keypoints_2d.max(0) - person.keypoints_2d.min(0)
    return max(float(extent.mean()), 1.0)


def keypoint_similarity(person: Person, track: Track, shift: np.ndarray) -> float:
    """
    Return an OKS-like score of a person against a track's person moved by ``shift``.

    The mean over keypoints visible in both of ``exp(-d² / (2 (KEYPOINT_SIGMA * size)²))``,
    0 when none is.
    """
    both = (person.visibility >= VISIBILITY_THRESHOLD) & \
        (track.person.visibility >= VISIBILITY_THRESHOLD)
    if not both.any():
        return 0.0
    distance = np.linalg.norm(person.keypoints_2d[both] - track.person.keypoints_2d[both] -
                              shift, axis=1)
    sigma = KEYPOINT_SIGMA * _size(track.person)
    return float(np.mean(np.exp(-distance ** 2 / (2.0 * sigma ** 2))))


def similarities(persons: Sequence[Person], tracks: Sequence[Track],
                 time_s: float) -> np.ndarray:
    """
    Return how alike each person and each track's predicted person are, (N, M) in [0, 1].

    The mean of the boxes' IoU (tracks' boxes moved by their predicted motion) and
    :func:`keypoint_similarity`.
    """
    if not persons or not tracks:
        return np.zeros((len(persons), len(tracks)))
    shifts = [track.predicted_shift(time_s) for track in tracks]
    predicted = np.array([t.person.bbox + np.tile(shift, 2) for t, shift in zip(tracks, shifts)])
    iou = overlap(np.array([p.bbox for p in persons]), predicted)
    keypoints = np.array([[keypoint_similarity(p, t, shift) for t, shift in zip(tracks, shifts)]
                          for p in persons])
    return (iou + keypoints) / 2.0


def _moved(region: np.ndarray, root: np.ndarray, predicted: np.ndarray,
           camera: CameraModel) -> np.ndarray:
    """
    Return (2, 2) region keypoints moved with their person's root to ``predicted``.

    The hip centre moves as the root's image does; the scale point keeps its offset from
    it, scaled by the change of distance. Roots (3,) metres, camera frame.
    """
    fx, fy, cx, cy = camera.intrinsics
    depth = max(float(predicted[2]), 0.1)
    pinhole = np.array([[fx * root[0] / max(float(root[2]), 0.1) + cx,
                         fy * root[1] / max(float(root[2]), 0.1) + cy],
                        [fx * predicted[0] / depth + cx, fy * predicted[1] / depth + cy]])
    before, after = camera.distort(torch.from_numpy(pinhole)).numpy()
    centre = region[0] + after - before
    scale = max(float(root[2]), 0.1) / depth
    return np.stack([centre, centre + (region[1] - region[0]) * scale])


def _beside(region: np.ndarray, box: np.ndarray, other: np.ndarray, side: float
            ) -> np.ndarray:
    """
    Return (2, 2) region keypoints moved sideways to just beyond another person's box.

    ``region`` and ``box`` (4,) are a person's, ``other`` (4,) the box of whom they walk
    behind; ``side`` is +1 to put them right of it, -1 left. Only u changes: the person
    stays at their distance, so at their height in the image.
    """
    half = (box[2] - box[0]) / 2.0
    centre = (box[0] + box[2]) / 2.0
    target = other[2] + half if side > 0 else other[0] - half
    return region + np.array([target - centre, 0.0])


def _inside(point: np.ndarray, box: np.ndarray) -> bool:
    """Return whether a (2,) pixel lies in a (4,) x0, y0, x1, y1 box."""
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def _coverers(boxes: np.ndarray, others: np.ndarray, themselves: bool = False
              ) -> List[Optional[int]]:
    """
    Return, per (N, 4) box, the index of the one of (M, 4) ``others`` covering it most.

    None where none covers more than :data:`CLEARLY_SEEN` of it. ``themselves``: the
    others are the boxes themselves, and a box does not cover itself.
    """
    if not len(boxes) or not len(others):
        return [None] * len(boxes)
    covered = overlap(boxes, others, over='first')
    if themselves:
        np.fill_diagonal(covered, 0.0)
    return [int(row.argmax()) if row.max() > CLEARLY_SEEN else None for row in covered]


def _covered_by(persons: Sequence[Person]) -> List[Optional[int]]:
    """Return, per person, the index of the other person covering them (:func:`_coverers`)."""
    boxes = np.array([p.bbox for p in persons]).reshape(-1, 4)
    return _coverers(boxes, boxes, themselves=True)


def _assign(scores: np.ndarray, allowed: np.ndarray, threshold: float
            ) -> List[Tuple[int, int]]:
    """Return the (row, column) pairs of the best one-to-one assignment above threshold."""
    if not scores.size or not allowed.any():
        return []
    rows, columns = linear_sum_assignment(-np.where(allowed, scores, -1.0))
    return [(int(r), int(c)) for r, c in zip(rows, columns)
            if allowed[r, c] and scores[r, c] >= threshold]


class PoseTracker:
    """Give persons stable ids across frames and smooth them; see the module docstring."""

    def __init__(self, config: TrackingConfig = TrackingConfig(),
                 ids: Optional[Iterator[int]] = None) -> None:
        self.config = config
        self.tracks: List[Track] = []
        # ``ids``: those of a tracker this one replaces, so that no id comes twice.
        self._ids = itertools.count(1) if ids is None else ids
        self.lost_last_frame = False

    def reset(self) -> None:
        """Forget every track (a new stream, or the camera changed); ids keep counting."""
        self.tracks = []
        self.lost_last_frame = False

    def seeds(self, time_s: float, camera: CameraModel) -> Tuple[np.ndarray, np.ndarray]:
        """
        Return region keypoints (K, 2, 2) and scores (K,) to look at in the frame at time_s.

        The regions of the tracks seen last frame, and two per lost track, where a
        hidden or missed person should reappear: where its metric motion puts it now,
        unless that is inside the box of a person seen last frame (still behind them; a
        region there would find them instead); and, while the person who covered it when
        it was lost (:attr:`Track.hidden_by`) is still seen, just beside them on the side
        it was moving to, since a person walking behind another comes out at their edge
        whether or not they kept their pace. A lost track's regions carry
        :data:`LOST_SEED_SCORE` of its score.
        """
        seen = [t for t in self.tracks if t.missed == 0 and t.person.alignment_2d is not None]
        regions = [t.region if t.region is not None else t.person.alignment_2d for t in seen]
        scores = [t.person.score for t in seen]
        boxes = {t.track_id: t.person.bbox for t in seen}
        for track in self.tracks:
            if track.state is not TrackState.LOST or track.person.alignment_2d is None:
                continue
            last = track.region if track.region is not None else track.person.alignment_2d
            moved = _moved(last, track.person.root, track.motion.predict(time_s), camera)
            guesses = [] if any(_inside(moved[0], box) for box in boxes.values()) else [moved]
            side = np.sign(moved[0, 0] - last[0, 0])
            if side and track.hidden_by in boxes:
                guesses.append(_beside(last, track.person.bbox, boxes[track.hidden_by], side))
            regions.extend(guesses)
            scores.extend([LOST_SEED_SCORE * track.person.score] * len(guesses))
        return np.array(regions).reshape(-1, 2, 2), np.array(scores)

    def _possible(self, persons: Sequence[Person], appearances: Sequence[Optional[np.ndarray]],
                  seen: Sequence[bool], time_s: float) -> Tuple[np.ndarray, np.ndarray]:
        """
        Return (N, M) whether each person could be each track's, and their appearance.

        Possible: reachable at the speed limit and, with ``reid``, not of another
        appearance (``seen``: which persons are clearly seen, :func:`_covered_by`);
        appearance similarities are NaN where either side has none.
        """
        config = self.config
        possible = np.ones((len(persons), len(self.tracks)), bool)
        alike = np.full(possible.shape, np.nan)
        for i, person in enumerate(persons):
            for j, track in enumerate(self.tracks):
                possible[i, j] = reachable(track.person.root, time_s - track.time, person.root,
                                           config.track_max_speed,
                                           config.track_depth_tolerance)
                if config.reid and appearances[i] is not None and track.appearance is not None:
                    alike[i, j] = similarity(appearances[i], track.appearance)
        if config.reid:
            shares = np.where(seen, 1.0, COVERED_SIMILARITY)
            possible &= ~(alike < config.reid_min_similarity * shares[:, None])
        return possible, alike

    def _associate(self, persons: Sequence[Person],
                   appearances: Sequence[Optional[np.ndarray]],
                   covered_by: Sequence[Optional[int]], time_s: float) -> Dict[int, int]:
        """
        Return {person index: track index}: both rounds of the module docstring.

        In the second, a person coming out from behind whoever hid a lost track (covered
        by the person of the track in :attr:`Track.hidden_by`) needs only
        :data:`COVERED_SIMILARITY` of ``reid_min_similarity`` to be that track's: their
        colours still mix in the other's, and that is where the track's person reappears.
        """
        seen = [c is None for c in covered_by]
        possible, alike = self._possible(persons, appearances, seen, time_s)
        pairs = dict(_assign(similarities(persons, self.tracks, time_s), possible,
                             self.config.track_match_threshold))
        if not self.config.reid:
            return pairs
        left = [i for i in range(len(persons)) if i not in pairs]
        taken = set(pairs.values())
        lost = [j for j, t in enumerate(self.tracks)
                if j not in taken and t.state is not TrackState.TENTATIVE]
        if not left or not lost:
            return pairs
        scores = np.nan_to_num(alike[np.ix_(left, lost)], nan=-1.0)
        nearness = np.array([[1.0 / (1.0 + self.tracks[j].motion.distance(persons[i].root,
                                                                          time_s))
                              for j in lost] for i in left])
        hider = np.array([self.tracks[pairs[covered_by[i]]].track_id
                          if covered_by[i] in pairs else -1 for i in left])
        hidden_by = np.array([self.tracks[j].hidden_by or 0 for j in lost])  # ids from 1
        needed = self.config.reid_min_similarity * np.where(
            hider[:, None] == hidden_by[None, :], COVERED_SIMILARITY, 1.0)
        for r, c in _assign(scores + 1e-3 * nearness - needed, possible[np.ix_(left, lost)],
                            0.0):
            pairs[left[r]] = lost[c]
        return pairs

    def update(self, persons: Sequence[Person], time_s: float,
               appearances: Optional[Sequence[Optional[np.ndarray]]] = None
               ) -> Tuple[Person, ...]:
        """
        Associate this frame's persons with the tracks and return the reported ones.

        ``appearances`` are the persons' descriptors (:func:`.appearance.describe`), used
        with ``reid``. Reported persons carry their ``track_id`` and, with smoothing,
        filtered keypoints, joints and root; they are ordered by track id.
        """
        if appearances is None:
            appearances = [None] * len(persons)
        if len(appearances) != len(persons):
            raise ValueError(f'{len(appearances)} appearances for {len(persons)} persons')
        self._expire(time_s)
        covered_by = _covered_by(persons)
        person_track = self._associate(persons, appearances, covered_by, time_s)
        matched = set(person_track.values())
        lost = 0
        for j, track in enumerate(self.tracks):
            if j not in matched:
                track.missed += 1
                lost += track.state is TrackState.CONFIRMED
                if track.state is TrackState.CONFIRMED:
                    track.state = TrackState.LOST
                    track.hidden_by = self._covering(track, persons, person_track, time_s)
        reported = []
        for i, person in enumerate(persons):
            if i in person_track:
                track = self.tracks[person_track[i]]
                self._observe(track, person, time_s)
            else:
                track = Track(next(self._ids), person, time_s, MetricMotion.start(
                    person.root, time_s, self.config.track_max_speed))
                self.tracks.append(track)
            if track.hits >= self.config.track_min_hits:
                track.state = TrackState.CONFIRMED
            if appearances[i] is not None and (covered_by[i] is None or
                                               track.appearance is None):
                track.appearance = appearances[i] if track.appearance is None else (
                    (1.0 - APPEARANCE_UPDATE) * track.appearance +
                    APPEARANCE_UPDATE * appearances[i])
            if track.state is TrackState.CONFIRMED:
                reported.append(self._smoothed(track, person, time_s))
        self.tracks = [t for t in self.tracks if t.missed == 0 or t.state is TrackState.LOST]
        self._expire(time_s)
        self.lost_last_frame = lost > 0
        return tuple(sorted(reported, key=lambda p: p.track_id))

    def _covering(self, track: Track, persons: Sequence[Person],
                  person_track: Dict[int, int], time_s: float) -> Optional[int]:
        """
        Return the id of the tracked person who covers a track just lost, if any.

        That is the one of this frame's associated persons whose box covers most of the
        lost track's box moved by its image motion, more than :data:`CLEARLY_SEEN` of it.
        """
        indices = list(person_track)
        boxes = np.array([persons[i].bbox for i in indices]).reshape(-1, 4)
        moved = track.person.bbox + np.tile(track.predicted_shift(time_s), 2)
        best = _coverers(moved[None], boxes)[0]
        return None if best is None else self.tracks[person_track[indices[best]]].track_id

    def _expire(self, time_s: float) -> None:
        """Delete the lost tracks unseen for longer than ``track_keep_lost_s``."""
        self.tracks = [t for t in self.tracks if t.state is not TrackState.LOST or
                       time_s - t.time <= self.config.track_keep_lost_s]

    def _observe(self, track: Track, person: Person, time_s: float) -> None:
        dt = time_s - track.time
        if dt > 0:
            moved = person.keypoints_2d.mean(0) - track.person.keypoints_2d.mean(0)
            track.velocity = moved / dt if track.missed == 0 else np.zeros(2)
        if track.missed:
            track.filters = None  # re-acquired: the filters restart
        track.motion.update(person.root, time_s)
        track.person, track.time, track.missed, track.region = person, time_s, 0, None
        track.hits += 1

    def _smoothed(self, track: Track, person: Person, time_s: float) -> Person:
        person = replace(person, track_id=track.track_id)
        if not self.config.smoothing:
            return person
        if track.filters is None:
            track.filters = _Filters(OneEuroFilter(self.config.image_filter),
                                     OneEuroFilter(self.config.world_filter),
                                     OneEuroFilter(REGION_LANDMARKS))
        filters, scale = track.filters, 1.0 / _size(person)
        depth_scale = 1.0 / max(float(person.root[2]), 0.1)
        joints = filters.joints(person.joints_3d, time_s, depth_scale)
        alignment = person.alignment_2d
        if alignment is not None:
            alignment = track.region = filters.region(alignment, time_s, scale)
        return replace(person, keypoints_2d=filters.keypoints(person.keypoints_2d, time_s, scale),
                       joints_3d=joints, alignment_2d=alignment)


class Untracked:
    """The tracker of an untracked stream: persons pass as they are, without ids or seeds."""

    lost_last_frame = False

    def reset(self) -> None:
        """Nothing to forget."""

    def seeds(self, time_s: float, camera: CameraModel) -> Tuple[np.ndarray, np.ndarray]:
        """Return no regions: every frame runs the proposal sources."""
        return np.zeros((0, 2, 2)), np.zeros(0)

    def update(self, persons: Sequence[Person], time_s: float,
               appearances: Optional[Sequence[Optional[np.ndarray]]] = None
               ) -> Tuple[Person, ...]:
        """Return the persons unchanged."""
        return tuple(persons)
