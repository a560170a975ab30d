"""The TFLite sparse tensor format decodes to the dense tensor it describes."""

import numpy as np
from pose3d_ros.tflite.sparsity import densify, DimensionMetadata
import pytest


def _dense(size: int) -> DimensionMetadata:
    return DimensionMetadata(dense=True, dense_size=size)


def _csr(segments: list, indices: list) -> DimensionMetadata:
    return DimensionMetadata(dense=False, segments=np.array(segments), indices=np.array(indices))


def test_csr_matrix() -> None:
    expected = np.array([[1, 0, 2, 0], [0, 0, 0, 0], [0, 3, 0, 0], [0, 0, 0, 4]], np.float32)
    result = densify(np.array([1, 2, 3, 4], np.float32), (4, 4), [0, 1], [],
                     [_dense(4), _csr([0, 2, 2, 3, 4], [0, 2, 1, 3])])
    np.testing.assert_array_equal(result, expected)


def test_block_sparse_matrix() -> None:
    # 4x4 in 2x2 blocks: block rows dense, block columns CSR, both inner block dims dense.
    expected = np.array([[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 5, 6]], np.float32)
    values = np.array([1, 2, 3, 4, 0, 0, 5, 6], np.float32)
    result = densify(values, (4, 4), [0, 1, 2, 3], [0, 1],
                     [_dense(2), _csr([0, 1, 2], [0, 1]), _dense(2), _dense(2)])
    np.testing.assert_array_equal(result, expected)


def test_column_major_traversal() -> None:
    # Walking columns first: column c's stored rows are indices[segments[c]:segments[c+1]].
    expected = np.array([[0, 7], [5, 0], [0, 8]], np.float32)
    result = densify(np.array([5, 7, 8], np.float32), (3, 2), [1, 0], [],
                     [_dense(2), _csr([0, 1, 3], [1, 0, 2])])
    np.testing.assert_array_equal(result, expected)


def _encode_last_dim_csr(dense: np.ndarray) -> tuple:
    """Encode like the BlazePose detector: all dims dense but the last, which is CSR."""
    rows = dense.reshape(-1, dense.shape[-1])
    segments, indices, values = [0], [], []
    for row in rows:
        nonzero = np.flatnonzero(row)
        indices.extend(nonzero)
        values.extend(row[nonzero])
        segments.append(len(indices))
    levels = [_dense(s) for s in dense.shape[:-1]] + [_csr(segments, indices)]
    return np.array(values, dense.dtype), levels


@pytest.mark.parametrize('shape', [(16, 1, 1, 24), (8, 3, 3, 5)])
def test_random_weights_round_trip(shape: tuple) -> None:
    rng = np.random.default_rng(3)
    dense = rng.standard_normal(shape).astype(np.float16)
    dense[rng.random(shape) < 0.7] = 0
    values, levels = _encode_last_dim_csr(dense)
    result = densify(values, shape, list(range(len(shape))), [], levels)
    np.testing.assert_array_equal(result, dense)
    assert result.dtype == np.float16


@pytest.mark.parametrize('levels, message', [
    ([_dense(4), _csr([0, 2, 1, 3, 4], [0, 2, 1, 3])], 'row-pointer'),
    ([_dense(4), _csr([0, 2], [0, 2])], 'segments'),
    ([_dense(4), _csr([0, 1, 2, 3, 4], [0, 2, 1, 9])], 'out of range'),
    ([_dense(4)], 'do not fit rank'),
])
def test_inconsistent_descriptions_are_rejected(levels: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        densify(np.arange(4, dtype=np.float32), (4, 4), list(range(len(levels))), [], levels)
