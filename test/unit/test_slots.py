"""The landmark stage's slot batching and the padded batch buckets, on the CPU."""

import numpy as np
from pose3d_ros.estimation.slots import (bucket, bucket_sizes, BucketedNetwork, compact,
                                         padded, SLOT_BATCHING)
import pytest
import torch


def test_bucket_sizes_are_powers_of_two_up_to_the_largest_batch() -> None:
    assert bucket_sizes(1) == (1,)
    assert bucket_sizes(10) == (1, 2, 4, 8, 16)
    assert bucket_sizes(16) == (1, 2, 4, 8, 16)
    assert [bucket(count, bucket_sizes(10)) for count in (1, 3, 8, 9, 16, 40)] == \
        [1, 4, 8, 16, 16, 16]
    with pytest.raises(ValueError, match='at least 1'):
        bucket_sizes(0)


class Recorded:
    """A network of per-sample results that records the batch sizes it ran."""

    def __init__(self) -> None:
        self.sizes = []

    def __call__(self, batch: torch.Tensor):
        self.sizes.append(len(batch))
        return batch * 2.0, batch.sum((1, 2, 3))


@pytest.mark.parametrize('count, runs', [(1, [1]), (3, [4]), (8, [8]), (9, [16]),
                                         (37, [16, 16, 8])])
def test_a_batch_is_padded_to_its_bucket_and_cut_back(count: int, runs: list) -> None:
    network = Recorded()
    bucketed = BucketedNetwork(network, bucket_sizes(10))
    batch = torch.rand(count, 3, 4, 4)
    doubled, sums = bucketed(batch)
    assert network.sizes == runs
    torch.testing.assert_close(doubled, batch * 2.0)
    torch.testing.assert_close(sums, batch.sum((1, 2, 3)))
    assert bucketed.chunks(count)[-1][0] + bucketed.chunks(count)[-1][1] == count


def test_compact_and_padded_slots_look_at_the_same_candidates() -> None:
    valid = torch.tensor([True, False, True, True, False])
    from_box = np.array([False, False, True, False, True])
    index, boxes = compact(valid, from_box)
    assert index.tolist() == [0, 2, 3] and boxes.tolist() == [1]  # slot 2, the 2nd looked at
    index, boxes = padded(valid, from_box)
    assert index is None and boxes.tolist() == [2, 4]
    assert SLOT_BATCHING == {'cpu': compact, 'cuda': padded}
