"""
Build a ``torch.nn.Module`` that executes a TFLite :class:`~.reader.Graph` natively.

The module is a :class:`torch.fx.GraphModule`: the TFLite graph is translated once, at
load, into generated Python whose ``forward`` is a straight sequence of torch calls (no
per-call graph interpretation). Weights are held as parameters of ``nn.Conv2d`` layers or
as buffers, so ``.to(device, dtype)``, ``channels_last`` and ``torch.compile`` work as for
any module.

Layout: TFLite computes in NHWC; this module computes in NCHW. Its input is
``(N, C, H, W)`` and 4-D outputs are returned as ``(N, C, H, W)``; other outputs keep
the TFLite shape with the batch dimension free. Where the graph reshapes or concatenates
with NHWC semantics, the tensor is permuted to NHWC first, so the numbers match TFLite.
"""

import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import fx, nn
import torch.nn.functional as F

from .reader import Graph, Operator, read_tflite

NCHW = 'nchw'  # a 4-D activation held channels-first
PLAIN = 'plain'  # any other tensor, laid out exactly as in TFLite

NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> Tuple[int, int]:
    """Return TFLite's SAME padding (before, after) for one spatial dimension."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _relu6_(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp_(x, 0.0, 6.0)


def _relu_n1_to_1_(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp_(x, -1.0, 1.0)


#: TFLite's fused activations, applied in place: they act on the fresh output of their own
#: operator, which nothing else reads (out of place, their pass measured 19 % of the CPU
#: time in bench/where_time_goes.py).
ACTIVATIONS: Dict[str, Optional[Callable[[torch.Tensor], torch.Tensor]]] = {
    'none': None, 'relu': torch.relu_, 'relu6': _relu6_, 'relu_n1_to_1': _relu_n1_to_1_,
}


def _depth_to_space(x: torch.Tensor, block: int) -> torch.Tensor:
    """
    Apply TFLite's DEPTH_TO_SPACE (DCR order) to an NCHW tensor.

    Input channel ``(i * block + j) * C + c`` goes to output channel ``c`` at spatial
    offset ``(i, j)``; ``torch.pixel_shuffle`` uses the other (CRD) order.
    """
    n, channels, height, width = x.shape
    out_c = channels // (block * block)
    x = x.reshape(n, block, block, out_c, height, width)
    return x.permute(0, 3, 4, 1, 5, 2).reshape(n, out_c, height * block, width * block)


def _resize_bilinear_legacy(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                            row_frac: torch.Tensor, col_frac: torch.Tensor) -> torch.Tensor:
    """Bilinear resize with precomputed TF-legacy sample positions (rows/cols: (2, out))."""
    top = x.index_select(2, rows[0])
    bottom = x.index_select(2, rows[1])
    x = top + (bottom - top) * row_frac.view(1, 1, -1, 1)
    left = x.index_select(3, cols[0])
    right = x.index_select(3, cols[1])
    return left + (right - left) * col_frac.view(1, 1, 1, -1)


def _legacy_samples(in_size: int, out_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Source indices (2, out) and fractions (out,) of TF's legacy ``src = dst * scale``."""
    src = np.arange(out_size, dtype=np.float64) * (in_size / out_size)
    low = np.floor(src).astype(np.int64)
    high = np.minimum(low + 1, in_size - 1)
    return np.stack([low, high]), (src - low).astype(np.float32)


HANDLERS = {  # TFLite operator -> _Builder method; covers reader.SUPPORTED_OPERATORS
    'CONV_2D': 'conv2d',
    'DEPTHWISE_CONV_2D': 'depthwise_conv2d',
    'MAX_POOL_2D': 'max_pool',
    'ADD': 'add',
    'PAD': 'pad',
    'RESHAPE': 'reshape',
    'CONCATENATION': 'concatenation',
    'RESIZE_BILINEAR': 'resize_bilinear',
    'DEPTH_TO_SPACE': 'depth_to_space',
    'LOGISTIC': 'logistic',
    'DEQUANTIZE': 'runtime_dequantize',
    'DENSIFY': 'runtime_dequantize',
}


