"""
Synthetic video sequences made from real image content, and the tracking measures on them.

A real photograph's person is pasted into plain canvases frame by frame — translated and
scaled, crossing a mirrored copy of itself, standing still under pixel noise, or moving at
a constant speed — so the ground truth (who is where) is known. Used by the tracking tests
and ``bench/tracking.py``; frames are at ``FPS``.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..estimation.pipeline import Pipeline
from ..estimation.result import Person
from ..geometry.camera import CameraModel

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
