"""
A stream's floor, fitted online to the feet of its standing, tracked people.

A single image fits its floor to the soles of the people standing in it
(:func:`~..geometry.standing.floor_from_people`). A stream does better: as people walk,
their feet sample the floor, frame after frame. :class:`PeopleFloor` keeps those samples
over a sliding window of ``window_s`` seconds and refits after every frame:

- **footprints**: each confirmed track (a person with an id) that stands with a foot in
  view leaves the sole point under its lowest visible foot joint, as placed by the
  least-squares fit alone (the floor's own scaling undone: a floor fitted to feet it
  placed would only confirm itself). A track's footprints lie at least
  :data:`FOOTPRINT_SPACING_M` apart: a sole nearer than that to one of its own only
  renews that one's time, so a person standing still is one vote, not one per frame, and
  a walker leaves a trail.
- **the fit**: RANSAC then least squares with the people's mean body axis as a weak prior
  (:func:`~..geometry.standing.fit_to_soles`; each person's size error is shared by all
  of their footprints, so the height is known as well as from as many points as people),
  its height weighed with the people's statures
  (:func:`~..geometry.standing.scaled_by_statures`). It is refitted only when footprints
  came or went. It counts only with at least
  :data:`MIN_FOOTPRINTS` inliers from at least :data:`MIN_TRACKS` people, spread across
  the floor (:data:`~..geometry.ground.MIN_SPREAD_M` along its second axis). At most
  :data:`MAX_FOOTPRINTS` are kept, the most recently seen.
- **reset**: when, in :data:`MOVED_FRAMES` frames in a row, most of the new soles (two at
  least) miss the floor by more than the fit's tolerance, the camera has moved: the
  footprints from before those frames are dropped and the floor is fitted anew.

Nothing here imports rclpy; points in metres, camera optical frame.
"""

import math
from typing import Optional, Sequence, Tuple

import numpy as np

from .result import Person
from ..geometry.ground import GroundPlane, INLIER_DISTANCE_M, INLIER_SIGMAS, MIN_SPREAD_M
from ..geometry.standing import (FIT_SCALE_STD, fit_to_soles, scaled_by_statures, Soles,
                                 standing_soles)

#: A track's footprints lie at least this far apart (metres).
FOOTPRINT_SPACING_M = 0.3
#: At most this many footprints are kept (those seen longest ago go first).
MAX_FOOTPRINTS = 400
#: A fit counts with at least this many footprints on it ...
MIN_FOOTPRINTS = 6
#: ... from at least this many people.
MIN_TRACKS = 2
#: The camera moved when most new soles miss the floor in this many frames in a row.
MOVED_FRAMES = 5


