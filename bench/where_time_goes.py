"""
Where the estimator's time goes: the stage split and PyTorch's profiler, per operator.

Runs the estimator on one crowd frame (:mod:`pose3d_ros.evaluation.crowds`) a few times
and prints (1) each stage's share of the frame, (2) the PyTorch operators that take the
most time under ``torch.profiler`` (with the LiteRT runtime the networks run outside
PyTorch, and show as the stages' remainder), and (3) what building and serialising each
of the node's per-frame outputs costs for the persons found (the node's default marker
parameters).

``--pose-backend 3dmppe`` times RootNet and PoseNet (in the ``place`` stage) on snapshots of
the official shapes with random weights, written to a temporary directory: their speed
does not depend on the weights' values, and the official files cannot be fetched here.
``--pose-backend lifting`` needs a trained lifter: ``--lifter-weights``, else ``default.pt``
in the lifter cache (``pose3d-lifter train`` makes it).

Usage: python bench/where_time_goes.py [--runtime torch|litert] [--device cpu|cuda]
       [--size 1280 720] [--persons 10] [--repeats 5] [--top 15]
       [--pose-backend blazepose|lifting|3dmppe] [--lifter-weights FILE]
       [--default-malloc]
"""

import argparse
import functools
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Callable, Sequence

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig, POSE_BACKENDS
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.result import Person
from pose3d_ros.evaluation.crowds import crowd
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.malloc_settings import keep_freed_memory
from pose3d_ros.mppe.checkpoint import write_snapshot
from pose3d_ros.mppe.networks import PoseNet, RootNet
from pose3d_ros.samples import fetch_samples, read_player, read_rgb
import torch
from torch.profiler import profile, ProfilerActivity


def main() -> int:
    """Profile and print the three tables."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--runtime', default='torch', choices=('torch', 'litert'))
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--size', type=int, nargs=2, default=(1280, 720))
    parser.add_argument('--persons', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--top', type=int, default=15)
    parser.add_argument('--pose-backend', default='blazepose', choices=POSE_BACKENDS)
    parser.add_argument('--lifter-weights', default='',
                        help='lifting network weights (default: default.pt in the cache)')
    parser.add_argument('--default-malloc', action='store_true',
                        help="keep glibc's default malloc settings instead of those the "
                             "package's programs set (pose3d_ros/malloc_settings.py)")
    args = parser.parse_args()
    if not args.default_malloc:
        keep_freed_memory()
    with tempfile.TemporaryDirectory() as directory:
        snapshots = {}
        if args.pose_backend == '3dmppe':
            snapshots = {
                'rootnet_checkpoint': str(write_snapshot(RootNet(), Path(directory) / 'r.pth')),
                'posenet_checkpoint': str(write_snapshot(PoseNet(21), Path(directory) / 'p.pth'))}
        return profile_estimator(args, snapshots)


def profile_estimator(args: argparse.Namespace, snapshots: dict) -> int:
    """Run the estimator under the profiler and print the stage split and the operators."""
    samples = fetch_samples()
    frame = crowd(read_player(),
                  read_rgb(samples / 'building.jpg'), args.persons, tuple(args.size))
    camera = CameraModel.from_hfov(*args.size, 60.0)
    estimator = PoseEstimator(EstimatorConfig(device=args.device, runtime=args.runtime,
                                              max_persons=max(args.persons, 1),
                                              pose_backend=args.pose_backend,
                                              lifter_weights=args.lifter_weights, **snapshots))
    estimator(frame, camera)
    activities = [ProfilerActivity.CPU] + \
        ([ProfilerActivity.CUDA] if estimator.device.type == 'cuda' else [])
    with profile(activities=activities) as profiler:
        results = [estimator(frame, camera, timed=True) for _ in range(args.repeats)]
    timings = [result.timings_ms for result in results]
    print(f'{args.runtime} on {estimator.device}, {args.pose_backend}, '
          f'{args.size[0]}x{args.size[1]}, {args.persons} persons, '
          f'{torch.get_num_threads()} threads, {args.repeats} frames (under the profiler), '
          f'{"default" if args.default_malloc else "kept"} freed memory\n')
    medians = {name: statistics.median(t[name] for t in timings) for name in timings[0]}
    total = sum(medians.values())
    print('| stage | median ms | share |')
    print('| --- | --- | --- |')
    for name, ms in medians.items():
        print(f'| {name} | {ms:.1f} | {ms / total:.0%} |')
    sort = 'self_cuda_time_total' if estimator.device.type == 'cuda' else 'self_cpu_time_total'
    print('\n' + profiler.key_averages().table(sort_by=sort, row_limit=args.top))
    print_output_costs(frame, results[-1].persons, args.repeats)
    return 0


def print_output_costs(frame: np.ndarray, persons: Sequence[Person], repeats: int) -> None:
    """
    Print the median time to build and to serialise each of the node's outputs.

    ROS 2 is imported here, not with the module: without it (a GPU machine, say) the first
    two tables still print and this one says it was skipped.
    """
    try:
        from pose3d_ros.node.config import NodeConfig
        from pose3d_ros.node.outputs import OUTPUTS, OutputStyle, Scene
        from rclpy.serialization import serialize_message
        from std_msgs.msg import Header
    except ImportError as exc:
        print(f'\nnode outputs: skipped ({exc})')
        return

    def median_ms(call: Callable[[], object]) -> float:
        times = []
        for _ in range(max(repeats, 5)):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)

    header, style = Header(frame_id='camera_optical'), OutputStyle.of(NodeConfig())
    print(f'\nnode outputs for {len(persons)} persons\n')
    print('| output | build ms | serialise ms |')
    print('| --- | --- | --- |')
    for output in OUTPUTS:
        build = functools.partial(output.build, header, frame, Scene(persons, None, persons),
                                  style)
        message = build()
        print(f'| {output.name} | {median_ms(build):.2f} | '
              f'{median_ms(lambda: serialize_message(message)):.2f} |')


if __name__ == '__main__':
    sys.exit(main())
