"""
The floor a frame's people stand on, and those people placed on it (after ``place``).

Which floor, in priority order: the robot's TF (a stream's ground frame, which the caller
looks up), the one the settings describe (``camera_height``, ``camera_pitch``,
``camera_roll``), or the people's (``ground_from_people``): for a single image, one fitted
to the feet of its standing people (three of them at least), for a stream, the one fitted
to its tracked people's feet over its recent frames (:mod:`.people_floor`, which the
caller keeps); with none, people keep the least-squares placement.
:func:`~..geometry.standing.place_on_floor` then fuses each standing person's fitted
distance with where their foot meets it.
"""

from dataclasses import replace
import math
from typing import Optional, Tuple

import numpy as np

from .config import EstimatorConfig
from .result import FrameResult, Person
from ..geometry.ground import GroundPlane, GroundSource
from ..geometry.rigid import RigidTransform
from ..geometry.standing import floor_from_people, place_on_floor


def configured_floor(config: EstimatorConfig) -> Optional[GroundPlane]:
    """Return the floor of the camera pose settings, or None when its height is unknown."""
    if config.camera_height <= 0.0:
        return None
    return GroundPlane.from_camera_pose(
        config.camera_height, math.radians(config.camera_pitch),
        math.radians(config.camera_roll), GroundSource.PARAMETERS,
        normal_std_rad=math.radians(config.ground_tilt_std),
        height_std_m=config.ground_height_std)


def tf_floor(config: EstimatorConfig, ground_in_camera: RigidTransform) -> GroundPlane:
    """
    Return the z = 0 plane of a ground frame whose camera-frame pose TF gives.

    The uncertainty is the settings' (``ground_height_std``, ``ground_tilt_std``); raises
    ValueError when the camera is not above that plane.
    """
    return GroundPlane.from_transform(ground_in_camera, GroundSource.TF,
                                      normal_std_rad=math.radians(config.ground_tilt_std),
                                      height_std_m=config.ground_height_std)


def stream_floor(config: EstimatorConfig, from_tf: Optional[GroundPlane],
                 from_people: Optional[GroundPlane]) -> Optional[GroundPlane]:
    """Return a stream frame's floor: TF's, else the settings', else the people's, or None."""
    return from_tf or configured_floor(config) or (
        from_people if config.ground_from_people else None)


def _stacked(persons: Tuple[Person, ...]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (N, J, 3) joints, (N, J, 2) keypoints and (N, J) visibility of ``persons``."""
    return (np.array([p.joints_3d for p in persons]), np.array([p.keypoints_2d for p in persons]),
            np.array([p.visibility for p in persons]))


def on_the_floor(result: FrameResult, config: EstimatorConfig,
                 given: Optional[GroundPlane] = None, single: bool = True) -> FrameResult:
    """
    Return ``result`` with its floor (:attr:`FrameResult.ground`) and its people on it.

    Persons of one joint set; those on the floor get new joints, ``on_ground``,
    ``height_m`` and ``foot``. Without persons or a floor, ``result`` as it is (with the
    given or configured floor). Only a single image (``single``) fits a floor to its own
    people: a stream's frames would each place people on a floor of their own.
    """
    plane = given or configured_floor(config)
    persons = result.persons
    if not persons:
        return replace(result, ground=plane)
    joint_set = persons[0].joint_set
    joints, keypoints, visibility = _stacked(persons)
    if plane is None and single and config.ground_from_people:
        fitted = floor_from_people(joints, keypoints, visibility, result.image_size, joint_set,
                                   config.people_stature)
        plane = fitted[0] if fitted else None
    if plane is None:
        return result
    fx, fy, _, _ = result.camera.intrinsics
    sizes = np.array([max(p.bbox[2] - p.bbox[0], p.bbox[3] - p.bbox[1]) for p in persons])
    placed = place_on_floor(joints, keypoints, visibility, np.maximum(sizes, 1.0),
                            math.sqrt(fx * fy), result.image_size, joint_set, plane)
    return replace(result, ground=plane, persons=tuple(
        replace(person, joints_3d=placed.joints[index], on_ground=True,
                height_m=float(placed.height_m[index]), foot=placed.feet[index],
                floor_scale=float(placed.scale[index]))
        if placed.on_ground[index] else person for index, person in enumerate(persons)))
