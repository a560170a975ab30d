"""Read camera_calibration YAML files (written by camera_calibration, camera_info_manager)."""

from pathlib import Path
from typing import Union

import numpy as np
import yaml

from .camera import CameraModel, DEFAULT_HFOV_DEG


def _matrix(document: dict, key: str, size: int) -> np.ndarray:
    entry = document.get(key)
    data = entry.get('data') if isinstance(entry, dict) else None
    if data is None:
        raise ValueError(f'missing {key}.data')
    values = np.asarray(data, dtype=np.float64).reshape(-1)
    if size and values.size != size:
        raise ValueError(f'{key}.data must have {size} values, got {values.size}')
    return values


def load_camera_info(path: Union[str, Path],
                     default_hfov_deg: float = DEFAULT_HFOV_DEG) -> CameraModel:
    """
    Build a camera model from a calibration YAML file.

    Uses ``image_width``, ``image_height``, ``camera_matrix``, ``distortion_model`` and
    ``distortion_coefficients``; ``rectification_matrix`` and ``projection_matrix`` are
    checked for shape only (outputs stay in the camera's own optical frame).

    Raises
    ------
    ValueError
        The file cannot be read or a field is missing or malformed (the message says which).

    """
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f'cannot read camera calibration {path}: {exc}') from exc
    if not isinstance(document, dict):
        raise ValueError(f'{path}: not a camera calibration mapping')
    try:
        width, height = int(document['image_width']), int(document['image_height'])
        k = _matrix(document, 'camera_matrix', 9)
        d = _matrix(document, 'distortion_coefficients', 0)
        for key, size in (('rectification_matrix', 9), ('projection_matrix', 12)):
            if key in document:
                _matrix(document, key, size)
        return CameraModel.from_values(width, height, k, d,
                                       document.get('distortion_model', 'plumb_bob'),
                                       default_hfov_deg=default_hfov_deg)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f'{path}: invalid camera calibration: {exc}') from exc