class _Builder:
    """Translates one :class:`Graph` into an fx graph on a root module."""

    def __init__(self, graph: Graph) -> None:
        self.source = graph
        self.root = nn.Module()
        self.fx_graph = fx.Graph()
        self.values: Dict[int, Tuple[fx.Node, str]] = {}

    # -- helpers -----------------------------------------------------------------------
    def shape(self, index: int) -> Tuple[int, ...]:
        return self.source.tensors[index].shape

    def const(self, index: int) -> np.ndarray:
        if index not in self.source.constants:
            raise ValueError(f'tensor {self.source.tensors[index].name!r} must be a constant')
        return self.source.constants[index]

    def buffer(self, name: str, value: np.ndarray) -> fx.Node:
        self.root.register_buffer(name, torch.from_numpy(np.ascontiguousarray(value)))
        return self.fx_graph.get_attr(name)

    def value(self, index: int, layout: str) -> fx.Node:
        """Node holding tensor ``index`` in ``layout``, converting or loading as needed."""
        if index in self.values:
            node, held = self.values[index]
            if held == layout:
                return node
            perm = (0, 2, 3, 1) if layout == PLAIN else (0, 3, 1, 2)
            return self.fx_graph.call_method('permute', (node, *perm))
        value = self.const(index).astype(np.float32)
        if layout == NCHW:
            value = value.reshape((1,) * (4 - value.ndim) + value.shape).transpose(0, 3, 1, 2)
        return self.buffer(f't{index}_{layout}', value)

    def layout_of(self, index: int) -> str:
        return self.values[index][1] if index in self.values else PLAIN

    def activate(self, node: fx.Node, activation: str) -> fx.Node:
        function = ACTIVATIONS[activation]
        return node if function is None else self.fx_graph.call_function(function, (node,))

    def pad_same(self, op: Operator, node: fx.Node, kernel: Sequence[int],
                 value: float = 0.0) -> Tuple[fx.Node, Tuple[int, int]]:
        """Apply SAME padding; symmetric amounts are returned for the layer to apply."""
        if op.options['padding'] == 'valid':
            return node, (0, 0)
        _, height, width, _ = self.shape(op.inputs[0])
        stride, dilation = op.options['stride'], op.options.get('dilation', (1, 1))
        ph = _same_padding(height, kernel[0], stride[0], dilation[0])
        pw = _same_padding(width, kernel[1], stride[1], dilation[1])
        if ph[0] == ph[1] and pw[0] == pw[1]:
            return node, (ph[0], pw[0])
        padded = self.fx_graph.call_function(F.pad, (node, (pw[0], pw[1], ph[0], ph[1])),
                                             {'value': value})
        return padded, (0, 0)

    # -- operators ---------------------------------------------------------------------
    def conv(self, op: Operator, depthwise: bool) -> Tuple[fx.Node, str]:
        weight = self.const(op.inputs[1]).astype(np.float32)  # (O, KH, KW, I) or (1, KH, KW, O)
        bias = (self.const(op.inputs[2]).astype(np.float32)
                if len(op.inputs) > 2 and op.inputs[2] >= 0 else None)
        in_channels = self.shape(op.inputs[0])[3]
        if depthwise:
            out_channels = weight.shape[3]
            groups = in_channels
            weight = weight.transpose(3, 0, 1, 2)  # (O, 1, KH, KW)
        else:
            out_channels = weight.shape[0]
            groups = 1
            weight = weight.transpose(0, 3, 1, 2)  # (O, I, KH, KW)
        kernel = weight.shape[2:]
        x, padding = self.pad_same(op, self.value(op.inputs[0], NCHW), kernel)
        layer = nn.Conv2d(in_channels, out_channels, kernel, stride=op.options['stride'],
                          padding=padding, dilation=op.options['dilation'], groups=groups,
                          bias=bias is not None)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            if bias is not None:
                layer.bias.copy_(torch.from_numpy(bias))
        layer.requires_grad_(False)
        name = f'op{op.index:03d}_{"dwconv" if depthwise else "conv"}'
        self.root.add_module(name, layer)
        node = self.fx_graph.call_module(name, (x,))
        return self.activate(node, op.options['activation']), NCHW

    def max_pool(self, op: Operator) -> Tuple[fx.Node, str]:
        kernel = op.options['filter']
        x, padding = self.pad_same(op, self.value(op.inputs[0], NCHW), kernel, -math.inf)
        node = self.fx_graph.call_function(F.max_pool2d, (x, kernel, op.options['stride'],
                                                          padding))
        return self.activate(node, op.options['activation']), NCHW

    def add(self, op: Operator) -> Tuple[fx.Node, str]:
        layout = NCHW if any(self.layout_of(i) == NCHW for i in op.inputs) else PLAIN
        node = self.fx_graph.call_function(
            torch.add, tuple(self.value(i, layout) for i in op.inputs))
        return self.activate(node, op.options['activation']), layout

    def pad(self, op: Operator) -> Tuple[fx.Node, str]:
        if len(op.inputs) > 2:
            raise ValueError(f'PAD (operator #{op.index}) with a constant value input')
        pads = self.const(op.inputs[1]).astype(np.int64).reshape(-1, 2)
        if pads[0].any():
            raise ValueError(f'PAD (operator #{op.index}) pads the batch dimension')
        layout = self.layout_of(op.inputs[0])
        if layout == NCHW:
            pads = pads[[0, 3, 1, 2]]
        flat = tuple(int(p) for pair in pads[::-1] for p in pair)  # last dimension first
        return self.fx_graph.call_function(F.pad, (self.value(op.inputs[0], layout), flat)), \
            layout

    def reshape(self, op: Operator) -> Tuple[fx.Node, str]:
        in_shape, out_shape = self.shape(op.inputs[0]), self.shape(op.outputs[0])
        if not in_shape or not out_shape or in_shape[0] != 1 or out_shape[0] != 1:
            raise ValueError(f'RESHAPE (operator #{op.index}) {in_shape} -> {out_shape} does '
                             'not keep a leading batch dimension of 1')
        node = self.fx_graph.call_method(
            'reshape', (self.value(op.inputs[0], PLAIN), -1, *out_shape[1:]))
        return node, PLAIN

    def concatenation(self, op: Operator) -> Tuple[fx.Node, str]:
        rank = len(self.shape(op.outputs[0]))
        axis = op.options['axis'] % rank
        layouts = {self.layout_of(i) for i in op.inputs}
        layout = NCHW if layouts == {NCHW} else PLAIN
        if layout == NCHW:
            axis = NHWC_TO_NCHW_AXIS[axis]
        node = self.fx_graph.call_function(
            torch.cat, ([self.value(i, layout) for i in op.inputs],), {'dim': axis})
        return self.activate(node, op.options['activation']), layout

    def resize_bilinear(self, op: Operator) -> Tuple[fx.Node, str]:
        out_h, out_w = (int(s) for s in self.const(op.inputs[1]))
        _, in_h, in_w, _ = self.shape(op.inputs[0])
        x = self.value(op.inputs[0], NCHW)
        if op.options['align_corners'] or op.options['half_pixel_centers']:
            # torch's align_corners=False is TF's half_pixel_centers=True (both clamp at 0).
            node = self.fx_graph.call_function(
                F.interpolate, (x,), {'size': (out_h, out_w), 'mode': 'bilinear',
                                      'align_corners': op.options['align_corners']})
            return node, NCHW
        rows, row_frac = _legacy_samples(in_h, out_h)
        cols, col_frac = _legacy_samples(in_w, out_w)
        prefix = f'op{op.index:03d}_resize'
        args = (x, self.buffer(f'{prefix}_rows', rows), self.buffer(f'{prefix}_cols', cols),
                self.buffer(f'{prefix}_row_frac', row_frac),
                self.buffer(f'{prefix}_col_frac', col_frac))
        return self.fx_graph.call_function(_resize_bilinear_legacy, args), NCHW

    def depth_to_space(self, op: Operator) -> Tuple[fx.Node, str]:
        node = self.fx_graph.call_function(
            _depth_to_space, (self.value(op.inputs[0], NCHW), op.options['block_size']))
        return node, NCHW

    def logistic(self, op: Operator) -> Tuple[fx.Node, str]:
        layout = self.layout_of(op.inputs[0])
        return self.fx_graph.call_function(
            torch.sigmoid, (self.value(op.inputs[0], layout),)), layout

    def conv2d(self, op: Operator) -> Tuple[fx.Node, str]:
        return self.conv(op, depthwise=False)

    def depthwise_conv2d(self, op: Operator) -> Tuple[fx.Node, str]:
        return self.conv(op, depthwise=True)

    def runtime_dequantize(self, op: Operator) -> Tuple[fx.Node, str]:
        raise ValueError(f'{op.opcode} (operator #{op.index}) of a runtime tensor is not '
                         'supported; only constant weights can be dequantized or densified')

    # -- driver ------------------------------------------------------------------------
    def build(self, class_name: str) -> fx.GraphModule:
        for index in self.source.inputs:
            if len(self.shape(index)) != 4:
                raise ValueError(f'graph input {self.source.tensors[index].name!r} is not 4-D')
            self.values[index] = (self.fx_graph.placeholder(f'input_{index}'), NCHW)
        for op in self.source.operators:
            self.values[op.outputs[0]] = getattr(self, HANDLERS[op.opcode])(op)
        outputs: List[fx.Node] = [self.values[i][0] for i in self.source.outputs]
        self.fx_graph.output(tuple(outputs))
        self.fold_zero_pads()
        module = fx.GraphModule(self.root, self.fx_graph, class_name=class_name)
        return module.eval()

    def fold_zero_pads(self) -> None:
        """
        Give an explicit zero PAD's spatial border to the convolutions it feeds.

        TFLite graphs pad explicitly before stride-2 convolutions with VALID padding. As
        its own operator the pad writes a zero-filled copy of the activation (the fills
        alone were 7.6 % of PyTorch's CPU time, ``bench/where_time_goes.py``); a
        convolution's own zero padding reads the same zeros without the copy. Only constant
        zero pads of the two spatial axes by the same amount on both sides, whose every user
        is a convolution, are folded: the convolutions' outputs are those of the padded
        input.
        """
        for node in list(self.fx_graph.nodes):
            if node.op != 'call_function' or node.target is not F.pad or len(node.args) != 2 \
                    or node.kwargs.get('mode', 'constant') != 'constant' \
                    or node.kwargs.get('value', 0.0) != 0.0:
                continue
            flat = tuple(node.args[1]) + (0,) * (8 - len(node.args[1]))
            (left, right, top, bottom), rest = flat[:4], flat[4:]
            layers = [getattr(self.root, user.target) for user in node.users
                      if user.op == 'call_module']
            if left != right or top != bottom or any(rest) or len(layers) != len(node.users) \
                    or not all(isinstance(layer, nn.Conv2d) and layer.padding_mode == 'zeros'
                               for layer in layers):
                continue
            for layer in layers:
                layer.padding = (layer.padding[0] + top, layer.padding[1] + left)
            node.replace_all_uses_with(node.args[0])
            self.fx_graph.erase_node(node)


def build_module(graph: Graph, class_name: str = 'TFLiteModule') -> fx.GraphModule:
    """
    Translate a constant-folded TFLite graph into an inference-mode torch module.

    Parameters
    ----------
    graph
        Output of :func:`~.reader.read_tflite`.
    class_name
        Name of the generated module class (shown in ``print(module)``).

    Returns
    -------
    A module mapping ``(N, C, H, W)`` float input(s) to a tuple of outputs in the
    graph's output order (see the module docstring for layouts).

    Raises
    ------
    ValueError
        If the graph uses an operator configuration that is not supported.

    """
    return _Builder(graph).build(class_name)


def load_tflite_module(path: str, class_name: str = 'TFLiteModule') -> fx.GraphModule:
    """Read a ``.tflite`` file and build its torch module (see :func:`build_module`)."""
    return build_module(read_tflite(path), class_name)
