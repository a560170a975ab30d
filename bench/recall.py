"""
Who the estimator finds in real photographs: recall and precision on the labelled set.

Runs the estimator (a 60 degree horizontal field of view, the settings given as options,
the same as ``pose3d-estimate``'s) on every photograph of
``pose3d_ros/evaluation/people_labels.json`` and on its composites (real people cut out
and stood on the ground plane of real backgrounds, :mod:`pose3d_ros.evaluation.composites`)
and prints markdown tables: per image, per category (facing, truncated, occluded, side by
side, small) and per source, then each person missed. ``--render DIR`` draws each image
with its hits (green), misses (red), false alarms (orange) and ignore regions (grey).

``--compare`` instead evaluates every configuration of :data:`CONSIDERED` (the proposal
sources and settings weighed for the defaults) in one run, interleaved image by image, and
prints recall and precision overall and per category against the milliseconds per image,
as a ratio to the first (BlazePose's detector alone, the sources before the ones that need
no face).

``--stream`` instead feeds every image to the stream pipeline as a still clip of
``search_frames`` frames, the proposal sources on each (``detect_every`` 1): each frame
looks at one part of the search, the tracker keeps whom the parts found. It prints recall
and precision after the first frame and after the last (the whole search seen), and the
frames per second against the detector alone, same run.

Usage: python bench/recall.py [--render DIR | --compare | --stream] [estimator options, e.g.
--device cpu]
"""

import argparse
from pathlib import Path
import sys
import time
from typing import Dict, List

import cv2
import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.pipeline import Pipeline, PipelineConfig
from pose3d_ros.estimation.proposals import DETECTOR_ONLY
from pose3d_ros.evaluation.composites import evaluated_images
from pose3d_ros.evaluation.recall import CATEGORIES, Counts, match, missed_people, summarise
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import fetch_samples, fetch_street_photos
from pose3d_ros.settings.schema import from_values, settings_of
from pose3d_ros.settings.surfaces import add_arguments, from_arguments

SETTINGS = settings_of(EstimatorConfig, 'cli')

#: The configurations ``--compare`` weighs, as changes to the options given.
CONSIDERED: Dict[str, dict] = {
    'detector only': DETECTOR_ONLY,
    '+ grids 4, 6': {**DETECTOR_ONLY, 'detector_grids': (1, 2, 3, 4, 6)},
    '+ frame edges': {**DETECTOR_ONLY, 'frame_edges': True},
    '+ near field': {**DETECTOR_ONLY, 'near_field': True},
    '+ HOG 64x128, step 1.2': {**DETECTOR_ONLY, 'hog_detectors': 'people_64x128'},
    '+ HOG both x2, step 1.1': {**DETECTOR_ONLY, 'hog_detectors': 'both',
                                'hog_upscale': 2.0, 'hog_scale_step': 1.1},
    '+ far rows': {**DETECTOR_ONLY, 'far_rows': 'auto'},
    'defaults without far rows': {'far_rows': 'off'},
    'defaults (grids 4, 6, frame edges, HOG 64x128, far rows)': {},
    'defaults, far rows at presence 0.9': {'far_row_pose_presence': 0.9},
    'defaults + grid 8': {'detector_grids': (1, 2, 3, 4, 6, 8)},
    'defaults + grid 8, HOG both x2 step 1.1, near field': {
        'detector_grids': (1, 2, 3, 4, 6, 8), 'hog_detectors': 'both', 'hog_upscale': 2.0,
        'hog_scale_step': 1.1, 'near_field': True},
}


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


def tables(results: list) -> None:
    """Print recall per category and recall and precision per source."""
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


def evaluate(estimator: PoseEstimator, images: list, render: Path = None) -> None:
    """Run ``estimator`` on every image; print the per-image table, then :func:`tables`."""
    results = []
    print(f'device: {estimator.device}, runtime: {estimator.runtime}\n')
    print('| image | source | labelled | found | missed | false alarms |')
    print('| --- | --- | --- | --- | --- | --- |')
    for name, source, rgb, image in images:
        found = found_boxes(estimator, rgb)
        result = match(found, image)
        results.append((image, result))
        print(f'| {name} | {source} | {len(image.persons)} | {len(result.hits)} | '
              f'{len(result.missed)} | {len(result.false_alarms)} |')
        if render:
            draw(rgb, image, found, result, render / f'{Path(name).stem}_recall.png')
    tables(results)


