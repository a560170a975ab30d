"""
Publish → markers latency of pose3d_node over real DDS, against the bare estimator.

Starts the node in its own process (reliable input, an isolated ROS domain), publishes a
real photograph with its CameraInfo, waits for the markers with that stamp, and repeats.
Interleaved with those frames it times the bare estimator in this process on the same
image and configuration, so the node's overhead (conversion, DDS, publishing) shows as a
ratio; and the same estimator called from a thread other than the one that loaded it
(which is why the node keeps all PyTorch work on one compute thread).
Prints a markdown table.

Usage: python bench/node_latency.py [--frames N] [--image NAME] [--tile-grids 2 3]
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
import os
import statistics
import sys
import time

from builtin_interfaces.msg import Time
import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.node import messages
from pose3d_ros.node.client import NodeProcess, Pose3dClient, ros_environment
from pose3d_ros.samples import fetch_samples, read_rgb
import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import Header
import torch


def percentile(values: list, q: float) -> float:
    """Return the value below which q percent of ``values`` lie."""
    return float(np.percentile(values, q))


def main() -> int:
    """Measure and print the table; return 1 when the node did not answer."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--frames', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--image', default='messi5.jpg')
    parser.add_argument('--tile-grids', type=int, nargs='*', default=[2, 3],
                        help='estimator tile grids (none: the full frame only)')
    args = parser.parse_args()

    rgb = read_rgb(fetch_samples() / args.image)
    height, width = rgb.shape[:2]
    camera = CameraModel.from_hfov(width, height, 60.0)
    grids = args.tile_grids or [0]

    # Like the node: the estimator is loaded and called on one dedicated compute thread.
    compute = ThreadPoolExecutor(max_workers=1)
    estimator = compute.submit(PoseEstimator, EstimatorConfig(
        device='cpu', tile_grids=tuple(args.tile_grids))).result()

    def timed(thread: ThreadPoolExecutor) -> float:
        start = time.perf_counter()
        thread.submit(estimator, rgb, camera).result()
        return time.perf_counter() - start

    environment = ros_environment(150 + os.getpid() % 50)
    os.environ.update(environment)
    rclpy.init()
    executor = SingleThreadedExecutor()
    client = Pose3dClient('/bench', reliable=True)
    executor.add_node(client)
    # Without tracking, the node runs the estimator on every frame as the bare call does
    # (tracking's own speed-up is measured by bench/tracking.py).
    node_args = ['-r', '__ns:=/bench', '-p', 'reliable_input:=true', '-p', 'device:=cpu',
                 '-p', f'tile_grids:={grids}', '-p', 'tracking:=false']
    bare, latencies = [], []
    with NodeProcess(node_args, environment) as node:
        if not client.wait_for_node(executor, 120.0):
            print(node.log(), file=sys.stderr)
            return 1
        # Interleaved, never overlapping: a drift in the machine's speed hits both alike.
        for index in range(args.warmup + args.frames):
            elapsed = timed(compute)
            header = Header(stamp=Time(sec=1 + index), frame_id='camera_optical')
            answer = client.request(executor, messages.image_message(header, rgb),
                                    messages.camera_info_message(header, camera), 120.0,
                                    republish_s=60.0, topics=('markers',))
            if answer is None:
                print(node.log(), file=sys.stderr)
                return 1
            if index >= args.warmup:
                bare.append(elapsed)
                latencies.append(answer.latency_s())
        client.diagnostics.clear()
        client.spin_for(executor, 1.5)
    inside = {v.key: v.value for v in client.diagnostics[-1].status[0].values} \
        if client.diagnostics else {}
    executor.shutdown()
    rclpy.shutdown()
    # Why the node keeps all PyTorch work on one thread: the same estimator called from a
    # second thread. Measured last, because afterwards the first thread is slow too.
    other = ThreadPoolExecutor(max_workers=1)
    other_thread = [timed(other) for _ in range(args.warmup + args.frames)][args.warmup:]

    ms = 1000.0
    print(f'image: {args.image} ({width} x {height}), tile grids {grids}, device cpu, '
          f'torch threads {torch.get_num_threads()}, {args.frames} frames\n')
    print('| path | median ms | p90 ms | ratio to bare |')
    print('| --- | --- | --- | --- |')
    base = statistics.median(bare)
    for name, values in (('bare estimator (in process)', bare),
                         ('node: publish → markers over DDS', latencies),
                         ('bare estimator called from a second thread (run last)',
                          other_thread)):
        print(f'| {name} | {statistics.median(values) * ms:.1f} | '
              f'{percentile(values, 90) * ms:.1f} | {statistics.median(values) / base:.2f} |')
    print("\nThe node's own /diagnostics after the last frame (ms): " + ', '.join(
        f'{key[:-5]} {value}' for key, value in inside.items() if key.endswith(' (ms)')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
