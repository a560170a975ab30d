"""
Floor scenes: real people stood on a floor seen by a camera at a known height and pitch.

The level composites (:mod:`.composites`) keep the camera level. To measure placement on a
floor, each scene here has a pinhole camera ``height_m`` above a flat floor, pitched
``pitch_deg`` below the horizon (no roll), a 60 degree horizontal field of view, and a row
of standing cut-outs (the real people of :mod:`.composites`) at known floor points, 2 to
25 m away. The floor is a real photograph's cobbles (the bottom of leuvenA.jpg) laid on the
ground plane and seen through the camera's homography; above the horizon, the top of
building.jpg. Each person is a billboard: the cut-out stands upright on the floor at its
soles, ``height_m`` tall, parallel to the image's x axis, and the camera's homography of
that vertical plane warps it into the frame. So every pixel of a person, feet and head
alike, is where the scene's geometry puts it: far people are small and high, and a
pitched camera sees a near person's legs converge. People differ in stature
(:data:`STATURES`: each cut-out is scaled to its person's), as a crowd does.

Truth per person: the floor point under the middle of the soles (camera optical frame),
the range along the floor from the point under the camera, and the stature.
"""

from dataclasses import dataclass, replace
import math
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Tuple

import cv2
import numpy as np

from .composites import cut_outs, CutOut, load_segmenter, load_specs, OPAQUE
from .recall import LABELS, load_labels
from ..geometry.camera import CameraModel
from ..geometry.ground import GroundPlane
from ..models.store import PathLike
from ..samples import read_rgb

#: Frame size of every scene (4:3).
SIZE = (1280, 960)
#: The floor photograph (its bottom third is cobbles) and the sky photograph.
FLOOR_IMAGE, SKY_IMAGE = 'leuvenA.jpg', 'building.jpg'
#: The floor texture covers this many metres across per texture pixel.
FLOOR_M_PER_PX = 0.05
#: The cut-outs standing in the scenes (the mirrored ones alternate).
STANDING = ('bus-fleece', 'bus-black-coat')
#: (camera height m, pitch deg) of the scenes: heights 1 to 6 m, pitch 0 to 40 degrees.
CAMERAS = ((1.0, 0.0), (1.5, 5.0), (1.5, 15.0), (2.5, 10.0), (3.0, 25.0), (4.0, 20.0),
           (4.0, 35.0), (6.0, 30.0), (6.0, 40.0))
#: Distances along the floor (m) a person may be placed at, near to far.
DISTANCES = (2.0, 3.0, 4.5, 6.5, 9.0, 12.0, 16.0, 20.0, 25.0)
#: At most this many people per scene, and they must show whole with this margin (pixels).
PER_SCENE, MARGIN_PX = 6, 8
#: The statures of a scene's people, in turn (metres): adults, 1.72 m on average.
STATURES = (1.60, 1.76, 1.68, 1.84, 1.64, 1.80)


