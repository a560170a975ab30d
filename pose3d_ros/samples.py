"""
Real sample photographs, cached on first use: Debian's ``opencv-doc``, two street scenes.

Neither images nor third-party files are committed to this repository: the package is
downloaded with ``apt-get download`` (no root needed for that step, but on a machine
whose package lists were never fetched ``apt-get update`` runs first when we are root),
unpacked with ``dpkg-deb -x`` and the few images we use are copied into the cache:

``$POSE3D_SAMPLE_DIR``, else ``$XDG_CACHE_HOME/pose3d_ros/samples``.

Two photographs of several real people (:data:`STREET_IMAGES`: a Madrid street, two men at
a football match) come from the ``ultralytics`` wheel on PyPI, downloaded with ``pip
download --no-deps`` and read out of the zip: the package is AGPL, only its two sample
images are used, and neither is committed. ``python -m pose3d_ros.samples`` fetches
everything (``scripts/test.sh`` does, before the tests).
"""

import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
from typing import Iterable, Sequence, Union
import zipfile

import cv2
import numpy as np

from .cache import cache_dir

DEBIAN_PACKAGE = 'opencv-doc'
PACKAGE_DATA_DIR = 'usr/share/doc/opencv-doc/examples/data'

PERSON_IMAGES = ('messi5.jpg',)  # one player in front, a small crowd behind
NO_PERSON_IMAGES = ('pic1.png', 'pic2.png', 'pic3.png', 'pic4.png', 'pic5.png', 'pic6.png',
                    'fruits.jpg', 'building.jpg', 'leuvenA.jpg')
ALL_IMAGES = PERSON_IMAGES + NO_PERSON_IMAGES
DEFAULT_IMAGE = 'messi5.jpg'

#: The wheel the street photographs are read from, and where they are in it.
STREET_WHEEL = 'ultralytics==8.4.190'
STREET_WHEEL_DIR = 'ultralytics/assets'
STREET_IMAGES = ('bus.jpg', 'zidane.jpg')


class SampleError(RuntimeError):
    """The sample images could not be obtained; the message says what to do."""


def sample_dir() -> Path:
    """Directory holding the cached sample images."""
    return cache_dir('samples', 'POSE3D_SAMPLE_DIR')


def _run(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True)


def _download_deb(workdir: Path) -> Path:
    result = _run(['apt-get', 'download', DEBIAN_PACKAGE], workdir)
    if result.returncode != 0 and hasattr(os, 'geteuid') and os.geteuid() == 0:
        _run(['apt-get', 'update'], workdir)  # a fresh machine has no package lists yet
        result = _run(['apt-get', 'download', DEBIAN_PACKAGE], workdir)
    debs = sorted(workdir.glob(f'{DEBIAN_PACKAGE}_*.deb'))
    if result.returncode != 0 or not debs:
        raise SampleError(
            f'could not download the Debian package {DEBIAN_PACKAGE} with apt-get '
            f'({result.stderr.strip().splitlines()[-1:] or "no output"}). Run `apt-get update` '
            f'(as root) and retry, or copy {", ".join(ALL_IMAGES)} from '
            f'/{PACKAGE_DATA_DIR} of that package into {sample_dir()}.')
    return debs[0]


def fetch_samples(names: Iterable[str] = ALL_IMAGES) -> Path:
    """Make the named sample images present in :func:`sample_dir`; return that directory."""
    target = sample_dir()
    if all((target / name).is_file() for name in names):
        return target
    # One download serves every sample: take all that are missing, not only those asked.
    missing = [n for n in dict.fromkeys([*names, *ALL_IMAGES]) if not (target / n).is_file()]
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='pose3d-samples-') as scratch:
        work = Path(scratch)
        deb = _download_deb(work)
        unpack = _run(['dpkg-deb', '-x', str(deb), str(work / 'root')], work)
        if unpack.returncode != 0:
            raise SampleError(f'dpkg-deb could not unpack {deb.name}: {unpack.stderr.strip()}')
        for name in missing:
            source = work / 'root' / PACKAGE_DATA_DIR / name
            if not source.is_file():
                raise SampleError(f'{deb.name} has no {PACKAGE_DATA_DIR}/{name}')
            temporary = target / f'.{name}.partial'
            shutil.copyfile(source, temporary)
            os.replace(temporary, target / name)
    return target


def read_rgb(path: Union[str, Path]) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB; ValueError when it cannot be read."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f'{path}: not a readable image')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def sample_path(name: str = DEFAULT_IMAGE) -> Path:
    """Path of one cached sample image, fetching the package on first use."""
    if name not in ALL_IMAGES:
        raise ValueError(f'unknown sample image {name!r}; known: {", ".join(ALL_IMAGES)}')
    return fetch_samples([name]) / name


def read_player() -> np.ndarray:
    """
    Return the player of messi5.jpg with a margin, (272, 400, 3) uint8 RGB.

    The one real person of the samples: synthetic clips, crowds and the demo paste him.
    """
    return read_rgb(sample_path('messi5.jpg'))[70:342, 60:460]


def fetch_street_photos() -> Path:
    """Make :data:`STREET_IMAGES` present in :func:`sample_dir`; return that directory."""
    target = sample_dir()
    if all((target / name).is_file() for name in STREET_IMAGES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='pose3d-street-') as scratch:
        result = _run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet',
                       '--disable-pip-version-check', STREET_WHEEL, '-d', scratch],
                      Path(scratch))
        wheels = sorted(Path(scratch).glob('ultralytics-*.whl'))
        if result.returncode != 0 or not wheels:
            raise SampleError(
                f'could not download {STREET_WHEEL} with pip ({result.stderr.strip()[-300:]}); '
                f'copy {", ".join(STREET_IMAGES)} from {STREET_WHEEL_DIR} of that wheel into '
                f'{target}')
        with zipfile.ZipFile(wheels[0]) as wheel:
            for name in STREET_IMAGES:
                temporary = target / f'.{name}.partial'
                temporary.write_bytes(wheel.read(f'{STREET_WHEEL_DIR}/{name}'))
                os.replace(temporary, target / name)
    return target


def main() -> int:
    """Fetch every sample image; print where they are (exit 1 with the reason on failure)."""
    try:
        fetch_street_photos()
        print(fetch_samples())
    except SampleError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
