"""
People on the floor: distances and heights without a floor and with each kind of floor.

Uses the floor scenes of :mod:`pose3d_ros.evaluation.floor_scenes` (the standing real
people of the composites on a textured floor, cameras 1 to 6 m high and pitched 0 to 40
degrees, people 2 to 25 m away) and prints markdown tables:

1. per floor (none: each person on their own, today's placement; parameters: the true
   camera height and pitch; people: fitted to the image's standing people), the range
   error (where a person stands, along the floor, relative): median and worst, also by
   distance band; who was placed on the floor; the height error (relative to the pasted
   stature) of those on it;
2. the same on the walks (each scene's people walking, as clips through the stream
   pipeline, measured once its people's floor had time to settle): none, the true camera
   pose, and the floor the stream fits to its tracked people's footprints;
3. per scene, the floor fitted from the people against the true one, from the single image
   and from the walk's stream: normal angle, offset (camera height) error, inliers (the
   stream: footprints on the floor, and when its floor first counted);
4. bus.jpg: each person's height and distance with the floor fitted from its people.

Usage: python bench/floor.py [--device cpu|cuda] [--walk-seconds 10] [--fps 5]
       [--people-stature 1.7]  (0: the people's floors from their skeletons' size alone)
"""

import argparse
import math
import sys
from typing import Sequence

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.evaluation.floor_placement import (evaluate, evaluate_walks, FloorFit, FLOORS,
                                                   PersonPlacement, STREAM_FLOORS)
from pose3d_ros.evaluation.floor_scenes import floor_scenes, floor_walks
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import fetch_samples, fetch_street_photos, read_rgb

#: Distance bands of table 1 (metres along the floor).
BANDS = ((2.0, 6.0), (6.0, 12.0), (12.0, 26.0))


def _percent(values: np.ndarray, how) -> str:
    values = values[np.isfinite(values)]
    return f'{100 * how(np.abs(values)):.1f} %' if len(values) else '-'


def _fitted(fit: FloorFit) -> str:
    if not math.isfinite(fit.normal_error_deg):
        return 'no fit | |'
    return f'{fit.normal_error_deg:.2f} deg | {100 * fit.offset_error:+.1f} % |'


def print_placements(placements: Sequence[PersonPlacement], floors: Sequence[str]) -> None:
    """Print table 1 (or 2): range and height errors per floor, by distance band."""
    bands = ' | '.join(f'{low:g}-{high:g} m median' for low, high in BANDS)
    print(f'| floor | matched | median range error | worst | {bands} | on the floor | '
          'median height error | worst height error |')
    print('| --- ' * (8 + len(BANDS)) + '|')
    for floor in floors:
        rows = [p for p in placements if p.floor == floor]
        errors = np.array([p.range_error for p in rows])
        ranges = np.array([p.true_range_m for p in rows])
        heights = np.array([p.height_error for p in rows])
        by_band = ' | '.join(_percent(errors[(ranges >= low) & (ranges < high)], np.median)
                             for low, high in BANDS)
        print(f'| {floor} | {len(rows)} | {_percent(errors, np.median)} | '
              f'{_percent(errors, np.max)} | {by_band} | '
              f'{sum(p.on_ground for p in rows)} | {_percent(heights, np.median)} | '
              f'{_percent(heights, np.max)} |')


def main() -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--walk-seconds', type=float, default=10.0,
                        help='length of each walk (its second half is measured)')
    parser.add_argument('--fps', type=float, default=5.0, help='frame rate of the walks')
    parser.add_argument('--people-stature', type=float,
                        default=EstimatorConfig.people_stature,
                        help="the people's mean stature the people's floors are weighed with")
    args = parser.parse_args()
    fetch_samples()
    directory = fetch_street_photos()
    estimator = PoseEstimator(EstimatorConfig(device=args.device,
                                              people_stature=args.people_stature))
    scenes = list(floor_scenes(directory))
    placements, fits = evaluate(estimator, scenes)
    print(f'{len(scenes)} scenes, {sum(len(s.persons) for s in scenes)} people pasted\n')
    print_placements(placements, FLOORS)

    walks = floor_walks(directory, args.walk_seconds, args.fps)
    settle = args.walk_seconds / 2
    walked, streams = evaluate_walks(estimator, walks, settle)
    print(f'\nwalks of {args.walk_seconds:g} s at {args.fps:g} fps, measured from {settle:g} s '
          f'on: {len(walked) // len(STREAM_FLOORS)} person-frames matched\n')
    print_placements(walked, STREAM_FLOORS)

    print('\n| scene (height, pitch) | single image: normal error | offset error | inliers | '
          'stream: normal error | offset error | footprints on it | in all | first at |')
    print('| --- ' * 9 + '|')
    for fit, stream in zip(fits, streams):
        first = f'{stream.first_s:.1f} s' if math.isfinite(stream.first_s) else 'never'
        print(f'| {fit.scene} | {_fitted(fit)} {fit.inliers} | {_fitted(stream.fit)} '
              f'{stream.fit.inliers} | {stream.footprints} | {first} |')

    rgb = read_rgb(directory / 'bus.jpg')
    result = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0]))
    ground = result.ground
    print(f'\nbus.jpg floor: {ground.source.value if ground else "none"}'
          + (f', camera {ground.height_m:.2f} m up, pitch '
             f'{math.degrees(ground.pitch_rad):.1f} deg, {ground.inliers} inliers'
             if ground else ''))
    print('\n| person (box x0) | on the floor | height | distance |')
    print('| --- | --- | --- | --- |')
    for person in sorted(result.persons, key=lambda p: p.bbox[0]):
        height = f'{person.height_m:.2f} m' if person.height_m is not None else '-'
        print(f'| {person.bbox[0]:.0f} | {person.on_ground} | {height} | '
              f'{np.linalg.norm(person.root):.2f} m |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
