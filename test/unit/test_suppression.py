"""Greedy suppression on fixed-size, masked slots gives what the plain loop gives."""

from pose3d_ros.estimation.detection import Detections, weighted_nms
from pose3d_ros.estimation.suppression import greedy_keep, leaders
from pose3d_ros.geometry.boxes import from_centre_size, overlap
import pytest
import torch


def plain_keep(suppresses: torch.Tensor, candidates: torch.Tensor) -> list:
    """Keep each candidate, in order, that no kept candidate before it suppresses."""
    kept = []
    for j in range(len(candidates)):
        if candidates[j] and not any(suppresses[i, j] for i in kept):
            kept.append(j)
    return [j in kept for j in range(len(candidates))]


def test_greedy_keep_is_the_plain_loop_batched() -> None:
    generator = torch.Generator().manual_seed(0)
    suppresses = torch.rand(5, 12, 12, generator=generator) < 0.3
    candidates = torch.rand(5, 12, generator=generator) < 0.8
    kept = greedy_keep(suppresses, candidates)
    assert kept.shape == (5, 12)
    for batch in range(5):
        assert kept[batch].tolist() == plain_keep(suppresses[batch], candidates[batch])
    assert not greedy_keep(suppresses[0], torch.zeros(12, dtype=torch.bool)).any()
    with pytest.raises(ValueError, match='suppresses must be'):
        greedy_keep(suppresses[0, :3], candidates[0])


def plain_weighted_nms(boxes: torch.Tensor, keypoints: torch.Tensor, scores: torch.Tensor,
                       threshold: float) -> list:
    """Merge as MediaPipe's weighted NMS does, looping over the remaining detections."""
    order = torch.argsort(scores, descending=True, stable=True)
    remaining, merged = list(order.tolist()), []
    while remaining:
        leader = remaining[0]
        group = [j for j in remaining
                 if j == leader or overlap(boxes[leader][None], boxes[j][None])[0, 0] > threshold]
        remaining = [j for j in remaining if j not in group]
        weights = scores[group] / scores[group].sum()
        merged.append(((boxes[group] * weights[:, None]).sum(0),
                       (keypoints[group] * weights[:, None, None]).sum(0), scores[leader]))
    return merged


def test_weighted_nms_in_slots_is_the_plain_loop() -> None:
    generator = torch.Generator().manual_seed(1)
    for _ in range(5):
        count = 16
        centres = torch.rand(count, 2, generator=generator) * 0.5 + 0.25
        sizes = torch.rand(count, 2, generator=generator) * 0.2 + 0.1
        boxes = from_centre_size(torch.cat([centres, sizes], 1))
        keypoints = torch.rand(count, 4, 2, generator=generator)
        scores, order = torch.sort(torch.rand(count, generator=generator), descending=True)
        valid = scores >= 0.3
        boxes, keypoints = boxes[order], keypoints[order]
        expected = plain_weighted_nms(boxes[valid], keypoints[valid], scores[valid], 0.3)
        found = weighted_nms(Detections(boxes[None], keypoints[None], scores[None],
                                        valid[None]), 0.3, count).select(0)
        assert found.valid.tolist() == [True] * len(expected) + [False] * (
            count - len(expected))
        for slot, (box, points, score) in enumerate(expected):
            torch.testing.assert_close(found.boxes[slot], box)
            torch.testing.assert_close(found.keypoints[slot], points)
            assert found.scores[slot] == score


def test_leaders_stop_after_their_count_and_say_when_none_remained() -> None:
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    apart = torch.zeros(4, 4, dtype=torch.bool)
    index, found, groups = leaders(scores, torch.tensor([True, False, True, True]),
                                   lambda best: apart[best[0]], 2)
    assert index.tolist() == [0, 2] and found.tolist() == [True, True]
    assert groups.tolist() == [[True, False, False, False], [False, False, True, False]]
    _, found, _ = leaders(scores, torch.tensor([True, False, False, False]),
                          lambda best: apart[best[0]], 3)
    assert found.tolist() == [True, False, False]
    index, found, groups = leaders(scores, scores > 0, lambda best: apart[best[0]], 0)
    assert index.shape == found.shape == (0,) and groups.shape == (0, 4)
