"""
Who the estimator finds in real photographs: recall and precision on the labelled set.

Runs the estimator (a 60 degree horizontal field of view, the settings given as options,
the same as ``pose3d-estimate``'s) on every photograph of
``pose3d_ros/evaluation/people_labels.json`` and prints markdown tables: per image, per
category (facing, truncated, occluded, small) and per source, then each person missed.
``--render DIR`` draws each image with its hits (green), misses (red), false alarms
(orange) and ignore regions (grey).

Usage: python bench/recall.py [--render DIR] [estimator options, e.g. --device cpu]
"""

import argparse
from pathlib import Path
import sys

import cv2
import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.evaluation.recall import Counts, load_labels, match, missed_people, summarise
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import fetch_samples, fetch_street_photos, read_rgb
from pose3d_ros.settings.schema import from_values, settings_of
from pose3d_ros.settings.surfaces import add_arguments, from_arguments

SETTINGS = settings_of(EstimatorConfig, 'cli')


def draw(rgb: np.ndarray, image, found: np.ndarray, result, path: Path) -> None:
    """Write the image with hits, misses, false alarms and ignore regions drawn."""
    canvas = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    scale = max(1, round(max(canvas.shape[:2]) / 640))

    def box(corners, colour) -> None:
        x0, y0, x1, y1 = np.round(corners).astype(int)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, 2 * scale)

    for corners in image.ignore:
        box(corners, (128, 128, 128))
    for label, index in result.hits:
        box(image.persons[label].box, (0, 200, 0))
        box(found[index], (0, 255, 0))
    for label in result.missed:
        box(image.persons[label].box, (0, 0, 255))
    for index in result.false_alarms:
        box(found[index], (0, 140, 255))
    cv2.imwrite(str(path), canvas)


def main() -> int:
    """Evaluate and print the tables; exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--render', type=Path, metavar='DIR',
                        help='write each image with its hits, misses and false alarms here')
    add_arguments(parser, SETTINGS)
    args = parser.parse_args()
    directory = fetch_samples()
    fetch_street_photos()
    estimator = PoseEstimator(from_values(EstimatorConfig, from_arguments(args, SETTINGS)))
    if args.render:
        args.render.mkdir(parents=True, exist_ok=True)
    results = []
    print(f'device: {estimator.device}, runtime: {estimator.runtime}\n')
    print('| image | source | labelled | found | missed | false alarms |')
    print('| --- | --- | --- | --- | --- | --- |')
    for image in load_labels():
        rgb = read_rgb(directory / image.name)
        persons = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])).persons
        found = np.array([p.bbox for p in persons]).reshape(-1, 4)
        result = match(found, image)
        results.append((image, result))
        print(f'| {image.name} | {image.source} | {len(image.persons)} | {len(result.hits)} | '
              f'{len(result.missed)} | {len(result.false_alarms)} |')
        if args.render:
            draw(rgb, image, found, result, args.render / f'{Path(image.name).stem}_recall.png')
    categories, sources = summarise(results)
    print('\n| category | labelled | found | recall |')
    print('| --- | --- | --- | --- |')
    for name, counts in categories.items():
        print(f'| {name} | {counts.labelled} | {counts.found} | {counts.recall:.2f} |')
    print('\n| source | labelled | found | false alarms | recall | precision |')
    print('| --- | --- | --- | --- | --- | --- |')
    total = sum(sources.values(), Counts())
    for name, counts in {**sources, 'all': total}.items():
        print(f'| {name} | {counts.labelled} | {counts.found} | {counts.false_alarms} | '
              f'{counts.recall:.2f} | {counts.precision:.2f} |')
    print('\nmissed:')
    for line in missed_people(results):
        print(f'- {line}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
