"""
Estimation on streams: tracked ids, smoothing, and landmark-driven regions.

As MediaPipe does for one person, a tracked person's region in the next frame comes from
this frame's landmarks (the landmark network's hip-centre and full-body scale points), so
the detector does not run every frame. The full detector (full frame and tiles) runs on
the first frame, every ``detect_every`` frames, whenever a track was lost in the previous
frame, and whenever no one is tracked; between those frames a newcomer waits for the next
detection.
"""

from dataclasses import dataclass, replace
import time
from typing import Callable, Optional

import numpy as np

from .estimator import PoseEstimator
from .result import FrameResult
from .tracking import PoseTracker, TrackingConfig
from ..geometry.camera import CameraModel


@dataclass(frozen=True)
class StreamConfig:
    """
    How often the detector runs on a stream, and the tracking settings.

    Attributes
    ----------
    detect_every
        Run the full detector at least every this many frames (1: every frame, i.e. no
        landmark-driven regions).
    tracking
        Ids and smoothing (:class:`~.tracking.TrackingConfig`).

    """

    detect_every: int = 10
    tracking: TrackingConfig = TrackingConfig()

    def __post_init__(self) -> None:
        """Reject a detection period below one frame."""
        if self.detect_every < 1:
            raise ValueError(f'detect_every must be >= 1, got {self.detect_every}')


class StreamEstimator:
    """
    Estimate, track and smooth persons frame after frame.

    ``__call__(rgb, camera, time_s)`` takes frames in time order; ``time_s`` is the frame's
    stamp in seconds (the message stamp, or the video position). A change of camera size,
    or time going backwards (a looped bag or video), resets the tracks.
    """

    def __init__(self, estimator: PoseEstimator, config: StreamConfig = StreamConfig()) -> None:
        self.estimator = estimator
        self.config = config
        self.tracker = PoseTracker(config.tracking)
        self._since_detection: Optional[int] = None
        self._last: Optional[tuple] = None  # (time, camera size)

    def reset(self) -> None:
        """Forget the tracks; the next frame runs the detector."""
        self.tracker.reset()
        self._since_detection = None

    def __call__(self, rgb: np.ndarray, camera: CameraModel, time_s: float,
                 refine: Optional[Callable[[FrameResult], FrameResult]] = None) -> FrameResult:
        """
        Return this frame's persons with track ids (smoothed when configured).

        ``refine`` changes the raw result before tracking and smoothing (the node fuses
        registered depth there, so that the fused distance is smoothed too).
        """
        size = (camera.width, camera.height)
        if self._last is not None and (time_s < self._last[0] or size != self._last[1]):
            self.reset()
        self._last = (time_s, size)
        seeds, seed_scores = self.tracker.seeds()
        detect = (self._since_detection is None or
                  self._since_detection + 1 >= self.config.detect_every or
                  self.tracker.lost_last_frame or len(seeds) == 0)
        result = self.estimator(rgb, camera, seeds, seed_scores, detect=detect)
        if refine is not None:
            result = refine(result)
        self._since_detection = 0 if detect else self._since_detection + 1
        start = time.perf_counter()
        persons = self.tracker.update(result.persons, time_s)
        timings = dict(result.timings_ms, track=(time.perf_counter() - start) * 1e3)
        return replace(result, persons=persons, timings_ms=timings, detected=detect)
