"""
OpenCV's HOG people detector (Dalal and Triggs) computed in PyTorch, on any device.

The histograms of oriented gradients and the linear SVM are OpenCV's
(``cv::HOGDescriptor``), reproduced step by step so that descriptors and window scores
equal OpenCV's up to float rounding; only the trained coefficients are read from OpenCV
(:data:`HOG_MODELS`). Everything else is torch, on the image's device (CPU or CUDA), and
takes a batch of equal-sized images at once.

* Gradients (:func:`orientation_votes`) as ``HOGDescriptor::computeGradient``: square-root
  gamma, centred differences with the border reflected, per pixel the colour channel of
  largest magnitude, OpenCV's ``fastAtan2`` angle and a bilinear vote into two of the 9
  unsigned orientation bins.
* Block histograms (:func:`block_descriptors`): each pixel's vote goes to the 4 cells of
  every block holding it, with OpenCV's bilinear spatial weights times the Gaussian block
  window: one fixed (4 cells, 16, 16) convolution at the block stride over the 9
  orientation maps, then OpenCV's L2-Hys normalisation (:func:`normalise_blocks`).
* Window scores (:func:`window_scores`): the linear SVM over the block grid, plus its bias,
  for a window at every block stride (8 pixels).
* Detection (:func:`detect`): the image pyramid of ``HOGDescriptor::detectMultiScale``
  (:func:`pyramid`), optionally enlarged first, then greedy non-maximum suppression
  (:func:`nms`) where OpenCV groups rectangles.

OpenCV stores a window's descriptor block by block down each column of blocks (x outer,
y inner), and a block's 4 cells in the same column-major order (checked against
``cv2.HOGDescriptor.compute`` in the tests); :func:`window_descriptors` gives that layout.
"""

import contextlib
from dataclasses import dataclass
import functools
import math
from typing import Any, Callable, ContextManager, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .devices import constant, precision, upload
from .suppression import leaders
from ..geometry.boxes import overlap

# OpenCV's fastAtan2 polynomial in degrees (cv::hal::fastAtan32f, core/src/mathfuncs_core).
_DEGREES = 180.0 / math.pi
_ATAN_P1 = 0.9997878412794807 * _DEGREES
_ATAN_P3 = -0.3258083974640975 * _DEGREES
_ATAN_P5 = 0.1555786518463281 * _DEGREES
_ATAN_P7 = -0.04432655554792128 * _DEGREES
_ATAN_EPSILON = float(np.float32(np.finfo(np.float64).eps))


def _opencv_coefficients(reader: str) -> np.ndarray:
    """Return the SVM coefficients ``cv2.<reader>()`` returns, as float32."""
    import cv2  # only to read the trained coefficients OpenCV ships
    return np.asarray(getattr(cv2, reader)(), dtype=np.float32).reshape(-1)


@dataclass(frozen=True)
class HogModel:
    """
    Trained HOG detector: its coefficients, descriptor layout and what a window holds.

    In the style of torchvision's weight enums, the coefficients travel with the
    preprocessing they need (the descriptor's parameters) and with their metadata.

    Attributes
    ----------
    name
        Key in :data:`HOG_MODELS`.
    window
        Detection window (width, height), pixels.
    coefficients
        Callable returning the linear SVM, float32 (``descriptor_size`` weights in
        OpenCV's descriptor order, then the bias); read from OpenCV.
    person_height
        Fraction of the window's height a person occupies, centred.
    source
        Where the coefficients and ``person_height`` come from.
    block, block_stride, cell
        (width, height), pixels: 16 x 16 blocks every 8 pixels, of 8 x 8 cells.
    bins
        Unsigned orientation bins over 0..180 degrees.
    l2hys_threshold
        Clipping value of the L2-Hys block normalisation.

    """

    name: str
    window: Tuple[int, int]
    coefficients: Callable[[], np.ndarray]
    person_height: float
    source: str
    block: Tuple[int, int] = (16, 16)
    block_stride: Tuple[int, int] = (8, 8)
    cell: Tuple[int, int] = (8, 8)
    bins: int = 9
    l2hys_threshold: float = 0.2

    @property
    def window_sigma(self) -> float:
        """Return the Gaussian block window's sigma, (block w + block h) / 8 pixels."""
        return (self.block[0] + self.block[1]) / 8.0

    @property
    def cells_per_block(self) -> Tuple[int, int]:
        """Return the cells of a block, (across, down)."""
        return self.block[0] // self.cell[0], self.block[1] // self.cell[1]

    @property
    def block_size(self) -> int:
        """Return the length of a block's histogram, cells x bins (36)."""
        across, down = self.cells_per_block
        return across * down * self.bins

    @property
    def blocks_per_window(self) -> Tuple[int, int]:
        """Return the blocks of a window, (across, down): (7, 15) for 64 x 128."""
        across, down = ((w - b) // s + 1 for w, b, s in
                        zip(self.window, self.block, self.block_stride))
        return across, down

    @property
    def descriptor_size(self) -> int:
        """Return the length of a window's descriptor (3780 for 64 x 128)."""
        across, down = self.blocks_per_window
        return across * down * self.block_size

    def svm(self) -> Tuple[np.ndarray, float]:
        """Return the SVM weights, (descriptor_size,) in OpenCV's order, and the bias."""
        values = self.coefficients()
        if values.shape != (self.descriptor_size + 1,):
            raise ValueError(f'{self.name}: expected {self.descriptor_size + 1} '
                             f'coefficients, got shape {values.shape}')
        return values[:-1], float(values[-1])

    def person_boxes(self, boxes: torch.Tensor) -> torch.Tensor:
        """Shrink (N, 4) window corners to the person's height, about their centre."""
        centre = (boxes[:, 1] + boxes[:, 3]) / 2
        half = (boxes[:, 3] - boxes[:, 1]) * (self.person_height / 2)
        return torch.stack([boxes[:, 0], centre - half, boxes[:, 2], centre + half], 1)


