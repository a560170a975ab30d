"""
Benchmark the networks: our PyTorch execution against LiteRT, in the same run.

Prints a table of median and 90th-percentile milliseconds per call for each network
(stage ``detector`` / ``landmarks``) at batch 1 and 8 (``persons``), for ``torch-cpu``
and ``litert-cpu`` (XNNPACK, same thread count; a batch is run sample by sample, as LiteRT
serves one crop per call), plus the ratio torch / LiteRT. ``--json FILE`` writes
``{"machine": ..., "records": [...]}``. Speed is reported, never asserted.

Usage: python bench/run.py [--quick] [--threads N] [--json FILE]
"""

import argparse
import json
import os
import platform
import statistics
import time
from typing import Callable, Dict, List

import numpy as np
from pose3d_ros.models.blazepose import POSE_DETECTION, POSE_LANDMARK_FULL
from pose3d_ros.models.store import verified_path
from pose3d_ros.tflite.litert import LiteRTRunner
import torch

STAGES = {'detector': POSE_DETECTION, 'landmarks': POSE_LANDMARK_FULL}


def measure(call: Callable[[], object], repeats: int) -> Dict[str, float]:
    """Median and p90 wall milliseconds of ``call`` after two warm-up calls."""
    call()
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return {'ms': statistics.median(times), 'p90_ms': times[int(0.9 * (len(times) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='few repeats (for CI)')
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--json', help='write the records to this file')
    args = parser.parse_args()
    repeats = 3 if args.quick else 30
    torch.set_num_threads(args.threads)
    records: List[dict] = []
    for stage, network in STAGES.items():
        path = verified_path(network.file)
        module = network.load()
        litert = LiteRTRunner(path, num_threads=args.threads)
        for batch in (1, 8):
            inputs = np.random.default_rng(0).uniform(
                *network.input_range, size=(batch, 3, *network.input_size)).astype(np.float32)
            tensor = torch.from_numpy(inputs)

            def run_torch() -> object:
                with torch.inference_mode():
                    return module(tensor)

            for impl, call in (('torch-cpu', run_torch), ('litert-cpu', lambda: litert(inputs))):
                records.append({'impl': impl, 'stage': stage, 'resolution': 'x'.join(
                    str(s) for s in network.input_size[::-1]), 'persons': batch,
                    **measure(call, repeats)})
    machine = {'platform': platform.platform(), 'processor': platform.processor(),
               'cpu_count': os.cpu_count(), 'threads': args.threads,
               'torch': torch.__version__, 'repeats': repeats}
    print(f'machine: {machine}')
    print(f'{"stage":10s} {"batch":>5s} {"torch ms":>9s} {"litert ms":>10s} {"ratio":>6s}')
    for stage in STAGES:
        for batch in (1, 8):
            row = {r['impl']: r for r in records if r['stage'] == stage and r['persons'] == batch}
            ours, theirs = row['torch-cpu']['ms'], row['litert-cpu']['ms']
            print(f'{stage:10s} {batch:5d} {ours:9.2f} {theirs:10.2f} {ours / theirs:6.2f}')
    if args.json:
        with open(args.json, 'w') as stream:
            json.dump({'machine': machine, 'records': records}, stream, indent=1)


if __name__ == '__main__':
    main()
