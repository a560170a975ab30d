"""Rotated-square crops, their coordinate maps, and the detector's views of a frame."""

import math

import cv2
import numpy as np
from pose3d_ros.estimation.detection import Detections
from pose3d_ros.estimation.regions import crop, crop_grid, crop_to_image, image_to_crop, Regions
from pose3d_ros.estimation.views import (merge_views, searched_views, to_image, view_grids,
                                         view_regions)
from pose3d_ros.geometry.boxes import from_centre_size
import pytest
import torch


def one_region(cx: float, cy: float, side: float, rotation: float) -> Regions:
    return Regions(torch.tensor([[cx, cy]], dtype=torch.float64),
                   torch.tensor([side], dtype=torch.float64),
                   torch.tensor([rotation], dtype=torch.float64))


def test_crop_to_image_corners_and_rotation() -> None:
    # An upright region: crop (0, 0) is the top-left corner, (size, 0) the top-right.
    region = one_region(100.0, 50.0, 40.0, 0.0)
    corners = torch.tensor([[[0.0, 0.0], [8.0, 0.0], [4.0, 4.0]]], dtype=torch.float64)
    np.testing.assert_allclose(crop_to_image(corners, region, 8)[0].numpy(),
                               [[80.0, 30.0], [120.0, 30.0], [100.0, 50.0]])
    # Rotated by +90 degrees (clockwise on screen): the crop's x axis points down the image.
    turned = crop_to_image(corners, one_region(100.0, 50.0, 40.0, math.pi / 2), 8)[0]
    np.testing.assert_allclose(turned.numpy(), [[120.0, 30.0], [120.0, 70.0], [100.0, 50.0]],
                               atol=1e-9)


def test_image_to_crop_inverts_crop_to_image() -> None:
    regions = Regions(torch.tensor([[100.0, 50.0], [-20.0, 300.0]], dtype=torch.float64),
                      torch.tensor([40.0, 333.0], dtype=torch.float64),
                      torch.tensor([0.3, -2.5], dtype=torch.float64))
    points = torch.rand(2, 5, 2, dtype=torch.float64) * 256
    np.testing.assert_allclose(image_to_crop(crop_to_image(points, regions, 256), regions,
                                             256).numpy(), points.numpy(), atol=1e-9)


def test_crop_grid_is_crop_to_image_of_every_crop_pixel() -> None:
    regions = Regions(torch.tensor([[100.0, 50.0], [-20.0, 300.0]], dtype=torch.float64),
                      torch.tensor([40.0, 333.0], dtype=torch.float64),
                      torch.tensor([0.0, -2.5], dtype=torch.float64))
    size = 6
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    pixels = torch.stack([cols, rows], -1).reshape(1, -1, 2).expand(2, -1, -1).double()
    expected = crop_to_image(pixels, regions, size).reshape(2, size, size, 2)
    torch.testing.assert_close(crop_grid(regions, size), expected, rtol=0.0, atol=1e-12)


def test_crop_matches_mediapipe_opencv_warp() -> None:
    """Our grid_sample crop equals MediaPipe's CPU crop (cv2 boxPoints + warpPerspective)."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (7, 7), 2)
    cx, cy, side, rotation, size = 83.0, 61.5, 70.0, 0.4, 32
    points = cv2.boxPoints(((cx, cy), (side, side), math.degrees(rotation)))
    target = np.float32([[0, size], [0, 0], [size, 0], [size, size]])
    expected = cv2.warpPerspective(image, cv2.getPerspectiveTransform(points, target),
                                   (size, size), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
    region = Regions(torch.tensor([[cx, cy]]), torch.tensor([side]), torch.tensor([rotation]))
    ours = crop(torch.from_numpy(image).permute(2, 0, 1).float(), region, size, 'border')
    difference = np.abs(ours[0].permute(1, 2, 0).numpy() - expected)
    assert difference.max() <= 2.0 and difference.mean() < 0.3


def test_crop_padding_modes_and_empty() -> None:
    image = torch.full((3, 10, 10), 200.0)
    outside = one_region(-50.0, -50.0, 10.0, 0.0)
    assert crop(image.double(), outside, 4, 'zeros').abs().max() == 0
    assert torch.all(crop(image.double(), outside, 4, 'border') == 200)
    empty = Regions(torch.zeros(0, 2), torch.zeros(0), torch.zeros(0))
    assert crop(image, empty, 4, 'zeros').shape == (0, 3, 4, 4)


def test_view_layout_covers_the_frame_with_overlap() -> None:
    views = view_regions(1920, 1080, (1, 2, 3), 0.25, torch.device('cpu'))
    # Grid 1, the full frame, is the centred letterbox square.
    assert views.centres[0].tolist() == [960.0, 540.0] and views.sides[0] == 1920
    assert torch.all(views.rotations == 0)
    for grid in (2, 3):
        side = 1920 / grid
        tiles = views.sides == side
        left = views.centres[tiles, 0] - side / 2
        top = views.centres[tiles, 1] - side / 2
        assert left.min() == 0 and (left + side).max() == pytest.approx(1920)
        assert top.min() == pytest.approx(0) and (top + side).max() == pytest.approx(1080)
        steps = torch.unique(left).diff()
        assert torch.all(steps <= side * 0.75 + 1e-3)
    assert len(view_regions(640, 480, (1,), 0.25, torch.device('cpu'))) == 1
    grids = view_grids(1920, 1080, (1, 2, 3), 0.25)
    assert len(grids) == len(views) and grids[0] == 1 and grids[1:] == tuple(
        sorted(grids[1:])) and set(grids) == {1, 2, 3}


def detections(boxes: list, scores: list) -> Detections:
    """Return one view's detections of centre-size ``boxes``, keypoints at their centres."""
    centres = torch.tensor(boxes, dtype=torch.float32)
    keypoints = centres[:, None, :2].expand(-1, 4, 2).clone()
    return Detections(from_centre_size(centres)[None], keypoints[None],
                      torch.tensor(scores)[None], torch.ones(1, len(scores), dtype=torch.bool))


