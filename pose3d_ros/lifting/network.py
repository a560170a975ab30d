"""
The lifting network of Martinez et al. 2017, as published.

From "A simple yet effective baseline for 3d human pose estimation": 16 joints x 2
(Human3.6M-17 without the pelvis) in, 16 joints x 3 out (root-relative, camera frame),
both z-scored per dimension with the training set's statistics:

    Linear(32 -> 1024) -> BatchNorm -> ReLU -> Dropout(0.5)
    2 x residual block: [Linear(1024 -> 1024) -> BatchNorm -> ReLU -> Dropout(0.5)] x 2,
                        plus the block's input
    Linear(1024 -> 48)

Every weight matrix is used through the max-norm constraint of the original TensorFlow code
(``tf.clip_by_norm(w, 1)``: a matrix whose L2 norm exceeds 1 is scaled down to norm 1 in
the forward pass). About 4.3 M parameters.
"""

import torch
from torch import nn
import torch.nn.functional as F

INPUT_JOINTS = 16
WIDTH = 1024
BLOCKS = 2
DROPOUT = 0.5


class MaxNormLinear(nn.Linear):
    """A linear layer whose weight matrix is clipped to L2 norm ``max_norm`` when used."""

    def __init__(self, in_features: int, out_features: int, max_norm: float = 1.0) -> None:
        super().__init__(in_features, out_features)
        self.max_norm = max_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``x @ clip(W)^T + b``."""
        norm = torch.linalg.norm(self.weight)
        scale = torch.clamp(self.max_norm / norm.clamp(min=1e-12), max=1.0)
        return F.linear(x, self.weight * scale, self.bias)


class _Stage(nn.Sequential):
    """Linear -> BatchNorm -> ReLU -> Dropout."""

    def __init__(self, in_features: int, out_features: int, dropout: float) -> None:
        super().__init__(MaxNormLinear(in_features, out_features),
                         nn.BatchNorm1d(out_features), nn.ReLU(), nn.Dropout(dropout))


class _ResidualBlock(nn.Module):
    """Two stages with an identity skip."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.stages = nn.Sequential(_Stage(width, width, dropout), _Stage(width, width, dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x + stages(x)``."""
        return x + self.stages(x)


class LiftingNetwork(nn.Module):
    """
    Map z-scored 2D joints (N, 32) to z-scored root-relative 3D joints (N, 48).

    Parameters
    ----------
    joints
        Input and output joints (16: Human3.6M-17 without the pelvis).
    width, blocks, dropout
        The published 1024, 2 and 0.5.

    """

    def __init__(self, joints: int = INPUT_JOINTS, width: int = WIDTH, blocks: int = BLOCKS,
                 dropout: float = DROPOUT) -> None:
        super().__init__()
        self.joints = joints
        self.input_stage = _Stage(joints * 2, width, dropout)
        self.blocks = nn.Sequential(*(_ResidualBlock(width, dropout) for _ in range(blocks)))
        self.output = MaxNormLinear(width, joints * 3)
        for module in self.modules():
            if isinstance(module, nn.Linear):  # the original's He (Kaiming) initialisation
                nn.init.kaiming_normal_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, joints * 2) -> (N, joints * 3), both in z-score units."""
        if x.ndim != 2 or x.shape[1] != self.joints * 2:
            raise ValueError(f'expected (N, {self.joints * 2}) inputs, got {tuple(x.shape)}')
        return self.output(self.blocks(self.input_stage(x)))
