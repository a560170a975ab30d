"""bench/run.py writes the records the issue tracker's schema asks for (speed never asserted)."""

import json
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
IMPLS = {'torch-cpu', 'litert-cpu', 'torch-cuda-fp32', 'torch-cuda-fp16'}
STAGES = {'detector', 'landmarks', 'root', 'pipeline', 'node'}


def test_quick_benchmark_writes_its_records(tmp_path: Path) -> None:
    output = tmp_path / 'bench.json'
    run = subprocess.run([sys.executable, str(ROOT / 'bench' / 'run.py'), '--quick',
                          '--repeats', '1', '--no-node', '--json', str(output)],
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
    found = {r['persons']: r['found'] for r in records if r['stage'] == 'pipeline'}
    assert found == {1: 1, 5: 5}  # the crowds hold the people they claim