#: OpenCV's two trained people detectors, by name.
HOG_MODELS = {
    'people_64x128': HogModel(
        name='people_64x128', window=(64, 128),
        coefficients=functools.partial(_opencv_coefficients,
                                       'HOGDescriptor_getDefaultPeopleDetector'),
        person_height=0.75,
        source='Dalal and Triggs, trained on INRIA Person (OpenCV '
               'getDefaultPeopleDetector). Person height: "our 64 x 128 detection window '
               'includes about 16 pixels of margin around the person on all four sides" '
               '(Dalal and Triggs, CVPR 2005, section 6.4), so 96 of 128 rows.'),
    'daimler_48x96': HogModel(
        name='daimler_48x96', window=(48, 96),
        coefficients=functools.partial(_opencv_coefficients,
                                       'HOGDescriptor_getDaimlerPeopleDetector'),
        person_height=0.75,
        source='Trained on the Daimler mono pedestrian data (OpenCV '
               'getDaimlerPeopleDetector). Person height 72 of 96 rows is an estimate: '
               'the Daimler training cut-outs are 48 x 96 with a margin around '
               'pedestrians about 72 pixels tall (Enzweiler and Gavrila, PAMI 2009, from '
               'memory, not checked here).'),
}


def _model(model: Union[str, HogModel]) -> HogModel:
    if isinstance(model, HogModel):
        return model
    if model not in HOG_MODELS:
        raise ValueError(f'unknown HOG model {model!r}; known: {", ".join(HOG_MODELS)}')
    return HOG_MODELS[model]


def _batch(image: torch.Tensor) -> torch.Tensor:
    """Return ``image`` as a float (B, 3, H, W) batch; ValueError for another shape."""
    if not torch.is_tensor(image):
        raise ValueError(f'image must be a torch tensor, got {type(image).__name__}')
    if image.dim() not in (3, 4) or image.shape[-3] != 3:
        raise ValueError('image must be (3, H, W) or (B, 3, H, W) RGB, got shape '
                         f'{tuple(image.shape)}')
    batch = image if image.dim() == 4 else image[None]
    return batch.float()  # float32 always: the angle's epsilon underflows in half precision


def _fits(batch: torch.Tensor, size: Tuple[int, int]) -> bool:
    """Return whether (B, 3, H, W) images hold a region of ``size`` (w, h)."""
    return batch.shape[-1] >= size[0] and batch.shape[-2] >= size[1]


@functools.lru_cache(maxsize=16)
def _block_kernel(model: HogModel, device: torch.device) -> torch.Tensor:
    """
    Return the (cells, 1, block h, block w) weight of a pixel's vote for each cell.

    As ``HOGCache::init``: the Gaussian window ``exp(-(di^2 + dj^2) / (2 sigma^2))`` with
    OpenCV's offsets ``di = i - block h / 2`` (not pixel centres) times the pixel's
    bilinear weight for the cell, from ``cellX = (j + 0.5) / cell w - 0.5``; cells x
    outer, y inner, as OpenCV stores them.
    """
    width, height = model.block
    across, down = model.cells_per_block
    f32 = np.float32
    sigma = f32(model.window_sigma)
    scale = f32(1.0) / (sigma * sigma * f32(2.0))
    di = np.arange(height, dtype=f32)[:, None] - f32(height * 0.5)
    dj = np.arange(width, dtype=f32)[None, :] - f32(width * 0.5)
    gauss = np.exp(-(di * di + dj * dj) * scale).astype(f32)
    cell_x = (np.arange(width, dtype=f32) + f32(0.5)) / f32(model.cell[0]) - f32(0.5)
    cell_y = (np.arange(height, dtype=f32) + f32(0.5)) / f32(model.cell[1]) - f32(0.5)
    wx = np.maximum(f32(0.0), f32(1.0) - np.abs(cell_x[None] - np.arange(across)[:, None]))
    wy = np.maximum(f32(0.0), f32(1.0) - np.abs(cell_y[None] - np.arange(down)[:, None]))
    kernel = np.stack([gauss * (wy[cy][:, None] * wx[cx][None, :])
                       for cx in range(across) for cy in range(down)])
    return torch.from_numpy(kernel.astype(f32))[:, None].to(device)


