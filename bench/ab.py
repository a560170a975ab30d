"""
This checkout's estimator against another checkout's, call by call, on this machine.

A change's cost on the CPU is a few percent, while a shared machine's speed drifts by up
to 2x within minutes: two benchmark runs one after the other cannot tell them apart. Here
two worker processes, one per checkout (``--baseline``, e.g. ``git worktree add /tmp/base
main``), each load the estimator and take turns, one call each, on the same frames: the
drift hits both alike, and the median of the paired ratios is the change's. Cases: the
real photographs bus.jpg, zidane.jpg and messi5.jpg and composites (640x480, 1 and 5
people over building.jpg) as single images (the whole search), and a stream's detection
and tracked frames (the pipeline on the 5 people), PyTorch on the CPU, default settings.

Prints one markdown table: median ms of each, the median of new / baseline per case, how
many pairs found the same number of persons, and how far apart their 2D keypoints are
(in order, pixels: the largest, and the mean over the pairs' persons).

Usage: python bench/ab.py --baseline DIR [--repeats N] [--threads N]
"""

import argparse
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: The cases, in the order measured.
CASES = ('bus.jpg', 'zidane.jpg', 'messi5.jpg', 'single image, 1 person',
         'single image, 5 people', 'stream frame, 5 people')

#: The worker, run in each checkout: reads a case name per line, answers its milliseconds.
WORKER = """
import json, sys, time
import torch
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.pipeline import Pipeline
from pose3d_ros.evaluation.crowds import crowd
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import fetch_samples, read_player, read_rgb
torch.set_num_threads(int(sys.argv[1]))
estimator = PoseEstimator(EstimatorConfig(device='cpu', runtime='torch'))
person, background = read_player(), read_rgb(fetch_samples() / 'building.jpg')
camera = CameraModel.from_hfov(640, 480, 60.0)
frames = {n: crowd(person, background, n, (640, 480)) for n in (1, 5)}
pipeline, clock = Pipeline(estimator), [0]
def stream():
    clock[0] += 1
    return pipeline(frames[5], camera, clock[0] / 30.0)
def photograph(name):
    rgb = read_rgb(fetch_samples() / name)
    view = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    return lambda: estimator(rgb, view)
cases = {'single image, 1 person': lambda: estimator(frames[1], camera),
         'single image, 5 people': lambda: estimator(frames[5], camera),
         'stream frame, 5 people': stream,
         **{name: photograph(name) for name in ('bus.jpg', 'zidane.jpg', 'messi5.jpg')}}
print('ready', flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    result = cases[line.strip()]()
    elapsed = (time.perf_counter() - start) * 1e3
    print(json.dumps([elapsed, bool(result.detected),
                      [p.keypoints_2d.tolist() for p in result.persons]]), flush=True)
"""


class Worker:
    """One checkout's estimator in its own process."""

    def __init__(self, checkout: Path, threads: int) -> None:
        environment = {**os.environ, 'PYTHONPATH': str(checkout)}
        self.process = subprocess.Popen([sys.executable, '-c', WORKER, str(threads)],
                                        cwd=checkout, env=environment, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        while self.process.stdout.readline().strip() != 'ready':
            if self.process.poll() is not None:
                raise RuntimeError(f'the worker in {checkout} ended')

    def __call__(self, case: str) -> list:
        """Run one call of ``case``: milliseconds, whether it detected, the keypoints."""
        self.process.stdin.write(case + '\n')
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        """End the process."""
        self.process.stdin.close()
        self.process.wait()


def main() -> int:
    """Measure, print the table; 2 when the baseline is no checkout."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--baseline', required=True, type=Path, help='the other checkout')
    parser.add_argument('--repeats', type=int, default=15, help='paired calls per case')
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    if not (args.baseline / 'pose3d_ros' / 'estimation').is_dir():
        print(f'error: {args.baseline} holds no pose3d_ros checkout', file=sys.stderr)
        return 2
    workers = {'baseline': Worker(args.baseline.resolve(), args.threads),
               'this': Worker(ROOT, args.threads)}
    pairs: Dict[str, List[dict]] = {}
    try:
        for case in CASES:
            for name in workers:  # warm-up
                workers[name](case)
            stream = case.startswith('stream')
            for index in range(10 * args.repeats if stream else args.repeats):
                order = ('baseline', 'this') if index % 2 == 0 else ('this', 'baseline')
                answers = {name: workers[name](case) for name in order}
                if answers['this'][1] != answers['baseline'][1]:
                    continue  # one detected, the other tracked: no pair
                kind = ' (detection)' if answers['this'][1] else ' (tracked)'
                pairs.setdefault(case + (kind if stream else ''), []).append(answers)
    finally:
        for worker in workers.values():
            worker.close()
    print('| case | pairs | baseline ms | this ms | this / baseline (median of pairs) | '
          'same persons | keypoints px: max | mean |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for case, answers in pairs.items():
        times = {name: [pair[name][0] for pair in answers] for name in workers}
        ratios = [new / old for new, old in zip(times['this'], times['baseline'])]
        same = [pair for pair in answers
                if len(pair['this'][2]) == len(pair['baseline'][2])]
        apart = [np.abs(np.array(new) - np.array(old)).max(-1)
                 for pair in same for new, old in zip(pair['this'][2], pair['baseline'][2])]
        largest = max((float(a.max()) for a in apart), default=0.0)
        mean = float(np.mean([a.mean() for a in apart])) if apart else 0.0
        print(f'| {case} | {len(ratios)} | {statistics.median(times["baseline"]):.1f} | '
              f'{statistics.median(times["this"]):.1f} | {statistics.median(ratios):.3f} | '
              f'{len(same)}/{len(answers)} | {largest:.3f} | {mean:.4f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
