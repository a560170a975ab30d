"""
``pose3d-estimate``: every person's metric 3D skeleton in images, videos and bags.

Each input image, and each frame of a video or rosbag2 bag, gives one JSON object
(``source``, ``image_size``, ``camera``, ``persons``; frames also ``frame`` and ``stamp``
in seconds); joints are in the order of each person's ``joint_set`` (BlazePose's 33
landmarks; Human3.6M-17 with ``--pose-backend lifting``; MuCo-21 or Human3.6M-18 with
``--pose-backend 3dmppe``), metres, camera optical frame
(x right, y down, z forward); ``--joint-set`` adds them in another set under
``converted``. Videos and bags are tracked: persons keep their ``id`` and
are smoothed. Without inputs it runs on the sample photograph messi5.jpg from Debian's
opencv-doc. The camera comes from a bag's CameraInfo, ``--camera-info``,
``--fx/--fy/--cx/--cy`` or ``--hfov``; with none of them a horizontal field of view of 60
degrees is assumed and the output says ``"calibrated": false``.
"""

import argparse
import json
from pathlib import Path
import sys
from typing import Any, Iterator, List, Optional, TextIO, Tuple

import cv2
from tqdm import tqdm

from .camera_options import add_camera_arguments, camera_argument_problem, camera_for
from ..estimation.config import EstimatorConfig, POSE_BACKENDS
from ..estimation.estimator import PoseEstimator
from ..estimation.result import FrameResult
from ..estimation.stream import StreamConfig, StreamEstimator
from ..estimation.tracking import TrackingConfig
from ..geometry.camera import DEFAULT_HFOV_DEG
from ..malloc_settings import keep_freed_memory
from ..models.joint_sets import HUMAN36M_17, JOINT_SETS
from ..models.runtime import RUNTIMES
from ..models.store import ModelFileError
from ..samples import DEFAULT_IMAGE, sample_path
from ..visualisation import draw_skeletons

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg')


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
                        help=f'image files, directories of images, video files, or rosbag2 '
                             f'bags (directory, .mcap or .db3) (default: the sample '
                             f'{DEFAULT_IMAGE})')
    add_camera_arguments(parser, 'camera (default: --hfov 60, marked uncalibrated)')
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--runtime', default='auto', choices=RUNTIMES,
                        help='what runs the networks (auto: torch on CUDA, the faster on CPU)')
    parser.add_argument('--pose-backend', default='blazepose', choices=POSE_BACKENDS,
                        help='3D skeleton from BlazePose (33 joints), from the lifting '
                        'network (Human3.6M-17) or from 3DMPPE RootNet + PoseNet (MuCo-21 '
                        'or Human3.6M-18)')
    parser.add_argument('--lifter-weights', default='',
                        help='lifting network weights (default: the lifter cache)')
    for name in ('rootnet', 'posenet'):
        parser.add_argument(f'--{name}-checkpoint', default='', metavar='FILE',
                            help=f'official 3DMPPE {name} snapshot_N.pth.tar (for 3dmppe)')
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
    streams = parser.add_argument_group('videos and bags')
    streams.add_argument('--image-topic', help='bag image topic, raw or compressed (default: '
                                               'the first one)')
    streams.add_argument('--camera-info-topic', help='bag CameraInfo topic (default: the first '
                                                     'one; without any, the camera options)')
    streams.add_argument('--output-bag', type=Path, metavar='DIR',
                         help="write the node's output topics (/pose3d/markers, poses, "
                              'joints, skeletons) of each bag into DIR/<bag name> (mcap)')
    streams.add_argument('--detect-every', type=int, default=StreamConfig.detect_every,
                         metavar='N', help='run the detector at least every N frames')
    streams.add_argument('--no-smoothing', action='store_true',
                         help='keep ids but do not smooth')
    streams.add_argument('--progress', choices=('auto', 'always', 'never'), default='auto',
                         help='progress bar on standard error (auto: when it is a terminal)')
    return parser


def image_files(inputs: List[Path]) -> Iterator[Path]:
    """Yield the files and bags named, and the image files inside directories named."""
    for path in inputs:
        if path.is_dir() and not is_bag(path):
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def write_record(result: FrameResult, source: str, args: argparse.Namespace,
                 output: TextIO, **extra: Any) -> None:
    """
    Write one JSON line: the result, ``extra`` fields, and the conversion if asked.

    ``--joint-set`` adds each person's joints in that set under ``converted``.
    """
    record = result.to_json(source)
    record.update(extra)
    if args.joint_set:
        joint_set = JOINT_SETS[args.joint_set]
        for person, entry in zip(result.persons, record['persons']):
            entry['converted'] = {
                'name': joint_set.name, 'joint_names': list(joint_set.joint_names),
                'keypoints_2d': joint_set.convert_from(
                    person.keypoints_2d, person.joint_set).round(2).tolist(),
                'joints_3d': joint_set.convert_from(
                    person.joints_3d, person.joint_set).round(4).tolist()}
    output.write(json.dumps(record) + '\n')
    output.flush()


