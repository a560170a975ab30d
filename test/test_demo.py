"""The first-version main job finds the player in a real photograph, and nobody elsewhere."""

from pathlib import Path

import numpy as np
from pose3d_ros.cli import demo
from pose3d_ros.samples import NO_PERSON_IMAGES
import pytest


def test_finds_the_player_in_messi5(model_dir: Path, sample_dir: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    people = demo.run(str(sample_dir / 'messi5.jpg'))
    assert len(people) == 1
    person = people[0]
    assert person['score'] > 0.8 and person['presence'] > 0.9
    # The player's nose is near (250, 120) px in the 548x342 photograph.
    assert np.linalg.norm(person['keypoints_2d'][0] - [250, 120]) < 25
    assert 0.5 < person['height_m'] < 2.2
    assert demo.main([str(sample_dir / 'messi5.jpg')]) == 0
    assert '1 person(s) detected' in capsys.readouterr().out


@pytest.mark.parametrize('name', NO_PERSON_IMAGES)
def test_no_person_in_pictures_without_people(name: str, model_dir: Path,
                                              sample_dir: Path) -> None:
    assert demo.run(str(sample_dir / name)) == []


def test_unreadable_image_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    assert demo.main([str(broken)]) == 1
    assert 'cannot read image' in capsys.readouterr().err
