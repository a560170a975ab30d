"""
Agreement with MediaPipe's own pipeline (``mediapipe==0.10.14``, legacy Pose, static mode).

MediaPipe's pins clash with ours, so it lives in an isolated virtual environment created on
first use in ``$POSE3D_MEDIAPIPE_VENV`` (default ``~/.cache/pose3d_ros/mediapipe-venv``,
about 1 GB) and runs in a subprocess (:mod:`.mediapipe_runner`);
``python -m pose3d_ros.evaluation.mediapipe_reference`` creates it (``scripts/test.sh``
does, before the tests). Our estimator runs with
its given configuration: on a person the full frame finds, tiles change nothing.
"""

from dataclasses import dataclass
import json
from pathlib import Path
import subprocess
import sys
from typing import Dict, Optional, Sequence

import numpy as np

from ..cache import cache_dir
from ..estimation.estimator import PoseEstimator
from ..estimation.result import Person
from ..geometry.camera import CameraModel
from ..models.joint_sets import BLAZEPOSE_33
from ..samples import read_rgb

#: The environment MediaPipe 0.10.14 runs in, pinned as resolved on 2026-11-24.
REQUIREMENTS = (
    'mediapipe==0.10.14', 'absl-py==2.5.1', 'attrs==26.1.0', 'flatbuffers==25.12.19',
    'jax==0.10.2', 'jaxlib==0.10.2', 'matplotlib==3.11.2', 'numpy==2.4.6',
    'opencv-contrib-python==5.1.0.95', 'protobuf==4.25.9', 'sounddevice==0.5.6',
)

RUNNER = Path(__file__).with_name('mediapipe_runner.py')


@dataclass(frozen=True)
class Agreement:
    """
    Differences between our estimator and MediaPipe on one image's single person.

    Attributes
    ----------
    mean_2d_px
        Mean distance of the 33 image landmarks, pixels.
    max_2d_px
        Largest of those distances, pixels.
    mean_world_m
        Mean distance of the 33 hip-centred world landmarks (both re-centred on the
        mid-hip), metres.

    """

    mean_2d_px: float
    max_2d_px: float
    mean_world_m: float


def environment_python(venv: Optional[Path] = None, create: bool = True) -> Optional[Path]:
    """
    Return the python of the isolated MediaPipe environment, creating it once.

    ``create=False``: None instead when it was not created (nothing is downloaded).
    """
    venv = Path(venv or cache_dir('mediapipe-venv', 'POSE3D_MEDIAPIPE_VENV'))
    python = venv / 'bin' / 'python'
    stamp = venv / 'pose3d-requirements.txt'
    wanted = '\n'.join(REQUIREMENTS)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not create:
        return None
    subprocess.run([sys.executable, '-m', 'venv', '--clear', str(venv)], check=True)
    subprocess.run([str(python), '-m', 'pip', 'install', '--quiet', *REQUIREMENTS],
                   check=True)
    stamp.write_text(wanted)
    return python


def run_mediapipe(images: Sequence[Path], python: Optional[Path] = None) -> Dict[str, dict]:
    """Return MediaPipe's landmarks per image path (None where it finds nobody)."""
    python = python or environment_python()
    done = subprocess.run([str(python), str(RUNNER), *map(str, images)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def compare(person: Person, reference: dict) -> Agreement:
    """Compare one of our persons with MediaPipe's landmarks of the same image."""
    ours_2d = person.keypoints_2d
    theirs_2d = np.asarray(reference['keypoints_2d'])
    distance_2d = np.linalg.norm(ours_2d - theirs_2d, axis=1)
    ours = person.joints_3d - person.root
    theirs = np.asarray(reference['world'])
    theirs = theirs - BLAZEPOSE_33.root_of(theirs)
    return Agreement(float(distance_2d.mean()), float(distance_2d.max()),
                     float(np.linalg.norm(ours - theirs, axis=1).mean()))


def agreement(estimator: PoseEstimator, image: Path,
              python: Optional[Path] = None) -> Agreement:
    """
    Run both pipelines on one single-person image and compare them.

    Raises
    ------
    ValueError
        Either pipeline does not find exactly one person.

    """
    reference = run_mediapipe([image], python)[str(image)]
    rgb = read_rgb(image)
    result = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0]))
    if reference is None or len(result.persons) != 1:
        raise ValueError(f'{image}: MediaPipe found {0 if reference is None else 1}, '
                         f'we found {len(result.persons)} person(s); expected one each')
    return compare(result.persons[0], reference)


if __name__ == '__main__':
    print(environment_python())
