"""
Train and evaluate the lifting network on generated pairs, reproducibly.

As Martinez et al.: Adam at 1e-3 with staircase exponential decay (x 0.96 every
``decay_every`` steps),
mean squared error on the z-scored targets, dropout 0.5, batch norm, max-norm weights. The
published run takes 200 epochs of Human3.6M (about 1.2 M steps of batch 64) on a GPU; the
default here is a few minutes on two CPU cores, and ``QUICK`` under a minute for CI.
Training and held-out pairs come from different seeds.
"""

from dataclasses import asdict, dataclass, replace
import time
from typing import Callable, Dict, Optional

import numpy as np
import torch

from .data import make_pairs, to_skeletons
from .lifter import Lifter, STATISTICS
from .network import LiftingNetwork
from ..evaluation.pose_metrics import mpjpe, pa_mpjpe


@dataclass(frozen=True)
class TrainingConfig:
    """How a lifter is trained and evaluated (stored with its weights)."""

    name: str = 'default'
    seed: int = 0
    train_pairs: int = 200_000
    steps: int = 3000
    batch: int = 256
    learning_rate: float = 1e-3
    decay: float = 0.96
    decay_every: int = 300
    eval_seed: int = 1_000_003
    eval_pairs: int = 20_000
    threads: int = 0  # 0: PyTorch's default

    def __post_init__(self) -> None:
        """Reject counts that cannot train."""
        for field in ('train_pairs', 'steps', 'batch', 'decay_every', 'eval_pairs'):
            if getattr(self, field) < 1:
                raise ValueError(f'{field} must be >= 1, got {getattr(self, field)}')
        if self.threads < 0:
            raise ValueError(f'threads must be >= 0, got {self.threads}')
        if self.seed == self.eval_seed:
            raise ValueError('the held-out seed must differ from the training seed')


QUICK = TrainingConfig(name='quick', train_pairs=20_000, steps=400, decay_every=40,
                       eval_pairs=5_000)


def _statistics(inputs: np.ndarray, targets: np.ndarray) -> Dict[str, np.ndarray]:
    std = {'input': inputs.std(0), 'target': targets.std(0)}
    return {'input_mean': inputs.mean(0), 'input_std': np.maximum(std['input'], 1e-8),
            'target_mean': targets.mean(0), 'target_std': np.maximum(std['target'], 1e-8)}


def train(config: TrainingConfig = TrainingConfig(),
          progress: Optional[Callable[[int, float], None]] = None) -> Lifter:
    """
    Train a lifter from scratch; ``progress(step, loss)`` is called every 100 steps.

    Deterministic for a given configuration and thread count.
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    inputs, targets = make_pairs(config.train_pairs, config.seed)
    statistics = _statistics(inputs, targets)
    x = torch.from_numpy((inputs - statistics['input_mean']) / statistics['input_std'])
    y = torch.from_numpy((targets - statistics['target_mean']) / statistics['target_std'])
    network = LiftingNetwork().train()
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: config.decay ** (step // config.decay_every))
    generator = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(x), generator=generator)
    cursor = 0
    for step in range(config.steps):
        if cursor + config.batch > len(x):
            order, cursor = torch.randperm(len(x), generator=generator), 0
        batch = order[cursor:cursor + config.batch]
        cursor += config.batch
        loss = torch.mean((network(x[batch]) - y[batch]) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if progress is not None and (step + 1) % 100 == 0:
            progress(step + 1, loss.item())
    return Lifter(network, {k: statistics[k] for k in STATISTICS}, asdict(config))


def evaluate(lifter: Lifter, config: TrainingConfig) -> Dict[str, float]:
    """
    Return the lifter's errors on held-out generated pairs, millimetres.

    ``mpjpe_mm`` and ``pa_mpjpe_mm`` are over the 17 joints with the pelvis, as the
    Human3.6M protocols count them, of the skeletons :meth:`Lifter.lift` would answer.
    ``mean_pose_mpjpe_mm`` is the error of always answering the training set's mean pose,
    the baseline a useful lifter must beat.
    """
    inputs, targets = make_pairs(config.eval_pairs, config.eval_seed)
    start = time.perf_counter()
    predicted = lifter.predict(inputs)
    elapsed = time.perf_counter() - start
    # Compared in the virtual cameras' frames (the real camera's differs by a rotation).
    truth = to_skeletons(targets)
    lifted = to_skeletons(predicted)  # as Lifter.lift answers
    mean_pose = to_skeletons(np.broadcast_to(lifter.statistics['target_mean'], targets.shape))
    return {'mpjpe_mm': mpjpe(lifted, truth) * 1e3,
            'pa_mpjpe_mm': pa_mpjpe(lifted, truth) * 1e3,
            'mean_pose_mpjpe_mm': mpjpe(mean_pose, truth) * 1e3,
            'held_out_pairs': float(len(inputs)),
            'ms_per_1000_poses': elapsed * 1e6 / len(inputs)}


def quick_variant(config: TrainingConfig) -> TrainingConfig:
    """Return ``config`` with the quick run's sizes (same seeds and learning rate)."""
    return replace(config, name=QUICK.name, train_pairs=QUICK.train_pairs, steps=QUICK.steps,
                   decay_every=QUICK.decay_every, eval_pairs=QUICK.eval_pairs)
