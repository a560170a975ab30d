"""
How well people are placed on the floor scenes (:mod:`.floor_scenes`), floor by floor.

Each scene is estimated once without a floor (today's placement: each person on their
own); then the same persons are placed on each floor of :data:`FLOORS` as the estimator
does (:func:`~..estimation.grounding.on_the_floor`): the scene's true camera pose given as
parameters, and the floor fitted to the standing people of the image. The walks (the
scenes' people walking, as clips) run through the stream pipeline instead, whose floor
comes from its tracked people's footprints (:func:`evaluate_walks`). A found person is
the pasted one whose box they overlap most (IoU at least :data:`MIN_IOU`). Where they
stand is the true floor's point under their ankles' midpoint; its range, along the floor
from the point under the camera, is compared with the pasted person's (a billboard: all
of them stands at one range).
"""

from dataclasses import dataclass, replace
import math
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .floor_scenes import FloorScene, FloorWalk
from ..estimation.config import EstimatorConfig
from ..estimation.estimator import PoseEstimator
from ..estimation.grounding import on_the_floor
from ..estimation.pipeline import Pipeline
from ..estimation.result import FrameResult
from ..geometry import boxes
from ..geometry.ground import GroundPlane

#: A found person and a pasted one overlap at least this much (IoU) to be matched.
MIN_IOU = 0.5
#: The floors compared: none (each person on their own), the camera pose as parameters,
#: the floor fitted to the people of the image.
FLOORS = ('none', 'parameters', 'people')


@dataclass(frozen=True)
class PersonPlacement:
    """One matched person on one floor: range and height errors, on the floor or not."""

    scene: str
    floor: str
    true_range_m: float
    range_error: float  # relative, signed
    height_error: float  # relative, signed; NaN off the floor
    on_ground: bool


@dataclass(frozen=True)
class FloorFit:
    """A floor fitted from a scene's people against its truth (None: no fit)."""

    scene: str
    normal_error_deg: float
    offset_error: float  # relative, signed
    inliers: int


def _floor_config(config: EstimatorConfig, floor: str, scene: FloorScene) -> EstimatorConfig:
    """Return the settings that give ``floor``: the true camera pose, the people, neither."""
    if floor == 'parameters':
        return replace(config, camera_height=scene.camera.height_m,
                       camera_pitch=scene.camera.pitch_deg, camera_roll=0.0,
                       ground_from_people=False)
    return replace(config, camera_height=0.0, ground_from_people=floor == 'people')


def _matches(result: FrameResult, scene: FloorScene) -> Dict[int, int]:
    """Return pasted index -> found index, greedily by IoU, at least :data:`MIN_IOU`."""
    if not result.persons:
        return {}
    iou = boxes.overlap(scene.boxes, np.array([p.bbox for p in result.persons]))
    pairs = {}
    for flat in np.argsort(-iou, axis=None):
        truth, found = np.unravel_index(flat, iou.shape)
        if iou[truth, found] < MIN_IOU:
            break
        if truth not in pairs and found not in pairs.values():
            pairs[int(truth)] = int(found)
    return pairs


def floor_range(points: np.ndarray, ground: GroundPlane) -> np.ndarray:
    """Return (N,) how far along ``ground`` (N, 3) points stand from under the camera."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    on_floor = points - ground.heights(points)[:, None] * ground.normal
    return np.linalg.norm(on_floor + ground.height_m * ground.normal, axis=1)


def _placed(result: FrameResult, scene: FloorScene, floor: str) -> List[PersonPlacement]:
    """Return each matched person's range and height error, on ``floor``."""
    placements = []
    truth = scene.camera.ground
    for pasted, found in _matches(result, scene).items():
        person = result.persons[found]
        ankles = [person.joint_set.index(f'{side}_ankle') for side in ('left', 'right')]
        reached = floor_range(person.joints_3d[ankles].mean(axis=0), truth)[0]
        height = (person.height_m / scene.statures[pasted] - 1.0
                  if person.height_m is not None else math.nan)
        placements.append(PersonPlacement(
            scene.name, floor, float(scene.ranges[pasted]),
            float(reached / scene.ranges[pasted] - 1.0), height, person.on_ground))
    return placements


def evaluate(estimator: PoseEstimator, scenes: Sequence[FloorScene]
             ) -> Tuple[List[PersonPlacement], List[FloorFit]]:
    """Return every matched person's :class:`PersonPlacement` per floor, and the fits."""
    placements: List[PersonPlacement] = []
    fits: List[FloorFit] = []
    config = estimator.config
    try:
        for scene in scenes:
            estimator.config = _floor_config(config, 'none', scene)
            alone = estimator(scene.rgb, scene.camera.camera)
            for floor in FLOORS:
                result = on_the_floor(alone, _floor_config(config, floor, scene))
                if floor == 'people':
                    fits.append(_fit(scene.name, result.ground, scene.camera.ground))
                placements += _placed(result, scene, floor)
    finally:
        estimator.config = config
    return placements, fits


#: The floors compared on the walks: none, the true camera pose, the stream's people floor.
STREAM_FLOORS = ('none', 'parameters', 'people (stream)')


@dataclass(frozen=True)
class StreamFloor:
    """A walk's floor from its people at the end, and when it first counted (NaN: never)."""

    fit: FloorFit
    footprints: int
    first_s: float


def _unfloored(result: FrameResult) -> FrameResult:
    """Return ``result`` with its persons as the least-squares fit placed them."""
    return replace(result, ground=None, persons=tuple(
        replace(p, joints_3d=p.fit_joints_3d, on_ground=False, height_m=None, foot=None,
                floor_scale=1.0) for p in result.persons))


def evaluate_walks(estimator: PoseEstimator, walks: Iterable[FloorWalk], settle_s: float
                   ) -> Tuple[List[PersonPlacement], List[StreamFloor]]:
    """
    Track each walk with the pipeline's defaults and its people's floor; measure placement.

    The pipeline runs once per walk, its floor from the people (no camera pose given).
    From ``settle_s`` on, every frame's matched persons are measured as placed (people
    (stream)), as the fit placed them (none: the floor's scaling undone) and placed on the
    true floor (parameters). Returns those and each walk's :class:`StreamFloor`.
    """
    placements: List[PersonPlacement] = []
    floors: List[StreamFloor] = []
    config = estimator.config
    try:
        for walk in walks:
            estimator.config = _floor_config(config, 'people', walk.frames[0])
            pipeline, first = Pipeline(estimator), math.nan
            for time_s, scene in zip(walk.times, walk.frames):
                result = pipeline(scene.rgb, walk.camera.camera, time_s)
                if result.ground is not None and math.isnan(first):
                    first = time_s
                if time_s < settle_s:
                    continue
                alone = _unfloored(result)
                placements += _placed(alone, scene, 'none')
                placements += _placed(on_the_floor(alone, _floor_config(
                    config, 'parameters', scene)), scene, 'parameters')
                placements += _placed(result, scene, 'people (stream)')
            floors.append(StreamFloor(_fit(walk.name, pipeline.people_floor.plane,
                                           walk.camera.ground),
                                      len(pipeline.people_floor), first))
    finally:
        estimator.config = config
    return placements, floors


def _fit(name: str, fitted: Optional[GroundPlane], truth: GroundPlane) -> FloorFit:
    if fitted is None:
        return FloorFit(name, math.nan, math.nan, 0)
    angle = math.degrees(math.acos(float(np.clip(fitted.normal @ truth.normal, -1.0, 1.0))))
    return FloorFit(name, angle, fitted.height_m / truth.height_m - 1.0, fitted.inliers)
