"""
The official TFLite runtime (LiteRT) behind the same calling convention as our modules.

Used as the reference our PyTorch execution is checked and benchmarked against. LiteRT is
imported lazily, so the rest of the package works without it.
"""

from pathlib import Path
from typing import List, Union

import numpy as np


class LiteRTRunner:
    """
    Run a ``.tflite`` file with LiteRT on NCHW batches, returning our output layout.

    Parameters
    ----------
    path
        The model file.
    num_threads
        CPU threads for the interpreter.
    reference_kernels
        Use TFLite's reference kernels instead of the default
        optimised CPU path (XNNPACK); slow, but an independent second implementation.

    """

    def __init__(self, path: Union[str, Path], num_threads: int = 1,
                 reference_kernels: bool = False) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads,
                                       experimental_op_resolver_type=resolver)
        self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]['index']
        self.output_indices = [o['index'] for o in self.interpreter.get_output_details()]

    def invoke(self, sample_nhwc: np.ndarray) -> List[np.ndarray]:
        """Run one (1, H, W, C) float32 sample; outputs exactly as LiteRT returns them."""
        self.interpreter.set_tensor(self.input_index, sample_nhwc)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(i) for i in self.output_indices]

    def __call__(self, batch_nchw: np.ndarray) -> List[np.ndarray]:
        """Run an (N, C, H, W) batch sample by sample; 4-D outputs returned as NCHW."""
        per_sample = [self.invoke(np.ascontiguousarray(x.transpose(1, 2, 0)[None]))
                      for x in batch_nchw.astype(np.float32)]
        outputs = [np.concatenate(parts) for parts in zip(*per_sample)]
        return [o.transpose(0, 3, 1, 2) if o.ndim == 4 else o for o in outputs]
