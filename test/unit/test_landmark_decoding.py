"""Landmark stage maths: person regions, heatmap refinement, decoding, duplicates."""

import math

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.landmarks import (
    behind_another, decode_landmarks, duplicate_mask, Landmarks, refine_with_heatmaps,
    regions_from_keypoints, same_person, skeleton_similarity, torso_cover)
from pose3d_ros.estimation.regions import Regions
from pose3d_ros.models.joint_sets import BLAZEPOSE_33, COCO_17, HUMAN36M_17, JOINT_SETS, MUCO_21
import pytest
import torch


def test_region_of_an_upright_person() -> None:
    # Mid-hip at (200, 300), scale point straight above: no rotation, side 2 * 100 * 1.25.
    keypoints = torch.tensor([[[200.0, 300.0], [200.0, 200.0], [0, 0], [0, 0]]])
    regions = regions_from_keypoints(keypoints)
    assert regions.centres[0].tolist() == [200.0, 300.0]
    assert regions.sides[0].item() == pytest.approx(250.0)
    assert regions.rotations[0].item() == pytest.approx(0.0)


def test_region_rotation_of_a_person_lying_right() -> None:
    # Scale point to the right of the hips: the head is to the right; turning the crop by
    # +90 degrees (clockwise on screen) makes the person upright in it.
    keypoints = torch.tensor([[[200.0, 300.0], [300.0, 300.0], [0, 0], [0, 0]]])
    assert regions_from_keypoints(keypoints).rotations[0].item() == pytest.approx(math.pi / 2)


def gaussian_heatmap(cx: float, cy: float, size: int = 64, sigma: float = 1.5) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(size.__float__()), torch.arange(size.__float__()),
                            indexing='ij')
    probability = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma ** 2)) * 0.98
    return torch.logit(probability.clamp(1e-6, 1 - 1e-6))


def test_refinement_moves_to_the_heatmap_peak() -> None:
    heatmaps = torch.stack([gaussian_heatmap(20.0, 30.0), gaussian_heatmap(5.0, 5.0) - 20,
                            gaussian_heatmap(40.0, 40.0)])[None]
    # The 7 x 7 window sits on the cell the landmark falls in, here the peak's own cell.
    xy = torch.tensor([[[20.4 / 64, 30.6 / 64], [5.0 / 64, 5.0 / 64], [-0.2, 0.5]]])
    refined = refine_with_heatmaps(xy, heatmaps)
    np.testing.assert_allclose(refined[0, 0].numpy() * 64, [20.0, 30.0], atol=1e-3)
    # A weak peak (below 0.5) and a point outside the heatmap keep their positions.
    np.testing.assert_allclose(refined[0, 1:].numpy(), xy[0, 1:].numpy())


