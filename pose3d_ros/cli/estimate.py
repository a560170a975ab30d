"""
``pose3d-estimate``: every person's metric 3D skeleton in image files, as JSON lines.

Each input image gives one JSON object (``source``, ``image_size``, ``camera``,
``persons``); joints are in BlazePose's 33-landmark order, metres, camera optical frame
(x right, y down, z forward). Without inputs it runs on the sample photograph messi5.jpg
from Debian's opencv-doc. The camera comes from ``--camera-info``, ``--fx/--fy/--cx/--cy``
or ``--hfov``; with none of them a horizontal field of view of 60 degrees is assumed and
the output says ``"calibrated": false``.
"""

import argparse
import json
from pathlib import Path
import sys
from typing import Iterator, List, Optional, TextIO

import cv2

from ..estimation.config import EstimatorConfig
from ..estimation.estimator import PoseEstimator
from ..geometry.calibration_file import load_camera_info
from ..geometry.camera import CameraModel, DEFAULT_HFOV_DEG
from ..models.joint_sets import JOINT_SETS
from ..models.store import ModelFileError
from ..samples import DEFAULT_IMAGE, sample_path

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


def _tile_grids(text: str) -> tuple:
    if text.strip().lower() in ('', 'none'):
        return ()
    try:
        return tuple(int(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated integers or "none", '
                                         f'got {text!r}')


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog='pose3d-estimate', description=__doc__.strip().splitlines()[1].strip(),
        epilog='Exit status: 0 when every input was processed, 1 when any failed, '
               '2 on bad arguments.')
    parser.add_argument('inputs', nargs='*', type=Path,
                        help=f'image files or directories (default: the sample '
                             f'{DEFAULT_IMAGE})')
    camera = parser.add_argument_group('camera (default: --hfov 60, marked uncalibrated)')
    camera.add_argument('--camera-info', type=Path, metavar='FILE',
                        help='ROS camera_calibration YAML')
    for name in ('fx', 'fy', 'cx', 'cy'):
        camera.add_argument(f'--{name}', type=float,
                            help='pixels' + ('' if name in ('fx', 'fy') else
                                             ' (default: the image centre)'))
    camera.add_argument('--hfov', type=float, metavar='DEG',
                        help=f'horizontal field of view in degrees (default '
                             f'{DEFAULT_HFOV_DEG:g})')
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--tiles', type=_tile_grids, default=EstimatorConfig.tile_grids,
                        metavar='G[,G...]',
                        help='tile grids for small people, or "none" (default: 2,3)')
    parser.add_argument('--max-persons', type=int, default=EstimatorConfig.max_persons)
    parser.add_argument('--joint-set', choices=sorted(JOINT_SETS),
                        help='also give each person the joints of this set')
    parser.add_argument('--output', type=Path, metavar='FILE',
                        help='write JSON lines here (default: standard output)')
    parser.add_argument('--render', type=Path, metavar='DIR',
                        help='write each image with its skeletons and a 3D plot here')
    parser.add_argument('--model-dir', type=Path, help='model directory (default: the store)')
    return parser


def image_files(inputs: List[Path]) -> Iterator[Path]:
    """Yield the files named, and the image files inside directories named, in order."""
    for path in inputs:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def camera_for(args: argparse.Namespace, width: int, height: int) -> CameraModel:
    """Return the camera model the arguments describe for a ``width`` x ``height`` image."""
    if args.camera_info:
        camera = load_camera_info(args.camera_info)
        if (camera.width, camera.height) != (width, height):
            raise ValueError(f'image is {width} x {height} but {args.camera_info} is for '
                             f'{camera.width} x {camera.height}')
        return camera
    if args.fx is not None or args.fy is not None:
        if args.fx is None or args.fy is None:
            raise ValueError('give both --fx and --fy')
        cx = (width - 1) / 2.0 if args.cx is None else args.cx
        cy = (height - 1) / 2.0 if args.cy is None else args.cy
        return CameraModel.from_values(width, height, [args.fx, 0, cx, 0, args.fy, cy, 0, 0, 1])
    return CameraModel.from_hfov(width, height,
                                 DEFAULT_HFOV_DEG if args.hfov is None else args.hfov)


def process(estimator: PoseEstimator, path: Path, args: argparse.Namespace,
            output: TextIO) -> int:
    """Estimate one image and write its record; return the number of persons."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError('not a readable image')
    height, width = bgr.shape[:2]
    result = estimator(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), camera_for(args, width, height))
    record = result.to_json(str(path))
    if args.joint_set:
        joint_set = JOINT_SETS[args.joint_set]
        for person, entry in zip(result.persons, record['persons']):
            entry['joint_set'] = {
                'name': joint_set.name, 'joint_names': list(joint_set.joint_names),
                'keypoints_2d': joint_set.convert(person.keypoints_2d).round(2).tolist(),
                'joints_3d': joint_set.convert(person.joints_3d).round(4).tolist()}
    output.write(json.dumps(record) + '\n')
    output.flush()
    if args.render:
        from ..visualisation import render
        args.render.mkdir(parents=True, exist_ok=True)
        render(bgr, result, args.render / f'{path.stem}_pose3d.png')
    return len(result.persons)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; see the module docstring."""
    args = build_parser().parse_args(argv)
    if args.hfov is not None and not 0 < args.hfov < 180:
        print('error: --hfov must be in (0, 180) degrees', file=sys.stderr)
        return 2
    inputs = args.inputs or [sample_path(DEFAULT_IMAGE)]
    try:
        config = EstimatorConfig(device=args.device, tile_grids=args.tiles,
                                 max_persons=args.max_persons)
        estimator = PoseEstimator(config, args.model_dir)
    except (ValueError, ModelFileError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    failures = 0
    output = open(args.output, 'w') if args.output else sys.stdout
    try:
        for path in image_files(inputs):
            try:
                count = process(estimator, path, args, output)
            except (OSError, ValueError) as exc:
                failures += 1
                print(f'{path}: skipped: {exc}', file=sys.stderr)
                continue
            print(f'{path}: {count} person(s)', file=sys.stderr)
    finally:
        if args.output:
            output.close()
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
