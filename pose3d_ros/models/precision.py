"""
Half precision where it is safe: the layers whose values fp16 cannot hold run in float32.

fp16 has 11 significant bits: a value between 128 and 256 moves in steps of 0.125, between
1024 and 2048 in steps of 1. Two kinds of layer meet such values:

* the heads that give the outputs, e.g. BlazePose's landmarks in crop pixels (0 to 256)
  and the detector's box and keypoint regressors (0 to 224): run in float32
  (:func:`float32_heads`), their outputs reach the decoding unrounded;
* a first layer fed pixels normalised to a wide range, e.g. 3DMPPE's ResNet stem (RGB
  0..255 over the ImageNet std: up to about 1130): runs in float32 on the float32 input
  and hands fp16 on (:class:`Float32Layer` with ``output_dtype`` float16).
"""

from typing import Set

import torch
from torch import fx, nn


class Float32Layer(nn.Module):
    """Run ``layer`` in float32 inside a lower-precision network; output ``output_dtype``."""

    def __init__(self, layer: nn.Module, output_dtype: torch.dtype) -> None:
        super().__init__()
        self.layer = layer.float()
        self.output_dtype = output_dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer to ``x`` in float32."""
        return self.layer(x.float()).to(self.output_dtype)


#: Operations between a head's layer and the network's output that only move, join or
#: squash its values: the layer behind them is the head.
_PASS_THROUGH = {'reshape', 'permute', 'view', 'contiguous', 'flatten', 'cat', 'sigmoid',
                 'getitem'}


def _name(node: fx.Node) -> str:
    return node.target if isinstance(node.target, str) else getattr(node.target, '__name__', '')


def head_layers(module: fx.GraphModule) -> Set[str]:
    """Return the names of the modules whose results reach the outputs only through moves."""
    heads: Set[str] = set()
    output = next(node for node in module.graph.nodes if node.op == 'output')
    pending = list(output.all_input_nodes)
    seen: Set[fx.Node] = set()
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.op == 'call_module':
            heads.add(node.target)
        elif node.op in ('call_method', 'call_function') and _name(node) in _PASS_THROUGH:
            pending.extend(node.all_input_nodes)
    return heads


def float32_heads(module: fx.GraphModule) -> fx.GraphModule:
    """Make ``module``'s :func:`head_layers` run in float32, their outputs float32."""
    for name in head_layers(module):
        parent_name, _, child = name.rpartition('.')
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, child, Float32Layer(getattr(parent, child), torch.float32))
    module.recompile()
    return module
