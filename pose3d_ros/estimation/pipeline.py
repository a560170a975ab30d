"""
The stream pipeline: estimator, depth fusion, tracking and smoothing behind one call.

The node, ``pose3d-estimate`` on videos and bags, and the benchmarks call it the same way:
``pipeline(rgb, camera, time_s)`` per frame, in time order; registered depth images, when
there are any, go in through :meth:`Pipeline.add_depth`. Its settings
(:class:`PipelineConfig`) choose what runs; the node only converts messages.

Landmark-driven regions: as MediaPipe does for one person, a tracked person's region in
the next frame comes from this frame's landmarks (the landmark network's hip-centre and
full-body scale points), so the proposal sources do not run every frame. They run on the
first frame, every ``detect_every`` frames, whenever a track was lost in the previous
frame, and whenever no one is tracked; between those frames a newcomer waits for the
next detection. Without ``tracking`` they run on every frame and persons have no ids.

The search (the finer detector grids, the frame-edge, near-field and far-row squares: many
regions, for people no cheaper source finds) is dealt out to the detection frames: each
looks at one of ``search_frames`` parts, in turn, so that a stream's frames cost about the
same and the whole image is searched every ``search_frames`` detections. The far rows lie
under the horizon of the frame before (:attr:`FrameResult.horizon`), so a stream needs no
second look at a frame to lay them; on the CPU a stream skips them (``far_rows`` auto).

The floor: the caller may give each frame one (the node: the robot's TF); else the camera
pose settings give it, else the floor fitted to the tracked people's feet over the last
``ground_window_s`` (:mod:`.people_floor`, with ``ground_from_people``), updated after
each frame for the next (:func:`~.grounding.stream_floor`).
"""

from collections import deque
from dataclasses import dataclass, replace
import itertools
import threading
import time
from typing import Deque, Optional, Tuple, Union

import numpy as np

from .appearance import describe_all
from .config import EstimatorConfig
from .estimator import PoseEstimator
from .grounding import stream_floor
from .horizon import Horizon
from .people_floor import PeopleFloor
from .proposals import Search
from .result import FrameResult
from .tracking import PoseTracker, TrackingConfig, Untracked
from ..geometry.camera import CameraModel
from ..geometry.depth_fusion import fuse_depths, measured_root_depth, move_to_depth
from ..geometry.ground import GroundPlane, GroundSource
from ..settings.schema import setting, settings_of, validate, values_of

#: A depth image older or newer than the colour image by more than this is not used.
DEPTH_MAX_AGE_S = 0.1
#: Depth images kept to match colour stamps (about 1 s at 30 Hz).
DEPTH_BUFFER = 30


@dataclass(frozen=True)
class PipelineConfig:
    """What runs on a stream besides the estimator; every field but ``tracker`` is a setting."""

    tracking: bool = setting(True, 'Track people across frames: stable ids, One Euro '
                                   'smoothing, and regions from the previous landmarks '
                                   'between detections.', runtime=True)
    detect_every: int = setting(10, 'With tracking, run the proposal sources at least every '
                                    'this many frames (1: every frame).', low=1, high=1000,
                                runtime=True)
    search_frames: int = setting(
        12, 'The search (detector grids from search_grid up, frame-edge and near-field '
            'squares) is dealt out to this many detection frames, a part each, so that no '
            'frame pays for all of it (1: all of it on every detection frame).', low=1,
        high=1000, runtime=True)
    tracker: TrackingConfig = TrackingConfig()
    use_depth: bool = setting(False, "Fuse a registered depth image into each person's "
                                     'distance (depth/image, 16UC1 mm or 32FC1 m).',
                              surfaces=('node',))
    ground_window_s: float = setting(
        30.0, "A stream's floor from the people (ground_from_people, with tracking) is fitted "
              'to their footprints of this many seconds; it needs six or more, from two '
              'people at least, spread across the floor.', low=1.0, high=3600.0,
        runtime=True, unit='s')

    def __post_init__(self) -> None:
        """Reject a value outside its range with the setting's one message (ValueError)."""
        validate(self)