@dataclass(frozen=True)
class FloorCamera:
    """A camera ``height_m`` over the floor, pitched ``pitch_deg`` down, no roll."""

    height_m: float
    pitch_deg: float
    camera: CameraModel

    @property
    def rotation(self) -> np.ndarray:
        """Return (3, 3): ground (x right, y forward, z up) to camera optical axes."""
        pitch = math.radians(self.pitch_deg)
        return np.array([[1.0, 0.0, 0.0],
                         [0.0, -math.sin(pitch), -math.cos(pitch)],
                         [0.0, math.cos(pitch), -math.sin(pitch)]])

    @property
    def ground(self) -> GroundPlane:
        """Return the floor in the camera frame."""
        return GroundPlane.from_camera_pose(self.height_m, math.radians(self.pitch_deg))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Return (N, 3) ground-frame points in the camera optical frame."""
        return (np.asarray(points, dtype=np.float64) - [0.0, 0.0, self.height_m]) @ \
            self.rotation.T

    def project(self, points: np.ndarray) -> np.ndarray:
        """Return (N, 2) pixels of (N, 3) ground-frame points (ideal pinhole)."""
        camera = self.to_camera(points) @ self.camera.k.T
        return camera[:, :2] / camera[:, 2:]

    def homography(self, plane_to_ground: np.ndarray) -> np.ndarray:
        """Return the (3, 3) pixels of a plane given by (3, 3) (a, b, 1) -> ground offsets."""
        return self.camera.k @ self.rotation @ plane_to_ground


@dataclass(frozen=True)
class StandingPerson:
    """
    One placed person: ``x`` m right and ``y`` m ahead on the floor, mirrored or not.

    The cut-out is scaled to ``stature_m``.
    """

    cutout: str
    x: float
    y: float
    mirrored: bool
    stature_m: float


@dataclass(frozen=True)
class FloorScene:
    """
    A built scene: its camera, (H, W, 3) uint8 RGB, and per person (in order) the truth.

    ``feet`` (N, 3) the floor points under the soles, camera optical frame; ``ranges``
    (N,) metres along the floor from the point under the camera; ``statures`` (N,) m;
    ``boxes`` (N, 4) where each one's matte shows (x0, y0, x1, y1).
    """

    name: str
    camera: FloorCamera
    rgb: np.ndarray
    persons: Tuple[StandingPerson, ...]
    feet: np.ndarray
    ranges: np.ndarray
    statures: np.ndarray
    boxes: np.ndarray


def _backdrop(camera: FloorCamera, floor: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Return the (H, W, 3) float32 sky above the horizon and the textured floor below."""
    frame = cv2.resize(sky, SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    texture = floor[2 * floor.shape[0] // 3:].astype(np.float32)
    texture = np.concatenate([texture, texture[::-1]] * 4, axis=0)  # a long floor
    texture = np.concatenate([texture, texture[:, ::-1]] * 2, axis=1)
    rows, columns = texture.shape[:2]
    # Texture pixel (a, b) lies at x = (a - columns / 2) m, y = 0.5 m + (rows - b) m.
    metres = FLOOR_M_PER_PX
    to_ground = np.array([[metres, 0.0, -metres * columns / 2],
                          [0.0, -metres, 0.5 + metres * rows],
                          [0.0, 0.0, -camera.height_m]])
    on_floor = cv2.warpPerspective(texture, camera.homography(to_ground), SIZE,
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=(-1, -1, -1))
    drawn = on_floor[..., 0] >= 0
    frame[drawn] = on_floor[drawn]
    return frame


def _billboard(cutout: CutOut, person: StandingPerson, camera: FloorCamera
               ) -> Tuple[np.ndarray, np.ndarray]:
    """Return a cut-out's premultiplied (H, W, 3) colour and (H, W) matte in the frame."""
    if person.mirrored:
        cutout = cutout.mirrored()
    metres = person.stature_m / cutout.feet  # per cut-out pixel
    pixels = camera.project(np.array([[person.x, person.y, 0.0],
                                      [person.x, person.y, person.stature_m]]))
    shrink = min(1.0, float(np.linalg.norm(pixels[1] - pixels[0])) / cutout.feet)
    height, width = cutout.alpha.shape
    size = (max(2, round(width * shrink)), max(2, round(height * shrink)))
    alpha = cv2.resize(cutout.alpha, size, interpolation=cv2.INTER_AREA)
    colour = cv2.resize(cutout.rgb.astype(np.float32) * cutout.alpha[..., None], size,
                        interpolation=cv2.INTER_AREA)
    step = metres * width / size[0]
    # Cut-out pixel (a, b) lies at x + (a - w / 2) step, y, (feet - b) step.
    feet = cutout.feet * size[1] / height
    to_ground = np.array([[step, 0.0, person.x - step * size[0] / 2],
                          [0.0, 0.0, person.y],
                          [0.0, -step, step * feet - camera.height_m]])
    warp = camera.homography(to_ground)
    return (cv2.warpPerspective(colour, warp, SIZE, flags=cv2.INTER_LINEAR),
            cv2.warpPerspective(alpha, warp, SIZE, flags=cv2.INTER_LINEAR))


def layout(camera: FloorCamera) -> Tuple[StandingPerson, ...]:
    """
    Return a row of people for ``camera``, mirrored in turn.

    Of the :data:`DISTANCES` where the tallest of :data:`STATURES` shows whole, with
    :data:`MARGIN_PX` to spare, at most :data:`PER_SCENE` spread near to far; each stands
    in their own column of the image, near and far ones in turn from the edges inwards,
    so that few hide others.
    """
    width, height = SIZE
    fx, _, cx, _ = camera.camera.intrinsics
    pitch = math.radians(camera.pitch_deg)

    def lateral(column: float, distance: float) -> float:
        depth = distance * math.cos(pitch) + camera.height_m * math.sin(pitch)
        return (column * width - cx) / fx * depth

    def whole(distance: float) -> bool:
        ends = camera.project(np.array([[0.0, distance, 0.0],
                                        [0.0, distance, max(STATURES)]]))
        return bool(ends[:, 1].min() >= MARGIN_PX and ends[:, 1].max() <= height - MARGIN_PX)

    fits = [distance for distance in DISTANCES if whole(distance)]
    count = min(PER_SCENE, len(fits))
    chosen = sorted({fits[round(i)] for i in np.linspace(0, len(fits) - 1, count)})
    columns = np.linspace(0.12, 0.88, len(chosen))
    order = [index // 2 if index % 2 == 0 else len(chosen) - 1 - index // 2
             for index in range(len(chosen))]  # 0, N-1, 1, N-2, ...
    return tuple(StandingPerson(STANDING[index % len(STANDING)],
                                lateral(columns[order[index]], distance), distance,
                                bool(index % 2), STATURES[index % len(STATURES)])
                 for index, distance in enumerate(chosen))


def build(name: str, camera: FloorCamera, persons: Sequence[StandingPerson],
          cutouts: Dict[str, CutOut], floor: np.ndarray, sky: np.ndarray) -> FloorScene:
    """Paste ``persons`` far to near over the scene's floor and sky."""
    canvas = _backdrop(camera, floor, sky)
    cover = np.zeros(SIZE[::-1], np.float32)
    boxes = np.zeros((len(persons), 4))
    layers = [_billboard(cutouts[person.cutout], person, camera) for person in persons]
    for index in sorted(range(len(persons)), key=lambda i: persons[i].y):  # near first
        shows = layers[index][1] * (1.0 - cover)
        rows = np.flatnonzero((shows >= OPAQUE).any(axis=1))
        columns = np.flatnonzero((shows >= OPAQUE).any(axis=0))
        if not len(rows):
            raise ValueError(f'{name}: person {index} is hidden or out of the frame')
        boxes[index] = columns[0], rows[0], columns[-1] + 1, rows[-1] + 1
        cover = cover + shows
    for index in sorted(range(len(persons)), key=lambda i: -persons[i].y):
        colour, alpha = layers[index]
        canvas = canvas * (1.0 - alpha[..., None]) + colour
    rgb = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    ground = np.array([[p.x, p.y, 0.0] for p in persons])
    return FloorScene(name, camera, rgb, tuple(persons), camera.to_camera(ground),
                      np.hypot(ground[:, 0], ground[:, 1]),
                      np.array([p.stature_m for p in persons]), boxes)


def _materials(directory: Path, model_dir: Optional[PathLike], path: Path
               ) -> Tuple[Dict[str, CutOut], np.ndarray, np.ndarray]:
    """Return the standing cut-outs, and the floor and sky photographs."""
    specs = load_specs(path)
    wanted = type(specs)({name: specs.cutouts[name] for name in STANDING}, specs.backgrounds,
                         specs.layouts)
    cutouts = cut_outs(wanted, directory, load_segmenter(model_dir), load_labels(path))
    return cutouts, read_rgb(directory / FLOOR_IMAGE), read_rgb(directory / SKY_IMAGE)


def _camera(height_m: float, pitch_deg: float) -> FloorCamera:
    return FloorCamera(height_m, pitch_deg, CameraModel.from_hfov(*SIZE, 60.0))


def floor_scenes(directory: Path, model_dir: Optional[PathLike] = None,
                 cameras: Sequence[Tuple[float, float]] = CAMERAS,
                 path: Path = LABELS) -> Iterator[FloorScene]:
    """Build a scene per (height, pitch) of ``cameras`` from the photographs in ``directory``."""
    cutouts, floor, sky = _materials(directory, model_dir, path)
    for height_m, pitch_deg in cameras:
        camera = _camera(height_m, pitch_deg)
        yield build(f'h{height_m:g}-p{pitch_deg:g}', camera, layout(camera),
                    cutouts, floor, sky)


#: Walks: a person sways across by this fraction of their distance (metres per metre) ...
SWAY_ACROSS = 0.06
#: ... and walks away by up to this fraction of it and back, ...
WALK_AWAY = 0.15
#: ... with these periods (seconds), each person at their own phase.
SWAY_PERIOD_S, WALK_PERIOD_S = 6.0, 7.0


def walked(person: StandingPerson, index: int, time_s: float) -> StandingPerson:
    """
    Return where ``person`` of a scene's layout has walked to at ``time_s``.

    They sway across and walk away from their place and back (never nearer, so that whoever
    showed whole still does), each person at a phase of their own.
    """
    phase = 2.0 * math.pi * index / PER_SCENE
    across = SWAY_ACROSS * person.y * math.sin(2.0 * math.pi * time_s / SWAY_PERIOD_S + phase)
    away = WALK_AWAY * person.y * (1.0 - math.cos(
        2.0 * math.pi * time_s / WALK_PERIOD_S + phase)) / 2.0
    return replace(person, x=person.x + across, y=person.y + away)


@dataclass(frozen=True)
class FloorWalk:
    """A camera's scene as a clip: the frames (scenes) of its people walking, and their times."""

    name: str
    camera: FloorCamera
    times: Tuple[float, ...]
    frames: Tuple[FloorScene, ...]


def floor_walks(directory: Path, seconds: float, fps: float,
                model_dir: Optional[PathLike] = None,
                cameras: Sequence[Tuple[float, float]] = CAMERAS,
                path: Path = LABELS) -> Iterator[FloorWalk]:
    """Build, per camera, ``seconds`` of its scene's people walking (:func:`walked`) at ``fps``."""
    cutouts, floor, sky = _materials(directory, model_dir, path)
    for height_m, pitch_deg in cameras:
        camera = _camera(height_m, pitch_deg)
        name, people = f'h{height_m:g}-p{pitch_deg:g}', layout(camera)
        times = tuple(index / fps for index in range(round(seconds * fps)))
        yield FloorWalk(name, camera, times, tuple(
            build(name, camera, [walked(p, i, t) for i, p in enumerate(people)], cutouts,
                  floor, sky) for t in times))