def process(estimator: PoseEstimator, path: Path, args: argparse.Namespace,
            output: TextIO) -> int:
    """Estimate one image and write its record; return the number of persons."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError('not a readable image')
    height, width = bgr.shape[:2]
    result = estimator(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), camera_for(args, width, height))
    write_record(result, str(path), args, output)
    if args.render:
        from ..visualisation import render
        args.render.mkdir(parents=True, exist_ok=True)
        render(bgr, result, args.render / f'{path.stem}_pose3d.png')
    return len(result.persons)


def is_bag(path: Path) -> bool:
    """Return True for a rosbag2 directory or a single .mcap / .db3 file."""
    return (path.is_dir() and (path / 'metadata.yaml').exists()) or \
        path.suffix in ('.mcap', '.db3')


def video_frames(path: Path) -> Tuple[int, float, Iterator[Tuple[float, Any, Any, None]]]:
    """Return a video's frame count, rate, and its frames (time s, None, RGB, None)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError('not a readable video')
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))

    def frames() -> Iterator[Tuple[float, Any, Any, None]]:
        try:
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield index / fps, None, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None
                index += 1
        finally:
            capture.release()
    return count, fps, frames()


def process_stream(estimator: PoseEstimator, path: Path, args: argparse.Namespace,
                   output: TextIO) -> int:
    """Track a video or bag frame by frame, writing a record per frame; return frames."""
    bag_writer = None
    if is_bag(path):
        from ..node.bag import BagReader, BagWriter
        reader = BagReader(path, args.image_topic, args.camera_info_topic,
                           args.hfov or DEFAULT_HFOV_DEG)
        count, fps = len(reader), 30.0
        frames = ((f.header.stamp.sec + f.header.stamp.nanosec * 1e-9, f.header, f.rgb,
                   f.camera) for f in reader)
        if args.output_bag:
            args.output_bag.mkdir(parents=True, exist_ok=True)
            bag_writer = BagWriter(args.output_bag / path.stem)
    else:
        count, fps, frames = video_frames(path)
    stream = StreamEstimator(estimator, StreamConfig(
        detect_every=args.detect_every,
        tracking=TrackingConfig(smoothing=not args.no_smoothing)))
    video = None
    progress = tqdm(frames, total=count or None, unit='frame', desc=path.name,
                    disable={'auto': None, 'always': False, 'never': True}[args.progress])
    index = -1
    fixed_camera = None  # from the options: made again only when the frame size changes
    try:
        for index, (time_s, header, rgb, camera) in enumerate(progress):
            height, width = rgb.shape[:2]
            if camera is None:
                if fixed_camera is None or \
                        (fixed_camera.width, fixed_camera.height) != (width, height):
                    fixed_camera = camera_for(args, width, height)
                camera = fixed_camera
            result = stream(rgb, camera, time_s)
            write_record(result, str(path), args, output, frame=index, stamp=round(time_s, 9))
            if bag_writer is not None:
                bag_writer.write(header, result)
            if args.render:
                if video is None:
                    args.render.mkdir(parents=True, exist_ok=True)
                    video = cv2.VideoWriter(str(args.render / f'{path.stem}_pose3d.mp4'),
                                            cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                            (width, height))
                video.write(draw_skeletons(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                           result.persons))
    finally:
        progress.close()
        if video is not None:
            video.release()
        if bag_writer is not None:
            bag_writer.close()
    return index + 1


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; see the module docstring."""
    args = build_parser().parse_args(argv)
    problem = camera_argument_problem(args)
    if problem:
        print(f'error: {problem}', file=sys.stderr)
        return 2
    if args.pose_backend == 'lifting' and args.joint_set not in (None, HUMAN36M_17.name):
        print('error: the lifting backend gives Human3.6M-17 joints; --joint-set can only '
              'be h36m17 with it', file=sys.stderr)
        return 2
    if args.pose_backend == '3dmppe' and args.joint_set:
        print("error: 3dmppe gives PoseNet's own joints, which --joint-set cannot convert",
              file=sys.stderr)
        return 2
    keep_freed_memory()  # the estimator runs on this main thread, whose arena is kept
    inputs = args.inputs or [sample_path(DEFAULT_IMAGE)]
    try:
        config = EstimatorConfig(device=args.device, runtime=args.runtime,
                                 pose_backend=args.pose_backend,
                                 lifter_weights=args.lifter_weights,
                                 rootnet_checkpoint=args.rootnet_checkpoint,
                                 posenet_checkpoint=args.posenet_checkpoint,
                                 tile_grids=args.tiles,
                                 max_persons=args.max_persons)
        estimator = PoseEstimator(config, args.model_dir)
    except (ValueError, ModelFileError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    failures = 0
    output = open(args.output, 'w') if args.output else sys.stdout
    try:
        for path in image_files(inputs):
            stream = is_bag(path) or path.suffix.lower() in VIDEO_SUFFIXES
            try:
                if stream:
                    count = process_stream(estimator, path, args, output)
                else:
                    count = process(estimator, path, args, output)
            except (OSError, ValueError) as exc:
                failures += 1
                print(f'{path}: skipped: {exc}', file=sys.stderr)
                continue
            print(f'{path}: {count} {"frame(s)" if stream else "person(s)"}',
                  file=sys.stderr)
    finally:
        if args.output:
            output.close()
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
