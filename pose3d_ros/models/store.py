"""
Obtain, cache and verify model files (no ROS, no torch).

The BlazePose networks are taken from the PyPI wheel ``mediapipe==0.10.14``, the last
release that ships them (Apache-2.0). The wheel is downloaded with pip (``--no-deps``,
pinned platform tags so that the same wheel is found from any interpreter and on aarch64
robots; only its model files are used), exactly the listed members are extracted, their
SHA-256 digests are checked, and they are stored in the model directory:

1. the ``model_dir`` argument (the node's ``model_dir`` parameter), else
2. ``$POSE3D_MODEL_DIR``, else
3. ``$XDG_CACHE_HOME/pose3d_ros/models`` (``~/.cache/pose3d_ros/models``).

A directory filled by hand (files copied from another machine) works the same way: only
the file names and digests matter.
"""

from dataclasses import dataclass
import hashlib
import os
from pathlib import Path
import subprocess
import sys
import tempfile
from typing import Callable, Dict, Optional, Sequence, Union
import zipfile

from ..cache import cache_dir

MEDIAPIPE_REQUIREMENT = 'mediapipe==0.10.14'
WHEEL_SELECTION = ('--python-version', '3.11', '--platform', 'manylinux2014_x86_64',
                   '--only-binary=:all:')
FETCH_COMMAND = 'pose3d-models fetch'

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class ModelFile:
    """A model file inside the mediapipe wheel, pinned by size and digest."""

    filename: str
    wheel_member: str
    sha256: str
    size_bytes: int


class ModelFileError(RuntimeError):
    """A model file is missing, damaged or could not be obtained; the message says the fix."""


def default_model_dir() -> Path:
    """Return ``$POSE3D_MODEL_DIR`` or the XDG cache location for model files."""
    return cache_dir('models', 'POSE3D_MODEL_DIR')


def resolve_model_dir(model_dir: Optional[PathLike] = None) -> Path:
    """Return ``model_dir`` if given (and not empty), else :func:`default_model_dir`."""
    return Path(model_dir).expanduser() if model_dir else default_model_dir()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(model: ModelFile, model_dir: Path) -> Optional[str]:
    """Return None if ``model`` is present and intact in ``model_dir``, else the problem."""
    path = model_dir / model.filename
    if not path.is_file():
        return f'{path} is missing'
    size = path.stat().st_size
    if size != model.size_bytes:
        return (f'{path} has {size} bytes, expected {model.size_bytes} '
                '(truncated or a different file)')
    digest = sha256_of(path)
    if digest != model.sha256:
        return f'{path} has SHA-256 {digest}, expected {model.sha256} (altered file)'
    return None


def verify(models: Sequence[ModelFile],
           model_dir: Optional[PathLike] = None) -> Dict[str, Optional[str]]:
    """Check every model file; map file name to None (intact) or the problem found."""
    directory = resolve_model_dir(model_dir)
    return {model.filename: check_file(model, directory) for model in models}


def verified_path(model: ModelFile, model_dir: Optional[PathLike] = None) -> Path:
    """
    Return the path of an intact model file.

    Raises
    ------
    ModelFileError
        If the file is missing or does not match its pinned digest; the
        message says which command repairs it.

    """
    directory = resolve_model_dir(model_dir)
    problem = check_file(model, directory)
    if problem:
        raise ModelFileError(
            f'{problem}. Run `{FETCH_COMMAND}` (with POSE3D_MODEL_DIR or --model-dir set to '
            f'{directory} if that is not the default), or copy an intact '
            f'{model.filename} there by hand.')
    return directory / model.filename


def download_wheel(destination: Path) -> Path:
    """Download the mediapipe wheel into ``destination`` with pip; return its path."""
    command = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check',
               '--dest', str(destination), *WHEEL_SELECTION, MEDIAPIPE_REQUIREMENT]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(destination.glob('mediapipe-*.whl'))
    if result.returncode != 0 or not wheels:
        detail = '\n'.join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise ModelFileError(
            f'could not download {MEDIAPIPE_REQUIREMENT} with pip (exit {result.returncode}):\n'
            f'{detail}\nWithout network access: copy the wheel to this machine and run '
            f'`{FETCH_COMMAND} --wheel FILE.whl`, or copy the .tflite files into the model '
            'directory (POSE3D_MODEL_DIR) and run `pose3d-models verify`.')
    return wheels[0]


def _install_member(archive: zipfile.ZipFile, model: ModelFile, directory: Path) -> None:
    """Extract one member to a temporary file, check it, then rename it into place."""
    try:
        info = archive.getinfo(model.wheel_member)
    except KeyError:
        raise ModelFileError(f'{archive.filename} does not contain {model.wheel_member}; '
                             f'use the {MEDIAPIPE_REQUIREMENT} wheel') from None
    handle, temporary = tempfile.mkstemp(prefix=f'.{model.filename}.', dir=directory)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, 'wb') as out, archive.open(info) as member:
            for chunk in iter(lambda: member.read(1 << 20), b''):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f'{model.wheel_member} in {archive.filename} has SHA-256 {digest.hexdigest()}, '
                f'expected {model.sha256}: the wheel is not the pinned {MEDIAPIPE_REQUIREMENT}')
        os.replace(temporary, directory / model.filename)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def fetch(models: Sequence[ModelFile], model_dir: Optional[PathLike] = None,
          wheel: Optional[PathLike] = None, force: bool = False,
          downloader: Callable[[Path], Path] = download_wheel,
          log: Callable[[str], None] = print) -> Path:
    """
    Make every model file present and intact in the model directory.

    Idempotent: intact files are kept and nothing is downloaded when all are present.
    Atomic: each file is written to a temporary name and renamed only after its digest
    matched, so an interrupted fetch never leaves a partial model file.

    Parameters
    ----------
    models
        The files to provide.
    model_dir
        Target directory (see the module docstring for the default).
    wheel
        A local copy of the mediapipe wheel to extract instead of downloading.
    force
        Replace files even if they are intact.
    downloader
        Called with a temporary directory to obtain the wheel.
    log
        Progress messages.

    Returns
    -------
    The model directory.

    Raises
    ------
    ModelFileError
        If the wheel cannot be obtained or its members do not match.

    """
    directory = resolve_model_dir(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    needed = [m for m in models if force or check_file(m, directory) is not None]
    if not needed:
        log(f'models already present and verified in {directory}')
        return directory
    with tempfile.TemporaryDirectory(prefix='pose3d-wheel-') as scratch:
        if wheel is None:
            log(f'downloading {MEDIAPIPE_REQUIREMENT} (model files only) ...')
            wheel = downloader(Path(scratch))
        try:
            archive = zipfile.ZipFile(wheel)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f'cannot open wheel {wheel}: {exc}') from exc
        with archive:
            for model in needed:
                _install_member(archive, model, directory)
                log(f'installed {directory / model.filename}')
    return directory