class RegisteredDepth:
    """
    The depth-fusion stage: recent registered depth images, and persons moved to them.

    The rule is :mod:`pose3d_ros.geometry.depth_fusion`'s. The depth image used for a frame
    is the one, of the last ``DEPTH_BUFFER`` added, whose stamp is nearest the frame's,
    however long inference took; none within ``DEPTH_MAX_AGE_S`` leaves the monocular
    distances and says so in the result's warnings.
    """

    def __init__(self) -> None:
        self.images: Deque[Tuple[float, np.ndarray]] = deque(maxlen=DEPTH_BUFFER)

    def add(self, depth_m: np.ndarray, time_s: float) -> None:
        """Keep a depth image: (h, w) metres registered to the colour image, its stamp."""
        self.images.append((time_s, depth_m))

    def __call__(self, result: FrameResult, time_s: float) -> FrameResult:
        """Return ``result`` with every measurable person slid to the fused distance."""
        depth_time, depth_m = min(list(self.images), key=lambda d: abs(d[0] - time_s),
                                  default=(-np.inf, None))
        if abs(depth_time - time_s) > DEPTH_MAX_AGE_S:
            return replace(result, warnings=result.warnings + (
                f'no depth image on depth/image within {DEPTH_MAX_AGE_S} s of the colour '
                'image; using the monocular distance',))
        persons = []
        for person in result.persons:
            depth = measured_root_depth(depth_m, person.keypoints_2d, person.visibility,
                                        person.joints_3d, person.root, result.image_size,
                                        person.joint_set)
            if depth is not None:
                joints, _ = move_to_depth(person.joints_3d, person.root,
                                          fuse_depths(float(person.root[2]), depth))
                # The sensor placed them: the floor's scale no longer says how the fit did.
                person = replace(person, joints_3d=joints, floor_scale=1.0)
            persons.append(person)
        return replace(result, persons=tuple(persons))


