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
2. per scene, the floor fitted from the people against the true one: normal angle, offset
   (camera height) error, inliers;
3. bus.jpg: each person's height and distance with the floor fitted from its people.

Usage: python bench/floor.py [--device cpu|cuda]
"""

import argparse
import math
import sys

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.evaluation.floor_placement import evaluate, FLOORS
from pose3d_ros.evaluation.floor_scenes import floor_scenes
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import fetch_samples, fetch_street_photos, read_rgb

#: Distance bands of table 1 (metres along the floor).
BANDS = ((2.0, 6.0), (6.0, 12.0), (12.0, 26.0))


def _percent(values: np.ndarray, how) -> str:
    values = values[np.isfinite(values)]
    return f'{100 * how(np.abs(values)):.1f} %' if len(values) else '-'


def main() -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    fetch_samples()
    directory = fetch_street_photos()
    estimator = PoseEstimator(EstimatorConfig(device=args.device))
    scenes = list(floor_scenes(directory))
    placements, fits = evaluate(estimator, scenes)
    print(f'{len(scenes)} scenes, {sum(len(s.persons) for s in scenes)} people pasted\n')
    bands = ' | '.join(f'{low:g}-{high:g} m median' for low, high in BANDS)
    print(f'| floor | matched | median range error | worst | {bands} | on the floor | '
          'median height error | worst height error |')
    print('| --- ' * (8 + len(BANDS)) + '|')
    for floor in FLOORS:
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

    print('\n| scene (height, pitch) | normal error | offset error | inliers |')
    print('| --- | --- | --- | --- |')
    for fit in fits:
        found = math.isfinite(fit.normal_error_deg)
        print(f'| {fit.scene} | ' + (f'{fit.normal_error_deg:.2f} deg | '
                                     f'{100 * fit.offset_error:+.1f} % | {fit.inliers} |'
                                     if found else 'no fit | | |'))

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
