"""
Speed of the estimator and the node against the LiteRT reference, measured in one run.

For each image size (640x480, 1280x720, 1920x1080) and crowd (1, 5, 10, 20 copies of the
real person of messi5.jpg over a photograph without people,
:mod:`pose3d_ros.evaluation.crowds`), every implementation runs the same estimator on the
same frame, interleaved: ``torch-cpu`` (our PyTorch networks), ``litert-cpu`` (the same
detector tiles and person crops run by LiteRT's XNNPACK with the same thread count, the
reference), ``torch-cpu-detector-only`` (as ``torch-cpu`` with BlazePose's detector as
the only proposal source, on its grids of before, as before the sources that need no
face), ``torch-cpu-stream`` (``torch-cpu`` as a stream's detection frames call it, each
looking at the next of ``search_frames`` parts of the search) and, with a GPU,
``torch-cuda-fp32`` and ``torch-cuda-fp16``. Per-stage and end-to-end milliseconds (median
and 90th percentile), the persons found, and each implementation's agreement with
``torch-cpu`` (mean 2D keypoint px, mean 3D joint mm); then, for ``torch-cpu``, each
proposal source's milliseconds, the landmark stage's (which looks at every proposal) and
the pipeline against ``torch-cpu-detector-only``.

Then the node: pose3d_node in its own process (with the runtime ``auto`` picks here,
tracking off so that every frame runs the whole estimator) gets the frame over DDS,
reliable: publish -> markers latency interleaved with the bare estimator in this process,
then its sustained rate (answers arriving while frames are published at 30 Hz). After each
frame the benchmark waits for the node's next diagnostics (1 Hz), which give that frame's
receive -> publish time and the estimator's stage times inside the node; the wait also
keeps the two processes' estimators from running back to back on a small machine, where
each one's thread pools slow the other's start. Last
(full run), the CPU estimators called from a second thread against their own
(``second_thread_ratio`` in the machine record): why the node keeps all network calls on
one thread.

Prints markdown tables. ``--json FILE`` writes ``{"machine": ..., "records": [...]}``.
Speed is reported, never asserted.

Usage: python bench/run.py [--quick] [--threads N] [--repeats N] [--json FILE] [--no-node]
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
import json
import os
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.horizon import Horizon
from pose3d_ros.estimation.pipeline import PipelineConfig
from pose3d_ros.estimation.proposals import DETECTOR_ONLY, Search, SOURCES
from pose3d_ros.estimation.result import FrameResult
from pose3d_ros.evaluation.crowds import crowd
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.malloc_settings import keep_freed_memory
from pose3d_ros.samples import fetch_samples, read_player, read_rgb
import torch

SIZES = ((640, 480), (1280, 720), (1920, 1080))
CROWDS = (1, 5, 10, 20)
#: Estimator stage timings reported under the benchmark's stage names.
STAGES = {'detector': 'propose', 'landmarks': 'landmarks', 'root': 'place'}
INPUT_HZ = 30.0
#: The proposal sources before the sources that need no face: BlazePose's detector alone.
DETECTOR_ONLY_IMPL = 'torch-cpu-detector-only'
STREAM_IMPL = 'torch-cpu-stream'


class StreamDetections:
    """
    An estimator as a stream's detection frames call it: each call, the next search part.

    A stream deals the search (the detector grids from ``search_grid`` up, the frame-edge
    and far-row squares) out to ``search_frames`` detection frames
    (:mod:`pose3d_ros.estimation.pipeline`), the far rows under the horizon of the frame
    before; a single image looks at all of it. The median over calls is a detection
    frame's cost.
    """

    def __init__(self, estimator: PoseEstimator,
                 parts: int = PipelineConfig().search_frames) -> None:
        self.estimator, self.parts, self.calls = estimator, parts, 0
        self.horizon: Optional[Horizon] = None

    def __call__(self, frame: np.ndarray, camera: CameraModel,
                 timed: bool = False) -> FrameResult:
        """Estimate with the next part of the search, under the last call's horizon."""
        part = (self.calls % self.parts, self.parts)
        self.calls += 1
        result = self.estimator(frame, camera, search=Search(part, self.horizon, stream=True),
                                timed=timed)
        self.horizon = result.horizon
        return result


