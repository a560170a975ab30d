"""
How the landmark stage batches fixed slots of candidates, and padded batch buckets.

The proposal sources give fixed-size slots with a mask of the real candidates
(:class:`~.proposals.Proposals`). What the landmark network then looks at is a strategy
per device type (:data:`SLOT_BATCHING`):

* ``compact`` (the CPU): only the slots holding a candidate. Finding them reads the mask,
  which on the host costs nothing, and the network's time grows with every crop.
* ``padded`` (CUDA): every slot, the empty ones as padding whose results are masked out.
  Nothing waits for the device, and the batch's size depends on the settings and the
  image size only, so a CUDA graph can hold the work.

Either way the results are the same. :class:`BucketedNetwork` pads a batch to the next of
a few sizes (powers of two) and runs larger ones in chunks of the largest: a few fixed
shapes, each captured once as a CUDA graph (:class:`CudaGraphs`) when ``cuda_graphs`` is on.
"""

from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from .devices import upload

Network = Callable[[torch.Tensor], Tuple[torch.Tensor, ...]]
#: (N,) bool device mask of the slots holding a candidate, (N,) bool host mask of those
#: built from boxes -> the slots looked at (None: all), and among them, those from boxes.
SlotBatching = Callable[[torch.Tensor, np.ndarray], Tuple[Optional[torch.Tensor], torch.Tensor]]


def compact(valid: torch.Tensor, from_box: np.ndarray
            ) -> Tuple[Optional[torch.Tensor], torch.Tensor]:
    """Look at the slots holding a candidate only: their indices, and those from boxes."""
    index = valid.nonzero()[:, 0]
    boxes = upload(from_box, valid.device)[index]
    return index, boxes.nonzero()[:, 0]


def padded(valid: torch.Tensor, from_box: np.ndarray
           ) -> Tuple[Optional[torch.Tensor], torch.Tensor]:
    """Look at every slot (None), the empty ones padding; those from boxes, known on the host."""
    return None, upload(np.flatnonzero(from_box), valid.device)


#: The slot batching each device type uses.
SLOT_BATCHING: Dict[str, SlotBatching] = {'cpu': compact, 'cuda': padded}


def bucket_sizes(largest: int) -> Tuple[int, ...]:
    """Return the batch sizes: powers of two from 1 to the first at least ``largest``."""
    if largest < 1:
        raise ValueError(f'the largest batch must be at least 1, got {largest}')
    sizes = [1]
    while sizes[-1] < largest:
        sizes.append(sizes[-1] * 2)
    return tuple(sizes)


def bucket(count: int, sizes: Sequence[int]) -> int:
    """Return the smallest of ``sizes`` holding ``count`` (the largest when none does)."""
    return next((size for size in sizes if size >= count), sizes[-1])


class BucketedNetwork:
    """
    Run a network on batches padded to ``sizes``, in chunks of the largest.

    ``sizes``: :func:`bucket_sizes`. ``run`` takes each padded chunk (the network itself,
    or a :class:`CudaGraphs` replaying a graph per size); outputs are cut back to the real
    samples (and joined, for several chunks), so the results equal the network's on the
    batch itself. Padding samples are zeros.
    """

    def __init__(self, run: Network, sizes: Sequence[int]) -> None:
        self.run = run
        self.sizes = tuple(sorted(sizes))

    def chunks(self, count: int) -> Tuple[Tuple[int, int, int], ...]:
        """Return (start, samples, padded size) of each chunk of a batch of ``count``."""
        largest = self.sizes[-1]
        return tuple((start, min(largest, count - start),
                      bucket(min(largest, count - start), self.sizes))
                     for start in range(0, count, largest))

    def __call__(self, batch: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run an (N, ...) batch; N = 0 runs nothing (the caller decodes an empty set)."""
        parts = []
        for start, samples, size in self.chunks(len(batch)):
            chunk = batch[start:start + samples]
            if size > samples:
                chunk = torch.cat([chunk, chunk.new_zeros((size - samples, *chunk.shape[1:]))])
            parts.append(tuple(output[:samples] for output in self.run(chunk)))
        if len(parts) == 1:
            return parts[0]
        return tuple(torch.cat(outputs) for outputs in zip(*parts))


class CudaGraphs:
    """
    Replay ``network`` as one CUDA graph per batch size, captured when made.

    ``example`` (C, H, W) gives the input's shape, dtype and device. Each graph reads a
    fixed input buffer and writes fixed outputs: a call copies its batch in, replays, and
    returns copies of the outputs (the next replay overwrites them). The graphs share one
    memory pool, the largest captured first, so they hold about the largest one's memory.
    Made and called in inference mode (the estimator's calls), as its buffers are.
    """

    def __init__(self, network: Network, sizes: Sequence[int], example: torch.Tensor,
                 warm_up_calls: int = 3) -> None:
        self.inputs: Dict[int, torch.Tensor] = {}
        self.outputs: Dict[int, Tuple[torch.Tensor, ...]] = {}
        self.graphs: Dict[int, torch.cuda.CUDAGraph] = {}
        side = torch.cuda.Stream(example.device)
        side.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(side):  # kernels chosen and memory pooled before capture
            for size in sizes:
                self.inputs[size] = example.new_zeros((size, *example.shape))
                for _ in range(warm_up_calls):
                    network(self.inputs[size])
        torch.cuda.current_stream(example.device).wait_stream(side)
        pool = torch.cuda.graph_pool_handle()
        for size in sorted(sizes, reverse=True):
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=pool):
                self.outputs[size] = tuple(network(self.inputs[size]))
            self.graphs[size] = graph

    def __call__(self, batch: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run a batch of one of the captured sizes."""
        size = len(batch)
        self.inputs[size].copy_(batch)
        self.graphs[size].replay()
        return tuple(output.clone() for output in self.outputs[size])
