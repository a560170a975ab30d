"""The real model files: a damaged copy fails to load, and pose3d-models verifies them."""

from pathlib import Path

from pose3d_ros.cli import models as models_cli
from pose3d_ros.models.blazepose import POSE_DETECTION, POSE_LANDMARK_FULL
from pose3d_ros.models.store import ModelFileError
from pose3d_ros.tflite.reader import read_tflite
import pytest


def test_real_model_damaged_fails_to_load(tmp_path: Path, model_dir: Path) -> None:
    data = (model_dir / POSE_DETECTION.file.filename).read_bytes()
    (tmp_path / POSE_DETECTION.file.filename).write_bytes(data[:len(data) // 3])
    with pytest.raises(ModelFileError, match='truncated'):
        POSE_DETECTION.load(tmp_path)
    with pytest.raises(ValueError, match='truncated or corrupt'):
        read_tflite(data[:len(data) // 3])
    with pytest.raises(ValueError, match='not a TFLite model'):
        read_tflite(b'\x00' * 4 + b'NOPE' + data[8:])
    altered = bytearray(data)
    altered[len(data) // 2] ^= 0xFF
    (tmp_path / POSE_DETECTION.file.filename).write_bytes(bytes(altered))
    with pytest.raises(ModelFileError, match='altered'):
        POSE_DETECTION.load(tmp_path)


def test_cli_verify_path_and_fetch(tmp_path: Path, model_dir: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    empty = str(tmp_path / 'empty')
    assert models_cli.main(['--model-dir', empty, 'verify']) == 1
    assert 'pose3d-models fetch' in capsys.readouterr().err
    assert models_cli.main(['--model-dir', empty, 'path']) == 0
    assert capsys.readouterr().out.strip() == empty
    assert models_cli.main(['--model-dir', str(model_dir), 'verify']) == 0
    output = capsys.readouterr().out
    for network in (POSE_DETECTION, POSE_LANDMARK_FULL):
        assert f'{network.file.filename}: ok' in output
    assert models_cli.main(['--model-dir', str(model_dir), 'fetch']) == 0