def implementations(threads: int) -> Dict[str, EstimatorConfig]:
    """Return the estimator configurations compared: CPU always, CUDA with a GPU."""
    common = {'max_persons': max(CROWDS), 'threads': threads}
    configs = {'torch-cpu': EstimatorConfig(device='cpu', runtime='torch', **common),
               'litert-cpu': EstimatorConfig(device='cpu', runtime='litert', **common),
               DETECTOR_ONLY_IMPL: EstimatorConfig(device='cpu', runtime='torch',
                                                   **DETECTOR_ONLY, **common)}
    if torch.cuda.is_available():
        configs['torch-cuda-fp32'] = EstimatorConfig(device='cuda', runtime='torch', **common)
        configs['torch-cuda-fp16'] = EstimatorConfig(device='cuda', runtime='torch', fp16=True,
                                                     **common)
    return configs


def summary(values_ms: List[float]) -> Dict[str, float]:
    """Median and 90th percentile, milliseconds."""
    return {'ms': statistics.median(values_ms), 'p90_ms': float(np.percentile(values_ms, 90))}


def agreement(result: FrameResult, reference: FrameResult) -> Tuple[float, float]:
    """
    Mean 2D keypoint difference (px) and 3D joint difference (mm) to ``reference``.

    Each person is compared with the reference person whose keypoints are nearest; NaN
    when either found nobody.
    """
    if not result.persons or not reference.persons:
        return float('nan'), float('nan')
    pixels, millimetres = [], []
    for person in result.persons:
        nearest = min(reference.persons, key=lambda other: float(np.linalg.norm(
            other.keypoints_2d - person.keypoints_2d, axis=-1).mean()))
        pixels.append(np.linalg.norm(nearest.keypoints_2d - person.keypoints_2d, axis=-1).mean())
        millimetres.append(
            np.linalg.norm(nearest.joints_3d - person.joints_3d, axis=-1).mean() * 1e3)
    return float(np.mean(pixels)), float(np.mean(millimetres))


def measure_estimators(estimators: Dict[str, PoseEstimator], frame: np.ndarray,
                       camera: CameraModel, repeats: int) -> List[dict]:
    """Time every estimator on ``frame``, interleaved call by call; one record per stage."""
    times: Dict[str, List[Dict[str, float]]] = {name: [] for name in estimators}
    results: Dict[str, FrameResult] = {}
    for name, estimator in estimators.items():  # warm-up
        estimator(frame, camera)
        results[name] = estimator(frame, camera)
    for _ in range(repeats):
        for name, estimator in estimators.items():
            start = time.perf_counter()
            result = estimator(frame, camera, timed=True)
            elapsed = (time.perf_counter() - start) * 1e3
            times[name].append({**result.timings_ms, 'pipeline': elapsed,
                                **{f'source {source}': ms
                                   for source, ms in result.source_timings_ms.items()}})
    records = []
    height, width = frame.shape[:2]
    for name, runs in times.items():
        difference_px, difference_mm = agreement(results[name], results['torch-cpu'])
        base = {'impl': name, 'resolution': f'{width}x{height}',
                'found': len(results[name].persons)}
        for stage, key in STAGES.items():
            records.append({**base, 'stage': stage, **summary([run[key] for run in runs])})
        for key in (key for key in runs[0] if key.startswith('source ')):
            records.append({**base, 'stage': 'source', 'source': key[len('source '):],
                            **summary([run[key] for run in runs])})
        records.append({**base, 'stage': 'pipeline', **summary([run['pipeline'] for run in runs])})
        records[-1].update({'vs_torch_cpu_px': difference_px, 'vs_torch_cpu_mm': difference_mm})
    return records