class PeopleFloor:
    """
    The floor of a stream's standing, tracked people over its last ``window_s`` seconds.

    :attr:`plane` is the current fit (source people; None until one counts);
    :meth:`update` takes each frame's reported persons, in time order, and returns whether
    the floor was dropped because the camera moved.
    """

    def __init__(self, window_s: float) -> None:
        if not window_s > 0:
            raise ValueError(f'the window must last a positive time, got {window_s} s')
        self.window_s = window_s
        self.plane: Optional[GroundPlane] = None
        self._fitted: Optional[GroundPlane] = None  # the plane before the statures' weight
        self.resets = 0
        self._times = np.zeros(0)
        self._tracks = np.zeros(0, dtype=np.int64)
        self._soles = Soles(*np.zeros((3, 0, 3)), 1.0)
        self._missed_frames: list = []  # times of the frames in a row whose soles missed
        self._changes = 0  # footprints added or dropped: a refit can only then differ
        self._fitted_for: Optional[Tuple[int, float]] = None  # (changes, stature) fitted

    def __len__(self) -> int:
        """Return how many footprints the window holds."""
        return len(self._times)

    def reset(self) -> None:
        """Forget every footprint and the floor (a new stream, or a new camera)."""
        self.plane = self._fitted = self._fitted_for = None
        self._keep(np.zeros(len(self._times), dtype=bool))
        self._missed_frames = []

    def update(self, persons: Sequence[Person], image_size: Tuple[int, int], time_s: float,
               stature_m: float) -> bool:
        """
        Add a frame's footprints and refit; return True when the camera moved (reset).

        ``persons`` as the tracker reports them (only those with a ``track_id`` count),
        all of one joint set; ``image_size`` (width, height); ``stature_m`` the people's
        mean stature the floor's height is weighed with (0: not).
        """
        tracked = [p for p in persons if p.track_id is not None]
        if tracked:
            soles = standing_soles(
                np.array([p.fit_joints_3d for p in tracked]),
                np.array([p.keypoints_2d for p in tracked]),
                np.array([p.visibility for p in tracked]), image_size, tracked[0].joint_set)
            seen = np.isfinite(soles.points).all(axis=1)
            ids, soles = np.array([p.track_id for p in tracked], dtype=np.int64)[seen], \
                soles[seen]
        else:
            ids, soles = np.zeros(0, dtype=np.int64), self._soles[np.zeros(0, dtype=int)]
        moved = self._camera_moved(soles.points, time_s)
        for index, track in enumerate(ids):
            self._add(time_s, int(track), soles[np.array([index])])
        self._keep(self._times >= time_s - self.window_s)
        if len(self._times) > MAX_FOOTPRINTS:  # the most recently seen stay
            newest = np.argsort(-self._times, kind='stable')[:MAX_FOOTPRINTS]
            self._keep(np.isin(np.arange(len(self._times)), newest))
        self._fit(stature_m)
        return moved

    def _camera_moved(self, soles: np.ndarray, time_s: float) -> bool:
        """
        Count the frames in a row whose soles miss the floor; at MOVED_FRAMES, reset.

        The soles are the skeletons' own placement: they are held to the plane fitted to
        such soles, before the statures' weight moved its height.
        """
        fitted = self._fitted
        if fitted is None or len(soles) < 2:
            return False
        tolerance = max(INLIER_DISTANCE_M, INLIER_SIGMAS * FIT_SCALE_STD * fitted.height_m)
        missed = np.abs(fitted.heights(soles)) > tolerance
        if missed.mean() <= 0.5:
            self._missed_frames = []
            return False
        self._missed_frames.append(time_s)
        if len(self._missed_frames) < MOVED_FRAMES:
            return False
        self._keep(self._times >= self._missed_frames[0])  # the new floor's footprints
        self.plane = self._fitted = self._fitted_for = None
        self._missed_frames = []
        self.resets += 1
        return True

    def _add(self, time_s: float, track: int, sole: Soles) -> None:
        """Add one track's sole, or renew its footprint the sole lies on."""
        own = np.flatnonzero(self._tracks == track)
        if len(own):
            distances = np.linalg.norm(self._soles.points[own] - sole.points, axis=1)
            nearest = int(np.argmin(distances))
            if distances[nearest] < FOOTPRINT_SPACING_M:  # the same footprint, seen again
                self._times[own[nearest]] = time_s
                return
        self._times = np.append(self._times, time_s)
        self._tracks = np.append(self._tracks, track)
        self._soles = Soles.joined(self._soles, sole)
        self._changes += 1

    def _keep(self, mask: np.ndarray) -> None:
        self._changes += int(not mask.all())
        self._times, self._tracks, self._soles = \
            self._times[mask], self._tracks[mask], self._soles[mask]

    def _fit(self, stature_m: float) -> None:
        """
        Fit the footprints: :attr:`plane`, None when the fit does not count (see above).

        Only when footprints came or went, or the stature changed: renewing a footprint's
        time moves no point.
        """
        if self._fitted_for == (self._changes, stature_m):
            return
        self._fitted_for = (self._changes, stature_m)
        self.plane = self._fitted = None
        fitted = fit_to_soles(self._soles, people=self._tracks)
        if fitted is None:
            return
        plane, inliers = fitted
        on_it = self._soles.points[inliers]
        spread = np.linalg.svd(on_it - on_it.mean(axis=0), compute_uv=False)
        if inliers.sum() < MIN_FOOTPRINTS or \
                len(np.unique(self._tracks[inliers])) < MIN_TRACKS or \
                spread[1] / math.sqrt(len(on_it)) < MIN_SPREAD_M:
            return
        self._fitted = plane
        self.plane = scaled_by_statures(plane, self._soles[inliers], self._tracks[inliers],
                                        stature_m)
