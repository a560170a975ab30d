"""Each operator configuration we translate matches LiteRT on a one-operator model."""

from pathlib import Path
from typing import Callable

import numpy as np
from pose3d_ros.tflite.litert import LiteRTRunner
from pose3d_ros.tflite.reader import read_tflite
from pose3d_ros.tflite.to_torch import build_module
import pytest
import tflite
import torch
import torch.nn.functional as F

from ..tflite_builder import build, ModelSpec, Op

RNG = np.random.default_rng(7)


def _table(start: Callable, end: Callable, **fields: object) -> Callable:
    """Options writer: ``start``, then ``<Table>Add<Field>(builder, value)``, then ``end``."""
    prefix = start.__name__[:-len('Start')]

    def write(builder: object) -> int:
        start(builder)
        for name, value in fields.items():
            getattr(tflite, f'{prefix}Add{name}')(builder, value)
        return end(builder)
    return write


def _compare(spec: ModelSpec, tmp_path: Path) -> None:
    path = tmp_path / 'model.tflite'
    path.write_bytes(build(spec))
    module = build_module(read_tflite(path))
    shape = spec.shapes[spec.inputs[0]]  # NHWC
    batch = RNG.uniform(-1, 1, size=(2, shape[3], shape[1], shape[2])).astype(np.float32)
    expected = LiteRTRunner(path)(batch)
    with torch.inference_mode():
        actual = [o.numpy() for o in module(torch.from_numpy(batch))]
    assert len(actual) == len(expected)
    for mine, theirs in zip(actual, expected):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5)


def _single(op_name: str, in_shape: tuple, out_shape: tuple, options_type: str = 'NONE',
            options: Callable = None, constants: tuple = ()) -> ModelSpec:
    spec = ModelSpec()
    x = spec.tensor(in_shape)
    extra = [spec.tensor(c.shape, c) for c in constants]
    y = spec.tensor(out_shape)
    spec.ops.append(Op(op_name, [x, *extra], [y], options_type, options))
    spec.inputs, spec.outputs = [x], [y]
    return spec


@pytest.mark.parametrize('align_corners, half_pixel', [(False, False), (True, False),
                                                       (False, True)])
@pytest.mark.parametrize('out_size', [(9, 4), (3, 11)])
def test_resize_bilinear_modes(align_corners: bool, half_pixel: bool, out_size: tuple,
                               tmp_path: Path) -> None:
    options = _table(tflite.ResizeBilinearOptionsStart, tflite.ResizeBilinearOptionsEnd,
                     AlignCorners=align_corners, HalfPixelCenters=half_pixel)
    spec = _single('RESIZE_BILINEAR', (1, 5, 7, 3), (1, *out_size, 3), 'ResizeBilinearOptions',
                   options, (np.array(out_size, np.int32),))
    _compare(spec, tmp_path)


@pytest.mark.parametrize('padding, stride, activation', [(0, 2, 3), (0, 1, 1), (1, 2, 0),
                                                         (1, 1, 2)])
def test_conv2d(padding: int, stride: int, activation: int, tmp_path: Path) -> None:
    weight = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bias = RNG.standard_normal(4).astype(np.float32)
    size = 8 if padding == 1 else (8 + stride - 1) // stride
    out = (8 - 3) // stride + 1 if padding == 1 else size
    options = _table(tflite.Conv2DOptionsStart, tflite.Conv2DOptionsEnd, Padding=padding,
                     StrideH=stride, StrideW=stride, FusedActivationFunction=activation,
                     DilationHFactor=1, DilationWFactor=1)
    spec = _single('CONV_2D', (1, 8, 8, 3), (1, out, out, 4), 'Conv2DOptions', options,
                   (weight, bias))
    _compare(spec, tmp_path)


def test_depthwise_with_multiplier(tmp_path: Path) -> None:
    weight = RNG.standard_normal((1, 3, 3, 6)).astype(np.float32)
    bias = RNG.standard_normal(6).astype(np.float32)
    options = _table(tflite.DepthwiseConv2DOptionsStart, tflite.DepthwiseConv2DOptionsEnd,
                     Padding=0, StrideH=2, StrideW=2, DepthMultiplier=2,
                     FusedActivationFunction=2, DilationHFactor=1, DilationWFactor=1)
    spec = _single('DEPTHWISE_CONV_2D', (1, 6, 6, 3), (1, 3, 3, 6), 'DepthwiseConv2DOptions',
                   options, (weight, bias))
    _compare(spec, tmp_path)


@pytest.mark.parametrize('padding, out', [(0, 4), (1, 3)])
def test_max_pool(padding: int, out: int, tmp_path: Path) -> None:
    options = _table(tflite.Pool2DOptionsStart, tflite.Pool2DOptionsEnd, Padding=padding,
                     StrideH=2, StrideW=2, FilterHeight=3, FilterWidth=3)
    _compare(_single('MAX_POOL_2D', (1, 7, 7, 2), (1, out, out, 2), 'Pool2DOptions', options),
             tmp_path)


