"""
3DMPPE's input conventions, as the official code has them (``common/utils/pose_utils.py``).

* Boxes (:func:`process_boxes`): clipped to the image, made square about their centre and
  enlarged 1.25 times; the crop is that square resampled to 256 x 256 (the affine map of
  ``cv2.getAffineTransform``: box centre to crop centre, bilinear, zeros outside).
* Pixels (:func:`normalise`): RGB in 0..255 minus the ImageNet mean over the ImageNet
  std, both given for 0..1 images. The official code applies ``ToTensor`` to float32
  pixels, which does not divide by 255, so the released weights expect this quirk.
* Distance prior k: a person's box covers 2000 mm x 2000 mm, so its depth is about
  ``sqrt(fx * fy * 2000 * 2000 / (w * h))`` mm (:func:`pose3d_ros.geometry.root.prior_depth`
  in metres); RootNet multiplies it by gamma.
* Depth bins: PoseNet's 64 bins span 2000 mm centred on the root.
"""

from typing import Tuple

import numpy as np
import torch

from ..estimation.devices import constant
from ..geometry.root import BOX_SCALE

#: Depth span of PoseNet's bins around the root, mm (``bbox_3d_shape``).
DEPTH_SPAN_MM = 2000.0

#: ImageNet mean and std of RGB in 0..1, applied to 0..255 pixels (the official quirk).
PIXEL_MEAN = (0.485, 0.456, 0.406)
PIXEL_STD = (0.229, 0.224, 0.225)


def process_boxes(boxes: np.ndarray, width: int, height: int) -> Tuple[np.ndarray, np.ndarray]:
    """
    Turn detection boxes into 3DMPPE's square input boxes.

    ``boxes`` is (N, 4) x0, y0, x1, y1 in pixels of a ``width`` x ``height`` image. As the
    official ``process_bbox``: the box (x, y, w = x1 - x0, h = y1 - y0) is clipped to
    [0, width - 1] x [0, height - 1] (keeping its quirk: the clipped right edge is
    ``x + w - 1``), padded to a square about its centre, and scaled by ``BOX_SCALE``.
    Returns the (N, 4) x, y, w, h square boxes and an (N,) mask of the boxes the official
    code keeps (empty boxes, or boxes outside the image, are rejected there).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x, y = boxes[:, 0], boxes[:, 1]
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    x1, y1 = np.maximum(0.0, x), np.maximum(0.0, y)
    x2 = np.minimum(width - 1.0, x1 + np.maximum(0.0, w - 1.0))
    y2 = np.minimum(height - 1.0, y1 + np.maximum(0.0, h - 1.0))
    side = np.maximum(x2 - x1, y2 - y1) * BOX_SCALE
    # The official checks, and a square of positive side (which they imply for whole pixels).
    valid = (w * h > 0) & (x2 >= x1) & (y2 >= y1) & (side > 0) & np.isfinite(boxes).all(axis=1)
    centre_x, centre_y = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    square = np.stack([centre_x - side / 2.0, centre_y - side / 2.0, side, side], axis=1)
    return square, valid


def normalise(crops: torch.Tensor) -> torch.Tensor:
    """Map (N, 3, H, W) RGB crops in 0..255 to the networks' input (the ImageNet quirk)."""
    mean = constant(PIXEL_MEAN, crops.device, crops.dtype)[:, None, None]
    std = constant(PIXEL_STD, crops.device, crops.dtype)[:, None, None]
    return (crops - mean) / std


def bins_to_mm(bins: torch.Tensor, root_depth_mm: torch.Tensor, bin_count: int) -> torch.Tensor:
    """Map (N, J) PoseNet depth bins to absolute depths in mm, given (N,) root depths."""
    return (bins / bin_count * 2.0 - 1.0) * (DEPTH_SPAN_MM / 2.0) + root_depth_mm[:, None]