@functools.lru_cache(maxsize=16)
def _svm_kernel(model: HogModel, device: torch.device) -> Tuple[torch.Tensor, float]:
    """Return the SVM weights as (blocks down x blocks across, block size), and the bias."""
    weights, bias = model.svm()
    across, down = model.blocks_per_window
    kernel = weights.reshape(across, down, model.block_size).transpose(1, 0, 2)
    return torch.from_numpy(kernel.reshape(down * across, -1).copy()).to(device), bias


def _flag(condition: Callable[..., torch.Tensor], a: torch.Tensor,
          b: Union[torch.Tensor, float], value: float) -> torch.Tensor:
    """Return ``value`` where ``condition(a, b)`` holds, else 0, as a new float tensor."""
    return condition(a, b, out=torch.empty_like(a)).mul_(value)


def _unsigned_fast_atan2(dy: torch.Tensor, dx: torch.Tensor, unit: float) -> torch.Tensor:
    """
    Return OpenCV's ``fastAtan2(dy, dx)`` modulo 180 degrees, times ``unit`` (per degree).

    The polynomial of ``cv::hal::fastAtan32f`` in ``c = min / max`` of the absolute
    differences gives ``a`` in [0, 45] degrees; OpenCV's folds (``90 - a`` when
    ``|dx| < |dy|``, ``180 - a`` when ``dx < 0``, ``360 - a`` when ``dy < 0``) reduce,
    modulo 180, to ``90 - a`` and then ``180 - a`` when ``dx`` and ``dy`` have opposite
    signs. Each fold is written ``|fold * flag - a|``, exact since ``a`` never exceeds the
    fold, and branch-free. Returns a new tensor in [0, 180 unit].
    """
    ax, ay = dx.abs(), dy.abs()
    c = torch.minimum(ax, ay).div_(torch.maximum(ax, ay).add_(_ATAN_EPSILON))
    cc = c * c
    a = cc * (_ATAN_P7 * unit)
    a.add_(_ATAN_P5 * unit).mul_(cc).add_(_ATAN_P3 * unit).mul_(cc)
    a.add_(_ATAN_P1 * unit).mul_(c)
    a = _flag(torch.lt, ax, ay, 90.0 * unit).sub_(a).abs_()
    return _flag(torch.lt, dx * dy, 0.0, 180.0 * unit).sub_(a).abs_()


