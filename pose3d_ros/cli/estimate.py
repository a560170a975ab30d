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
from typing import Any, List, Optional, TextIO

import cv2
from tqdm import tqdm

from .camera_options import add_camera_arguments, camera_argument_problem, camera_for
from ..estimation.config import EstimatorConfig
from ..estimation.estimator import PoseEstimator
from ..estimation.pipeline import Pipeline, PipelineConfig
from ..estimation.result import FrameResult
from ..geometry.camera import DEFAULT_HFOV_DEG
from ..malloc_settings import keep_freed_memory
from ..media.inputs import input_files, is_bag, is_stream
from ..media.video import video_frames, VideoOut
from ..models.joint_sets import JOINT_SETS
from ..models.store import ModelFileError
from ..samples import DEFAULT_IMAGE, sample_path
from ..settings.schema import from_values, settings_of
from ..settings.surfaces import add_arguments, from_arguments
from ..visualisation import draw_skeletons


#: The settings given as options: every estimator setting, and the pipeline's for streams.
ESTIMATOR_SETTINGS = settings_of(EstimatorConfig, 'cli')
PIPELINE_SETTINGS = settings_of(PipelineConfig, 'cli')


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
    add_arguments(parser.add_argument_group(
        'estimator (the settings of docs/node.md, same names and ranges)'), ESTIMATOR_SETTINGS)
    parser.add_argument('--joint-set', choices=sorted(JOINT_SETS),
                        help='also give each person the joints of this set')
    parser.add_argument('--output', type=Path, metavar='FILE',
                        help='write JSON lines here (default: standard output)')
    parser.add_argument('--render', type=Path, metavar='DIR',
                        help='write each image with its skeletons and a 3D plot here')
    streams = parser.add_argument_group('videos and bags')
    streams.add_argument('--image-topic', help='bag image topic, raw or compressed (default: '
                                               'the first one)')
    streams.add_argument('--camera-info-topic', help='bag CameraInfo topic (default: the first '
                                                     'one; without any, the camera options)')
    streams.add_argument('--output-bag', type=Path, metavar='DIR',
                         help="write the node's output topics (/pose3d/markers, poses, "
                              'joints, skeletons) of each bag into DIR/<bag name> (mcap)')
    add_arguments(streams, PIPELINE_SETTINGS)
    streams.add_argument('--progress', choices=('auto', 'always', 'never'), default='auto',
                         help='progress bar on standard error (auto: when it is a terminal)')
    return parser


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


def process_stream(estimator: PoseEstimator, path: Path, args: argparse.Namespace,
                   output: TextIO) -> int:
    """Run a video or bag through the pipeline, writing a record per frame; return frames."""
    bag_writer = None
    if is_bag(path):
        from ..media.bag import BagReader, BagWriter
        reader = BagReader(path, args.image_topic, args.camera_info_topic,
                           args.hfov or DEFAULT_HFOV_DEG)
        count, fps = len(reader), 30.0
        frames = ((f.header.stamp.sec + f.header.stamp.nanosec * 1e-9, f.header, f.rgb,
                   f.camera) for f in reader)
        if args.output_bag:
            args.output_bag.mkdir(parents=True, exist_ok=True)
            bag_writer = BagWriter(args.output_bag / path.stem)
    else:
        count, fps, video_in = video_frames(path)
        frames = ((time_s, None, rgb, None) for time_s, rgb in video_in)
    pipeline = Pipeline(estimator, from_values(PipelineConfig,
                                               from_arguments(args, PIPELINE_SETTINGS)))
    video = VideoOut(args.render / f'{path.stem}_pose3d.mp4', fps) if args.render else None
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
            result = pipeline(rgb, camera, time_s)
            write_record(result, str(path), args, output, frame=index, stamp=round(time_s, 9))
            if bag_writer is not None:
                bag_writer.write(header, result)
            if video is not None:
                video.write(draw_skeletons(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                           result.persons))
    finally:
        progress.close()
        if video is not None:
            video.close()
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
    keep_freed_memory()  # the estimator runs on this main thread, whose arena is kept
    inputs = args.inputs or [sample_path(DEFAULT_IMAGE)]
    try:
        config = from_values(EstimatorConfig, from_arguments(args, ESTIMATOR_SETTINGS))
        estimator = PoseEstimator(config)
        if estimator.device.type == 'cuda':  # kernels chosen, graphs captured, memory known
            estimator.warm_up()
    except (ValueError, ModelFileError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    if args.joint_set and not JOINT_SETS[args.joint_set].convertible_from(estimator.joint_set):
        print(f'error: the {config.pose_backend} backend gives {estimator.joint_set.name} '
              f'joints, from which --joint-set {args.joint_set} cannot be made',
              file=sys.stderr)
        return 2
    failures = 0
    output = open(args.output, 'w') if args.output else sys.stdout
    try:
        for path in input_files(inputs):
            stream = is_stream(path)
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
