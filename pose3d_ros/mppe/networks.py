"""
RootNet and PoseNet as in the official 3DMPPE code, with its module names.

Both run a ResNet-50 (:mod:`.resnet`) on a 256 x 256 person crop and upsample its
(N, 2048, 8, 8) C5 map with three 4 x 4 stride-2 transposed convolutions (no bias), each
followed by BatchNorm and ReLU, to (N, 256, 64, 64). Their heads end in soft-argmax:
the expectation of a softmax over the heatmap, so coordinates are continuous.

* RootNet (3DMPPE_ROOTNET_RELEASE ``main/model.py``): a 1 x 1 convolution to one 64 x 64
  heatmap of the root; and from the globally averaged C5 features a 1 x 1 convolution to
  the correction gamma, so the root depth is ``gamma * k`` (:mod:`.preprocessing`).
* PoseNet (3DMPPE_POSENET_RELEASE ``main/model.py``): a 1 x 1 convolution to J x 64 depth
  bins of 64 x 64 heatmaps: one 64 x 64 x 64 volume per joint.

Module names match the checkpoints (``backbone``, ``root.deconv_layers``, ``root.xy_layer``,
``root.depth_layer``, ``head.deconv_layers``, ``head.final_layer``).
"""

import torch
from torch import nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .resnet import EXPANSION, ResNet50Backbone, STAGES

#: Side of the square input crop, pixels.
INPUT_SIZE = 256

#: Side of the output heatmaps, cells (a quarter of the crop).
OUTPUT_SIZE = 64

#: PoseNet's depth bins; they span ``BBOX_3D_MM`` around the root.
DEPTH_BINS = 64

#: Channels of the upsampling layers.
DECONV_CHANNELS = 256

#: Channels of ResNet-50's C5 map.
C5_CHANNELS = STAGES[-1][1] * EXPANSION


def deconv_layers() -> nn.Sequential:
    """Return the upsampling stack: [ConvTranspose2d(4, 2, 1, no bias), BN, ReLU] x 3."""
    modules = []
    channels = C5_CHANNELS
    for _ in range(3):
        modules += [nn.ConvTranspose2d(channels, DECONV_CHANNELS, 4, stride=2, padding=1,
                                       bias=False),
                    nn.BatchNorm2d(DECONV_CHANNELS), nn.ReLU(inplace=True)]
        channels = DECONV_CHANNELS
    return nn.Sequential(*modules)


def fold_batch_norm(network: nn.Module) -> nn.Module:
    """
    Fold every BatchNorm into the convolution before it, for inference; return the network.

    Each ``bnK`` follows ``convK``, a ``downsample`` BatchNorm follows its convolution and
    a ``deconv_layers`` BatchNorm its transposed convolution (the order of the official
    modules). The BatchNorm becomes an identity; the network must be in evaluation mode.
    """
    if network.training:
        raise ValueError('fold_batch_norm needs a network in evaluation mode')
    modules = dict(network.named_modules())
    for name, norm in list(modules.items()):
        if not isinstance(norm, nn.BatchNorm2d):
            continue
        parent_name, _, own = name.rpartition('.')
        parent = modules[parent_name] if parent_name else network
        previous = f'conv{own[2:]}' if own.startswith('bn') else str(int(own) - 1)
        convolution = getattr(parent, previous)
        setattr(parent, previous, fuse_conv_bn_eval(
            convolution, norm, transpose=isinstance(convolution, nn.ConvTranspose2d)))
        setattr(parent, own, nn.Identity())
    return network


def soft_argmax(heatmaps: torch.Tensor) -> torch.Tensor:
    """
    Return the expected cell index along each axis of softmax-normalised heatmaps.

    ``heatmaps`` is (N, J, *S) logits over a grid of shape S (e.g. (64, 64) or
    (64, 64, 64)); the result is (N, J, len(S)) in the order of the last axis first
    (x, y, then z), in cells, float32.
    """
    shape = heatmaps.shape[2:]
    probability = F.softmax(heatmaps.flatten(2), dim=2, dtype=torch.float32).reshape(
        heatmaps.shape)  # float32 without a float32 copy of the logits first
    coordinates = []
    for axis in reversed(range(len(shape))):
        others = tuple(2 + a for a in range(len(shape)) if a != axis)
        marginal = probability.sum(dim=others)  # (N, J, S[axis])
        cells = torch.arange(shape[axis], device=heatmaps.device, dtype=marginal.dtype)
        coordinates.append((marginal * cells).sum(-1))
    return torch.stack(coordinates, -1)


class RootHead(nn.Module):
    """RootNet's head: the root's heatmap and the depth correction gamma."""

    def __init__(self) -> None:
        super().__init__()
        self.deconv_layers = deconv_layers()
        self.xy_layer = nn.Conv2d(DECONV_CHANNELS, 1, 1)
        self.depth_layer = nn.Conv2d(C5_CHANNELS, 1, 1)

    def forward(self, features: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Map C5 features and (N,) k (mm) to (N, 3): x, y in heatmap cells, depth in mm."""
        xy = soft_argmax(self.xy_layer(self.deconv_layers(features)))[:, 0]
        gamma = self.depth_layer(features.mean(dim=(2, 3), keepdim=True)).flatten().float()
        return torch.cat([xy, (gamma * k)[:, None]], dim=1)


class RootNet(nn.Module):
    """3DMPPE's RootNet: a person crop and its k value to the root's x, y and depth."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNet50Backbone()
        self.root = RootHead()

    def forward(self, images: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """
        Locate the root.

        ``images`` (N, 3, 256, 256) normalised crops (:func:`~.preprocessing.normalise`),
        ``k`` (N,) distance priors in mm. Returns (N, 3): x, y in 64 x 64 heatmap cells
        and the absolute root depth in mm.
        """
        return self.root(self.backbone(images), k)


class PoseHead(nn.Module):
    """PoseNet's head: one 64 x 64 x 64 heatmap volume per joint."""

    def __init__(self, joints: int) -> None:
        super().__init__()
        self.deconv_layers = deconv_layers()
        self.final_layer = nn.Conv2d(DECONV_CHANNELS, joints * DEPTH_BINS, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Map C5 features to (N, J, 3): x, y in heatmap cells, z in depth bins."""
        volumes = self.final_layer(self.deconv_layers(features))
        count = volumes.shape[0]
        return soft_argmax(volumes.reshape(count, -1, DEPTH_BINS, OUTPUT_SIZE, OUTPUT_SIZE))


class PoseNet(nn.Module):
    """3DMPPE's PoseNet: a person crop to its J joints' heatmap coordinates and depth bins."""

    def __init__(self, joints: int) -> None:
        super().__init__()
        self.joints = joints
        self.backbone = ResNet50Backbone()
        self.head = PoseHead(joints)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map (N, 3, 256, 256) normalised crops to (N, J, 3) x, y cells and z bins."""
        return self.head(self.backbone(images))