def _votes(image: torch.Tensor, bins: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return (B, 2, H, W) votes and their planes, ``bin + 1`` before wrapping, 0..bins+1.

    See :func:`orientation_votes`; plane 0 is bin ``bins - 1`` and plane ``bins + 1`` is
    bin 0, which spares a remainder per pixel.
    """
    batch = _batch(image)
    count, _, height, width = batch.shape
    gamma = batch.clamp(min=0.0).sqrt_()
    dx, dy = gamma.new_empty(gamma.shape), gamma.new_empty(gamma.shape)
    torch.sub(gamma[..., 2:], gamma[..., :-2], out=dx[..., 1:-1])
    torch.sub(gamma[..., 2:, :], gamma[..., :-2, :], out=dy[..., 1:-1, :])
    for border in (0, -1):
        dx[..., border] = 0.0
        dy[..., border, :] = 0.0
    square = dx * dx
    square += dy * dy
    red, green, blue = square.unbind(1)
    best = torch.maximum(torch.maximum(blue, green), red)
    # Exclusive 0/1 masks of the chosen channel: products with them are exact.
    take_blue = torch.eq(blue, best, out=torch.empty_like(best))
    take_green = torch.eq(green, best, out=torch.empty_like(best))
    take_green.addcmul_(take_green, take_blue, value=-1.0)
    take_red = 1.0 - take_blue - take_green
    grad_x = dx[:, 2] * take_blue
    grad_x.addcmul_(dx[:, 1], take_green).addcmul_(dx[:, 0], take_red)
    grad_y = dy[:, 2] * take_blue
    grad_y.addcmul_(dy[:, 1], take_green).addcmul_(dy[:, 0], take_red)
    magnitude = best.sqrt_()
    # OpenCV: a = angle * bins / pi - 0.5 (radians); + 1 makes the first plane >= 0.
    angle = _unsigned_fast_atan2(grad_y, grad_x, bins / 180.0).add_(0.5)
    first = angle.floor()
    fraction = angle.sub_(first)
    votes = batch.new_empty(count, 2, height, width)
    torch.mul(magnitude, 1.0 - fraction, out=votes[:, 0])
    torch.mul(magnitude, fraction, out=votes[:, 1])
    planes = torch.empty(votes.shape, dtype=torch.long, device=votes.device)
    planes[:, 0] = first
    torch.add(planes[:, 0], 1, out=planes[:, 1])
    return votes, planes


def orientation_votes(image: torch.Tensor,
                      bins: int = 9) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return each pixel's gradient votes and their bins, as ``HOGDescriptor::computeGradient``.

    Parameters
    ----------
    image
        (3, H, W) or (B, 3, H, W) RGB, float 0..255 (integer values give OpenCV's
        square-root table exactly; negative values count as 0).
    bins
        Unsigned orientation bins over 0..180 degrees.

    Returns
    -------
    votes
        (B, 2, H, W) float: the gradient magnitude of the square-root intensities split
        between the two nearest bins, ``magnitude * (1 - t)`` and ``magnitude * t``.
    indices
        (B, 2, H, W) int64: those two bins, 0..bins-1.

    Differences are centred, ``[-1, 0, 1]``, with the border reflected (BORDER_REFLECT_101,
    so they are 0 across the outer rows and columns). Per pixel the colour channel of
    largest squared magnitude gives the gradient: OpenCV looks at the channels in B, G, R
    order and takes a later one only when strictly larger, as here. (That is its 4-wide
    SIMD loop; its scalar loop over the last ``W % 4`` columns looks in R, G, B order, but
    no block reaches those columns, blocks ending at column ``8 floor(W / 8) - 1``.) The
    angle is OpenCV's ``fastAtan2`` polynomial, binned as OpenCV does:
    ``a = angle * bins / pi - 0.5``, bins ``floor(a)`` and ``floor(a) + 1`` modulo
    ``bins``, ``t = a - floor(a)``.

    """
    votes, planes = _votes(image, bins)
    return votes, planes.sub_(1).remainder_(bins)


def orientation_maps(image: torch.Tensor, bins: int = 9) -> torch.Tensor:
    """Return (B, bins, H, W): each pixel's two votes (:func:`orientation_votes`) by bin."""
    votes, planes = _votes(image, bins)
    maps = votes.new_zeros((votes.shape[0], bins + 2) + votes.shape[2:])
    maps.scatter_add_(1, planes, votes)
    maps[:, 1] += maps[:, bins + 1]
    maps[:, bins] += maps[:, 0]
    return maps[:, 1:bins + 1]


def normalise_blocks(histograms: torch.Tensor, threshold: float = 0.2) -> torch.Tensor:
    """
    Return L2-Hys normalised (..., n) block histograms, as OpenCV's normalizeBlockHistogram.

    Scaled by ``1 / (|h| + 0.1 n)``, clipped at ``threshold``, then scaled by
    ``1 / (|h| + 1e-3)``.
    """
    norm = histograms.square().sum(-1, keepdim=True).sqrt_()
    clipped = (histograms / norm.add_(histograms.shape[-1] * 0.1)).clamp_(max=threshold)
    return clipped.div_(clipped.square().sum(-1, keepdim=True).sqrt_().add_(1e-3))


def _float32_convolutions(device: torch.device) -> ContextManager:
    """Run cuDNN's float32 convolutions in float32 rather than its default, TF32."""
    return precision(False, matmul=False) if device.type == 'cuda' else contextlib.nullcontext()


def _block_grid(maps: torch.Tensor, model: HogModel) -> torch.Tensor:
    """Return (B, blocks down, blocks across, block size) from (B, bins, H, W) maps."""
    count, bins, height, width = maps.shape
    kernel = _block_kernel(model, maps.device).to(maps.dtype)
    with _float32_convolutions(maps.device):
        cells = F.conv2d(maps.reshape(count * bins, 1, height, width), kernel,
                         stride=model.block_stride[::-1])
    rows, cols = cells.shape[-2:]
    # (B, bins, cells, rows, cols) -> (B, rows, cols, cells, bins)
    grid = cells.reshape(count, bins, -1, rows, cols).permute(0, 3, 4, 2, 1)
    return normalise_blocks(grid.reshape(count, rows, cols, -1), model.l2hys_threshold)


def block_descriptors(image: torch.Tensor,
                      model: Union[str, HogModel] = 'people_64x128') -> torch.Tensor:
    """
    Return every block's normalised histogram, (B, blocks down, blocks across, 36).

    Parameters
    ----------
    image
        (3, H, W) or (B, 3, H, W) RGB, float 0..255.
    model
        A :class:`HogModel` or its name in :data:`HOG_MODELS`.

    Block (i, j) covers pixels ``8 i .. 8 i + 15`` down and ``8 j .. 8 j + 15`` across
    (the model's block stride and size). Its 36 values are 4 cells x 9 bins, the cells in
    OpenCV's order: top-left, bottom-left, top-right, bottom-right. An image smaller than
    a block has none: (B, 0, 0, 36).

    """
    model = _model(model)
    batch = _batch(image)
    if not _fits(batch, model.block):
        return batch.new_zeros(batch.shape[0], 0, 0, model.block_size)
    return _block_grid(orientation_maps(batch, model.bins), model)


def window_descriptors(blocks: torch.Tensor, model: Union[str, HogModel] = 'people_64x128',
                       stride: int = 1) -> torch.Tensor:
    """
    Return the descriptor of every window, (B, windows down, windows across, 3780).

    Parameters
    ----------
    blocks
        (B, blocks down, blocks across, 36) from :func:`block_descriptors`.
    model
        The :class:`HogModel` (or its name) of the blocks.
    stride
        Window stride, in block strides (1: every 8 pixels).

    Window (i, j) has its top-left corner at pixel ``(8 stride j, 8 stride i)``. Its
    descriptor is in the order of ``cv2.HOGDescriptor.compute``: the blocks down each
    column of blocks, columns from left to right. Meant for checks and for training; the
    detector itself never builds descriptors (:func:`window_scores`).

    """
    model = _model(model)
    across, down = model.blocks_per_window
    if blocks.dim() != 4 or blocks.shape[-1] != model.block_size:
        raise ValueError(f'blocks must be (B, rows, cols, {model.block_size}), got shape '
                         f'{tuple(blocks.shape)}')
    count, rows, cols, _ = blocks.shape
    if rows < down or cols < across:
        return blocks.new_zeros(count, 0, 0, model.descriptor_size)
    windows = blocks.unfold(1, down, stride).unfold(2, across, stride)
    # (B, wy, wx, block size, down, across) -> (B, wy, wx, across, down, block size)
    return windows.permute(0, 1, 2, 5, 4, 3).reshape(*windows.shape[:3], -1)


def _grid_scores(grid: torch.Tensor, model: HogModel) -> torch.Tensor:
    """
    Return the (B, rows - down + 1, cols - across + 1) window scores of a block grid.

    The SVM as a convolution over the (B, rows, cols, 36) grid, computed as one matrix
    product (each block against the weights of every block position in a window) and
    two sums of shifted views (over the positions across, then down).
    """
    kernel, bias = _svm_kernel(model, grid.device)
    across, down = model.blocks_per_window
    count, rows, cols, _ = grid.shape
    if rows < down or cols < across:
        return grid.new_zeros(count, 0, 0)
    size = rows * cols
    partial = grid.reshape(count, size, -1) @ kernel.to(grid.dtype).T   # (B, size, down*across)
    partial = partial.transpose(1, 2).contiguous()                       # (B, down*across, size)
    # Row term (by, bx) shifted by bx, summed over bx: element [b, by, bx, n + bx].
    length = size - (across - 1)
    across_sum = partial.as_strided(
        (count, down, across, length),
        (down * across * size, across * size, size + 1, 1)).sum(2)      # (B, down, length)
    # Shifted by by rows (by * cols elements), summed over by.
    windows = length - (down - 1) * cols
    total = across_sum.as_strided(
        (count, down, windows), (down * length, length + cols, 1)).sum(1)
    total = F.pad(total, (0, (rows - down + 1) * cols - windows))
    return total.reshape(count, rows - down + 1, cols)[..., :cols - across + 1] + bias


def window_scores(image: torch.Tensor,
                  model: Union[str, HogModel] = 'people_64x128') -> torch.Tensor:
    """
    Return the SVM score of every window, (B, windows down, windows across).

    Parameters
    ----------
    image
        (3, H, W) or (B, 3, H, W) RGB, float 0..255.
    model
        A :class:`HogModel` or its name in :data:`HOG_MODELS`.

    Window (i, j) is the model's window (64 x 128 pixels) with its top-left corner at
    pixel ``(8 j, 8 i)``; its score is the SVM's ``w . descriptor + bias``, the weight
    ``cv2.HOGDescriptor.detect`` reports (a person from 0 up). An image smaller than the
    window gives (B, 0, 0). On CUDA the block convolution runs in float32, not TF32; the
    SVM's matrix product follows ``torch.backends.cuda.matmul`` (float32 by default).

    """
    model = _model(model)
    batch = _batch(image)
    if not _fits(batch, model.window):
        return batch.new_zeros(batch.shape[0], 0, 0)
    return _grid_scores(block_descriptors(batch, model), model)


def _resize(batch: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Resize (B, 3, H, W) bilinearly (OpenCV's INTER_LINEAR) and round to integers."""
    count, channels = batch.shape[:2]
    # Channels as a batch of single-channel images: about 3 times faster on the CPU.
    planes = batch.reshape(count * channels, 1, *batch.shape[2:])
    level = F.interpolate(planes, size=(height, width), mode='bilinear',
                          align_corners=False, antialias=False)
    return level.round_().reshape(count, channels, height, width)


def pyramid(width: int, height: int, model: Union[str, HogModel] = 'people_64x128',
            scale_step: float = 1.05, upscale: float = 1.0, max_levels: int = 64,
            min_height: float = 0.0,
            max_height: float = math.inf) -> List[Tuple[float, int, int]]:
    """
    Return the pyramid levels of a ``width`` x ``height`` image: (scale, width, height).

    Level k has scale ``s = scale_step ** k / upscale`` and size ``round(W / s)`` x
    ``round(H / s)``, as ``HOGDescriptor::detectMultiScale`` builds them (with upscale 1
    and ``max_levels`` its ``nlevels``); a window there covers ``s`` times its size in
    image pixels. Levels stop before the window no longer fits, or after ``max_levels``;
    levels whose window would be shorter than ``min_height`` or taller than
    ``max_height`` image pixels are left out.
    """
    model = _model(model)
    if not scale_step > 1.0:
        raise ValueError(f'scale_step must be > 1, got {scale_step}')
    if not upscale > 0.0:
        raise ValueError(f'upscale must be > 0, got {upscale}')
    levels = []
    scale = 1.0 / upscale
    for _ in range(max_levels):
        size = (int(round(width / scale)), int(round(height / scale)))
        if size[0] < model.window[0] or size[1] < model.window[1]:
            break
        if min_height <= model.window[1] * scale <= max_height:
            levels.append((scale, size[0], size[1]))
        scale *= scale_step
    return levels


def nms_slots(boxes: torch.Tensor, scores: torch.Tensor, valid: torch.Tensor,
              iou_threshold: float = 0.5, max_count: int = 100,
              min_neighbours: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return the boxes greedy non-maximum suppression keeps, best first, in ``max_count`` slots.

    Parameters
    ----------
    boxes
        (N, 4) corners x0, y0, x1, y1.
    scores
        (N,) higher is better.
    valid
        (N,) bool: the slots that hold a candidate.
    iou_threshold
        The best remaining box is kept, and every remaining box whose IoU with it
        exceeds this is dropped.
    max_count
        At most this many kept boxes: the slots returned.
    min_neighbours
        Keep a box only if it dropped at least this many others, its neighbours (one
        with fewer is not kept but still drops them).

    Returns
    -------
    index
        (max_count,) indices into the boxes (fixed steps on the device,
        :func:`~.suppression.leaders`).
    kept
        (max_count,) bool: the slots that hold a kept box.

    """
    if boxes.dim() != 2 or boxes.shape[-1] != 4 or scores.shape != boxes.shape[:1]:
        raise ValueError(f'boxes must be (N, 4) and scores (N,), got {tuple(boxes.shape)} '
                         f'and {tuple(scores.shape)}')
    # A leader without enough neighbours still drops them: take enough leaders that
    # max_count of them can have them (every leader, when any may lack them).
    steps = len(scores) if min_neighbours else min(max_count, len(scores))
    index, found, groups = leaders(
        scores, valid, lambda best: overlap(boxes[best], boxes)[0] > iou_threshold, steps)
    kept = found & (groups.sum(-1) > min_neighbours)
    order = torch.sort((~kept).to(torch.uint8), stable=True)[1][:max_count]
    return index[order], kept[order]


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float = 0.5,
        max_count: Optional[int] = None, min_neighbours: int = 0) -> torch.Tensor:
    """Return the indices of the boxes :func:`nms_slots` keeps, best first (None: no limit)."""
    count = len(scores) if max_count is None else max_count
    index, kept = nms_slots(boxes, scores, torch.ones_like(scores, dtype=torch.bool),
                            iou_threshold, count, min_neighbours)
    return index[kept]


def windows(image: torch.Tensor, model: Union[str, HogModel] = 'people_64x128',
            scale_step: float = 1.05, upscale: float = 1.0, max_levels: int = 64,
            min_height: float = 0.0,
            max_height: float = math.inf) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return every window of every pyramid level and its score, as many as the size gives.

    The arguments are :func:`detect`'s. Returns (N, 4) x0, y0, x1, y1 window corners in
    image pixels (float) and their (N,) scores, level by level, each level's windows in
    row-major order.
    """
    model = _model(model)
    batch = _batch(image)
    if image.dim() != 3:
        raise ValueError(f'image must be (3, H, W), got shape {tuple(image.shape)}')
    height, width = batch.shape[-2:]
    all_boxes, all_scores = [batch.new_zeros(0, 4)], [batch.new_zeros(0)]
    for _, level_width, level_height in pyramid(width, height, model, scale_step, upscale,
                                                max_levels, min_height, max_height):
        if (level_width, level_height) == (width, height):
            level = batch
        else:  # bilinear, half-pixel centres, rounded like OpenCV's 8-bit levels
            level = _resize(batch, level_width, level_height)
        scores = window_scores(level, model)[0]
        all_boxes.append(_level_corners(model, scores.shape, (width / level_width,
                                                              height / level_height),
                                        scores.device).to(scores.dtype))
        all_scores.append(scores.reshape(-1))
    return torch.cat(all_boxes), torch.cat(all_scores)


@functools.lru_cache(maxsize=256)
def _level_corners(model: HogModel, shape: Tuple[int, int], scale: Tuple[float, float],
                   device: torch.device) -> torch.Tensor:
    """
    Return a level's (rows x cols, 4) window corners in image pixels, made once.

    ``shape``: the level's (rows, cols) windows; ``scale``: image pixels per level pixel.
    The windows are row-major, ``block_stride`` apart. Callers must not modify them.
    """
    rows, cols = torch.meshgrid(torch.arange(shape[0], device=device),
                                torch.arange(shape[1], device=device), indexing='ij')
    x0 = cols.reshape(-1).float() * model.block_stride[0]
    y0 = rows.reshape(-1).float() * model.block_stride[1]
    corners = torch.stack([x0, y0, x0 + model.window[0], y0 + model.window[1]], 1)
    return corners * constant(scale * 2, device)


def candidates(image: torch.Tensor, model: Union[str, HogModel] = 'people_64x128',
               hit_threshold: float = 0.0, scale_step: float = 1.05, upscale: float = 1.0,
               max_levels: int = 64, min_height: float = 0.0,
               max_height: float = math.inf) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return every window of every pyramid level scoring at least ``hit_threshold``.

    The arguments are :func:`detect`'s. Returns (N, 4) x0, y0, x1, y1 window corners in
    image pixels (float) and their (N,) scores, level by level, each level's windows in
    row-major order: before non-maximum suppression, as OpenCV's ``detectMultiScale``
    with ``groupThreshold=0``.
    """
    boxes, scores = windows(image, model, scale_step, upscale, max_levels, min_height,
                            max_height)
    hits = scores >= hit_threshold
    return boxes[hits], scores[hits]


@functools.lru_cache(maxsize=None)
def _opencv_descriptor(model: HogModel, max_levels: int):
    """Return OpenCV's HOGDescriptor for ``model``, its SVM set."""
    import cv2

    # Positional: derivative aperture 1, window sigma -1 (the default), L2-Hys, gamma
    # correction, then the number of levels.
    descriptor = cv2.HOGDescriptor(model.window, model.block, model.block_stride, model.cell,
                                   model.bins, 1, -1.0, cv2.HOGDescriptor_L2Hys,
                                   model.l2hys_threshold, True, max_levels)
    descriptor.setSVMDetector(model.coefficients())
    return descriptor


def opencv_candidates(image: Union[torch.Tensor, np.ndarray],
                      model: Union[str, HogModel] = 'people_64x128',
                      hit_threshold: float = 0.0, scale_step: float = 1.05,
                      upscale: float = 1.0, max_levels: int = 64, min_height: float = 0.0,
                      max_height: float = math.inf,
                      device: Optional[torch.device] = None
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return what :func:`candidates` returns, computed by OpenCV's own HOGDescriptor.

    ``detectMultiScale`` with ``groupThreshold=0`` on the (3, H, W) image, rounded to
    8 bits and enlarged ``upscale`` times first (bilinear): on the CPU it runs 2.4 to 2.9
    times faster than the torch computation (docs/estimation.md), with the same windows
    but for a few scoring within 0.04 of the threshold (OpenCV resizes its levels in fixed
    point). ``image`` may also be the (H, W, 3) uint8 RGB image on the host, which saves
    copying it back from the device. Results are on ``device`` (default: the image's).
    """
    import cv2

    model = _model(model)
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'image must be (H, W, 3) uint8, got {image.shape} {image.dtype}')
        rgb, device = image, device or torch.device('cpu')
    else:
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError(f'image must be (3, H, W), got shape {tuple(image.shape)}')
        rgb = image.permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
        device = device or image.device
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if upscale != 1.0:
        bgr = cv2.resize(bgr, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LINEAR)
    empty = torch.zeros((0, 4), device=device), torch.zeros(0, device=device)
    if bgr.shape[1] < model.window[0] or bgr.shape[0] < model.window[1]:
        return empty
    rects, weights = _opencv_descriptor(model, max_levels).detectMultiScale(
        bgr, hitThreshold=hit_threshold, winStride=model.block_stride, padding=(0, 0),
        scale=scale_step, groupThreshold=0)
    if len(rects) == 0:
        return empty
    corners = np.asarray(rects, np.float32).reshape(-1, 4)
    corners[:, 2:] += corners[:, :2]
    corners /= upscale
    scores = np.asarray(weights, np.float32).reshape(-1)
    height = corners[:, 3] - corners[:, 1]
    inside = (height >= min_height) & (height <= max_height)  # chosen on the host
    return upload(corners[inside], device), upload(scores[inside], device)


def _torch_windows(image: torch.Tensor, model: Union[str, HogModel], hit_threshold: float,
                   *pyramid_args: Any, device: Optional[torch.device]
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return every window (:func:`windows`, on the image's device), those scoring valid."""
    boxes, scores = windows(image, model, *pyramid_args)
    return boxes, scores, scores >= hit_threshold


def _opencv_windows(image: Union[torch.Tensor, np.ndarray], model: Union[str, HogModel],
                    hit_threshold: float, *pyramid_args: Any, device: torch.device
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return OpenCV's candidates (:func:`opencv_candidates`), all valid."""
    boxes, scores = opencv_candidates(image, model, hit_threshold, *pyramid_args,
                                      device=device)
    return boxes, scores, torch.ones_like(scores, dtype=torch.bool)


#: What computes the candidate windows: :func:`windows` (torch, on the image's device: all
#: of them, as many as the image size gives, those under the threshold not valid) or
#: :func:`opencv_candidates` (OpenCV on the CPU: the ones above the threshold).
ENGINES: Dict[str, Callable[..., Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = {
    'torch': _torch_windows, 'opencv': _opencv_windows}


def detect_slots(image: Union[torch.Tensor, np.ndarray],
                 model: Union[str, HogModel] = 'people_64x128', hit_threshold: float = 0.0,
                 scale_step: float = 1.05, upscale: float = 1.0, max_levels: int = 64,
                 min_height: float = 0.0, max_height: float = math.inf,
                 iou_threshold: float = 0.5, min_neighbours: int = 0,
                 max_detections: int = 100, engine: str = 'torch',
                 device: Optional[torch.device] = None
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Detect people as :func:`detect` does, in ``max_detections`` fixed slots.

    Returns (K, 4) boxes, their scores and (K,) bool, the slots that hold a detection: K
    is ``max_detections``, or the candidates' count when smaller (the ``torch`` engine's
    are every window, as many as the image size gives). With the ``torch`` engine nothing
    here waits for the device; it counts no neighbours (``min_neighbours`` 0: every
    window would be a step; :func:`detect` does). ``image`` may be the (H, W, 3) uint8 host
    image for the ``opencv`` engine, with ``device`` where the results go.
    """
    if min_neighbours and engine == 'torch':
        raise ValueError('detect_slots with the torch engine counts no neighbours '
                         '(min_neighbours 0); detect does')
    return _detect(image, model, hit_threshold, (scale_step, upscale, max_levels, min_height,
                                                 max_height),
                   iou_threshold, min_neighbours, max_detections, engine, device, False)


def _detect(image: Union[torch.Tensor, np.ndarray], model: Union[str, HogModel],
            hit_threshold: float, pyramid_args: Tuple, iou_threshold: float,
            min_neighbours: int, max_detections: int, engine: str,
            device: Optional[torch.device], compact: bool
            ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Find the candidates, ``compact``: only the valid ones, and suppress in slots."""
    if engine not in ENGINES:
        raise ValueError(f'engine must be one of {", ".join(ENGINES)}, got {engine!r}')
    if engine == 'torch' and not torch.is_tensor(image):
        raise ValueError('the torch engine needs the image as a (3, H, W) tensor')
    boxes, scores, valid = ENGINES[engine](image, model, hit_threshold, *pyramid_args,
                                           device=device)
    if compact:  # a host caller: the count of candidates bounds the suppression's steps
        boxes, scores, valid = boxes[valid], scores[valid], valid[valid]
    index, kept = nms_slots(boxes, scores, valid, iou_threshold, max_detections,
                            min_neighbours)
    return boxes[index], scores[index], kept


def detect(image: Union[torch.Tensor, np.ndarray],
           model: Union[str, HogModel] = 'people_64x128',
           hit_threshold: float = 0.0, scale_step: float = 1.05, upscale: float = 1.0,
           max_levels: int = 64, min_height: float = 0.0, max_height: float = math.inf,
           iou_threshold: float = 0.5, min_neighbours: int = 0,
           max_detections: int = 100,
           engine: str = 'torch') -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Detect people at every scale, as ``cv2.HOGDescriptor.detectMultiScale``, with NMS.

    Parameters
    ----------
    image
        (3, H, W) RGB, float 0..255 (uint8 is converted), on the device to run on; for
        the ``opencv`` engine also the (H, W, 3) uint8 RGB image.
    model
        A :class:`HogModel` or its name in :data:`HOG_MODELS`.
    hit_threshold
        Windows whose SVM score ``w . x + b`` is at least this are candidates (OpenCV's
        hitThreshold; 0 is its default).
    scale_step, upscale, max_levels, min_height, max_height
        The pyramid (:func:`pyramid`). Each level is resized from the image itself,
        bilinear with half-pixel centres and no antialiasing (OpenCV's INTER_LINEAR),
        and rounded to integers as OpenCV's 8-bit levels are. ``upscale`` 2 starts the
        pyramid at twice the image's size (still resized from the image itself), so
        people half the window's height (64 pixels for ``people_64x128``) are found too,
        at about 4 times the cost.
    iou_threshold, min_neighbours
        Greedy non-maximum suppression over the candidates of all levels (:func:`nms`).
        ``min_neighbours`` 2 keeps only detections that suppressed at least 2 other
        candidates, about what OpenCV's groupThreshold 2 keeps (groups of 3 or more).
    max_detections
        At most this many detections.
    engine
        What computes the candidate windows (:data:`ENGINES`): ``torch`` on the image's
        device, or ``opencv`` (on the CPU, faster there).

    Returns
    -------
    boxes
        (N, 4) x0, y0, x1, y1, image pixels, float: the windows' outer edges (a window
        on level pixels 0..63 spans 0 to 64 level pixels), in which a person fills the
        central :attr:`HogModel.person_height` of the height
        (:meth:`HogModel.person_boxes`).
    scores
        (N,) their SVM scores, best first.

    An image smaller than the window (after ``upscale``) gives no detections, (0, 4) and
    (0,). :func:`detect_slots` is the same in fixed slots, without reading the count.

    """
    boxes, scores, kept = _detect(image, model, hit_threshold, (scale_step, upscale,
                                                                max_levels, min_height,
                                                                max_height),
                                  iou_threshold, min_neighbours, max_detections, engine, None,
                                  True)
    return boxes[kept], scores[kept]
