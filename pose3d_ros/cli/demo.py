"""
``pose3d-demo``: the real node on a built-in input, over DDS, with nothing else to set up.

A player publishes a clip made of a real photograph (the player of Debian opencv-doc's
messi5.jpg walking right and away from the camera) as Image + CameraInfo at a steady rate;
``pose3d_node`` runs in its own process, as ``ros2 run`` would start it; a listener prints,
per frame, the people the node found, their track ids and distances, and writes the last
answered frame as a picture (2D skeletons beside a 3D plot, rebuilt from the node's
``~/skeletons`` cloud). Frames the node had no time for are dropped by design (newest frame
wins) and reported as such.
"""

import argparse
import os
from pathlib import Path
import sys
import time
from typing import Dict, List, Optional

from builtin_interfaces.msg import Time
import cv2
import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import Header

from ..estimation.config import EstimatorConfig
from ..estimation.result import FrameResult
from ..evaluation import sequences
from ..geometry.camera import CameraModel
from ..node import messages
from ..node_client import Answer, NodeProcess, Pose3dClient, ros_environment
from ..samples import DEFAULT_IMAGE, read_player
from ..settings.schema import settings_named
from ..settings.surfaces import add_arguments
from ..visualisation import render

NAMESPACE = '/camera'
FRAME_ID = 'camera_optical_frame'
START_S = 100


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog='pose3d-demo',
                                     description=__doc__.strip().splitlines()[1].strip())
    parser.add_argument('--frames', type=int, default=30, help='frames to publish')
    parser.add_argument('--rate', type=float, default=5.0, help='frames per second')
    add_arguments(parser, settings_named(EstimatorConfig, 'device'))
    parser.add_argument('--output', type=Path, default=Path('pose3d_render'),
                        help='directory for the picture of the last answered frame')
    parser.add_argument('--domain-id', type=int,
                        help='ROS_DOMAIN_ID (default: $ROS_DOMAIN_ID, else one from the pid)')
    return parser


def describe(index: int, stamp: float, answer: Optional[Answer],
             camera: CameraModel) -> str:
    """Return one printed line for a frame: its people with ids and distances."""
    if answer is None or 'skeletons' not in answer.messages:
        return f'frame {index:3d}: no answer (dropped: the node was still busy)'
    persons = messages.persons_from_cloud(answer.messages['skeletons'], camera)
    people = ', '.join(
        f'#{p.track_id} at {float((p.root ** 2).sum() ** 0.5):.2f} m '
        f'(x {p.root[0]:+.2f}, y {p.root[1]:+.2f}, z {p.root[2]:.2f})' for p in persons)
    return (f'frame {index:3d} (stamp {stamp:.3f}): {len(persons)} person(s)'
            f'{": " + people if people else ""}; latency {answer.latency_s() * 1e3:.0f} ms')


def main(argv: Optional[List[str]] = None) -> int:
    """Run the demo; return 0 when the node answered, 1 otherwise."""
    args = build_parser().parse_args(argv)
    if args.frames < 1 or args.rate <= 0:
        print('error: --frames must be >= 1 and --rate > 0', file=sys.stderr)
        return 2
    domain = args.domain_id if args.domain_id is not None else \
        int(os.environ.get('ROS_DOMAIN_ID', 100 + os.getpid() % 100))
    environment = ros_environment(domain)
    os.environ.update(environment)
    clip = sequences.translated(read_player(), frames=args.frames, step=8,
                                shrink=0.3 / args.frames)
    camera = clip.camera
    # The player is large in the frame: the full frame suffices (tiles cost CPU time).
    node_args = ['-r', f'__ns:={NAMESPACE}', '-p', 'reliable_input:=true',
                 '-p', f'device:={args.device}', '-p', 'detector_grids:=[1]']
    print(f'starting pose3d_node in {NAMESPACE} (ROS_DOMAIN_ID {domain}) ...', flush=True)
    rclpy.init()
    executor = SingleThreadedExecutor()
    client = Pose3dClient(NAMESPACE, reliable=True, name='pose3d_demo')
    executor.add_node(client)
    sent: Dict[int, float] = {}
    try:
        with NodeProcess(node_args, environment) as node:
            if not client.wait_for_node(executor, 120.0):
                print(node.log(), file=sys.stderr)
                return 1
            print(f'publishing {args.frames} frames of {DEFAULT_IMAGE} ({camera.width} x '
                  f'{camera.height}) at {args.rate:g} Hz on {NAMESPACE}/image and '
                  f'{NAMESPACE}/camera_info', flush=True)
            stamps = []
            start = time.monotonic()
            for index, frame in enumerate(clip.frames):
                nanosec = int(round(index / args.rate * 1e9))
                header = Header(stamp=Time(sec=START_S + nanosec // 10 ** 9,
                                           nanosec=nanosec % 10 ** 9), frame_id=FRAME_ID)
                stamps.append((header.stamp.sec, header.stamp.nanosec))
                sent[index] = time.monotonic()
                client.send(messages.image_message(header, frame),
                            messages.camera_info_message(header, camera))
                client.spin_for(executor, max(start + (index + 1) / args.rate -
                                              time.monotonic(), 0.0))
            deadline = time.monotonic() + 30.0  # the last frame may still be in progress
            while time.monotonic() < deadline and stamps[-1] not in client.answers:
                client.spin_for(executor, 0.1)
    finally:
        executor.shutdown()
        rclpy.try_shutdown()
    answers = {}
    for index, stamp in enumerate(stamps):
        answer = client.answers.get(stamp)
        if answer is not None and 'skeletons' in answer.messages:
            answer.sent = sent[index]
            answers[index] = answer
        print(describe(index, stamp[0] + stamp[1] * 1e-9, answers.get(index), camera))
    if not answers:
        print('the node answered no frame', file=sys.stderr)
        return 1
    last = max(answers)
    persons = tuple(messages.persons_from_cloud(answers[last].messages['skeletons'], camera))
    args.output.mkdir(parents=True, exist_ok=True)
    picture = args.output / 'pose3d_demo_last_frame.png'
    render(cv2.cvtColor(clip.frames[last], cv2.COLOR_RGB2BGR),
           FrameResult((camera.width, camera.height), camera, persons), picture)
    print(f'{len(answers)} of {len(stamps)} frames answered; frame {last} drawn in {picture}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
