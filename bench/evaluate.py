"""
Evaluate the estimator: physics checks, agreement with MediaPipe, and what it finds.

Prints three markdown tables:

1. physics on messi5.jpg (:mod:`pose3d_ros.evaluation.physics`): each transformation of
   image and camera, the root's measured error against its bound, and the whole skeleton's
   change for information;
2. agreement with MediaPipe 0.10.14's legacy Pose (static mode) on messi5.jpg;
3. per sample photograph: persons found, detector score, root (m), prior depth (m).

Usage: python bench/evaluate.py [--device cpu|cuda] [--skip-mediapipe]
"""

import argparse
import sys

from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.evaluation.mediapipe_reference import agreement
from pose3d_ros.evaluation.physics import PhysicsChecks
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import ALL_IMAGES, fetch_samples, read_rgb


def main() -> int:
    """Run the evaluation; return 1 if a physics check is out of bounds."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--skip-mediapipe', action='store_true',
                        help='skip the comparison (it builds a 1 GB environment once)')
    args = parser.parse_args()
    samples = fetch_samples()
    estimator = PoseEstimator(EstimatorConfig(device=args.device))
    print(f'device: {estimator.device}\n')

    checks = PhysicsChecks(estimator, read_rgb(samples / 'messi5.jpg')).run_all()
    print('| check | root error | bound | skeleton change | measured |')
    print('| --- | --- | --- | --- | --- |')
    for check in checks:
        print(f'| {check.name} | {check.error:.4f} | {check.bound:.2f} | '
              f'{check.skeleton_error:.4f} | {check.what} |'.replace('nan', '-'))

    if not args.skip_mediapipe:
        found = agreement(estimator, samples / 'messi5.jpg')
        print('\n| MediaPipe agreement (messi5.jpg) | value | bound |')
        print('| --- | --- | --- |')
        print(f'| mean 2D landmark difference | {found.mean_2d_px:.2f} px | 3 px |')
        print(f'| max 2D landmark difference | {found.max_2d_px:.2f} px | |')
        print(f'| mean world-landmark difference | {100 * found.mean_world_m:.2f} cm | 2 cm |')

    print('\n| image | persons | score | root x, y, z (m) | prior z (m) |')
    print('| --- | --- | --- | --- | --- |')
    for name in ALL_IMAGES:
        rgb = read_rgb(samples / name)
        result = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0]))
        rows = [(f'{p.score:.2f}', ', '.join(f'{v:.2f}' for v in p.root),
                 f'{p.root_prior_z:.2f}') for p in result.persons] or [('', '', '')]
        for score, root, prior in rows:
            print(f'| {name} | {len(result.persons)} | {score} | {root} | {prior} |')
    return 0 if all(check.passed for check in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
