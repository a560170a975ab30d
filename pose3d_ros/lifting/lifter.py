"""
A trained lifting network with its normalisation statistics, saved with its SHA-256.

A weights file holds the network's state dict, the per-dimension z-score statistics of its
training inputs and targets, and the training configuration; a JSON file beside it records
the file's SHA-256, the configuration and the evaluation, and loading refuses a file that
does not match it. Weights live in the cache (``$POSE3D_LIFTER_DIR``, else
``$XDG_CACHE_HOME/pose3d_ros/lifter``) and are made by ``pose3d-lifter train``; they are
never committed.
"""

import json
from pathlib import Path
import pickle
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from .data import network_input, network_input_each, to_skeletons
from .network import LiftingNetwork
from ..cache import cache_dir
from ..models.store import sha256_of

FORMAT = 1
STATISTICS = ('input_mean', 'input_std', 'target_mean', 'target_std')


def lifter_dir() -> Path:
    """Return the directory trained lifters are kept in."""
    return cache_dir('lifter', 'POSE3D_LIFTER_DIR')


class Lifter:
    """
    Lift 2D Human3.6M-17 skeletons to root-relative 3D with a trained network.

    Parameters
    ----------
    network
        The trained :class:`LiftingNetwork` (switched to evaluation mode here).
    statistics
        ``input_mean``, ``input_std`` (32,) and ``target_mean``, ``target_std`` (48,) of
        the training pairs.
    config
        The training configuration, kept with the weights.

    """

    def __init__(self, network: LiftingNetwork, statistics: Dict[str, np.ndarray],
                 config: Dict[str, Any]) -> None:
        self.network = network.eval()
        self.statistics = {name: np.asarray(statistics[name], np.float32) for name in STATISTICS}
        self.config = dict(config)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Map (N, 32) inputs (:func:`network_input`) to (N, 48) metres, virtual cameras."""
        s = self.statistics
        scored = (np.asarray(inputs, np.float32) - s['input_mean']) / s['input_std']
        with torch.inference_mode():
            output = self.network(torch.from_numpy(scored)).numpy()
        return output * s['target_std'] + s['target_mean']

    def lift(self, points: np.ndarray) -> np.ndarray:
        """
        Lift 2D skeletons to 3D.

        ``points`` is (N, 17, 2) Human3.6M-17 joints in normalised camera coordinates
        (``(u - cx) / fx``, ``(v - cy) / fy`` of undistorted pixels). Returns (N, 17, 3)
        metres relative to the pelvis (which is 0), camera frame (x right, y down,
        z forward). In 2D and in 3D the pelvis, thorax and spine are made from the hips and
        shoulders (:meth:`JointSet.rebuild_redundant`), as everywhere else: the pelvis is
        the hip midpoint.

        Raises
        ------
        ValueError
            A skeleton cannot be lifted (:func:`network_input_each` says why), or
            ``points`` is not (N, 17, 2).

        """
        inputs, rotations = network_input(points)
        return to_skeletons(self.predict(inputs), rotations)

    def lift_each(self, points: np.ndarray) -> Tuple[np.ndarray, List[Optional[str]]]:
        """
        Lift 2D skeletons as :meth:`lift` does, refusing only the ones it cannot take.

        Returns the (N, 17, 3) skeletons, NaN where refused, and per skeleton None or the
        reason it was refused (:func:`network_input_each`); the others go through the
        network in one batch.

        Raises
        ------
        ValueError
            ``points`` is not (N, 17, 2).

        """
        inputs, rotations, reasons = network_input_each(points)
        taken = np.array([reason is None for reason in reasons], bool)
        lifted = np.full((len(reasons), 17, 3), np.nan)
        if taken.any():
            lifted[taken] = to_skeletons(self.predict(inputs[taken]), rotations[taken])
        return lifted, reasons

    def save(self, path: Union[str, Path], evaluation: Optional[Dict[str, float]] = None) -> str:
        """Write the weights and the JSON record beside them; return the SHA-256."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({'format': FORMAT, 'state_dict': self.network.state_dict(),
                    'statistics': {k: torch.from_numpy(v) for k, v in self.statistics.items()},
                    'config': self.config}, path)
        digest = sha256_of(path)
        record = {'file': path.name, 'sha256': digest, 'config': self.config,
                  'evaluation': evaluation or {}}
        path.with_suffix('.json').write_text(json.dumps(record, indent=1) + '\n')
        return digest

    @classmethod
    def load(cls, path: Union[str, Path]) -> 'Lifter':
        """
        Load weights written by :meth:`save`, after checking them against their record.

        Raises
        ------
        ValueError
            The file or its record is missing, or the digest does not match: the message
            says how to make it.

        """
        path = Path(path)
        record_path = path.with_suffix('.json')
        fix = 'train it with `pose3d-lifter train`'
        if not path.is_file() or not record_path.is_file():
            raise ValueError(f'no trained lifter at {path} (with {record_path.name}): {fix}')
        expected = json.loads(record_path.read_text()).get('sha256')
        if sha256_of(path) != expected:
            raise ValueError(f'{path} does not match the SHA-256 in {record_path.name}: {fix}')
        try:
            content = torch.load(path, map_location='cpu', weights_only=True)
            if content.get('format') != FORMAT:
                raise ValueError(f'format {content.get("format")}, not {FORMAT}')
            network = LiftingNetwork()
            network.load_state_dict(content['state_dict'])
            statistics = {k: content['statistics'][k].numpy() for k in STATISTICS}
            return cls(network, statistics, content['config'])
        except (RuntimeError, KeyError, AttributeError, ValueError, pickle.UnpicklingError,
                EOFError) as exc:
            raise ValueError(f'{path} is not a lifter written by pose3d-lifter ({exc}): '
                             f'{fix}') from exc
