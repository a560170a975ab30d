"""
Decode TFLite sparse tensors (the ``SparsityParameters`` format) into dense arrays.

TFLite stores a sparse constant as a walk over ``len(traversal_order)`` levels. Levels
``0 .. rank-1`` are the tensor's own dimensions (in traversal order); further levels are
the inner block dimensions named by ``block_map`` (block ``k`` splits original dimension
``block_map[k]``). Each level is either DENSE (every coordinate ``0 .. dense_size-1`` is
present) or SPARSE_CSR (the coordinates present under parent position ``p`` are
``indices[segments[p]:segments[p + 1]]``). The position reached at the last level indexes
the tensor's value buffer.

This module is pure numpy so that it can be tested without any model file.
"""

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class DimensionMetadata:
    """
    One level of a sparse tensor's traversal.

    Attributes
    ----------
    dense
        True for a DENSE level, False for SPARSE_CSR.
    dense_size
        Number of coordinates of a DENSE level.
    segments
        SPARSE_CSR row pointers, shape (number of parent positions + 1,).
    indices
        SPARSE_CSR coordinates, shape (number of stored entries,).

    """

    dense: bool
    dense_size: int = 0
    segments: Optional[np.ndarray] = None
    indices: Optional[np.ndarray] = None


def densify(
    values: np.ndarray,
    shape: Sequence[int],
    traversal_order: Sequence[int],
    block_map: Sequence[int],
    dim_metadata: Sequence[DimensionMetadata],
) -> np.ndarray:
    """
    Expand a TFLite sparse tensor into a dense array of ``shape``.

    Parameters
    ----------
    values
        The stored (non-zero) values, 1-D, in traversal order.
    shape
        Dense shape of the tensor.
    traversal_order
        Order in which the levels are walked; entries ``>= len(shape)``
        name block dimensions.
    block_map
        For each block dimension, the original dimension it subdivides.
    dim_metadata
        One entry per level, in traversal order.

    Returns
    -------
    The dense array, with ``values.dtype``; positions not stored are zero.

    Raises
    ------
    ValueError
        If the sparsity description is inconsistent with ``shape`` or ``values``.

    """
    rank = len(shape)
    levels = len(traversal_order)
    if levels != rank + len(block_map) or len(dim_metadata) != levels:
        raise ValueError(
            f'sparse tensor: {levels} traversal levels, {len(dim_metadata)} dimension '
            f'metadata entries and {len(block_map)} block dimensions do not fit rank {rank}')
    if sorted(traversal_order) != list(range(levels)):
        raise ValueError(f'sparse tensor: traversal order {list(traversal_order)} is not a '
                         f'permutation of 0..{levels - 1}')

    positions = np.zeros(1, dtype=np.int64)
    coords: list = []  # per level walked so far: (number of positions,) coordinates
    for level, meta in enumerate(dim_metadata):
        if meta.dense:
            size = int(meta.dense_size)
            coords = [c.repeat(size) for c in coords]
            coords.append(np.tile(np.arange(size, dtype=np.int64), len(positions)))
            positions = (positions[:, None] * size + np.arange(size)).ravel()
        else:
            if meta.segments is None or meta.indices is None:
                raise ValueError(f'sparse tensor: level {level} is SPARSE_CSR without arrays')
            segments = meta.segments.astype(np.int64)
            if positions.size and positions.max() + 1 >= len(segments):
                raise ValueError(f'sparse tensor: level {level} has {len(segments)} segments, '
                                 f'too few for {positions.max() + 2} row pointers')
            starts = segments[positions]
            counts = segments[positions + 1] - starts
            if (counts < 0).any() or segments[-1] > len(meta.indices):
                raise ValueError(f'sparse tensor: level {level} segments are not a valid '
                                 'non-decreasing row-pointer array')
            parent = np.repeat(np.arange(len(positions)), counts)
            first = np.repeat(np.cumsum(counts) - counts, counts)
            positions = starts[parent] + np.arange(int(counts.sum())) - first
            coords = [c[parent] for c in coords]
            coords.append(meta.indices.astype(np.int64)[positions])
    if positions.size and positions.max() >= len(values):
        raise ValueError(f'sparse tensor: {len(values)} stored values, but the traversal '
                         f'addresses {positions.max() + 1}')

    level_of = {dim: level for level, dim in enumerate(traversal_order)}
    dense_index = []
    for dim in range(rank):
        coord = coords[level_of[dim]]
        for block, blocked_dim in enumerate(block_map):
            if blocked_dim == dim:
                block_level = level_of[rank + block]
                coord = coord * dim_metadata[block_level].dense_size + coords[block_level]
        if coord.size and coord.max() >= shape[dim]:
            raise ValueError(f'sparse tensor: coordinate {coord.max()} out of range for '
                             f'dimension {dim} of size {shape[dim]}')
        dense_index.append(coord)

    dense = np.zeros(tuple(shape), dtype=values.dtype)
    dense[tuple(dense_index)] = values[positions]
    return dense
