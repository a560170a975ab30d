"""
Stable person ids across frames, and One Euro smoothing of every tracked joint.

Association: each track predicts where its person is now from the last two observations
(constant velocity in image pixels); a person and a track are similar by the overlap of
their boxes (IoU) and by how close their visible keypoints are relative to the person's
size (an OKS-like score); pairs are taken greedily, most similar first, above
``track_match_threshold``. Unmatched persons start tentative tracks, which are reported
once seen ``track_min_hits`` times; a track unseen for more than ``track_max_missed``
frames ends. :class:`Untracked` stands in for the tracker when a stream is not tracked.

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
import itertools
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .one_euro import CAMERA_JOINTS, IMAGE_LANDMARKS, OneEuroFilter, OneEuroParameters
from .result import Person
from ..geometry.boxes import overlap
from ..models.blazepose import VISIBILITY_THRESHOLD
from ..settings.schema import setting, validate

#: MediaPipe's filter for the auxiliary (region) landmarks.
REGION_LANDMARKS = OneEuroParameters(min_cutoff=0.01, beta=10.0, derivative_cutoff=1.0)
#: Keypoint distance scale of the similarity, fraction of the person's size.
KEYPOINT_SIGMA = 0.1


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
    track_max_missed: int = setting(5, 'Track death: frames a track may go unseen before it '
                                       'ends.', low=0, high=1000, runtime=True)
    track_match_threshold: float = setting(
        0.2, 'Minimum similarity of a person and a track to be associated (the mean of their '
             'box IoU and keypoint similarity).', low=0.0, high=1.0, runtime=True)
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


@dataclass
class Track:
    """One tracked person: the last observation, its motion and its filters."""

    track_id: int
    person: Person
    time: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # pixels / s
    hits: int = 1
    missed: int = 0
    filters: Optional[_Filters] = None
    region: Optional[np.ndarray] = None  # smoothed region keypoints (2, 2) for the next frame

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


class PoseTracker:
    """Give persons stable ids across frames and smooth them; see the module docstring."""

    def __init__(self, config: TrackingConfig = TrackingConfig()) -> None:
        self.config = config
        self.tracks: List[Track] = []
        self._ids = itertools.count(1)
        self.lost_last_frame = False

    def reset(self) -> None:
        """Forget every track (a new stream, or the camera changed); ids keep counting."""
        self.tracks = []
        self.lost_last_frame = False

    def seeds(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return the region keypoints (K, 2, 2) and scores (K,) of tracks seen last frame."""
        current = [t for t in self.tracks if t.missed == 0 and t.person.alignment_2d is not None]
        regions = [t.region if t.region is not None else t.person.alignment_2d for t in current]
        return (np.array(regions).reshape(-1, 2, 2), np.array([t.person.score for t in current]))

    def update(self, persons: Sequence[Person], time_s: float) -> Tuple[Person, ...]:
        """
        Associate this frame's persons with the tracks and return the reported ones.

        Reported persons carry their ``track_id`` and, with smoothing, filtered keypoints,
        joints and root; they are ordered by track id.
        """
        scores = similarities(persons, self.tracks, time_s)
        pairs = sorted(((scores[i, j], i, j) for i in range(len(persons))
                        for j in range(len(self.tracks))), reverse=True)
        person_track, used = {}, set()
        for score, i, j in pairs:
            if score < self.config.track_match_threshold:
                break
            if i not in person_track and j not in used:
                person_track[i] = j
                used.add(j)
        lost = 0
        for j, track in enumerate(self.tracks):
            if j not in used:
                track.missed += 1
                lost += track.missed == 1
        reported = []
        for i, person in enumerate(persons):
            if i in person_track:
                track = self.tracks[person_track[i]]
                self._observe(track, person, time_s)
            else:
                track = Track(next(self._ids), person, time_s)
                self.tracks.append(track)
            if track.hits >= self.config.track_min_hits:
                reported.append(self._smoothed(track, person, time_s))
        self.tracks = [t for t in self.tracks if t.missed <= self.config.track_max_missed]
        self.lost_last_frame = lost > 0
        return tuple(sorted(reported, key=lambda p: p.track_id))

    def _observe(self, track: Track, person: Person, time_s: float) -> None:
        dt = time_s - track.time
        if dt > 0:
            moved = person.keypoints_2d.mean(0) - track.person.keypoints_2d.mean(0)
            track.velocity = moved / dt if track.missed == 0 else np.zeros(2)
        if track.missed:
            track.filters = None  # re-acquired: the filters restart
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

    def seeds(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return no regions: every frame runs the proposal sources."""
        return np.zeros((0, 2, 2)), np.zeros(0)

    def update(self, persons: Sequence[Person], time_s: float) -> Tuple[Person, ...]:
        """Return the persons unchanged."""
        return tuple(persons)
