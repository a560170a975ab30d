"""
Synthetic video sequences made from real image content, and the tracking measures on them.

Clips of one person: a real photograph's person is pasted into plain canvases frame by
frame — translated and scaled, crossing a mirrored copy of itself, standing still under
pixel noise, or moving at a constant speed — at ``FPS``.

Moving composites of several real people (:data:`SCENARIOS`): the cut-outs of
:mod:`.composites` (real people, cut out with the landmark network's segmentation) walk
along paths on the ground plane of a real background, in metres and seconds, seen by its
:class:`~.composites.GroundCamera` with perspective-correct size; they cross in front of
and behind each other, are hidden for a while, leave the frame and come back. Any frame
rate; the ground truth (:class:`MovingClip`: who is where, and how much of them shows)
comes with the frames.

Used by the tracking tests and ``bench/tracking.py``.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .composites import (cut_outs, CutOut, CutOutSpec, extent, GroundCamera, load_segmenter,
                         load_specs, OPAQUE, paste_people, Placement, Specs)
from .identities import Identities, identities
from .recall import load_labels
from ..estimation.pipeline import Pipeline
from ..estimation.result import FrameResult, Person
from ..geometry.camera import CameraModel
from ..models.store import PathLike
from ..samples import read_rgb

FPS = 30.0
BACKGROUND = 90


@dataclass(frozen=True)
class Clip:
    """Frames (H, W, 3) uint8 RGB, their camera, and each labelled person's centre x."""

    frames: List[np.ndarray]
    camera: CameraModel
    centres: Dict[str, List[float]]  # label -> (frames,) image x of the person's centre
    apart: List[bool]  # False while the labelled persons overlap


def paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    """Paste ``image`` with its top-left corner at (x, y), clipped to the canvas."""
    height, width = canvas.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + image.shape[1], width), min(y + image.shape[0], height)
    canvas[y0:y1, x0:x1] = image[y0 - y:y1 - y, x0 - x:x1 - x]


def _canvas(width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), BACKGROUND, np.uint8)


def translated(person: np.ndarray, frames: int = 30, size: Tuple[int, int] = (960, 400),
               step: int = 15, shrink: float = 0.015) -> Clip:
    """Walk ``person`` right and away: moved ``step`` px and shrunk each frame."""
    width, height = size
    images, centres = [], []
    for frame in range(frames):
        scale = 1.0 - shrink * frame
        image = cv2.resize(person, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = _canvas(width, height)
        x = 10 + step * frame
        paste(canvas, image, x, height - image.shape[0])
        images.append(canvas)
        centres.append(x + image.shape[1] / 2.0)
    return Clip(images, CameraModel.from_hfov(width, height, 60.0), {'a': centres},
                [True] * frames)


def crossing(person: np.ndarray, frames: int = 36, size: Tuple[int, int] = (1100, 400),
             step: int = 19) -> Clip:
    """Walk ``person`` (a) right in front of its mirror image (b) walking left."""
    width, height = size
    side = person.shape[1]
    images, a, b, apart = [], [], [], []
    for frame in range(frames):
        a_x, b_x = 20 + step * frame, width - side - 20 - step * frame
        canvas = _canvas(width, height)
        paste(canvas, person[:, ::-1], b_x, height - person.shape[0])
        paste(canvas, person, a_x, height - person.shape[0])
        images.append(canvas)
        a.append(a_x + side / 2.0)
        b.append(b_x + side / 2.0)
        apart.append(abs(a_x - b_x) > side)
    return Clip(images, CameraModel.from_hfov(width, height, 60.0), {'a': a, 'b': b}, apart)


def noisy_still(image: np.ndarray, frames: int = 30, noise: float = 4.0,
                seed: int = 0) -> Clip:
    """Repeat the photograph with fresh Gaussian pixel noise in every frame."""
    rng = np.random.default_rng(seed)
    images = [np.clip(image + rng.normal(0.0, noise, image.shape), 0, 255).astype(np.uint8)
              for _ in range(frames)]
    height, width = image.shape[:2]
    return Clip(images, CameraModel.from_hfov(width, height, 60.0),
                {'a': [width / 2.0] * frames}, [True] * frames)


def moving(image: np.ndarray, frames: int = 30, step: int = 8) -> Clip:
    """Slide the photograph right by ``step`` px per frame over a wider canvas."""
    height, width = image.shape[:2]
    canvas_width = width + step * frames
    images = []
    for frame in range(frames):
        canvas = _canvas(canvas_width, height)
        paste(canvas, image, step * frame, 0)
        images.append(canvas)
    return Clip(images, CameraModel.from_hfov(canvas_width, height, 60.0),
                {'a': [width / 2.0 + step * f for f in range(frames)]}, [True] * frames)


def nearest(persons: Sequence[Person], centre_x: float,
            radius: float = 120.0) -> Optional[Person]:
    """Return the person whose body keypoints' centre is nearest ``centre_x``, if close."""
    def distance(person: Person) -> float:
        return abs(float(person.keypoints_2d[:25, 0].mean()) - centre_x)
    near = [p for p in persons if distance(p) < radius]
    return min(near, key=distance, default=None)


def run(stream: Pipeline, clip: Clip) -> List[Dict[str, Optional[Person]]]:
    """
    Run a pipeline over the clip; return each labelled person per frame.

    Each frame's dict also holds ``'detected'``: whether the detector ran.
    """
    found = []
    for index, frame in enumerate(clip.frames):
        result = stream(frame, clip.camera, index / FPS)
        labelled = {label: nearest(result.persons, centres[index])
                    for label, centres in clip.centres.items()}
        found.append(dict(labelled, detected=result.detected))
    return found


def id_switches(found: List[Dict[str, Optional[Person]]], label: str,
                frames: Optional[Sequence[bool]] = None) -> int:
    """
    Count how often ``label``'s track id changes.

    Without ``frames``: between successive frames it is found in (gaps included). With
    ``frames``: only between adjacent frames that are both marked True and both found.
    """
    if frames is None:
        ids = [f[label].track_id for f in found if f[label] is not None]
        return sum(a != b for a, b in zip(ids, ids[1:]))
    return sum(a[label].track_id != b[label].track_id
               for i, (a, b) in enumerate(zip(found, found[1:]))
               if frames[i] and frames[i + 1] and a[label] is not None and b[label] is not None)


def jitter(found: List[Dict[str, Optional[Person]]], label: str = 'a',
           skip: int = 5) -> Dict[str, float]:
    """RMS frame-to-frame motion of the 2D keypoints (px), 3D joints (m) and root (m)."""
    persons = [f[label] for f in found[skip:]]
    if any(p is None for p in persons):
        raise ValueError(f'{label} is not found in every frame')

    def rms(values: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.sum(np.diff(values, axis=0) ** 2, axis=-1))))
    body = slice(0, 25)  # without hands and feet details, often invisible
    return {'2d': rms(np.array([p.keypoints_2d[body] for p in persons])),
            '3d': rms(np.array([p.joints_3d[body] for p in persons])),
            'root': rms(np.array([p.root for p in persons]))}


