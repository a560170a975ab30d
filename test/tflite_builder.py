"""
Write small TFLite flatbuffers in tests, to exercise operator configurations.

The BlazePose files use only some configurations of each operator (for example only
half-pixel bilinear resizing); these hand-built one-operator models let the tests compare
the others with LiteRT too.
"""

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import flatbuffers
import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

OptionsWriter = Callable[[flatbuffers.Builder], int]


@dataclass
class Op:
    """One operator: builtin name, tensor indices, options table type and writer."""

    name: str
    inputs: Sequence[int]
    outputs: Sequence[int]
    options_type: str = 'NONE'
    options: Optional[OptionsWriter] = None


@dataclass
class ModelSpec:
    """Tensors (shape, optional float32 data) and operators of a one-subgraph model."""

    shapes: List[Sequence[int]] = field(default_factory=list)
    data: List[Optional[np.ndarray]] = field(default_factory=list)
    ops: List[Op] = field(default_factory=list)
    inputs: Sequence[int] = ()
    outputs: Sequence[int] = ()

    def tensor(self, shape: Sequence[int], data: Optional[np.ndarray] = None) -> int:
        self.shapes.append(tuple(shape))
        self.data.append(data)
        return len(self.shapes) - 1


def _vector(builder: flatbuffers.Builder, start: Callable, offsets: Sequence[int]) -> int:
    start(builder, len(offsets))
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _ints(builder: flatbuffers.Builder, values: Sequence[int]) -> int:
    return builder.CreateNumpyVector(np.asarray(values, dtype=np.int32))


def build(spec: ModelSpec) -> bytes:
    """Serialise ``spec`` as a TFLite model (float32 tensors, INT32 for integer data)."""
    builder = flatbuffers.Builder(1024)
    buffers = [tflite.BufferStart(builder) or tflite.BufferEnd(builder)]  # buffer 0: empty
    buffer_of = []
    for data in spec.data:
        if data is None:
            buffer_of.append(0)
            continue
        raw = builder.CreateNumpyVector(np.frombuffer(data.tobytes(), np.uint8))
        tflite.BufferStart(builder)
        tflite.BufferAddData(builder, raw)
        buffers.append(tflite.BufferEnd(builder))
        buffer_of.append(len(buffers) - 1)
    tensors = []
    for index, shape in enumerate(spec.shapes):
        name = builder.CreateString(f't{index}')
        shape_vector = _ints(builder, shape)
        data = spec.data[index]
        is_int = data is not None and data.dtype == np.int32
        tflite.TensorStart(builder)
        tflite.TensorAddShape(builder, shape_vector)
        tflite.TensorAddType(builder, TensorType.INT32 if is_int else TensorType.FLOAT32)
        tflite.TensorAddBuffer(builder, buffer_of[index])
        tflite.TensorAddName(builder, name)
        tensors.append(tflite.TensorEnd(builder))
    codes = sorted({op.name for op in spec.ops})
    operators = []
    for op in spec.ops:
        options = op.options(builder) if op.options else None
        inputs, outputs = _ints(builder, op.inputs), _ints(builder, op.outputs)
        tflite.OperatorStart(builder)
        tflite.OperatorAddOpcodeIndex(builder, codes.index(op.name))
        tflite.OperatorAddInputs(builder, inputs)
        tflite.OperatorAddOutputs(builder, outputs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(builder, getattr(BuiltinOptions, op.options_type))
            tflite.OperatorAddBuiltinOptions(builder, options)
        operators.append(tflite.OperatorEnd(builder))
    tensor_vector = _vector(builder, tflite.SubGraphStartTensorsVector, tensors)
    operator_vector = _vector(builder, tflite.SubGraphStartOperatorsVector, operators)
    graph_inputs, graph_outputs = _ints(builder, spec.inputs), _ints(builder, spec.outputs)
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensor_vector)
    tflite.SubGraphAddOperators(builder, operator_vector)
    tflite.SubGraphAddInputs(builder, graph_inputs)
    tflite.SubGraphAddOutputs(builder, graph_outputs)
    subgraph = tflite.SubGraphEnd(builder)
    code_tables = []
    for name in codes:
        code = getattr(BuiltinOperator, name)
        tflite.OperatorCodeStart(builder)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(builder, code)
        tflite.OperatorCodeAddVersion(builder, 1)
        code_tables.append(tflite.OperatorCodeEnd(builder))
    code_vector = _vector(builder, tflite.ModelStartOperatorCodesVector, code_tables)
    subgraph_vector = _vector(builder, tflite.ModelStartSubgraphsVector, [subgraph])
    buffer_vector = _vector(builder, tflite.ModelStartBuffersVector, buffers)
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddOperatorCodes(builder, code_vector)
    tflite.ModelAddSubgraphs(builder, subgraph_vector)
    tflite.ModelAddBuffers(builder, buffer_vector)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b'TFL3')
    return bytes(builder.Output())
