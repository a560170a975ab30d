"""A stream's floor fitted online to its tracked people's feet: window, outliers, reset."""

from dataclasses import replace
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
from pose3d_ros.estimation import people_floor
from pose3d_ros.estimation.people_floor import MOVED_FRAMES, PeopleFloor
from pose3d_ros.estimation.result import Person
from pose3d_ros.evaluation.floor_scenes import FloorCamera
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.ground import GroundPlane, GroundSource
import pytest

from .test_standing import body, CAMERA

SIZE = (1280, 960)
#: The same camera raised and pitched further, as if remounted.
MOVED = FloorCamera(3.0, 25.0, CameraModel.from_hfov(*SIZE, 60.0))
FPS = 5.0


def person(track: Optional[int], x: float, y: float, scale: float = 1.0, lift: float = 0.0,
           camera: FloorCamera = CAMERA) -> Person:
    """Return a tracked person standing at (x, y) on the floor, placed ``scale`` too far."""
    placed = body() + [x, y, lift]
    joints, pixels = camera.to_camera(placed), camera.project(placed)
    return Person(score=0.9, bbox=np.concatenate([pixels.min(0), pixels.max(0)]),
                  keypoints_2d=pixels, visibility=np.ones(33), joints_3d=joints * scale,
                  root_prior_z=float(joints[0, 2]), root_from_fit=True, track_id=track)


#: Walkers: track id, start (x, y) m, velocity m/s, the fit's own scale error.
WALKERS = ((1, (-2.5, 4.0), (0.4, 0.5), 1.06), (2, (2.5, 5.0), (-0.5, 0.6), 0.95),
           (3, (0.0, 12.0), (0.3, -0.7), 1.02))


def walk(seconds: float, camera: FloorCamera = CAMERA, start_s: float = 0.0
         ) -> List[Tuple[float, List[Person]]]:
    """Return (time, persons) of the walkers at FPS, from ``start_s`` for ``seconds``."""
    frames = []
    for index in range(round(seconds * FPS)):
        time_s = start_s + index / FPS
        frames.append((time_s, [person(track, x + vx * time_s, y + vy * time_s, scale,
                                       camera=camera)
                                for track, (x, y), (vx, vy), scale in WALKERS]))
    return frames


def run(floor: PeopleFloor, frames: Sequence[Tuple[float, List[Person]]],
        stature_m: float = 0.0) -> List[bool]:
    """Feed the frames in order; return what each update said (camera moved)."""
    return [floor.update(persons, SIZE, time_s, stature_m) for time_s, persons in frames]


def errors(plane: GroundPlane, truth: GroundPlane) -> Tuple[float, float]:
    """Return the normal's angle (degrees) and the offset's relative error."""
    angle = math.degrees(math.acos(min(1.0, float(plane.normal @ truth.normal))))
    return angle, plane.height_m / truth.height_m - 1.0


def test_walking_people_give_the_floor_and_one_on_a_step_does_not_count() -> None:
    floor = PeopleFloor(window_s=30.0)
    frames = [(time_s, persons + [person(9, 1.0, 7.0, lift=0.8)])  # on a step, still
              for time_s, persons in walk(10.0)]
    assert not any(run(floor, frames))
    plane = floor.plane
    assert plane is not None and plane.source is GroundSource.PEOPLE
    angle, offset = errors(plane, CAMERA.ground)
    assert angle < 1.0
    # The offset is the walkers' common scale: their errors average (1.06, 0.95, 1.02).
    assert abs(offset) < 0.05
    # Every footprint but the step's is on it, and each lies 0.3 m from its track's others:
    # far fewer than one per person and frame.
    assert plane.inliers == len(floor) - 1
    assert len(floor) < len(frames) * len(WALKERS) / 2
    # Its uncertainty is that of three people, not of every footprint.
    assert plane.height_std_m > 0.02 * plane.height_m


