"""
ResNet-50 without its classifier, with torchvision's parameter names.

3DMPPE's backbone is torchvision's ResNet-50 (v1.5: the stride sits on the 3 x 3
convolution) up to ``layer4``; its checkpoints name the parameters as torchvision does
(``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0`` ...). torchvision itself
is not a dependency, so the network is written out here with the same names.
"""

from typing import Optional

import torch
from torch import nn

#: (blocks, width) of ResNet-50's four stages.
STAGES = ((3, 64), (4, 128), (6, 256), (3, 512))

#: A bottleneck's output channels are four times its width.
EXPANSION = 4


class Bottleneck(nn.Module):
    """1 x 1 reduce, 3 x 3 (strided), 1 x 1 expand, each with BatchNorm; identity skip."""

    def __init__(self, inplanes: int, width: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * EXPANSION, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * EXPANSION)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return relu(branch(x) + skip(x))."""
        skip = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + skip)


class ResNet50Backbone(nn.Module):
    """
    ResNet-50's convolutional trunk: (N, 3, H, W) to (N, 2048, H / 32, W / 32).

    For 3DMPPE's 256 x 256 crops that is the (N, 2048, 8, 8) C5 feature map.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = 64
        for index, (blocks, width) in enumerate(STAGES):
            stride = 1 if index == 0 else 2
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, width * EXPANSION, 1, stride=stride, bias=False),
                nn.BatchNorm2d(width * EXPANSION))
            layers = [Bottleneck(inplanes, width, stride, downsample)]
            inplanes = width * EXPANSION
            layers += [Bottleneck(inplanes, width) for _ in range(blocks - 1)]
            setattr(self, f'layer{index + 1}', nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the C5 feature map."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))
