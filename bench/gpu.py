"""
The GPU table: 1280x720 with 10 people on CUDA against LiteRT on the CPU, in one run.

For crowds of 1, 5, 10 and 20 copies of messi5.jpg's real person over a photograph without
people (:mod:`pose3d_ros.evaluation.crowds`), at 1280x720, each implementation runs the
same frames, interleaved call by call (warm-ups first, during which CUDA graphs are
captured):

* ``single image``: the whole estimator, every proposal source and the whole search, as
  ``pose3d-estimate`` runs it on a photograph;
* ``stream``: the tracked pipeline (:class:`~pose3d_ros.estimation.pipeline.Pipeline`)
  on the frame repeated: ``stream detection`` its detection frames (a part of the search
  each), ``stream tracked`` the frames between them, which look at the tracked persons'
  regions only; this is a camera stream's usual frame.

Implementations: ``litert-cpu`` (the reference: the official LiteRT interpreter on every
CPU core), ``torch-cuda-fp32`` (TF32 off, as the default), ``torch-cuda-fp16``, and both
with ``cuda_graphs``. "/ litert-cpu" is the implementation's median over the reference's
in the same run; "vs fp32" the mean 2D keypoint (px) and 3D joint (mm) difference from
``torch-cuda-fp32``. Then, per implementation, the milliseconds per extra person (the
least-squares slope of the tracked stream frame over the crowd sizes), and the node's
overhead over the bare estimator when ROS 2 is importable (:func:`run.measure_node`).

Speed is reported, never asserted. Needs CUDA.

Usage: python bench/gpu.py [--repeats N] [--json FILE] [--quick] [--rehearse]
"""

import argparse
import json
import os
from pathlib import Path
import sys
import time
from typing import Callable, Dict, List, Optional

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.pipeline import Pipeline, PipelineConfig
from pose3d_ros.estimation.result import FrameResult
from pose3d_ros.estimation.slots import bucket_sizes, BucketedNetwork, padded
from pose3d_ros.evaluation.crowds import crowd
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.malloc_settings import keep_freed_memory
from pose3d_ros.models.runtime import litert_available
from pose3d_ros.samples import fetch_samples, read_player, read_rgb
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a path too (runpy)
from run import agreement, cell, machine, measure_node, summary  # noqa: E402, I100

SIZE = (1280, 720)
CROWDS = (1, 5, 10, 20)
REFERENCE = 'litert-cpu'
FP32 = 'torch-cuda-fp32'


def implementations(threads: int, rehearse: bool) -> Dict[str, EstimatorConfig]:
    """
    Return the configurations compared: LiteRT on the CPU and PyTorch on CUDA.

    ``rehearse``: the PyTorch ones on the CPU instead, float32 without graphs only (the
    others need CUDA), under the same names: the whole script runs without a GPU. Without
    ai-edge-litert there is no reference.
    """
    common = {'max_persons': max(CROWDS)}
    configs = {}
    if litert_available():
        configs[REFERENCE] = EstimatorConfig(device='cpu', runtime='litert', threads=threads,
                                             **common)
    for precision, fp16 in (('fp32', False), ('fp16', True)):
        for graphs in (False, True):
            name = f'torch-cuda-{precision}' + ('-graphs' if graphs else '')
            if rehearse and (fp16 or graphs):
                continue
            configs[name] = EstimatorConfig(device='cpu' if rehearse else 'cuda',
                                            runtime='torch', fp16=fp16, cuda_graphs=graphs,
                                            **common)
    return configs


