"""
Stable person ids across frames, and One Euro smoothing of every tracked joint.

Association: each track predicts where its person is now from the last two observations
(constant velocity in image pixels); a person and a track are similar by the overlap of
their boxes (IoU) and by how close their visible keypoints are relative to the person's
size (an OKS-like score); pairs are taken greedily, most similar first, above
``match_threshold``. Unmatched persons start tentative tracks, which are reported once
seen ``min_hits`` times; a track unseen for more than ``max_missed`` frames ends.

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
import torch

from .detection import box_iou
from .one_euro import CAMERA_JOINTS, IMAGE_LANDMARKS, OneEuroFilter, OneEuroParameters
from .result import Person

#: MediaPipe's filter for the auxiliary (region) landmarks.
REGION_LANDMARKS = OneEuroParameters(min_cutoff=0.01, beta=10.0, derivative_cutoff=1.0)
#: Keypoint distance scale of the similarity, fraction of the person's size.
KEYPOINT_SIGMA = 0.1
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class TrackingConfig:
    """
    Settings of :class:`PoseTracker`.

    Attributes
    ----------
    min_hits
        Track birth: a new track is reported once its person was seen in this many frames.
    max_missed
        Track death: a track unseen for more than this many frames ends.
    match_threshold
        Minimum similarity (0-1) of a person and a track to be associated.
    smoothing
        Apply the One Euro filters.
    image_filter, world_filter, region_filter
        One Euro parameters of the 2D keypoints (speed in person sizes per second), the 3D
        joints (speed in distances per second) and the region keypoints.

    """

    min_hits: int = 1
    max_missed: int = 5
    match_threshold: float = 0.2
    smoothing: bool = True
    image_filter: OneEuroParameters = IMAGE_LANDMARKS
    world_filter: OneEuroParameters = CAMERA_JOINTS
    region_filter: OneEuroParameters = REGION_LANDMARKS

    def __post_init__(self) -> None:
        """Reject counts and thresholds out of range."""
        if self.min_hits < 1 or self.max_missed < 0:
            raise ValueError(f'min_hits must be >= 1 and max_missed >= 0, got '
                             f'{self.min_hits} and {self.max_missed}')
        if not 0.0 <= self.match_threshold <= 1.0:
            raise ValueError(f'match_threshold must be in [0, 1], got {self.match_threshold}')


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


def _centre_size(corners: np.ndarray) -> torch.Tensor:
    """Turn (N, 4) x0, y0, x1, y1 boxes into the centre-size boxes of :func:`box_iou`."""
    corners = torch.as_tensor(corners, dtype=torch.float64).reshape(-1, 4)
    return torch.cat([(corners[:, :2] + corners[:, 2:]) / 2, corners[:, 2:] - corners[:, :2]],
                     dim=1)


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
    both = (person.visibility >= MIN_VISIBILITY) & (track.person.visibility >= MIN_VISIBILITY)
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
    iou = box_iou(_centre_size(np.array([p.bbox for p in persons])),
                  _centre_size(predicted)).numpy()
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
            if score < self.config.match_threshold:
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
            if track.hits >= self.config.min_hits:
                reported.append(self._smoothed(track, person, time_s))
        self.tracks = [t for t in self.tracks if t.missed <= self.config.max_missed]
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
                                     OneEuroFilter(self.config.region_filter))
        filters, scale = track.filters, 1.0 / _size(person)
        depth_scale = 1.0 / max(float(person.root[2]), 0.1)
        joints = filters.joints(person.joints_3d, time_s, depth_scale)
        root = joints[list(person.joint_set.hips)].mean(axis=0)
        alignment = person.alignment_2d
        if alignment is not None:
            alignment = track.region = filters.region(alignment, time_s, scale)
        return replace(person, keypoints_2d=filters.keypoints(person.keypoints_2d, time_s, scale),
                       joints_3d=joints, root=root, alignment_2d=alignment)
