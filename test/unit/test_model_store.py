"""Model acquisition: idempotent, atomic, digest-checked, with actionable errors."""

import hashlib
import os
from pathlib import Path
import shutil
import zipfile

from pose3d_ros.models.store import (
    download_wheel, fetch, ModelFile, ModelFileError, verified_path, verify)
import pytest

CONTENT = {'a.tflite': b'first model' * 100, 'b.tflite': b'second model' * 50}
FILES = tuple(ModelFile(name, f'mediapipe/modules/x/{name}',
                        hashlib.sha256(data).hexdigest(), len(data))
              for name, data in CONTENT.items())


def _wheel(path: Path, content: dict = CONTENT) -> Path:
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('mediapipe/__init__.py', '')
        for name, data in content.items():
            archive.writestr(f'mediapipe/modules/x/{name}', data)
    return path


def _no_download(directory: Path) -> Path:
    raise AssertionError('must not download')


def test_fetch_installs_verified_files_and_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / 'models'
    wheel = _wheel(tmp_path / 'mediapipe-0.10.14.whl')
    fetch(FILES, target, downloader=lambda d: Path(shutil.copy(wheel, d)), log=lambda m: None)
    assert verify(FILES, target) == {'a.tflite': None, 'b.tflite': None}
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    fetch(FILES, target, downloader=_no_download, log=lambda m: None)
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before


def test_digest_mismatch_installs_nothing(tmp_path: Path) -> None:
    altered = dict(CONTENT, **{'b.tflite': b'tampered' * 75})
    wheel = _wheel(tmp_path / 'bad.whl', altered)
    with pytest.raises(ModelFileError, match='SHA-256'):
        fetch(FILES, tmp_path / 'models', wheel=wheel, log=lambda m: None)
    assert sorted(p.name for p in (tmp_path / 'models').iterdir()) == ['a.tflite']


def test_interrupted_fetch_leaves_no_partial_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(source: str, destination: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch(FILES, tmp_path / 'models', wheel=_wheel(tmp_path / 'w.whl'), log=lambda m: None)
    assert list((tmp_path / 'models').iterdir()) == []


def test_broken_wheel_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / 'broken.whl'
    broken.write_bytes(_wheel(tmp_path / 'w.whl').read_bytes()[:100])
    with pytest.raises(ModelFileError, match='cannot open wheel'):
        fetch(FILES, tmp_path / 'models', wheel=broken, log=lambda m: None)


def test_directory_filled_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, data in CONTENT.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.setenv('POSE3D_MODEL_DIR', str(tmp_path))
    assert verified_path(FILES[0]) == tmp_path / 'a.tflite'
    fetch(FILES, downloader=_no_download, log=lambda m: None)


@pytest.mark.parametrize('damage, message', [
    (lambda data: data[:len(data) // 2], 'truncated'),
    (lambda data: data[:-1] + bytes([data[-1] ^ 1]), 'altered'),
])
def test_damaged_file_is_caught_with_the_fix(tmp_path: Path, damage, message: str) -> None:
    (tmp_path / 'a.tflite').write_bytes(damage(CONTENT['a.tflite']))
    with pytest.raises(ModelFileError, match=message) as error:
        verified_path(FILES[0], tmp_path)
    assert 'pose3d-models fetch' in str(error.value)


def test_offline_download_says_what_to_run(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # No index and an empty find-links directory: pip fails at once, as when offline.
    monkeypatch.setenv('PIP_NO_INDEX', '1')
    monkeypatch.setenv('PIP_FIND_LINKS', str(tmp_path))
    monkeypatch.setenv('PIP_CONFIG_FILE', os.devnull)
    with pytest.raises(ModelFileError, match='--wheel') as error:
        download_wheel(tmp_path)
    assert 'mediapipe==0.10.14' in str(error.value)
