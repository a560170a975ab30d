"""
Load the official 3DMPPE checkpoints: ``snapshot_N.pth.tar`` of RootNet and PoseNet.

A snapshot is ``{'epoch': N, 'network': state_dict, 'optimizer': ...}`` written by the
official training code, whose network was wrapped in ``DataParallel``, so every key starts
with ``module.``. Files are read with ``torch.load(weights_only=True)``: tensors and plain
containers only, no code runs. The keys must match the networks of :mod:`.networks`
exactly; anything missing or left over is reported by name. Only BatchNorm's
``num_batches_tracked`` counters may be absent (older PyTorch did not save them; inference
does not use them).
"""

from pathlib import Path
import pickle
from typing import Dict, Union

import torch
from torch import nn

from .networks import DEPTH_BINS, PoseNet, RootNet
from ..models.joint_sets import HUMAN36M_18, JointSet, MUCO_21

#: PoseNet's joint sets by their number of joints (the released MuCo and Human3.6M models).
POSENET_JOINT_SETS: Dict[int, JointSet] = {21: MUCO_21, 18: HUMAN36M_18}

#: Where the official snapshots are published, for error messages.
RELEASES = {'RootNet': 'https://github.com/mks0601/3DMPPE_ROOTNET_RELEASE',
            'PoseNet': 'https://github.com/mks0601/3DMPPE_POSENET_RELEASE'}

#: What the official training code prefixes every key with.
PREFIX = 'module.'


def read_snapshot(path: Union[str, Path], kind: str) -> Dict[str, torch.Tensor]:
    """
    Return the state dict of a snapshot of ``kind`` (``'RootNet'`` or ``'PoseNet'``).

    The ``module.`` prefix is removed. Raises ValueError when the file is missing or is
    not a snapshot; the message says where the official files are and which parameter
    names the file.
    """
    path = Path(path) if path else None
    parameter = f'{kind.lower()}_checkpoint'
    fix = (f'download a {kind} snapshot_N.pth.tar from {RELEASES[kind]} and set '
           f'{parameter} to its path')
    if path is None or not path.is_file():
        raise ValueError(f'no {kind} checkpoint at {path or "(not set)"}: {fix}')
    try:
        content = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError) as exc:
        raise ValueError(f'{path} is not a readable {kind} snapshot ({exc}): {fix}') from exc
    network = content.get('network') if isinstance(content, dict) else None
    if not isinstance(network, dict) or not network:
        raise ValueError(f"{path} has no 'network' state dict, so it is not an official "
                         f'3DMPPE snapshot: {fix}')
    return {key[len(PREFIX):] if key.startswith(PREFIX) else key: value
            for key, value in network.items()}


def write_snapshot(network: nn.Module, path: Union[str, Path]) -> Path:
    """
    Save ``network`` in the official snapshot layout, with ``module.`` keys.

    :func:`load_rootnet` and :func:`load_posenet` read it back (e.g. after fine-tuning).
    """
    state = {PREFIX + key: value for key, value in network.state_dict().items()}
    torch.save({'epoch': 0, 'network': state,
                'optimizer': {'state': {}, 'param_groups': []}}, path)
    return Path(path)


def _load_into(network: nn.Module, state: Dict[str, torch.Tensor], path: Path,
               kind: str) -> nn.Module:
    """Copy ``state`` into ``network``, reporting missing and unexpected keys by name."""
    expected = network.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state if k not in expected]
    wrong = [f'{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})'
             for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        def listed(keys: list) -> str:
            return ', '.join(keys[:5]) + (f' and {len(keys) - 5} more' if len(keys) > 5 else '')
        problems = [f'{len(keys)} {what}: {listed(keys)}' for what, keys in (
            ('missing', missing), ('unexpected', unexpected), ('of the wrong shape', wrong))
            if keys]
        raise ValueError(f'{path} does not fit 3DMPPE {kind}: ' + '; '.join(problems))
    network.load_state_dict(state, strict=False)
    return network.eval()


def load_rootnet(path: Union[str, Path]) -> RootNet:
    """Return RootNet with the weights of the snapshot at ``path``, in evaluation mode."""
    return _load_into(RootNet(), read_snapshot(path, 'RootNet'), Path(path), 'RootNet')


def load_posenet(path: Union[str, Path]) -> PoseNet:
    """
    Return PoseNet with the weights of the snapshot at ``path``, in evaluation mode.

    The joint count comes from the final layer (J x 64 channels) and must be one of
    :data:`POSENET_JOINT_SETS`.
    """
    state = read_snapshot(path, 'PoseNet')
    final = state.get('head.final_layer.weight')
    if final is None:
        raise ValueError(f'{path} has no head.final_layer.weight, so it is not a PoseNet '
                         f'snapshot (a RootNet file has root.* keys instead)')
    joints, remainder = divmod(final.shape[0], DEPTH_BINS)
    if remainder or joints not in POSENET_JOINT_SETS:
        raise ValueError(f'{path}: the final layer has {final.shape[0]} channels, not '
                         f'{DEPTH_BINS} depth bins for one of '
                         f'{sorted(POSENET_JOINT_SETS)} joints')
    return _load_into(PoseNet(joints), state, Path(path), 'PoseNet')