def test_the_statures_correct_a_size_error_all_the_skeletons_share() -> None:
    frames = [(time_s, [replace(p, joints_3d=p.joints_3d * 1.12) for p in persons])
              for time_s, persons in walk(20.0)]  # every skeleton 12 % too large
    by_size, by_stature = PeopleFloor(window_s=30.0), PeopleFloor(window_s=30.0)
    run(by_size, frames)
    # The walkers' stature (body()); the feet, at the skeletons' scale, still fit the floor
    # before the statures moved its height: the camera has not moved.
    assert not any(run(by_stature, frames, stature_m=1.8))
    assert by_stature.resets == 0
    assert errors(by_size.plane, CAMERA.ground)[1] > 0.09
    assert abs(errors(by_stature.plane, CAMERA.ground)[1]) < 0.03
    # The normal is the fit's either way; the height is surer with both estimates.
    np.testing.assert_allclose(by_stature.plane.normal, by_size.plane.normal)
    assert by_stature.plane.height_std_m / by_stature.plane.height_m < \
        by_size.plane.height_std_m / by_size.plane.height_m


def test_people_standing_still_are_one_footprint_each_and_too_few() -> None:
    floor = PeopleFloor(window_s=30.0)
    still = [person(1, -1.0, 5.0), person(2, 1.5, 8.0), person(3, 0.0, 11.0)]
    run(floor, [(index / FPS, still) for index in range(30)])
    assert len(floor) == 3 and floor.plane is None


def test_one_walker_alone_or_untracked_people_give_no_floor() -> None:
    alone = PeopleFloor(window_s=30.0)
    run(alone, [(time_s, persons[:1]) for time_s, persons in walk(10.0)])
    assert len(alone) > 6 and alone.plane is None  # many footprints, one person
    untracked = PeopleFloor(window_s=30.0)
    run(untracked, [(time_s, [replace(p, track_id=None) for p in persons])
                    for time_s, persons in walk(10.0)])
    assert len(untracked) == 0 and untracked.plane is None


def test_the_window_forgets_old_footprints(monkeypatch: pytest.MonkeyPatch) -> None:
    floor = PeopleFloor(window_s=2.0)
    frames = walk(10.0)
    run(floor, frames)
    assert len(floor) > 0
    assert floor._times.min() >= frames[-1][0] - 2.0
    # At most MAX_FOOTPRINTS are kept: those seen most recently.
    monkeypatch.setattr(people_floor, 'MAX_FOOTPRINTS', 12)
    crowded = PeopleFloor(window_s=60.0)
    still = [person(9, 0.0, 6.0)]
    run(crowded, [(0.0, still)] + [(time_s, persons + still) for time_s, persons
                                   in walk(10.0, start_s=0.2)])
    assert len(crowded) == 12 and 9 in crowded._tracks  # the first, renewed every frame


def test_the_floors_own_scaling_is_undone() -> None:
    plain, scaled = PeopleFloor(window_s=30.0), PeopleFloor(window_s=30.0)
    frames = walk(6.0)
    run(plain, frames)
    # The same people as the floor would have scaled them: the footprints are the fit's.
    run(scaled, [(time_s, [replace(p, joints_3d=p.joints_3d * 1.1, floor_scale=1.1)
                           for p in persons]) for time_s, persons in frames])
    np.testing.assert_allclose(scaled.plane.normal, plain.plane.normal, atol=1e-9)
    assert scaled.plane.height_m == pytest.approx(plain.plane.height_m, rel=1e-9)


def test_a_camera_that_moved_resets_the_fit() -> None:
    floor = PeopleFloor(window_s=60.0)
    run(floor, walk(8.0))
    assert errors(floor.plane, CAMERA.ground)[0] < 2.0
    moved = run(floor, walk(16.0, MOVED, start_s=8.0))
    # Once, after MOVED_FRAMES frames in a row whose feet missed the old floor, within 2 s.
    assert moved.count(True) == 1 and MOVED_FRAMES - 1 <= moved.index(True) < 2 * FPS
    assert floor.resets == 1
    angle, offset = errors(floor.plane, MOVED.ground)
    assert angle < 2.0 and abs(offset) < 0.05