class Pipeline:
    """
    Estimate, fuse depth, track and smooth persons frame after frame.

    ``__call__(rgb, camera, time_s)`` takes frames in time order; ``time_s`` is the frame's
    stamp in seconds (the message stamp, or the video position). A change of camera size,
    or time going backwards (a looped bag or video), resets the tracks. :meth:`reconfigure`
    and :meth:`add_depth` may be called from another thread than the frames'.
    """

    def __init__(self, estimator: PoseEstimator, config: PipelineConfig = PipelineConfig()
                 ) -> None:
        self.estimator = estimator
        self.config = config
        self.depth = RegisteredDepth()
        self._ids = itertools.count(1)  # track ids, never reused by a tracker after another
        self.tracker: Union[PoseTracker, Untracked] = self._tracker(config)
        self._since_detection: Optional[int] = None
        self._detections = 0  # detection frames so far: which part of the search is next
        self._horizon: Optional[Horizon] = None  # the last frame's, for the far rows
        self.people_floor = PeopleFloor(config.ground_window_s)
        self._last: Optional[tuple] = None  # (time, camera size)
        self._lock = threading.Lock()
        self._pending: Optional[Tuple[PipelineConfig, EstimatorConfig]] = None

    def _tracker(self, config: PipelineConfig) -> Union[PoseTracker, Untracked]:
        return PoseTracker(config.tracker, self._ids) if config.tracking else Untracked()

    def reconfigure(self, config: PipelineConfig, estimator: EstimatorConfig) -> None:
        """
        Take new settings while running; the tracks restart when a tracking setting changed.

        They take effect with the next frame, so that no frame mixes two settings: the
        node calls this from its parameter callback while a frame may be in progress.

        Raises
        ------
        ValueError
            A setting that cannot change at runtime (loaded models, devices) differs.

        """
        old = {**values_of(self.config), **values_of(self.estimator.config)}
        new = {**values_of(config), **values_of(estimator)}
        fixed = [s.name for s in settings_of(PipelineConfig) + settings_of(EstimatorConfig)
                 if not s.runtime and old[s.name] != new[s.name]]
        if fixed:
            raise ValueError(f'{", ".join(fixed)} cannot change while running')
        with self._lock:
            self._pending = (config, estimator)

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        config, self.estimator.config = pending
        self.people_floor.window_s = config.ground_window_s
        restart = (config.tracking, config.detect_every, config.tracker) != \
            (self.config.tracking, self.config.detect_every, self.config.tracker)
        self.config = config
        if restart:  # new ids: the footprints of the old ones would mix with them
            self.tracker = self._tracker(config)
            self._since_detection = None
            self.people_floor.reset()

    def reset(self) -> None:
        """Forget the tracks; the next frame runs the proposal sources."""
        self.tracker.reset()
        self._since_detection = None
        self._horizon = None
        self.people_floor.reset()

    def add_depth(self, depth_m: np.ndarray, time_s: float) -> None:
        """Give the depth-fusion stage a registered depth image (with ``use_depth``)."""
        self.depth.add(depth_m, time_s)

    def __call__(self, rgb: np.ndarray, camera: CameraModel, time_s: float,
                 ground: Optional[GroundPlane] = None, timed: bool = False) -> FrameResult:
        """
        Return this frame's persons, with track ids and smoothed when tracking.

        ``ground``: the floor the caller knows for this frame (the robot's TF); None: the
        settings' camera pose, else the people's floor (see the module docstring).
        ``timed``: time the estimator's stages on a GPU too (:meth:`PoseEstimator.__call__`);
        the stages here are timed on the CPU, always.
        """
        self._apply_pending()
        size = (camera.width, camera.height)
        if self._last is not None and (time_s < self._last[0] or size != self._last[1]):
            self.reset()
        self._last = (time_s, size)
        seeds, seed_scores = self.tracker.seeds(time_s, camera)
        detect = (self._since_detection is None or
                  self._since_detection + 1 >= self.config.detect_every or
                  self.tracker.lost_last_frame or len(seeds) == 0)
        count = self.config.search_frames
        floor = stream_floor(self.estimator.config, ground, self.people_floor.plane)
        result = self.estimator(rgb, camera, seeds, seed_scores, detect=detect,
                                search=Search((self._detections % count, count), self._horizon,
                                              stream=True), ground=floor, timed=timed)
        self._detections += detect
        self._horizon = result.horizon
        timings = dict(result.timings_ms)
        if self.config.use_depth:  # before tracking, so that the fused distance is smoothed
            start = time.perf_counter()
            result = self.depth(result, time_s)
            timings['depth'] = (time.perf_counter() - start) * 1e3
        self._since_detection = 0 if detect else self._since_detection + 1
        appearances = None
        if self.config.tracking and self.config.tracker.reid:
            start = time.perf_counter()
            appearances = describe_all(rgb, result.persons)
            timings['appearance'] = (time.perf_counter() - start) * 1e3
        start = time.perf_counter()
        persons = self.tracker.update(result.persons, time_s, appearances)
        timings['track'] = (time.perf_counter() - start) * 1e3
        warnings = result.warnings
        if self.estimator.config.ground_from_people:
            start = time.perf_counter()
            moved = self.people_floor.update(persons, size, time_s,
                                             self.estimator.config.people_stature)
            if moved and floor is not None and floor.source is GroundSource.PEOPLE:
                warnings += ("the people's feet no longer fit the floor fitted to them (did "
                             'the camera move?): fitting it anew',)
            timings['floor'] = (time.perf_counter() - start) * 1e3
        return replace(result, persons=persons, timings_ms=timings, detected=detect,
                       warnings=warnings)