def test_to_image_maps_normalised_view_coordinates() -> None:
    view = one_region(300.0, 200.0, 100.0, 0.0).select(0)
    found = to_image(detections([[0.5, 0.25, 0.1, 0.2]], [0.9]),
                     Regions(view.centres.float(), view.sides.float(), view.rotations.float()))
    np.testing.assert_allclose(found.boxes[0, 0].numpy(),
                               from_centre_size(np.array([300.0, 175.0, 10.0, 20.0])))
    np.testing.assert_allclose(found.keypoints[0, 0, 0].numpy(), [300.0, 175.0])


def view(*people: tuple, slots: int = 2) -> Detections:
    """
    Return one view's slots, best first; the slots left over hold nobody.

    Per person a centre-size face box, hip centre and scale point (view units) and a score.
    """
    padding = [([0.0, 0.0, 0.1, 0.1], [0.0, 0.0], [0.0, 0.0], 0.0)] * (slots - len(people))
    faces, hips, scale_points, scores = zip(*(list(people) + padding))
    hips, scale_points = torch.tensor(hips), torch.tensor(scale_points)
    keypoints = torch.stack([hips, scale_points, hips, scale_points], 1)
    return Detections(from_centre_size(torch.tensor(faces)), keypoints, torch.tensor(scores),
                      torch.arange(slots) < len(people))


def test_merge_views_prefers_the_full_frame_and_drops_repeats() -> None:
    # The full frame (centre (100, 100), side 200) and a tile (centre (50, 50), side 100).
    views = Regions(torch.tensor([[100.0, 100.0], [50.0, 50.0]]), torch.tensor([200.0, 100.0]),
                    torch.zeros(2))
    # One person, hips at image (100, 120), the scale point 60 px above; the face box is
    # large (80 px), as when the full frame's NMS merges two people into one.
    full = view(([0.5, 0.2, 0.4, 0.4], [0.5, 0.6], [0.5, 0.3], 0.6))
    # The tile sees the same person with a higher score, and a person beside them whose
    # face box lies inside the full frame's: kept, since the keypoints say it is someone
    # else.
    tile = view(([1.0, -0.1, 0.2, 0.2], [1.0, 1.2], [1.0, 0.6], 0.95),
                ([0.8, -0.1, 0.2, 0.2], [0.7, 1.2], [0.7, 0.6], 0.8))
    per_view = Detections(*(torch.stack([getattr(full, name), getattr(tile, name)])
                            for name in ('boxes', 'keypoints', 'scores', 'valid')))
    merged = merge_views(per_view, views, 0.3, 0.5, max_persons=10)
    assert merged.valid.tolist() == [True, True, False, False]  # the slots left hold nobody
    merged = merged.select(merged.valid)
    np.testing.assert_allclose(merged.scores.numpy(), [0.8, 0.6])
    np.testing.assert_allclose(merged.keypoints[:, 0].numpy(), [[70.0, 120.0], [100.0, 120.0]])
    assert merge_views(per_view, views, 0.3, 0.5, max_persons=1).valid.tolist() == [True]


def test_the_search_grids_are_dealt_out_and_the_coarse_ones_kept() -> None:
    grids = view_grids(640, 480, (1, 2, 4), 0.25)
    coarse = {i for i, grid in enumerate(grids) if grid < 4}
    parts = [set(searched_views(640, 480, (1, 2, 4), 0.25, 4, (index, 3)))
             for index in range(3)]
    assert all(coarse <= part for part in parts)
    fine = [part - coarse for part in parts]
    assert set.union(*fine) == set(range(len(grids))) - coarse
    assert sum(len(part) for part in fine) == len(grids) - len(coarse)
    assert max(len(part) for part in fine) - min(len(part) for part in fine) <= 1
    assert searched_views(640, 480, (1, 2, 4), 0.25, 4, (0, 1)) == tuple(range(len(grids)))
