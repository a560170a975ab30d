"""
Read a TFLite flatbuffer into a plain, framework-free graph description.

Constant sub-graphs are folded while reading: sparse constants are densified (TFLite
sparsity format, see :mod:`.sparsity`) and DEQUANTIZE / DENSIFY operators whose inputs
are constants are evaluated once, in numpy. What remains in :attr:`Graph.operators` is
the runtime computation, with every weight available as a float32 array in
:attr:`Graph.constants`.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.DimensionType import DimensionType
from tflite.SparseIndexVector import SparseIndexVector
from tflite.TensorType import TensorType

from .sparsity import densify, DimensionMetadata

OPERATOR_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith('_')}

NUMPY_DTYPES = {
    TensorType.FLOAT32: np.float32,
    TensorType.FLOAT16: np.float16,
    TensorType.INT32: np.int32,
    TensorType.INT64: np.int64,
    TensorType.INT8: np.int8,
    TensorType.UINT8: np.uint8,
    TensorType.INT16: np.int16,
    TensorType.BOOL: np.bool_,
}

# TANH (4) and SIGN_BIT (5) are rejected: LiteRT's kernels do not apply them when fused.
FUSED_ACTIVATIONS = {0: 'none', 1: 'relu', 2: 'relu_n1_to_1', 3: 'relu6'}

PADDINGS = {0: 'same', 1: 'valid'}

SPARSE_VECTORS = {
    SparseIndexVector.Int32Vector: tflite.Int32Vector,
    SparseIndexVector.Uint16Vector: tflite.Uint16Vector,
    SparseIndexVector.Uint8Vector: tflite.Uint8Vector,
}


@dataclass(frozen=True)
class TensorInfo:
    """
    A tensor's static description.

    Attributes
    ----------
    index
        Index in the subgraph's tensor table.
    name
        Tensor name from the converter.
    shape
        Static shape, TFLite layout (NHWC for images).
    dtype
        Numpy dtype of the stored or computed values.

    """

    index: int
    name: str
    shape: Tuple[int, ...]
    dtype: np.dtype


@dataclass(frozen=True)
class Operator:
    """
    One runtime operator.

    Attributes
    ----------
    index
        Position in the flatbuffer's operator list.
    opcode
        Builtin operator name, e.g. ``'CONV_2D'``.
    inputs
        Input tensor indices (-1 for an omitted optional input).
    outputs
        Output tensor indices.
    options
        Decoded builtin options (see ``_OPTION_READERS``).

    """

    index: int
    opcode: str
    inputs: Tuple[int, ...]
    outputs: Tuple[int, ...]
    options: Dict[str, Any]


@dataclass
class Graph:
    """
    A TFLite subgraph after constant folding.

    Attributes
    ----------
    tensors
        Every tensor of the subgraph, by index.
    constants
        Folded constant values by tensor index (dense, dequantized).
    operators
        Runtime operators in execution order.
    inputs
        Graph input tensor indices.
    outputs
        Graph output tensor indices.

    """

    tensors: List[TensorInfo]
    constants: Dict[int, np.ndarray] = field(default_factory=dict)
    operators: List[Operator] = field(default_factory=list)
    inputs: Tuple[int, ...] = ()
    outputs: Tuple[int, ...] = ()


def _conv_options(options: Any) -> Dict[str, Any]:
    conv = tflite.Conv2DOptions()
    conv.Init(options.Bytes, options.Pos)
    return {'padding': PADDINGS[conv.Padding()], 'stride': (conv.StrideH(), conv.StrideW()),
            'dilation': (conv.DilationHFactor(), conv.DilationWFactor()),
            'activation': _activation(conv.FusedActivationFunction())}


def _depthwise_options(options: Any) -> Dict[str, Any]:
    conv = tflite.DepthwiseConv2DOptions()
    conv.Init(options.Bytes, options.Pos)
    return {'padding': PADDINGS[conv.Padding()], 'stride': (conv.StrideH(), conv.StrideW()),
            'dilation': (conv.DilationHFactor(), conv.DilationWFactor()),
            'depth_multiplier': conv.DepthMultiplier(),
            'activation': _activation(conv.FusedActivationFunction())}


def _pool_options(options: Any) -> Dict[str, Any]:
    pool = tflite.Pool2DOptions()
    pool.Init(options.Bytes, options.Pos)
    return {'padding': PADDINGS[pool.Padding()], 'stride': (pool.StrideH(), pool.StrideW()),
            'filter': (pool.FilterHeight(), pool.FilterWidth()),
            'activation': _activation(pool.FusedActivationFunction())}


def _add_options(options: Any) -> Dict[str, Any]:
    if options is None:
        return {'activation': 'none'}
    add = tflite.AddOptions()
    add.Init(options.Bytes, options.Pos)
    return {'activation': _activation(add.FusedActivationFunction())}


def _concat_options(options: Any) -> Dict[str, Any]:
    concat = tflite.ConcatenationOptions()
    concat.Init(options.Bytes, options.Pos)
    return {'axis': concat.Axis(), 'activation': _activation(concat.FusedActivationFunction())}


def _resize_options(options: Any) -> Dict[str, Any]:
    resize = tflite.ResizeBilinearOptions()
    resize.Init(options.Bytes, options.Pos)
    return {'align_corners': bool(resize.AlignCorners()),
            'half_pixel_centers': bool(resize.HalfPixelCenters())}


def _depth_to_space_options(options: Any) -> Dict[str, Any]:
    d2s = tflite.DepthToSpaceOptions()
    d2s.Init(options.Bytes, options.Pos)
    return {'block_size': d2s.BlockSize()}


def _no_options(options: Any) -> Dict[str, Any]:
    return {}


_OPTION_READERS: Dict[str, Callable[[Any], Dict[str, Any]]] = {
    'CONV_2D': _conv_options,
    'DEPTHWISE_CONV_2D': _depthwise_options,
    'MAX_POOL_2D': _pool_options,
    'ADD': _add_options,
    'CONCATENATION': _concat_options,
    'RESIZE_BILINEAR': _resize_options,
    'DEPTH_TO_SPACE': _depth_to_space_options,
    'PAD': _no_options,
    'RESHAPE': _no_options,
    'LOGISTIC': _no_options,
    'DEQUANTIZE': _no_options,
    'DENSIFY': _no_options,
}

SUPPORTED_OPERATORS = frozenset(_OPTION_READERS)


def _activation(code: int) -> str:
    if code not in FUSED_ACTIVATIONS:
        raise ValueError(f'unsupported fused activation function code {code}')
    return FUSED_ACTIVATIONS[code]


def _sparse_vector(kind: int, table: Any) -> np.ndarray:
    if kind not in SPARSE_VECTORS:
        raise ValueError(f'unsupported sparse index vector type {kind}')
    vector = SPARSE_VECTORS[kind]()
    vector.Init(table.Bytes, table.Pos)
    return vector.ValuesAsNumpy() if vector.ValuesLength() else np.zeros(0, np.int64)


def _dequantize(tensor: Any, raw: np.ndarray) -> np.ndarray:
    """Dequantize a constant: fp16 is widened; int8/uint8 use the affine parameters."""
    if raw.dtype == np.float16:
        return raw.astype(np.float32)
    quant = tensor.Quantization()
    if quant is None or quant.ScaleLength() == 0:
        raise ValueError(f'DEQUANTIZE of {raw.dtype} tensor without quantization parameters')
    scale = quant.ScaleAsNumpy().astype(np.float32)
    zero = quant.ZeroPointAsNumpy().astype(np.float32)
    shape = [1] * raw.ndim
    if scale.size > 1:
        shape[quant.QuantizedDimension()] = scale.size
    return (raw.astype(np.float32) - zero.reshape(shape)) * scale.reshape(shape)


class _Reader:
    """Walks one flatbuffer subgraph; see :func:`read_tflite`."""

    def __init__(self, data: bytes, source: str) -> None:
        self.source = source
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise ValueError(f'{source}: expected 1 subgraph, found '
                             f'{self.model.SubgraphsLength()}')
        self.subgraph = self.model.Subgraphs(0)

    def tensor_info(self, index: int) -> TensorInfo:
        tensor = self.subgraph.Tensors(index)
        if tensor.Type() not in NUMPY_DTYPES:
            raise ValueError(f'{self.source}: tensor {index} has unsupported type '
                             f'{tensor.Type()}')
        shape = tuple(int(s) for s in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
        name = tensor.Name().decode('utf-8', 'replace')
        return TensorInfo(index, name, shape, np.dtype(NUMPY_DTYPES[tensor.Type()]))

    def stored_constant(self, info: TensorInfo) -> Optional[np.ndarray]:
        """Return the tensor's value from its buffer (densified if sparse), or None."""
        tensor = self.subgraph.Tensors(info.index)
        buffer = self.model.Buffers(tensor.Buffer())
        if buffer is None or buffer.DataLength() == 0:
            return None
        raw = buffer.DataAsNumpy().tobytes()
        values = np.frombuffer(raw, dtype=info.dtype)
        sparsity = tensor.Sparsity()
        if sparsity is None:
            expected = int(np.prod(info.shape, dtype=np.int64))
            if values.size != expected:
                raise ValueError(f'{self.source}: tensor {info.name!r} holds {values.size} '
                                 f'values, its shape {info.shape} needs {expected}')
            return values.reshape(info.shape)
        levels = []
        for level in range(sparsity.DimMetadataLength()):
            meta = sparsity.DimMetadata(level)
            if meta.Format() == DimensionType.DENSE:
                levels.append(DimensionMetadata(dense=True, dense_size=meta.DenseSize()))
            else:
                levels.append(DimensionMetadata(
                    dense=False,
                    segments=_sparse_vector(meta.ArraySegmentsType(), meta.ArraySegments()),
                    indices=_sparse_vector(meta.ArrayIndicesType(), meta.ArrayIndices())))
        return densify(
            values, info.shape,
            sparsity.TraversalOrderAsNumpy().tolist() if sparsity.TraversalOrderLength() else [],
            sparsity.BlockMapAsNumpy().tolist() if sparsity.BlockMapLength() else [],
            levels)

    def operator(self, index: int) -> Operator:
        op = self.subgraph.Operators(index)
        code = self.model.OperatorCodes(op.OpcodeIndex())
        opcode = OPERATOR_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()),
                                    f'custom/unknown #{code.BuiltinCode()}')
        if opcode not in _OPTION_READERS:
            raise ValueError(f'{self.source}: unsupported TFLite operator {opcode} '
                             f'(operator #{index}); supported: '
                             f'{", ".join(sorted(SUPPORTED_OPERATORS))}')
        inputs = tuple(int(i) for i in op.InputsAsNumpy()) if op.InputsLength() else ()
        outputs = tuple(int(i) for i in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        return Operator(index, opcode, inputs, outputs, _OPTION_READERS[opcode](
            op.BuiltinOptions()))

    def read(self) -> Graph:
        sub = self.subgraph
        graph = Graph(tensors=[self.tensor_info(i) for i in range(sub.TensorsLength())])
        for info in graph.tensors:
            value = self.stored_constant(info)
            if value is not None:
                graph.constants[info.index] = value
        for index in range(sub.OperatorsLength()):
            op = self.operator(index)
            folded = op.opcode in ('DEQUANTIZE', 'DENSIFY') and all(
                i in graph.constants for i in op.inputs)
            if not folded:
                graph.operators.append(op)
                continue
            value = graph.constants[op.inputs[0]]
            if op.opcode == 'DEQUANTIZE':
                value = _dequantize(sub.Tensors(op.inputs[0]), value)
            graph.constants[op.outputs[0]] = value
        graph.inputs = tuple(int(i) for i in sub.InputsAsNumpy())
        graph.outputs = tuple(int(i) for i in sub.OutputsAsNumpy())
        return graph


def read_tflite(source: Union[str, Path, bytes]) -> Graph:
    """
    Read a ``.tflite`` file (or its bytes) into a constant-folded :class:`Graph`.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    ValueError
        If the data is not a readable TFLite model (wrong identifier,
        truncated or corrupt flatbuffer), or uses an operator this package does not
        implement; the message names the file and the problem.

    """
    if isinstance(source, bytes):
        data, name = source, '<bytes>'
    else:
        data, name = Path(source).read_bytes(), str(source)
    if len(data) < 8 or data[4:8] != b'TFL3':
        raise ValueError(f'{name}: not a TFLite model (no TFL3 file identifier); '
                         'the file is truncated, corrupt or of another format')
    try:
        return _Reader(data, name).read()
    except ValueError:
        raise
    except Exception as exc:  # flatbuffers raises struct/index errors on damaged data
        raise ValueError(f'{name}: TFLite flatbuffer is truncated or corrupt '
                         f'({type(exc).__name__}: {exc})') from exc
