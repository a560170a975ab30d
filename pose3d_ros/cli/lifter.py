"""
``pose3d-lifter``: train and evaluate the Martinez lifting network; lift others' keypoints.

    pose3d-lifter train [--quick] [--seed N] [--steps N] [--threads N]
    pose3d-lifter eval [--quick] [--weights FILE] [--no-photos]
    pose3d-lifter lift INPUT.json [--quick] [--weights FILE] [--image-size W H]
                       [--camera-info FILE | --fx F --fy F [--cx C --cy C] | --hfov DEG]
                       [--min-confidence C] [--output FILE]

``train`` writes ``<name>.pt`` and ``<name>.json`` (SHA-256, configuration, evaluation) to
the lifter cache (``$POSE3D_LIFTER_DIR``, else ``$XDG_CACHE_HOME/pose3d_ros/lifter``);
``--quick`` trains the small CI model ``quick``. ``eval`` prints, as its last line, one JSON
object with ``mpjpe_mm``, ``pa_mpjpe_mm`` and ``mean_pose_mpjpe_mm`` on held-out generated
pairs, and (unless ``--no-photos``) ``blazepose_agreement_mm``: the MPJPE between the
lifted BlazePose 2D keypoints and BlazePose's own 3D joints, both relative to the pelvis,
over the people found in the sample photographs.

``lift`` reads 2D keypoints made by any detector (COCO keypoint results, or
``{"joint_set": "coco17" | "h36m17", "persons": [...]}``;
:mod:`pose3d_ros.lifting.keypoints_json`; ``-`` reads standard input), lifts them to
Human3.6M-17 and places them in the camera as the estimator does. It writes one JSON line
per person: ``joints_3d`` and ``root`` in metres, camera optical frame (x right, y down,
z forward), or ``"placed": false`` with the ``reason``. The camera options are those of
``pose3d-estimate``; the image size comes from ``--image-size``, else the file's
``image_size``, else the ``--camera-info`` file. Exit status 2 on bad input.
"""

import argparse
from dataclasses import replace
import json
from pathlib import Path
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from .camera_options import add_camera_arguments, camera_argument_problem, camera_for
from ..estimation.config import EstimatorConfig
from ..geometry.calibration_file import load_camera_info
from ..geometry.camera import CameraModel
from ..lifting.keypoints_json import DEFAULT_MIN_CONFIDENCE, lift_keypoints, read_keypoints
from ..lifting.lifter import Lifter, lifter_dir
from ..lifting.training import evaluate, quick_variant, train, TrainingConfig
from ..settings.schema import settings_named
from ..settings.surfaces import add_arguments


def blazepose_agreement(lifter: Lifter) -> Dict[str, float]:
    """
    Lift the 2D keypoints the estimator finds in the sample photographs; compare in 3D.

    Each person and its mirror image (the photograph flipped) count once. Returns the
    MPJPE in millimetres over the 17 Human3.6M joints, both skeletons relative to their
    pelvis, and the number of skeletons compared.
    """
    from ..estimation.estimator import PoseEstimator
    from ..evaluation.pose_metrics import mpjpe
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


def _camera(args: argparse.Namespace, file_size: Optional[Tuple[int, int]]) -> CameraModel:
    """Return the camera of ``pose3d-estimate``'s options for the keypoints' image."""
    size = tuple(args.image_size) if args.image_size else file_size
    if size is not None:
        return camera_for(args, *size)
    if args.camera_info:
        return load_camera_info(args.camera_info)
    raise ValueError('the image size is unknown: give --image-size W H or --camera-info '
                     'FILE, or "image_size": [W, H] in the file')


def _lift(args: argparse.Namespace) -> int:
    """Lift the keypoints file of ``args``, write the JSON lines; 2 on bad input."""
    problem = camera_argument_problem(args)
    if problem:
        print(f'error: {problem}', file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args.input == '-' else Path(args.input).read_text()
        keypoints = read_keypoints(text)
        camera = _camera(args, keypoints.image_size)
        lifter = Lifter.load(_weights(args))
        records = lift_keypoints(lifter, camera, keypoints, args.min_confidence,
                                 args.root_prior_strength)
        output = open(args.output, 'w') if args.output else sys.stdout
    except (OSError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    try:
        for record in records:
            output.write(json.dumps(record) + '\n')
    finally:
        if args.output:
            output.close()
    placed = sum(record['placed'] for record in records)
    print(f'{args.input}: {placed} of {len(records)} person(s) placed', file=sys.stderr)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(prog='pose3d-lifter', description=__doc__.strip()
                                     .splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    for name in ('train', 'eval', 'lift'):
        command = commands.add_parser(name)
        command.add_argument('--quick', action='store_true', help='the small CI model')
        command.add_argument('--weights', help='weights file (default: the lifter cache)')
    training = commands.choices['train']
    training.add_argument('--seed', type=int, default=TrainingConfig.seed)
    training.add_argument('--steps', type=int, help='override the number of steps')
    training.add_argument('--threads', type=int, default=0, help='CPU threads (0: default)')
    commands.choices['eval'].add_argument('--no-photos', action='store_true',
                                          help='skip the agreement with BlazePose')
    lifting = commands.choices['lift']
    lifting.add_argument('input', help='keypoints JSON file, or - for standard input')
    lifting.add_argument('--image-size', type=int, nargs=2, metavar=('W', 'H'),
                         help='size of the image the keypoints are in, pixels (default: '
                              '"image_size" in the file, else the --camera-info size)')
    add_camera_arguments(lifting, 'camera, as in pose3d-estimate')
    lifting.add_argument('--min-confidence', type=float, default=DEFAULT_MIN_CONFIDENCE,
                         metavar='C', help='joints less confident than this are left out of '
                         f'the root fit (default: {DEFAULT_MIN_CONFIDENCE:g})')
    add_arguments(lifting, settings_named(EstimatorConfig, 'root_prior_strength'))
    lifting.add_argument('--output', type=Path, metavar='FILE',
                         help='write JSON lines here (default: standard output)')
    args = parser.parse_args(argv)
    return {'train': _train, 'eval': _eval, 'lift': _lift}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
