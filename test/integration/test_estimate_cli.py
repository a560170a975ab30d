"""The ``pose3d-estimate`` command: inputs, cameras, JSON lines, pictures, failures."""

import json
import shutil

from pose3d_ros.cli.estimate import main
from pose3d_ros.geometry.camera import CameraModel
import pytest

from ..helpers import write_calibration


@pytest.fixture
def images(tmp_path, sample_dir):
    folder = tmp_path / 'images'
    folder.mkdir()
    shutil.copy(sample_dir / 'messi5.jpg', folder)
    shutil.copy(sample_dir / 'pic1.png', folder)
    (folder / 'broken.jpg').write_bytes(b'not an image')
    (folder / 'notes.txt').write_text('ignored: not an image suffix')
    return folder


def read_lines(path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_directory_with_a_broken_file(images, tmp_path, capsys, model_dir) -> None:
    output = tmp_path / 'out.jsonl'
    status = main([str(images), '--device', 'cpu', '--output', str(output),
                   '--render', str(tmp_path / 'pictures'), '--joint-set', 'coco17'])
    assert status == 1  # one input failed, the others were processed
    assert 'broken.jpg: skipped' in capsys.readouterr().err
    records = {r['source'].rsplit('/', 1)[-1]: r for r in read_lines(output)}
    assert sorted(records) == ['messi5.jpg', 'pic1.png']
    assert records['pic1.png']['persons'] == []
    messi = records['messi5.jpg']
    assert messi['image_size'] == [548, 342] and not messi['camera']['calibrated']
    person = messi['persons'][0]
    assert len(person['joints_3d']) == 33 and person['id'] is None
    assert len(person['converted']['joints_3d']) == 17
    assert person['joint_set'] == 'blazepose33'
    assert (tmp_path / 'pictures' / 'messi5_pose3d.png').stat().st_size > 10000


def test_camera_options(images, tmp_path, sample_dir, model_dir) -> None:
    calibration = write_calibration(tmp_path / 'camera.yaml', CameraModel.from_values(
        548, 342, [600, 0, 273.5, 0, 600, 170.5, 0, 0, 1]))
    depths = {}
    for name, arguments in (('yaml', ['--camera-info', str(calibration)]),
                            ('focal', ['--fx', '600', '--fy', '600']),
                            ('double', ['--fx', '1200', '--fy', '1200', '--cx', '273.5',
                                        '--cy', '170.5'])):
        output = tmp_path / f'{name}.jsonl'
        assert main([str(sample_dir / 'messi5.jpg'), '--device', 'cpu', '--detector-grids', '1',
                     '--output', str(output), *arguments]) == 0
        record = read_lines(output)[0]
        assert record['camera']['calibrated'] and record['camera']['fx'] in (600, 1200)
        depths[name] = record['persons'][0]['root'][2]
    assert depths['yaml'] == pytest.approx(depths['focal'])
    assert depths['double'] / depths['focal'] == pytest.approx(2.0, rel=0.02)
    # A calibration for another image size is an error for that image.
    assert main([str(sample_dir / 'pic1.png'), '--device', 'cpu', '--camera-info',
                 str(calibration), '--output', str(tmp_path / 'x.jsonl')]) == 1


def test_bad_arguments(capsys) -> None:
    assert main(['--hfov', '200']) == 2
    capsys.readouterr()
    # A device this machine lacks: one line with the reason, no traceback.
    assert main(['--device', 'cuda:7']) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: device 'cuda:7' requested but") and error.count('\n') == 1
    for bad in (['--device', 'tpu'], ['--detector-grids', 'two'], ['--max-persons', '0']):
        with pytest.raises(SystemExit) as exit_status:  # argparse: exit status 2, the reason
            main(bad)
        assert exit_status.value.code == 2
        assert bad[0] in capsys.readouterr().err