def measure_node(estimator: PoseEstimator, impl: str, threads: int, frame: np.ndarray,
                 camera: CameraModel, frames: int, sustain_s: float) -> Optional[dict]:
    """
    Publish -> markers latency of the node against ``estimator`` bare, and its 30 Hz rate.

    The node runs ``estimator``'s device and runtime. Returns None (after printing the
    node's log) when it did not answer or report its diagnostics. ROS 2 is imported here,
    not with the module: the estimator tables (``--no-node``) run where it is not
    installed, such as a GPU machine.
    """
    from builtin_interfaces.msg import Time
    from pose3d_ros.node import messages
    from pose3d_ros.node_client import NodeProcess, Pose3dClient, ros_environment
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import Header

    environment = ros_environment(150 + os.getpid() % 50)
    os.environ.update(environment)
    rclpy.init()
    executor = SingleThreadedExecutor()
    client = Pose3dClient('/bench', reliable=True)
    executor.add_node(client)
    parameters = {'reliable_input': 'true', 'tracking': 'false',
                  'device': estimator.device.type, 'fp16': str(estimator.config.fp16).lower(),
                  'runtime': estimator.runtime, 'threads': threads, 'max_persons': max(CROWDS)}
    node_args = ['-r', '__ns:=/bench']
    for name, value in parameters.items():
        node_args += ['-p', f'{name}:={value}']
    header = Header(frame_id='camera_optical')
    info = messages.camera_info_message(header, camera)
    bare, latencies, inner, in_node = [], [], [], []
    answered = 0
    try:
        with NodeProcess(node_args, environment) as node:
            if not client.wait_for_node(executor, 120.0):
                print(node.log(), file=sys.stderr)
                return None
            # Interleaved, never overlapping: a drift in the machine's speed hits both.
            for index in range(2 + frames):
                start = time.perf_counter()
                result = estimator(frame, camera, timed=True)  # its stages named, on a GPU too
                elapsed = (time.perf_counter() - start) * 1e3
                header = Header(stamp=Time(sec=1 + index), frame_id='camera_optical')
                answer = client.request(executor, messages.image_message(header, frame), info,
                                        120.0, republish_s=60.0, topics=('markers',))
                if answer is None:
                    print(node.log(), file=sys.stderr)
                    return None
                # The node's own view of this frame: receive -> publish, and its stages.
                client.spin_for(executor, 0.05)
                status = client.next_diagnostics(executor, 5.0)
                if status is None:
                    print(f'no /diagnostics after frame {index}', file=sys.stderr)
                    print(node.log(), file=sys.stderr)
                    return None
                if index >= 2:
                    bare.append(elapsed)
                    latencies.append(answer.latency_s() * 1e3)
                    values = {value.key: value.value for value in status.values}
                    inner.append(float(values['latency receive to publish (ms)']))
                    in_node.append(sum(float(values[f'{name} (ms)'])
                                       for name in result.timings_ms))
            # Sustained: a new frame every 1/30 s; the node keeps the newest one.
            stamps = []
            start = time.monotonic()
            while time.monotonic() - start < sustain_s:
                stamp = Time(sec=10_000 + len(stamps))
                stamps.append((stamp.sec, stamp.nanosec))
                client.send(messages.image_message(Header(stamp=stamp, frame_id='camera_optical'),
                                                   frame), None)
                client.spin_for(executor, start + len(stamps) / INPUT_HZ - time.monotonic())
            end = time.monotonic()
            client.spin_for(executor, 2.0 * statistics.median(latencies) / 1e3)
            answered = sum(1 for stamp in stamps if stamp in client.answers and
                           client.answers[stamp].arrived.get('markers', end + 1) <= end)
    finally:
        executor.shutdown()
        rclpy.shutdown()
    height, width = frame.shape[:2]
    return {'impl': impl, 'stage': 'node', 'resolution': f'{width}x{height}',
            **summary(latencies), 'bare_ms': statistics.median(bare),
            'node_estimator_ms': statistics.median(in_node),
            'node_receive_to_publish_ms': statistics.median(inner),
            'sustained_hz': answered / sustain_s, 'input_hz': INPUT_HZ}


