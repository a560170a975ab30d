"""
Greedy suppression on fixed-size, masked tensors: no host reads, the same on every device.

Weighted NMS of the detector's anchors, the merge of the detector's views, HOG's NMS and
the landmark stage's duplicate removal are one rule: take the candidates in order, keep
one unless a kept candidate before it suppresses it. Here that rule runs on (..., N)
slots with a mask of the real candidates, in loops of fixed steps (:func:`greedy_keep`:
N; :func:`leaders`: the few leaders wanted), so its shapes and its work depend on the
slot counts only, never on the data: nothing waits for the device, and a CUDA graph can
hold it.
"""

import math
from typing import Callable, Tuple

import torch


def greedy_keep(suppresses: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """
    Return (..., N) bool: the candidates kept, taken in index order.

    ``suppresses`` (..., N, N) bool: entry [i, j] says that i, when kept, drops j (only
    i before j matters); ``candidates`` (..., N) bool: the slots that hold a candidate.
    Candidate j is kept when no kept candidate before it suppresses it.
    """
    count = candidates.shape[-1]
    if suppresses.shape[-2:] != (count, count):
        raise ValueError(f'suppresses must be (..., {count}, {count}), got '
                         f'{tuple(suppresses.shape)}')
    dropped = torch.zeros_like(candidates)
    for index in range(count - 1):  # the last one drops nobody
        keep = candidates[..., index] & ~dropped[..., index]
        dropped[..., index + 1:] |= keep[..., None] & suppresses[..., index, index + 1:]
    return candidates & ~dropped


def best_slots(scores: torch.Tensor, valid: torch.Tensor, count: int) -> torch.Tensor:
    """
    Return the indices of the ``count`` best (N,) ``scores`` of ``valid`` slots, best first.

    Equal scores keep their order; the slots without a candidate come last.
    """
    return torch.sort(torch.where(valid, scores, -math.inf), descending=True,
                      stable=True)[1][:count]


def leaders(scores: torch.Tensor, candidates: torch.Tensor,
            suppressed_by: Callable[[torch.Tensor], torch.Tensor],
            count: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Take the first ``count`` leaders of greedy suppression, best first, with their groups.

    ``scores`` (..., N), ``candidates`` (..., N) bool, and ``suppressed_by``, which maps
    (..., 1) indices of leaders to the (..., N) bool candidates each suppresses (overlap
    above a threshold: symmetric). The best remaining candidate (the first of
    equal scores) leads; it and every remaining candidate it suppresses are its group and
    are removed; ``count`` times. Returns (..., count) indices of the leaders, (..., count)
    bool whether a candidate remained to lead, and (..., count, N) bool their groups. The
    work is ``count`` fixed steps over all N: for NMS that keeps few of many.
    """
    remaining = candidates.clone()
    if count == 0:
        none = remaining[..., :0]
        return none.long(), none, remaining[..., None, :][..., :0, :]
    order, found, groups = [], [], []
    for _ in range(count):
        best = torch.where(remaining, scores, -math.inf).argmax(-1, keepdim=True)
        leads = remaining.gather(-1, best)
        own = torch.zeros_like(remaining).scatter_(-1, best, True)
        group = remaining & (suppressed_by(best) | own) & leads
        remaining &= ~group
        order.append(best[..., 0])
        found.append(leads[..., 0])
        groups.append(group)
    return torch.stack(order, -1), torch.stack(found, -1), torch.stack(groups, -2)
