"""
Rotated square regions of an image: batched crops on the device and their coordinate maps.

A region is a square of ``side`` pixels centred at ``centre`` and rotated by ``rotation``
radians (clockwise on screen, since v points down). Cropping it to an n x n tensor follows
MediaPipe's CPU ImageToTensorCalculator exactly: the region's top-left corner maps to
output pixel (0, 0) and its top-right corner to (n, 0), so output pixel (i, j) samples the
image at ``centre + R(rotation) @ ((i / n - 0.5) * side, (j / n - 0.5) * side)``. Network
outputs in crop pixels map back through the same formula (:func:`crop_to_image`).
Image pixels follow OpenCV/ROS: the top-left pixel's centre is (0, 0).
"""

from dataclasses import dataclass
import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from .devices import constant


@dataclass(frozen=True)
class Regions:
    """
    N rotated square regions, all tensors on one device.

    Attributes
    ----------
    centres
        (N, 2) centre (u, v), image pixels.
    sides
        (N,) side length, image pixels.
    rotations
        (N,) radians.

    """

    centres: torch.Tensor
    sides: torch.Tensor
    rotations: torch.Tensor

    def __len__(self) -> int:
        """Return the number of regions."""
        return self.sides.shape[0]

    def select(self, index) -> 'Regions':
        """Return the regions at ``index`` (an integer keeps a length-1 batch)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Regions(self.centres[index], self.sides[index], self.rotations[index])


def crop_to_image(points: torch.Tensor, regions: Regions, size: int) -> torch.Tensor:
    """
    Map (N, K, 2) crop pixel coordinates of an ``size`` x ``size`` crop to image pixels.

    Row n of ``points`` belongs to region n; the result is (N, K, 2) image pixels.
    """
    cos, sin = torch.cos(regions.rotations), torch.sin(regions.rotations)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    offsets = (points / size - 0.5) * regions.sides[:, None, None]
    return offsets @ rotation.transpose(1, 2) + regions.centres[:, None, :]


def image_to_crop(points: torch.Tensor, regions: Regions, size: int) -> torch.Tensor:
    """
    Map (N, K, 2) image pixels into the ``size`` x ``size`` crop of each region.

    The inverse of :func:`crop_to_image`: row n of ``points`` is mapped into region n's
    crop; the result is (N, K, 2) crop pixels, outside [0, size) where a point lies outside
    the region.
    """
    cos, sin = torch.cos(regions.rotations), torch.sin(regions.rotations)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    offsets = (points - regions.centres[:, None, :]) @ rotation
    return (offsets / regions.sides[:, None, None] + 0.5) * size


def crop_grid(regions: Regions, size: int) -> torch.Tensor:
    """
    Return the image pixels that every pixel of each region's crop samples.

    The map of :func:`crop_to_image` over the whole ``size`` x ``size`` crop, (N, size,
    size, 2). Along a crop row the image point moves by a constant step, and likewise down
    a crop column, so the grid is one row of points plus one column of steps, broadcast:
    one pass over the grid instead of a small matrix product per point, which PyTorch runs
    slowly on the CPU.
    """
    fractions = torch.arange(size, device=regions.sides.device,
                             dtype=regions.sides.dtype) / size - 0.5
    offsets = fractions[None] * regions.sides[:, None]  # (N, size) pixels from the centre
    cos, sin = torch.cos(regions.rotations), torch.sin(regions.rotations)
    along = torch.stack([cos, sin], -1)[:, None, None, :]  # image step of a crop column
    down = torch.stack([-sin, cos], -1)[:, None, None, :]  # image step of a crop row
    row = offsets[:, None, :, None] * along + regions.centres[:, None, None, :]  # (N, 1, S, 2)
    return row + offsets[:, :, None, None] * down  # (N, S, 1, 2) broadcast to (N, S, S, 2)


def crop(image: torch.Tensor, regions: Regions, size: int, padding: str,
         to_source: Optional[Callable[[torch.Tensor], torch.Tensor]] = None) -> torch.Tensor:
    """
    Crop every region of one image to ``size`` x ``size`` by bilinear sampling.

    Parameters
    ----------
    image
        (3, H, W) float pixels (0..255) on the estimator's device.
    regions
        N regions in image pixels.
    size
        Output side in pixels.
    padding
        ``'zeros'`` (outside the image reads 0, MediaPipe's BORDER_ZERO) or ``'border'``
        (nearest edge pixel, BORDER_REPLICATE).
    to_source
        Optional map from the regions' pixel frame to ``image`` pixels, (..., 2) to
        (..., 2), returning a new tensor (it is scaled in place); e.g.
        :meth:`CameraModel.distort` to crop a virtual pinhole view of a distorted image.
        Default: the regions are in ``image`` pixels.

    Returns
    -------
    torch.Tensor
        (N, 3, size, size), same dtype as ``image``, rounded to whole pixel values.

    """
    if len(regions) == 0:
        return image.new_zeros((0, 3, size, size))
    height, width = image.shape[-2:]
    pixels = crop_grid(Regions(*(values.to(image.dtype) for values in (
        regions.centres, regions.sides, regions.rotations))), size)
    if to_source is not None:
        pixels = to_source(pixels)
    # align_corners=False: the pixel centre u lies at (u + 0.5) * 2 / width - 1.
    scale = constant((2.0 / width, 2.0 / height), image.device, image.dtype)
    pixels.mul_(scale).add_(scale * 0.5 - 1.0)  # in place: no new grid
    batch = image[None].expand(len(regions), -1, -1, -1)
    sampled = F.grid_sample(batch, pixels, mode='bilinear', padding_mode=padding,
                            align_corners=False)
    # MediaPipe warps 8-bit images into 8-bit crops; rounding likewise keeps the networks'
    # inputs (and so the detector keypoints the regions hang on) within 0.2 px of its own.
    return sampled.round_()


def normalise_angle(angle: torch.Tensor) -> torch.Tensor:
    """Wrap radians to [-pi, pi)."""
    return torch.remainder(angle + math.pi, 2.0 * math.pi) - math.pi