def timed_calls(calls: Dict[str, Callable[[], FrameResult]], repeats: int,
                warm_ups: int = 2) -> Dict[str, List[tuple]]:
    """Call each of ``calls`` in turn, ``repeats`` times: (milliseconds, result) each."""
    for call in calls.values():
        for _ in range(warm_ups):
            call()
    runs: Dict[str, List[tuple]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            result = call()
            runs[name].append(((time.perf_counter() - start) * 1e3, result))
    return runs


class Stream:
    """A pipeline on one frame repeated at 30 Hz: each call, the next frame."""

    def __init__(self, estimator: PoseEstimator, frame: np.ndarray, camera: CameraModel):
        self.pipeline = Pipeline(estimator, PipelineConfig())
        self.frame, self.camera, self.calls = frame, camera, 0

    def __call__(self) -> FrameResult:
        """Estimate the next frame."""
        self.calls += 1
        return self.pipeline(self.frame, self.camera, self.calls / 30.0)


def records_of(mode: str, persons: int, runs: Dict[str, List[tuple]]) -> List[dict]:
    """Summarise each implementation's calls of one mode and crowd."""
    records = []
    for name, calls in runs.items():
        if not calls:  # a stream without frames of this kind
            continue
        times = [ms for ms, _ in calls]
        result = calls[-1][1]
        px, mm = (agreement(result, runs[FP32][-1][1]) if runs.get(FP32)
                  else (float('nan'), float('nan')))
        records.append({'mode': mode, 'persons': persons, 'impl': name,
                        'found': len(result.persons), **summary(times),
                        'vs_fp32_px': px, 'vs_fp32_mm': mm})
    return records


def measure(estimators: Dict[str, PoseEstimator], crowds: tuple, repeats: int,
            done: Callable[[List[dict]], None]) -> List[dict]:
    """Time the single image and the stream's frames of every crowd; ``done`` after each."""
    person, background = read_player(), read_rgb(fetch_samples() / 'building.jpg')
    camera = CameraModel.from_hfov(*SIZE, 60.0)
    records: List[dict] = []
    for persons in crowds:
        frame = crowd(person, background, persons, SIZE)
        single = timed_calls({name: (lambda e=estimator: e(frame, camera, timed=False))
                              for name, estimator in estimators.items()}, repeats)
        records += records_of('single image', persons, single)
        streams = {name: Stream(estimator, frame, camera)
                   for name, estimator in estimators.items()}
        # Detection frames (every detect_every-th) and tracked frames in every stream.
        every = PipelineConfig().detect_every
        runs = timed_calls(streams, max(repeats, every + 1), warm_ups=every)
        for kind, detected in (('stream detection', True), ('stream tracked', False)):
            records += records_of(kind, persons, {
                name: [(ms, result) for ms, result in calls if result.detected == detected]
                for name, calls in runs.items()})
        done(records)
    return records


def per_person(records: List[dict]) -> Dict[str, float]:
    """Return each implementation's ms per extra person on tracked stream frames (slope)."""
    slopes = {}
    for impl in {record['impl'] for record in records}:
        points = [(r['persons'], r['ms']) for r in records
                  if r['impl'] == impl and r['mode'] == 'stream tracked']
        if len(points) >= 2:
            persons, ms = np.array(points, float).T
            slopes[impl] = float(np.polyfit(persons, ms, 1)[0])
    return slopes


def print_table(records: List[dict], slopes: Dict[str, float]) -> None:
    """Print the records as one markdown table, then the slopes."""
    reference = {(r['mode'], r['persons']): r['ms'] for r in records if r['impl'] == REFERENCE}
    print(f'| mode | persons | impl | found | ms | p90 ms | / {REFERENCE} | '
          'vs fp32 px | vs fp32 mm |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in records:
        ratio = r['ms'] / reference.get((r['mode'], r['persons']), float('nan'))
        print(f'| {r["mode"]} | {r["persons"]} | {r["impl"]} | {r["found"]} | '
              f'{cell(r["ms"], 2)} | {cell(r["p90_ms"], 2)} | {cell(ratio, 4)} | '
              f'{cell(r["vs_fp32_px"], 2)} | {cell(r["vs_fp32_mm"])} |')
    print('\n| impl | ms per extra person (tracked stream frames) |\n| --- | --- |')
    for impl, slope in sorted(slopes.items()):
        print(f'| {impl} | {cell(slope, 3)} |')


def main() -> int:
    """Measure and print; 2 without CUDA."""
    keep_freed_memory()
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--repeats', type=int, default=10, help='timed calls per setting')
    parser.add_argument('--quick', action='store_true', help='10 people only, 3 repeats')
    parser.add_argument('--rehearse', action='store_true',
                        help='without a GPU: the PyTorch rows on the CPU (float32 only)')
    parser.add_argument('--json', help='write the records to this file')
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.rehearse:
        print('error: bench/gpu.py needs CUDA (--rehearse runs it on the CPU)', file=sys.stderr)
        return 2
    threads = os.cpu_count() or 1
    estimators = {name: PoseEstimator(config)
                  for name, config in implementations(threads, args.rehearse).items()}
    if REFERENCE not in estimators:
        print(f'{REFERENCE}: not measured (ai-edge-litert is not installed)\n')
    for name, estimator in estimators.items():
        if args.rehearse and name != REFERENCE:  # on the CPU as CUDA runs it: every slot
            estimator.slot_batching = padded
            estimator.landmark_runner = BucketedNetwork(
                estimator.landmarker, bucket_sizes(estimator.config.max_persons))
        estimator.warm_up(*SIZE)  # CUDA graphs captured here
    if args.rehearse:
        print('rehearsal: the torch-cuda rows ran on the CPU, padded as on CUDA\n')
    crowds, repeats = ((10,), 3) if args.quick else (CROWDS, args.repeats)
    described = machine(threads, repeats)
    records = measure(estimators, crowds, repeats,
                      lambda done: write(args.json, described, done, per_person(done)))
    slopes = per_person(records)
    print(f'machine: {json.dumps(described)}\n')
    print_table(records, slopes)
    node = None if args.rehearse else node_overhead(estimators[FP32], threads)
    if node is not None:
        records.append(node)
    return write(args.json, described, records, slopes)


def node_overhead(estimator: PoseEstimator, threads: int) -> Optional[dict]:
    """Print and return the node's latency against the bare estimator (needs ROS 2)."""
    try:
        import rclpy  # noqa: F401
    except ImportError:
        print('\nnode overhead: not measured (ROS 2 is not importable here)')
        return None
    person, background = read_player(), read_rgb(fetch_samples() / 'building.jpg')
    node = measure_node(estimator, FP32, threads, crowd(person, background, 10, SIZE),
                        CameraModel.from_hfov(*SIZE, 60.0), frames=20, sustain_s=10.0)
    if node is not None:
        print(f'\nnode overhead ({FP32}, 10 people): publish -> markers {node["ms"]:.2f} ms '
              f"against the bare estimator's {node['bare_ms']:.2f} ms; receive -> publish "
              f'{node["node_receive_to_publish_ms"]:.2f} ms')
    return node


def write(path: str, described: dict, records: List[dict], slopes: Dict[str, float]) -> int:
    """Write the records to ``path`` as JSON (when given); 0."""
    if path:
        with open(path, 'w') as stream:
            json.dump({'machine': described, 'records': records, 'per_person_ms': slopes},
                      stream, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