def found_boxes(estimator: PoseEstimator, rgb: np.ndarray) -> np.ndarray:
    """Return the (N, 4) boxes of the persons ``estimator`` finds, image pixels."""
    persons = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])).persons
    return np.array([p.bbox for p in persons]).reshape(-1, 4)


def compare(values: dict, images: list) -> None:
    """Evaluate every configuration of :data:`CONSIDERED`, interleaved; print one table."""
    estimators = {name: PoseEstimator(from_values(EstimatorConfig, {**values, **change}))
                  for name, change in CONSIDERED.items()}
    results: Dict[str, List] = {name: [] for name in estimators}
    seconds = dict.fromkeys(estimators, 0.0)
    for name, estimator in estimators.items():  # warm-up
        found_boxes(estimator, images[0][2])
    for _, _, rgb, image in images:
        for name, estimator in estimators.items():
            start = time.perf_counter()
            found = found_boxes(estimator, rgb)
            seconds[name] += time.perf_counter() - start
            results[name].append((image, match(found, image)))
    categories = list(summarise(results['detector only'])[0])
    print('| configuration | ' + ' | '.join(f'recall {c}' for c in categories) +
          ' | precision | ms per image | / detector only |')
    print('| --- |' + ' --- |' * (len(categories) + 3))
    reference = seconds['detector only']
    for name, matches in results.items():
        by_category, by_source = summarise(matches)
        total = sum(by_source.values(), Counts())
        print(f'| {name} | ' + ' | '.join(f'{by_category[c].recall:.2f}' for c in categories) +
              f' | {total.precision:.2f} | {seconds[name] / len(images) * 1e3:.0f} | '
              f'{seconds[name] / reference:.2f} |')


def stream(values: dict, images: list) -> None:
    """Run each image as a still stream; print recall after frame 1 and after the search."""
    frames = PipelineConfig().search_frames
    configs = {'detector only': {**values, **DETECTOR_ONLY}, 'defaults': values,
               'defaults, far rows on': {**values, 'far_rows': 'on'}}
    print('| configuration | after frame | ' + ' | '.join(
        f'recall {c}' for c in CATEGORIES) + ' | precision | frames per second | ratio |')
    print('| --- | --- |' + ' --- |' * (len(CATEGORIES) + 3))
    rates = {}
    for name, config in configs.items():
        estimator = PoseEstimator(from_values(EstimatorConfig, config))
        found_at: Dict[int, List] = {1: [], frames: []}
        seconds = 0.0
        for _, _, rgb, image in images:
            pipeline = Pipeline(estimator, PipelineConfig(detect_every=1))
            camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])
            start = time.perf_counter()
            for index in range(frames):
                persons = pipeline(rgb, camera, index / 30.0).persons
                if index + 1 in found_at:
                    found = np.array([p.bbox for p in persons]).reshape(-1, 4)
                    found_at[index + 1].append((image, match(found, image)))
            seconds += time.perf_counter() - start
        rates[name] = frames * len(images) / seconds
        for frame, matches in found_at.items():
            by_category, by_source = summarise(matches)
            total = sum(by_source.values(), Counts())
            print(f'| {name} | {frame} | ' + ' | '.join(
                f'{by_category[c].recall:.2f}' for c in CATEGORIES) +
                f' | {total.precision:.2f} | {rates[name]:.2f} | '
                f'{rates[name] / rates["detector only"]:.2f} |')


def main() -> int:
    """Evaluate and print the tables; exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--render', type=Path, metavar='DIR',
                      help='write each image with its hits, misses and false alarms here')
    mode.add_argument('--compare', action='store_true',
                      help='evaluate the configurations considered for the defaults')
    mode.add_argument('--stream', action='store_true',
                      help='run each image as a still stream, the search dealt out to frames')
    add_arguments(parser, SETTINGS)
    args = parser.parse_args()
    directory = fetch_samples()
    fetch_street_photos()
    values = from_arguments(args, SETTINGS)
    images = list(evaluated_images(directory, values.get('model_dir') or None))
    if args.compare:
        compare(values, images)
        return 0
    if args.stream:
        stream(values, images)
        return 0
    if args.render:
        args.render.mkdir(parents=True, exist_ok=True)
    evaluate(PoseEstimator(from_values(EstimatorConfig, values)), images, args.render)
    return 0


if __name__ == '__main__':
    sys.exit(main())