def test_decode_projects_and_rotates() -> None:
    raw = torch.zeros(1, 39, 5)
    raw[0, :, 0], raw[0, :, 1] = 128.0, 64.0  # crop centre column, upper quarter
    raw[0, :, 3], raw[0, :, 4] = 0.0, 10.0
    world = torch.zeros(1, 39, 3)
    world[0, :, 0] = 1.0  # one metre to the crop's right
    heatmaps = torch.full((1, 39, 64, 64), -20.0)  # no refinement
    region = Regions(torch.tensor([[100.0, 100.0]]), torch.tensor([256.0]),
                     torch.tensor([math.pi / 2]))
    segmentation = torch.full((1, 1, 256, 256), -20.0)
    segmentation[0, 0, 60:70, 120:136] = 20.0  # the person's mask where the landmarks are
    landmarks = decode_landmarks(raw.reshape(1, -1), torch.tensor([[0.9]]), segmentation,
                                 heatmaps, world.reshape(1, -1), region, 256)
    assert landmarks.pixels.shape == (1, 33, 2) and landmarks.world.shape == (1, 33, 3)
    # Crop offset (0, -64) turned by +90 degrees lands 64 px to the right of the centre.
    np.testing.assert_allclose(landmarks.pixels[0, 0].numpy(), [164.0, 100.0], atol=1e-4)
    np.testing.assert_allclose(landmarks.world[0, 0].numpy(), [0.0, 1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(landmarks.visibility[0, 0].item(), 0.5)
    assert landmarks.presence[0, 0].item() > 0.99 and landmarks.pose_score.tolist() == [
        pytest.approx(0.9)]
    assert landmarks.alignment.shape == (1, 2, 2)
    assert torso_cover(landmarks).tolist() == [[pytest.approx(1.0)]]
    both = Landmarks.cat([landmarks, landmarks])
    assert both.pixels.shape == (2, 33, 2) and len(both.regions) == 2
    assert torch.equal(both.select(torch.tensor([1])).pixels, landmarks.pixels)


def test_torso_cover_reads_each_crop_at_every_torso() -> None:
    # Two upright crops of side 256 centred at (128, 128) and (428, 128): crop pixels are
    # image pixels shifted. Crop 0's mask covers its upper half only.
    regions = Regions(torch.tensor([[128.0, 128.0], [428.0, 128.0]]), torch.full((2,), 256.0),
                      torch.zeros(2))
    segmentation = torch.full((2, 1, 256, 256), -20.0)
    segmentation[0, 0, :128] = 20.0
    segmentation[1, 0] = 20.0
    pixels = torch.full((2, 33, 2), 64.0)
    pixels[0, 23:25, 1] = 192.0  # person 0's hips in the lower half of crop 0
    pixels[1] += torch.tensor([300.0, 0.0])  # person 1 inside crop 1 only
    pixels[1, 11] = torch.tensor([60.0, 30.0])  # ... but one shoulder on crop 0's mask
    zeros = torch.zeros(2, 33)
    landmarks = Landmarks(pixels, zeros, zeros, torch.ones(2), torch.zeros(2, 33, 3),
                          pixels[:, :2], segmentation, regions)
    np.testing.assert_allclose(torso_cover(landmarks).numpy(), [[0.5, 0.25], [0.0, 0.75]],
                               atol=1e-6)


def test_duplicates_keep_the_best_ranked_skeleton() -> None:
    base = torch.rand(33, 2) * 100
    pixels = torch.stack([base, base + 2.0, base + 80.0])
    visible = torch.ones(3, 33, dtype=torch.bool)
    same = same_person(pixels, visible, torch.full((3,), 200.0), torch.eye(3), 0.5, 0.5)
    assert same.tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    every = torch.ones(3, dtype=torch.bool)
    keep = duplicate_mask(same, torch.tensor([0.7, 0.9, 0.8]), every)
    assert keep.tolist() == [False, True, True]
    # A slot without a candidate neither stays nor drops the skeleton it would repeat.
    keep = duplicate_mask(same, torch.tensor([0.7, 0.9, 0.8]), torch.tensor([True, False, True]))
    assert keep.tolist() == [True, False, True]


def test_a_skeleton_on_another_persons_body_is_that_person() -> None:
    base = torch.rand(33, 2) * 100
    pixels = torch.stack([base, base * 0.2 + 40.0])  # a small skeleton on the first's arm
    visible = torch.ones(2, 33, dtype=torch.bool)
    sides = torch.tensor([200.0, 60.0])
    apart = torch.eye(2)
    assert not same_person(pixels, visible, sides, apart, 0.5, 0.5)[0, 1]
    on_body = torch.tensor([[1.0, 0.9], [0.1, 1.0]])  # the first's mask holds its torso
    assert same_person(pixels, visible, sides, on_body, 0.5, 0.5)[1, 0]
    assert duplicate_mask(same_person(pixels, visible, sides, on_body, 0.5, 0.5),
                          torch.tensor([1.9, 1.5]),
                          torch.ones(2, dtype=torch.bool)).tolist() == [True, False]


def test_of_two_tracked_people_the_one_on_the_others_body_is_behind() -> None:
    # Crop 0's mask holds person 1's torso, crop 1's does not hold person 0's; person 2
    # lies on person 0 too, but is no track's (a detection, or a skeleton on a limb).
    cover = torch.tensor([[1.0, 0.9, 0.8], [0.1, 1.0, 0.0], [0.2, 0.0, 1.0]])
    tracked, sides = torch.tensor([True, True, False]), torch.tensor([300.0, 150.0, 100.0])
    assert behind_another(cover, tracked, sides, 0.5).tolist() == [False, True, False]
    assert not behind_another(cover, torch.zeros(3, dtype=torch.bool), sides, 0.5).any()
    # The larger one is not behind the smaller: a hidden person's crop segments the body
    # in front of them too.
    assert not behind_another(cover, tracked, sides.flip(0), 0.5).any()
    mutual = torch.tensor([[1.0, 0.9], [0.9, 1.0]])  # each on the other: no one is behind
    assert not behind_another(mutual, torch.ones(2, dtype=torch.bool), sides[:2], 0.5).any()


def test_side_by_side_skeletons_are_two_people_one_repeated_is_one() -> None:
    rng = np.random.default_rng(3)
    person = torch.from_numpy(rng.uniform([0, 0], [60, 200], (33, 2))).float()
    beside = person + torch.tensor([45.0, 0.0])  # a shoulder's width apart: regions overlap
    noisy = person + torch.from_numpy(rng.normal(0, 4, (33, 2))).float()
    sides = torch.full((3,), 250.0)
    similarity = skeleton_similarity(torch.stack([person, beside, noisy]),
                                     torch.ones(3, 33, dtype=torch.bool), sides)
    threshold = EstimatorConfig().duplicate_similarity
    assert similarity[0, 1] < threshold / 2 and similarity[0, 2] > 0.8
    np.testing.assert_allclose(similarity.diagonal().numpy(), 1.0)


def test_similarity_counts_only_landmarks_both_show() -> None:
    person = torch.rand(33, 2) * 100
    other = person.clone()
    other[15:] += 300.0  # the legs differ, but the second person shows none of them
    visible = torch.ones(2, 33, dtype=torch.bool)
    visible[1, 15:] = False
    sides = torch.full((2,), 200.0)
    assert skeleton_similarity(torch.stack([person, other]), visible, sides)[0, 1] == \
        pytest.approx(1.0)
    few = torch.zeros(2, 33, dtype=torch.bool)  # too few shared: all 33 are compared
    assert skeleton_similarity(torch.stack([person, other]), few, sides)[0, 1] < 0.6


def test_joint_sets_map_named_landmarks() -> None:
    joints = np.random.default_rng(0).normal(size=(2, 33, 3))
    coco = COCO_17.convert(joints)
    assert coco.shape == (2, 17, 3)
    np.testing.assert_allclose(coco[:, 0], joints[:, 0])  # nose
    h36m = HUMAN36M_17.convert(joints)
    np.testing.assert_allclose(h36m[:, 0], joints[:, [23, 24]].mean(axis=1))  # pelvis
    for joint_set in JOINT_SETS.values():
        assert len(joint_set.joint_names) == len(joint_set.sources) == 17
        assert all(0 <= a < 17 and 0 <= b < 17 for a, b in joint_set.edges)
        np.testing.assert_allclose(joint_set.matrix.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match='33'):
        COCO_17.convert(np.zeros((17, 2)))
    np.testing.assert_allclose(HUMAN36M_17.root_of(h36m), h36m[:, 0])  # the pelvis


def test_which_joint_sets_convert_to_which() -> None:
    assert COCO_17.convertible_from(BLAZEPOSE_33) and HUMAN36M_17.convertible_from(HUMAN36M_17)
    assert not COCO_17.convertible_from(HUMAN36M_17)
    assert not COCO_17.convertible_from(MUCO_21) and not MUCO_21.convertible_from(BLAZEPOSE_33)
    with pytest.raises(ValueError, match='h36m17 joints cannot be converted to coco17'):
        COCO_17.convert_from(np.zeros((17, 3)), HUMAN36M_17)