def test_depth_to_space(tmp_path: Path) -> None:
    options = _table(tflite.DepthToSpaceOptionsStart, tflite.DepthToSpaceOptionsEnd,
                     BlockSize=2)
    _compare(_single('DEPTH_TO_SPACE', (1, 3, 4, 12), (1, 6, 8, 3), 'DepthToSpaceOptions',
                     options), tmp_path)


def test_pad_channels_and_space(tmp_path: Path) -> None:
    pads = np.array([[0, 0], [1, 2], [0, 1], [2, 1]], np.int32)
    _compare(_single('PAD', (1, 4, 4, 3), (1, 7, 5, 6), constants=(pads,)), tmp_path)


@pytest.mark.parametrize('second_user, spatial, folded', [
    ('CONV_2D', (1, 1), True), ('LOGISTIC', (1, 1), False), ('CONV_2D', (0, 1), False)])
def test_zero_pad_before_convolutions_is_folded_into_them(
        second_user: str, spatial: tuple, folded: bool, tmp_path: Path) -> None:
    """A symmetric spatial PAD feeding only convolutions becomes their own padding."""
    spec = ModelSpec()
    side = 8 + sum(spatial)
    x, padded = spec.tensor((1, 8, 8, 3)), spec.tensor((1, side, side, 3))
    pads = spec.tensor((4, 2), np.array([[0, 0], spatial, spatial, [0, 0]], np.int32))
    spec.ops = [Op('PAD', [x, pads], [padded])]
    outputs = []
    for stride in (2, 1):
        weight = spec.tensor((4, 3, 3, 3), RNG.standard_normal((4, 3, 3, 3)).astype(np.float32))
        bias = spec.tensor((4,), RNG.standard_normal(4).astype(np.float32))
        size = (side - 3) // stride + 1
        outputs.append(spec.tensor((1, size, size, 4)))
        options = _table(tflite.Conv2DOptionsStart, tflite.Conv2DOptionsEnd, Padding=1,
                         StrideH=stride, StrideW=stride, FusedActivationFunction=0,
                         DilationHFactor=1, DilationWFactor=1)
        spec.ops.append(Op('CONV_2D', [padded, weight, bias], [outputs[-1]], 'Conv2DOptions',
                           options))
        if second_user != 'CONV_2D':
            outputs.append(spec.tensor((1, side, side, 3)))
            spec.ops.append(Op(second_user, [padded], [outputs[-1]]))
            break
    spec.inputs, spec.outputs = [x], outputs
    _compare(spec, tmp_path)
    module = build_module(read_tflite(build(spec)))
    pads_left = [node for node in module.graph.nodes if node.target is F.pad]
    assert len(pads_left) == (0 if folded else 1)


def test_add_concatenate_reshape_logistic(tmp_path: Path) -> None:
    spec = ModelSpec()
    x = spec.tensor((1, 4, 4, 3))
    bias = spec.tensor((3,), RNG.standard_normal(3).astype(np.float32))
    shifted, joined = spec.tensor((1, 4, 4, 3)), spec.tensor((1, 4, 4, 6))
    flat, squashed = spec.tensor((1, 16, 6)), spec.tensor((1, 16, 6))
    add = _table(tflite.AddOptionsStart, tflite.AddOptionsEnd, FusedActivationFunction=1)
    concat = _table(tflite.ConcatenationOptionsStart, tflite.ConcatenationOptionsEnd, Axis=-1)
    shape = spec.tensor((3,), np.array([1, 16, 6], np.int32))
    spec.ops = [Op('ADD', [x, bias], [shifted], 'AddOptions', add),
                Op('CONCATENATION', [x, shifted], [joined], 'ConcatenationOptions', concat),
                Op('RESHAPE', [joined, shape], [flat]),
                Op('LOGISTIC', [flat], [squashed])]
    spec.inputs, spec.outputs = [x], [squashed, joined]
    _compare(spec, tmp_path)


def test_fused_tanh_is_rejected(tmp_path: Path) -> None:
    options = _table(tflite.AddOptionsStart, tflite.AddOptionsEnd, FusedActivationFunction=4)
    spec = _single('ADD', (1, 4, 4, 3), (1, 4, 4, 3), 'AddOptions', options,
                   (np.ones(3, np.float32),))
    with pytest.raises(ValueError, match='fused activation'):
        read_tflite(build(spec))


def test_unsupported_operator_fails_at_load_with_its_name(tmp_path: Path) -> None:
    spec = _single('MUL', (1, 4, 4, 3), (1, 4, 4, 3),
                   constants=(np.ones(3, np.float32),))
    with pytest.raises(ValueError, match='unsupported TFLite operator MUL'):
        read_tflite(build(spec))