def second_thread_ratio(estimator: PoseEstimator, frame: np.ndarray, camera: CameraModel,
                        repeats: int) -> float:
    """
    Median time of ``estimator`` called from a new thread over the loading thread's.

    Why the node runs every network call on one compute thread: PyTorch's OpenMP CPU
    backend is slower from a thread other than the one that first used it. Measured last,
    because afterwards PyTorch's first thread is slow too.
    """
    def median_ms(call: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    own = median_ms(lambda: estimator(frame, camera))
    with ThreadPoolExecutor(max_workers=1) as other:
        other.submit(estimator, frame, camera).result()
        second = median_ms(lambda: other.submit(estimator, frame, camera).result())
    return second / own


def litert_version() -> Optional[str]:
    """Return the installed ai-edge-litert's version, None without it."""
    try:
        return metadata.version('ai-edge-litert')
    except metadata.PackageNotFoundError:
        return None


def machine(threads: int, repeats: int) -> dict:
    """Describe the machine and the software the figures belong to."""
    model = ''
    if os.path.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as stream:
            model = next((line.split(':', 1)[1].strip() for line in stream
                          if line.startswith('model name')), '')
    return {'platform': platform.platform(), 'cpu': model, 'cpu_count': os.cpu_count(),
            'threads': threads, 'python': platform.python_version(),
            'torch': torch.__version__, 'ai_edge_litert': litert_version(),
            'gpu': torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            'repeats': repeats}


def cell(value: Optional[float], digits: int = 1) -> str:
    """Return a table cell: ``value`` to ``digits`` places, '-' for none or not finite."""
    return '-' if value is None or not np.isfinite(value) else f'{value:.{digits}f}'


def print_tables(records: List[dict]) -> None:
    """Print the estimator and node records as markdown tables."""
    print('| resolution | persons | impl | found | detector ms | landmarks ms | root ms | '
          'pipeline ms | p90 ms | / litert-cpu | vs torch-cpu px | vs torch-cpu mm |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    rows: Dict[tuple, Dict[str, dict]] = {}
    for record in records:
        if record['stage'] != 'node':
            key = (record['resolution'], record['persons'], record['impl'])
            stage = record['stage']
            if stage == 'source':
                stage = f'source {record["source"]}'
            rows.setdefault(key, {})[stage] = record
    for (resolution, persons, impl), stages in rows.items():
        pipeline = stages['pipeline']
        reference = rows[resolution, persons, 'litert-cpu']['pipeline']['ms']
        print(f'| {resolution} | {persons} | {impl} | {pipeline["found"]} | '
              f'{cell(stages["detector"]["ms"])} | {cell(stages["landmarks"]["ms"])} | '
              f'{cell(stages["root"]["ms"])} | {cell(pipeline["ms"])} | '
              f'{cell(pipeline["p90_ms"])} | {cell(pipeline["ms"] / reference, 2)} | '
              f'{cell(pipeline["vs_torch_cpu_px"], 2)} | {cell(pipeline["vs_torch_cpu_mm"])} |')
    print('\nThe proposal sources of torch-cpu (a single image: all of the search; a '
          "stream's detection frame: one part of it), and the landmark stage that looks at "
          'them:\n')
    print('| resolution | persons | impl | ' + ' | '.join(f'{name} ms' for name in SOURCES) +
          f' | landmarks ms | pipeline ms | / {DETECTOR_ONLY_IMPL} |')
    print('| --- | --- | --- | --- |' + ' --- |' * (len(SOURCES) + 2))
    for (resolution, persons, impl), stages in rows.items():
        if impl in ('torch-cpu', STREAM_IMPL):
            sources = [cell(stages[f'source {name}']['ms']) if f'source {name}' in stages
                       else '-' for name in SOURCES]
            before = rows[resolution, persons, DETECTOR_ONLY_IMPL]['pipeline']['ms']
            print(f'| {resolution} | {persons} | {impl} | ' + ' | '.join(sources) +
                  f' | {cell(stages["landmarks"]["ms"])} | {cell(stages["pipeline"]["ms"])} | '
                  f'{cell(stages["pipeline"]["ms"] / before, 2)} |')
    nodes = [r for r in records if r['stage'] == 'node']
    if nodes:
        print('\n| node impl | resolution | persons | bare estimator ms | estimator in node ms '
              '| receive → publish ms | publish → markers ms | p90 ms | node / bare | '
              'sustained Hz at 30 Hz input |')
        print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
        for r in nodes:
            print(f'| {r["impl"]} | {r["resolution"]} | {r["persons"]} | {cell(r["bare_ms"])} | '
                  f'{cell(r["node_estimator_ms"])} | {cell(r["node_receive_to_publish_ms"])} | '
                  f'{cell(r["ms"])} | {cell(r["p90_ms"])} | {cell(r["ms"] / r["bare_ms"], 2)} | '
                  f'{cell(r["sustained_hz"])} |')


def main() -> int:
    """Measure, print the tables, write the JSON; 1 when the node did not answer."""
    keep_freed_memory()  # as the node and pose3d-estimate do; the estimators run here
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='640x480 with 1 and 5 people, few repeats (for CI)')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads(),
                        help='CPU threads of every implementation')
    parser.add_argument('--repeats', type=int, help='timed calls per configuration')
    parser.add_argument('--json', help='write the records to this file')
    parser.add_argument('--no-node', action='store_true', help='skip the node measurements')
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 10)
    sizes, crowds = (SIZES[:1], CROWDS[:2]) if args.quick else (SIZES, CROWDS)
    samples = fetch_samples()
    person = read_player()
    background = read_rgb(samples / 'building.jpg')

    estimators = {name: PoseEstimator(config)
                  for name, config in implementations(args.threads).items()}
    estimators[STREAM_IMPL] = StreamDetections(estimators['torch-cpu'])
    auto = PoseEstimator(EstimatorConfig(runtime='auto', max_persons=max(CROWDS),
                                         threads=args.threads))
    selected = {('litert', 'cpu'): 'litert-cpu', ('torch', 'cpu'): 'torch-cpu',
                ('torch', 'cuda'): 'torch-cuda-fp32'}[auto.runtime, auto.device.type]
    print(f'runtime auto selects: {selected}\n')
    records: List[dict] = []
    for size in sizes:
        for persons in crowds:
            frame = crowd(person, background, persons, size)
            camera = CameraModel.from_hfov(*size, 60.0)
            for record in measure_estimators(estimators, frame, camera, repeats):
                records.append({**record, 'persons': persons})
    status = 0
    if not args.no_node:
        scenes: Tuple[Tuple[Tuple[int, int], int], ...] = \
            (((640, 480), 1),) if args.quick else (((640, 480), 1), ((1280, 720), 10))
        for size, persons in scenes:
            record = measure_node(estimators[selected], selected, args.threads,
                                  crowd(person, background, persons, size),
                                  CameraModel.from_hfov(*size, 60.0),
                                  frames=5 if args.quick else 20,
                                  sustain_s=3.0 if args.quick else 10.0)
            if record is None:
                status = 1
                continue
            records.append({**record, 'persons': persons})
    described = machine(args.threads, repeats)
    if not args.quick:
        size, persons = (640, 480), 1
        described['second_thread_ratio'] = {
            name: second_thread_ratio(estimators[name], crowd(person, background, persons, size),
                                      CameraModel.from_hfov(*size, 60.0), repeats)
            for name in ('litert-cpu', 'torch-cpu')}  # torch last: it stays slow afterwards
    print(f'machine: {json.dumps(described)}\n')
    print_tables(records)
    if args.json:
        with open(args.json, 'w') as stream:
            json.dump({'machine': described, 'records': records}, stream, indent=1)
    return status


if __name__ == '__main__':
    sys.exit(main())
