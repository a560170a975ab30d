"""Detector decoding: SSD anchors, box/keypoint decoding and weighted NMS."""

from pose3d_ros.estimation.detection import decode, Detections, ssd_anchor_centres, weighted_nms
from pose3d_ros.geometry.boxes import from_centre_size, overlap
import torch


def test_anchor_layout_matches_the_network_outputs() -> None:
    anchors = ssd_anchor_centres()
    assert anchors.shape == (2254, 2)
    # 28x28 cells x 2, then 14x14 x 2, then 7x7 x 6; row-major cells, anchors per cell.
    assert torch.allclose(anchors[0], torch.tensor([0.5 / 28, 0.5 / 28]))
    assert torch.equal(anchors[0], anchors[1])
    assert torch.allclose(anchors[2], torch.tensor([1.5 / 28, 0.5 / 28]))
    assert torch.allclose(anchors[1568], torch.tensor([0.5 / 14, 0.5 / 14]))
    assert torch.allclose(anchors[1960:1966], torch.tensor([[0.5 / 7, 0.5 / 7]] * 6))
    assert torch.allclose(anchors[-1], torch.tensor([6.5 / 7, 6.5 / 7]))


def test_decode_offsets_are_relative_to_anchor_centres() -> None:
    anchors = ssd_anchor_centres()
    raw = torch.zeros(2254, 12)
    logits = torch.full((2254, 1), -500.0)  # clipped to -100: probability ~0
    raw[100] = torch.tensor([22.4, -11.2, 44.8, 67.2, 0, 0, 11.2, 0, 0, 22.4, -22.4, -22.4])
    logits[100] = 3.0
    found = decode(raw[None], logits[None], anchors, torch.tensor([0.5]))
    assert found.scores.shape == (1, 32) and found.valid[0].tolist() == [True] + [False] * 31
    found = found.select(0)  # the view's slots, best first: the anchor scoring 3.0 first
    assert torch.isclose(found.scores[0], torch.sigmoid(torch.tensor(3.0)))
    centre = anchors[100]
    assert torch.allclose(found.boxes[0], from_centre_size(torch.tensor(
        [centre[0] + 0.1, centre[1] - 0.05, 0.2, 0.3])))
    assert torch.allclose(found.keypoints[0, 1], centre + torch.tensor([0.05, 0.0]))
    assert torch.allclose(found.keypoints[0, 3], centre - 0.1)


def test_weighted_nms_merges_overlaps_and_keeps_separate_people() -> None:
    centres = torch.tensor([[0.3, 0.3, 0.2, 0.2], [0.31, 0.3, 0.2, 0.2], [0.8, 0.8, 0.1, 0.1]])
    boxes = from_centre_size(centres)
    keypoints = centres[:, None, :2].expand(3, 4, 2).clone()
    scores = torch.tensor([0.6, 0.9, 0.7])
    order = torch.tensor([1, 2, 0])  # best first, as decoded
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    detections = Detections(boxes[None], keypoints[None], scores[None],
                            torch.ones(1, 3, dtype=torch.bool))
    merged = weighted_nms(detections, iou_threshold=0.3).select(0)
    assert merged.valid.tolist() == [True, True, False]
    merged = merged.select(merged.valid)
    assert torch.allclose(merged.scores, torch.tensor([0.9, 0.7]))
    expected_x = (0.3 * 0.6 + 0.31 * 0.9) / 1.5
    assert torch.isclose((merged.boxes[0, 0] + merged.boxes[0, 2]) / 2, torch.tensor(expected_x))
    assert torch.allclose(merged.boxes[1], boxes[1])
    assert torch.isclose(overlap(boxes[:1], boxes[:1])[0, 0], torch.tensor(1.0))
