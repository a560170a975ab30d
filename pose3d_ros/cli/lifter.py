"""
``pose3d-lifter``: train and evaluate the Martinez lifting network on generated poses.

    pose3d-lifter train [--quick] [--seed N] [--steps N] [--threads N]
    pose3d-lifter eval [--quick] [--weights FILE] [--no-photos]

``train`` writes ``<name>.pt`` and ``<name>.json`` (SHA-256, configuration, evaluation) to
the lifter cache (``$POSE3D_LIFTER_DIR``, else ``$XDG_CACHE_HOME/pose3d_ros/lifter``);
``--quick`` trains the small CI model ``quick``. ``eval`` prints, as its last line, one JSON
object with ``mpjpe_mm``, ``pa_mpjpe_mm`` and ``mean_pose_mpjpe_mm`` on held-out generated
pairs, and (unless ``--no-photos``) ``blazepose_agreement_mm``: the MPJPE between the
lifted BlazePose 2D keypoints and BlazePose's own 3D joints, both relative to the pelvis,
over the people found in the sample photographs.
"""

import argparse
from dataclasses import replace
import json
from pathlib import Path
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from ..lifting.lifter import Lifter, lifter_dir
from ..lifting.training import evaluate, quick_variant, train, TrainingConfig


def blazepose_agreement(lifter: Lifter) -> Dict[str, float]:
    """
    Lift the 2D keypoints the estimator finds in the sample photographs; compare in 3D.

    Each person and its mirror image (the photograph flipped) count once. Returns the
    MPJPE in millimetres over the 17 Human3.6M joints, both skeletons relative to their
    pelvis, and the number of skeletons compared.
    """
    from ..estimation.config import EstimatorConfig
    from ..estimation.estimator import PoseEstimator
    from ..evaluation.pose_metrics import mpjpe
    from ..geometry.camera import CameraModel
    from ..models.joint_sets import HUMAN36M_17
    from ..samples import fetch_samples, PERSON_IMAGES, read_rgb

    estimator = PoseEstimator(EstimatorConfig())
    lifted, reference = [], []
    for name in PERSON_IMAGES:
        photo = read_rgb(fetch_samples() / name)
        for image in (photo, np.ascontiguousarray(photo[:, ::-1])):
            camera = CameraModel.from_hfov(image.shape[1], image.shape[0], 60.0)
            for person in estimator(image, camera).persons:
                points = camera.normalised(HUMAN36M_17.convert(person.keypoints_2d))
                lifted.append(lifter.lift(points[None])[0])
                joints = HUMAN36M_17.convert(person.joints_3d)
                reference.append(joints - joints[0])
    if not lifted:
        return {'blazepose_agreement_mm': float('nan'), 'blazepose_skeletons': 0.0}
    return {'blazepose_agreement_mm': mpjpe(np.array(lifted), np.array(reference)) * 1e3,
            'blazepose_skeletons': float(len(lifted))}


def _weights(args: argparse.Namespace) -> Path:
    if args.weights:
        return Path(args.weights)
    return lifter_dir() / f'{"quick" if args.quick else "default"}.pt'


def _train(args: argparse.Namespace) -> int:
    try:
        config = TrainingConfig(seed=args.seed, threads=args.threads)
        if args.quick:
            config = quick_variant(config)
        if args.steps is not None:
            config = replace(config, steps=args.steps)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    start = time.perf_counter()
    lifter = train(config, lambda step, loss: print(
        f'step {step}/{config.steps}  loss {loss:.4f}  {time.perf_counter() - start:.0f} s',
        flush=True))
    trained_s = time.perf_counter() - start
    evaluation = {**evaluate(lifter, config), 'training_s': trained_s}
    path = _weights(args)
    digest = lifter.save(path, evaluation)
    print(f'wrote {path} (sha256 {digest})')
    print(json.dumps(evaluation))
    return 0


def _eval(args: argparse.Namespace) -> int:
    try:
        lifter = Lifter.load(_weights(args))
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    config = TrainingConfig(**lifter.config)
    result = evaluate(lifter, config)
    if not args.no_photos:
        result.update(blazepose_agreement(lifter))
    print(json.dumps(result))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(prog='pose3d-lifter', description=__doc__.strip()
                                     .splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    for name in ('train', 'eval'):
        command = commands.add_parser(name)
        command.add_argument('--quick', action='store_true', help='the small CI model')
        command.add_argument('--weights', help='weights file (default: the lifter cache)')
    training = commands.choices['train']
    training.add_argument('--seed', type=int, default=TrainingConfig.seed)
    training.add_argument('--steps', type=int, help='override the number of steps')
    training.add_argument('--threads', type=int, default=0, help='CPU threads (0: default)')
    commands.choices['eval'].add_argument('--no-photos', action='store_true',
                                          help='skip the agreement with BlazePose')
    args = parser.parse_args(argv)
    return _train(args) if args.command == 'train' else _eval(args)


if __name__ == '__main__':
    sys.exit(main())
