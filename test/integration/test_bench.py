"""The benchmarks write the records the issue tracker's schema asks for (speed never asserted)."""

import json
from pathlib import Path
import subprocess
import sys

import torch

ROOT = Path(__file__).resolve().parents[2]
IMPLS = {'torch-cpu', 'litert-cpu', 'torch-cpu-detector-only', 'torch-cpu-stream',
         'torch-cuda-fp32', 'torch-cuda-fp16'}
STAGES = {'detector', 'landmarks', 'root', 'source', 'pipeline', 'node'}


#: Run a script with ROS 2's Python packages unimportable, as on a machine without ROS 2.
WITHOUT_ROS = ('import runpy, sys\n'
               "for name in ('rclpy', 'builtin_interfaces', 'std_msgs', 'sensor_msgs', "
               "'geometry_msgs', 'visualization_msgs', 'diagnostic_msgs', 'rcl_interfaces'):\n"
               '    sys.modules[name] = None\n'
               'sys.argv = sys.argv[1:]\n'
               "runpy.run_path(sys.argv[0], run_name='__main__')\n")


def test_quick_benchmark_writes_its_records(tmp_path: Path) -> None:
    """Its estimator tables (--no-node) need no ROS 2: it is blocked here."""
    output = tmp_path / 'bench.json'
    run = subprocess.run([sys.executable, '-c', WITHOUT_ROS, str(ROOT / 'bench' / 'run.py'),
                          '--quick', '--repeats', '1', '--no-node', '--json', str(output)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert '| resolution | persons | impl |' in run.stdout
    data = json.loads(output.read_text())
    assert data['machine']['cpu_count'] >= 1 and data['machine']['torch']
    records = data['records']
    assert {(r['impl'], r['stage']) for r in records} >= {
        (impl, stage) for impl in ('torch-cpu', 'litert-cpu')
        for stage in ('detector', 'landmarks', 'root', 'pipeline')}
    for record in records:
        assert record['impl'] in IMPLS and record['stage'] in STAGES
        assert record['resolution'] == '640x480' and record['persons'] in (1, 5)
        assert 0 < record['ms'] <= record['p90_ms']
    found = {(r['impl'], r['persons']): r['found'] for r in records if r['stage'] == 'pipeline'}
    # The crowds hold the people they claim; the player's photograph also shows blurred
    # spectators behind him, whom the search (the frame-edge squares) may find.
    assert all(count == persons for (impl, persons), count in found.items()
               if impl == 'torch-cpu-detector-only')
    assert all(count >= persons for (_, persons), count in found.items())
    sources = {r['source'] for r in records if r['stage'] == 'source' and r['impl'] == 'torch-cpu'}
    assert sources == {'detector', 'near_field', 'frame_edges', 'far_rows', 'hog'}
    columns = ('detector', 'near_field', 'frame_edges', 'far_rows', 'hog', 'landmarks')
    assert '| ' + ' | '.join(f'{name} ms' for name in columns) + ' |' in run.stdout


def test_where_time_goes_prints_stages_operators_and_output_costs() -> None:
    run = subprocess.run([sys.executable, str(ROOT / 'bench' / 'where_time_goes.py'),
                          '--runtime', 'litert', '--size', '640', '480', '--persons', '1',
                          '--repeats', '1'], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    stages = [line.split(' | ')[0].strip('| ') for line in run.stdout.splitlines()
              if line.startswith('| ') and line.count('|') == 4 and '%' in line]
    assert stages == ['preprocess', 'propose', 'landmarks', 'place', 'postprocess']
    assert 'Self CPU time total' in run.stdout
    assert 'node outputs for 1 persons' in run.stdout
    costs = {cells[0]: [float(value) for value in cells[1:]] for cells in (
        [cell.strip() for cell in line.strip('|').split('|')]
        for line in run.stdout.split('node outputs')[1].splitlines()
        if line.startswith('| ') and not line.startswith(('| output', '| ---')))}
    assert set(costs) == {'markers', 'poses', 'joints', 'skeletons', 'debug_image'}
    assert all(value > 0 for values in costs.values() for value in values)
    # Without ROS 2 (a GPU machine) the first two tables still print.
    run = subprocess.run([sys.executable, '-c', WITHOUT_ROS,
                          str(ROOT / 'bench' / 'where_time_goes.py'), '--runtime', 'litert',
                          '--size', '640', '480', '--persons', '1', '--repeats', '1'],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'Self CPU time total' in run.stdout and 'node outputs: skipped' in run.stdout


def test_hog_benchmark_times_both_engines(sample_dir) -> None:
    run = subprocess.run([sys.executable, str(ROOT / 'bench' / 'hog.py'), '--repeats', '1'],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [line for line in run.stdout.splitlines()
            if line.startswith('| people_64x128') or line.startswith('| daimler_48x96')]
    assert len(rows) == 2 * 3 * 2
    assert all(float(row.split('|')[-2]) > 0 for row in rows)


def test_gpu_benchmark_rehearses_on_the_cpu(tmp_path: Path) -> None:
    """bench/gpu.py runs whole here, its PyTorch rows on the CPU; without CUDA it says so."""
    if not torch.cuda.is_available():
        refused = subprocess.run([sys.executable, str(ROOT / 'bench' / 'gpu.py'), '--quick'],
                                 capture_output=True, text=True, timeout=600)
        assert refused.returncode == 2 and 'needs CUDA' in refused.stderr
    output = tmp_path / 'gpu.json'
    run = subprocess.run([sys.executable, '-c', WITHOUT_ROS, str(ROOT / 'bench' / 'gpu.py'),
                          '--quick', '--rehearse', '--json', str(output)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert '| mode | persons | impl | found | ms |' in run.stdout
    assert 'rehearsal: the torch-cuda rows ran on the CPU, padded as on CUDA' in run.stdout
    data = json.loads(output.read_text())
    rows = {(r['mode'], r['impl']): r for r in data['records']}
    for mode in ('single image', 'stream detection', 'stream tracked'):
        for impl in ('litert-cpu', 'torch-cuda-fp32'):
            assert rows[mode, impl]['found'] >= (8 if mode == 'single image' else 1)
            assert rows[mode, impl]['ms'] > 0
    assert set(data['per_person_ms']) == set()  # one crowd: no slope