def lag_frames(raw: List[Dict[str, Optional[Person]]], smooth: List[Dict[str, Optional[Person]]],
               label: str = 'a', skip: int = 10) -> Dict[str, float]:
    """How many frames the smoothed x coordinates trail the raw ones, per quantity."""
    lags = {}
    for name, field in (('2d', 'keypoints_2d'), ('3d', 'joints_3d'), ('root', 'root')):
        a = np.array([getattr(f[label], field)[..., 0].mean() for f in raw])
        b = np.array([getattr(f[label], field)[..., 0].mean() for f in smooth])
        per_frame = float(np.median(np.diff(a[skip // 2:])))
        lags[name] = float(np.mean(a[skip:] - b[skip:]) / per_frame)
    return lags


@dataclass(frozen=True)
class Walk:
    """
    One person's path on the ground: a cut-out, mirrored or not, through waypoints.

    ``waypoints`` are (time s, lateral m right of the optical axis, distance m along it),
    in time order; the person moves in straight lines between them at constant speed and
    is absent before the first and after the last.
    """

    cutout: str
    waypoints: Tuple[Tuple[float, float, float], ...]
    mirrored: bool = False

    def at(self, time_s: float) -> Optional[Placement]:
        """Return where the person stands at ``time_s``, None outside the waypoints' span."""
        times = [point[0] for point in self.waypoints]
        if not times[0] <= time_s <= times[-1]:
            return None
        lateral = float(np.interp(time_s, times, [point[1] for point in self.waypoints]))
        distance = float(np.interp(time_s, times, [point[2] for point in self.waypoints]))
        return Placement(self.cutout, distance, lateral, self.mirrored)

    @property
    def speeds(self) -> Tuple[float, ...]:
        """Return the ground speed of each leg, m/s."""
        points = np.array(self.waypoints, float)
        steps = np.diff(points, axis=0)
        return tuple(float(v) for v in np.hypot(steps[:, 1], steps[:, 2]) / steps[:, 0])


@dataclass(frozen=True)
class Scenario:
    """A moving composite: its name, what it shows, the walks and background, seconds."""

    name: str
    about: str
    walks: Tuple[Walk, ...]
    duration_s: float
    background: str = 'leuvenA.jpg'


#: The moving composites (leuvenA.jpg's street: a camera 1.5 m above it, 60 degrees wide).
SCENARIOS: Tuple[Scenario, ...] = (
    Scenario('hidden-behind', 'the man in the black coat walks behind the man in the fleece '
             '(1.6 against 0.5 m/s, 9 and 4.5 m away) and is hidden for about a second',
             (Walk('bus-fleece', ((0.0, -1.5, 4.5), (5.0, 1.0, 4.5))),
              Walk('bus-black-coat', ((0.0, -4.4, 9.0), (5.0, 3.6, 9.0)))),
             5.0),
    Scenario('crossing', 'two men of different clothes cross at 1.2 m/s, 5 and 5.6 m away; '
             'the one behind is hidden for a moment',
             (Walk('bus-fleece', ((0.0, -2.2, 5.0), (3.6, 2.12, 5.0))),
              Walk('bus-black-coat', ((0.0, 2.4, 5.6), (3.6, -1.92, 5.6)), mirrored=True)),
             3.6),
    Scenario('re-entering', 'the man in the black coat walks out of the frame at 1.5 m/s and '
             'comes back about a second later; the man in the fleece strolls at 0.5 m/s',
             (Walk('bus-black-coat', ((0.0, 1.0, 6.0), (2.13, 4.2, 6.0), (4.27, 1.0, 6.0))),
              Walk('bus-fleece', ((0.0, -1.8, 4.5), (4.27, 0.35, 4.5)))),
             4.27),
    Scenario('re-entering-late', 'the same, but he stays out for over 3 s, longer than tracks '
             'are kept for re-identification',
             (Walk('bus-black-coat', ((0.0, 1.0, 6.0), (3.67, 6.5, 6.0), (7.33, 1.0, 6.0))),
              Walk('bus-fleece', ((0.0, -1.8, 4.5), (7.33, 1.9, 4.5)))),
             7.33),
    Scenario('three', 'three people: two cross at 4 and 7 m, the third walks from 10 to '
             '5.5 m towards the camera',
             (Walk('bus-fleece', ((0.0, -1.8, 4.0), (4.0, 1.8, 4.0))),
              Walk('bus-black-coat', ((0.0, 3.2, 7.0), (4.0, -2.6, 7.0)), mirrored=True),
              Walk('messi', ((0.0, -3.0, 10.0), (4.0, -1.2, 5.5)))),
             4.0),
)

#: How long the person behind keeps to the bearing of the one in front, seconds.
BEARING_DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.25)
#: The person in front strolls this far away; the one behind looks half as tall.
NEAR_M, BEHIND_SCALE = 5.0, 0.5
#: Cut-outs at least this tall (standing) hide the people behind them.
STANDING_M = 1.5


def hidden_case(front: CutOutSpec, behind: CutOutSpec, bearing_s: float,
                leftwards: bool) -> Scenario:
    """
    Return a scenario in which the cut-out ``behind`` walks behind ``front``.

    ``front`` strolls at 0.5 m/s, :data:`NEAR_M` away, past the optical axis at 2 s;
    ``behind``, far enough to look :data:`BEHIND_SCALE` times as tall, walks at 2 m/s,
    keeps to the bearing of ``front`` for ``bearing_s`` seconds around 2 s, and walks on
    for 2 s. ``leftwards`` mirrors the paths (and the cut-outs). How long ``behind`` is
    out of view depends on the two mattes: the clip's truth says.
    """
    side = -1.0 if leftwards else 1.0
    centre, after, stroll, walk = 2.0, 2.0, 0.5, 2.0
    hidden_from, hidden_to = centre - bearing_s / 2, centre + bearing_s / 2
    end = hidden_to + after
    far = NEAR_M * behind.height_m / (BEHIND_SCALE * front.height_m)
    ratio = far / NEAR_M  # on the same bearing, the far lateral offset is this many times

    def front_lateral(time_s: float) -> float:
        return side * stroll * (time_s - centre)

    start = ratio * front_lateral(hidden_from) - side * walk * hidden_from
    finish = ratio * front_lateral(hidden_to) + side * walk * after
    return Scenario(
        f'{behind.name} behind {front.name}, {bearing_s:g} s{", leftwards" * leftwards}',
        f'{behind.name} walks behind {front.name} and keeps to their bearing for '
        f'{bearing_s:g} s',
        (Walk(front.name, ((0.0, front_lateral(0.0), NEAR_M), (end, front_lateral(end), NEAR_M)),
              mirrored=leftwards),
         Walk(behind.name, ((0.0, start, far),
                            (hidden_from, ratio * front_lateral(hidden_from), far),
                            (hidden_to, ratio * front_lateral(hidden_to), far),
                            (end, finish, far)), mirrored=leftwards)),
        end)


def hidden_cases(specs: Optional[Specs] = None) -> Tuple[Scenario, ...]:
    """
    Return a :func:`hidden_case` per bearing duration and ordered pair of cut-outs.

    The one in front stands (:data:`STANDING_M`); the walks alternate right and left.
    """
    cutouts = (specs or load_specs()).cutouts.values()
    return tuple(hidden_case(front, behind, bearing_s, bool(index % 2))
                 for front in cutouts if front.height_m >= STANDING_M
                 for behind in cutouts if behind is not front
                 for index, bearing_s in enumerate(BEARING_DURATIONS))


#: A person counts as in view while at least this fraction of their matte shows.
IN_VIEW = 0.3


@dataclass(frozen=True)
class MovingClip:
    """
    A moving composite at ``fps``: (H, W, 3) uint8 RGB frames and the truth per frame.

    ``boxes`` (F frames, N persons, 4): x0, y0, x1, y1 pixel edges of each person's whole
    matte where the frame holds it (hidden parts included, as the landmarks are), NaN when
    they are out of the frame; ``shown`` (F, N): the fraction of each person's matte that
    the frame and nearer people leave visible. ``cutouts`` names who each person is.
    """

    name: str
    fps: float
    frames: List[np.ndarray]
    camera: CameraModel
    boxes: np.ndarray
    shown: np.ndarray
    cutouts: Tuple[str, ...]

    @property
    def in_view(self) -> np.ndarray:
        """Return (F, N) whether each person is in view (:data:`IN_VIEW` of them shows)."""
        return self.shown >= IN_VIEW

    @property
    def times(self) -> np.ndarray:
        """Return (F,) each frame's time, seconds."""
        return np.arange(len(self.frames)) / self.fps


def moving_clip(scenario: Scenario, fps: float, background: np.ndarray,
                camera: GroundCamera, cutouts: Dict[str, CutOut]) -> MovingClip:
    """Render ``scenario`` at ``fps`` over an (H, W, 3) uint8 RGB background."""
    count = int(np.floor(scenario.duration_s * fps + 1e-6)) + 1
    frames, boxes, shown = [], np.full((count, len(scenario.walks), 4), np.nan), \
        np.zeros((count, len(scenario.walks)))
    for index in range(count):
        where = [walk.at(index / fps) for walk in scenario.walks]
        present = [i for i, placement in enumerate(where) if placement is not None]
        if not present:
            frames.append(background.copy())
            continue
        rgb, layers, visible = paste_people([where[i] for i in present], background, camera,
                                            cutouts)
        frames.append(rgb)
        for i, layer, matte in zip(present, layers, visible):
            whole = extent(layer.alpha)
            if whole is not None:
                boxes[index, i] = whole
                shown[index, i] = float((matte >= OPAQUE).sum()) / layer.area
    height, width = background.shape[:2]
    return MovingClip(scenario.name, fps, frames, CameraModel.from_hfov(width, height),
                      boxes, shown, tuple(walk.cutout for walk in scenario.walks))


def moving_clips(directory: Path, fps: float, scenarios: Sequence[Scenario] = SCENARIOS,
                 model_dir: Optional[PathLike] = None) -> Iterator[MovingClip]:
    """Cut the people out of the photographs in ``directory``; yield each scenario's clip."""
    specs, labels = load_specs(), load_labels()
    pieces = cut_outs(specs, directory, load_segmenter(model_dir), labels)
    for scenario in scenarios:
        background = read_rgb(directory / scenario.background)
        camera = GroundCamera.of(background.shape[1], background.shape[0],
                                 specs.backgrounds[scenario.background])
        yield moving_clip(scenario, fps, background, camera, pieces)


def track(stream: Pipeline, clip: MovingClip) -> List[FrameResult]:
    """Run a pipeline over a moving clip, frame by frame; return each frame's result."""
    return [stream(frame, clip.camera, float(time_s))
            for frame, time_s in zip(clip.frames, clip.times)]


def measured(clip: MovingClip, results: Sequence[FrameResult]) -> Identities:
    """Return the identity measures (:func:`.identities.identities`) of a tracked clip."""
    return identities(clip.boxes, clip.shown, clip.in_view,
                      [[(p.track_id, p.bbox) for p in r.persons] for r in results], clip.fps)
