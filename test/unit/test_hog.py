"""The HOG people detector in torch against OpenCV's HOGDescriptor, on synthetic images."""

import math

import numpy as np
from pose3d_ros.estimation import hog
from pose3d_ros.geometry.boxes import overlap
import pytest
import torch

from ..helpers import opencv_hog, planar

#: Largest descriptor difference allowed. Values are in [0, 1]; OpenCV sums each cell's
#: 256 votes one by one in float32, we by convolution, so they differ by rounding: the
#: largest difference measured is 2.7e-7 (a few float32 ulps at 0.2). Any mistake in
#: order, tie rule or angle shows as 1e-2 or more (replacing OpenCV's fastAtan2 by an
#: exact atan2 alone: 1.2e-4).
DESCRIPTOR_TOLERANCE = 2e-6
#: Largest window score difference allowed: scores are sums of 3780 products of
#: descriptor and weight (|w| < 0.3) and OpenCV adds them in a double; measured 2.8e-6.
SCORE_TOLERANCE = 2e-5

MODELS = sorted(hog.HOG_MODELS)


def bgr(rgb: np.ndarray) -> np.ndarray:
    """Return the BGR copy OpenCV takes."""
    return np.ascontiguousarray(rgb[..., ::-1])


def random_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Return uniform random RGB noise, uint8."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def gradient_image(width: int, height: int) -> np.ndarray:
    """Return smooth RGB gradients in every direction: ramps, a ring and a wave."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    radius = np.hypot(x - width * 0.4, y - height * 0.6)
    red = 128 + 100 * np.sin(x / 7.0 + y / 13.0)
    green = 255 * (x + 2 * y) / (width + 2 * height)
    blue = 128 + 120 * np.cos(radius / 5.0)
    return np.clip(np.rint(np.stack([red, green, blue], -1)), 0, 255).astype(np.uint8)


def tie_image(width: int, height: int) -> np.ndarray:
    """
    Return an image whose blue and red channels tie in gradient magnitude in places.

    Blue varies along x, red along y with the same profile, green is flat: where the
    profiles' differences match, OpenCV's tie rule decides between a horizontal and a
    vertical gradient.
    """
    profile = np.array([0, 50, 200, 90, 10], np.uint8)
    image = np.full((height, width, 3), 77, np.uint8)
    image[..., 2] = profile[np.arange(width) % 5][None, :]
    image[..., 0] = profile[np.arange(height) % 5][:, None]
    return image


def test_models_and_coefficients() -> None:
    """Both models have OpenCV's layout, and their coefficients the right length."""
    people, daimler = hog.HOG_MODELS['people_64x128'], hog.HOG_MODELS['daimler_48x96']
    assert set(hog.HOG_MODELS) == {'people_64x128', 'daimler_48x96'}
    assert all(hog.HOG_MODELS[name].name == name for name in hog.HOG_MODELS)
    assert (people.window, people.blocks_per_window, people.descriptor_size) == (
        (64, 128), (7, 15), 3780)
    assert (daimler.window, daimler.blocks_per_window, daimler.descriptor_size) == (
        (48, 96), (5, 11), 1980)
    for model in (people, daimler):
        weights, bias = model.svm()
        assert weights.shape == (model.descriptor_size,) and weights.dtype == np.float32
        assert math.isfinite(bias) and bias < 0
        assert model.window_sigma == 4.0 and model.block_size == 36
        assert 0.5 < model.person_height < 1.0 and model.source
    assert opencv_hog('people_64x128').getWinSigma() == people.window_sigma


@pytest.mark.parametrize('name', MODELS)
@pytest.mark.parametrize('kind', ['random', 'gradient'])
def test_window_descriptor_equals_opencv_compute(name: str, kind: str) -> None:
    """One window's descriptor equals cv2.HOGDescriptor.compute within rounding."""
    width, height = hog.HOG_MODELS[name].window
    image = random_image(width, height) if kind == 'random' else gradient_image(width, height)
    expected = opencv_hog(name).compute(bgr(image)).reshape(-1)
    ours = hog.window_descriptors(hog.block_descriptors(planar(image), name), name)
    assert ours.shape == (1, 1, 1, expected.size)
    assert np.abs(ours.reshape(-1).numpy() - expected).max() <= DESCRIPTOR_TOLERANCE


def test_channel_tie_rule_is_opencv() -> None:
    """Where channels tie OpenCV keeps the first of B, G, R; so do we (descriptor too)."""
    image = tie_image(64, 128)
    votes, bins = hog.orientation_votes(planar(image))
    gamma = np.sqrt(image.astype(np.float32))
    blue = gamma[1:-1, 2:, 2] - gamma[1:-1, :-2, 2]   # along x, interior pixels
    red = gamma[2:, 1:-1, 0] - gamma[:-2, 1:-1, 0]    # along y
    tie = (blue * blue == red * red) & (blue != 0)
    assert tie.sum() > 1000
    interior_bins = bins[0, :, 1:-1, 1:-1].numpy()
    interior_votes = votes[0, :, 1:-1, 1:-1].numpy()
    # Blue, horizontal, wins the ties: 0 degrees, split evenly between bins 8 and 0.
    assert (np.sort(interior_bins[:, tie], axis=0) == [[0], [8]]).all()
    assert np.allclose(interior_votes[0, tie], interior_votes[1, tie])
    # Red, vertical, wins where it is larger: 90 degrees, bins 4 and 5.
    larger = red * red > blue * blue
    assert larger.any() and (np.sort(interior_bins[:, larger], axis=0) == [[4], [5]]).all()
    expected = opencv_hog('people_64x128').compute(bgr(image)).reshape(-1)
    ours = hog.window_descriptors(hog.block_descriptors(planar(image))).reshape(-1)
    assert np.abs(ours.numpy() - expected).max() <= DESCRIPTOR_TOLERANCE


@pytest.mark.parametrize('name', MODELS)
@pytest.mark.parametrize('stride', [1, 2])
def test_descriptors_at_every_window_equal_compute(name: str, stride: int) -> None:
    """Descriptors of a larger image at each window of a stride equal compute(winStride)."""
    image = random_image(133, 171, seed=stride)  # neither side a multiple of 8
    step = 8 * stride
    expected = opencv_hog(name).compute(bgr(image), winStride=(step, step),
                                        padding=(0, 0))
    ours = hog.window_descriptors(hog.block_descriptors(planar(image), name), name, stride)
    model = hog.HOG_MODELS[name]
    rows = (171 - model.window[1]) // step + 1
    cols = (133 - model.window[0]) // step + 1
    assert ours.shape == (1, rows, cols, model.descriptor_size)
    difference = np.abs(ours.reshape(-1).numpy() - expected.reshape(-1))
    assert difference.max() <= DESCRIPTOR_TOLERANCE


@pytest.mark.parametrize('name', MODELS)
def test_window_scores_are_svm_of_descriptors(name: str) -> None:
    """The SVM as a convolution equals compute() . weights + bias, and detect's weights."""
    image = gradient_image(150, 190)
    weights, bias = hog.HOG_MODELS[name].svm()
    scores = hog.window_scores(planar(image), name)[0].double().numpy()
    descriptor = opencv_hog(name)
    for row, col in ((0, 0), (1, 3), (scores.shape[0] - 1, scores.shape[1] - 1)):
        window = descriptor.compute(bgr(image), winStride=(8, 8), padding=(0, 0),
                                    locations=((8 * col, 8 * row),)).reshape(-1)
        expected = float(window.astype(np.float64) @ weights.astype(np.float64)) + bias
        assert abs(scores[row, col] - expected) <= SCORE_TOLERANCE
    locations, found = descriptor.detect(bgr(image), hitThreshold=-1e9, winStride=(8, 8),
                                         padding=(0, 0))
    locations = np.asarray(locations).reshape(-1, 2)
    assert len(locations) == scores.size
    ours = scores[locations[:, 1] // 8, locations[:, 0] // 8]
    assert np.abs(ours - np.asarray(found).reshape(-1)).max() <= SCORE_TOLERANCE


def test_batches_and_devices_agree() -> None:
    """A batch gives each image's own scores; uint8 input equals its float copy."""
    images = [gradient_image(96, 160), random_image(96, 160)]
    batch = torch.stack([planar(image) for image in images])
    together = hog.window_scores(batch)
    for index, image in enumerate(images):
        alone = hog.window_scores(planar(image))[0]
        torch.testing.assert_close(together[index], alone, rtol=0.0, atol=1e-6)
    as_uint8 = hog.window_scores(torch.from_numpy(images[0]).permute(2, 0, 1))
    torch.testing.assert_close(as_uint8[0], together[0], rtol=0.0, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_equals_cpu() -> None:
    """The same window scores and pyramid candidates on CUDA as on the CPU."""
    image = planar(gradient_image(320, 240))
    cpu = hog.window_scores(image)
    cuda = hog.window_scores(image.cuda())
    torch.testing.assert_close(cuda.cpu(), cpu, rtol=0.0, atol=1e-4)
    boxes, scores = hog.candidates(image.cuda(), hit_threshold=-math.inf, upscale=1.5)
    expected_boxes, expected_scores = hog.candidates(image, hit_threshold=-math.inf,
                                                     upscale=1.5)
    assert boxes.device.type == 'cuda' and boxes.shape == expected_boxes.shape
    torch.testing.assert_close(boxes.cpu(), expected_boxes)
    # Levels are rounded after resizing: a pixel at .5 may round the other way on CUDA.
    assert (scores.cpu() - expected_scores).abs().median() <= 1e-4
    detected, _ = hog.detect(image.cuda(), hit_threshold=-1.0)
    assert detected.device.type == 'cuda' and len(detected) > 0


def test_nms_keeps_best_of_each_overlapping_group() -> None:
    """Greedy NMS: best first, drops boxes over the IoU threshold, limits and neighbours."""
    boxes = torch.tensor([[0.0, 0.0, 10.0, 9.0],      # 0: IoU 0.9 with 1
                          [0.0, 0.0, 10.0, 10.0],     # 1: the best
                          [20.0, 0.0, 30.0, 10.0],    # 2: alone
                          [0.0, 0.0, 10.0, 5.0],      # 3: IoU 0.5 with 1, exactly
                          [1.0, 0.0, 11.0, 10.0]])    # 4: IoU 0.82 with 1
    scores = torch.tensor([0.9, 1.5, 0.2, 0.7, 0.3])
    assert hog.nms(boxes, scores, 0.5).tolist() == [1, 3, 2]
    assert hog.nms(boxes, scores, 0.95).tolist() == [1, 0, 3, 4, 2]
    assert hog.nms(boxes, scores, 0.5, max_count=2).tolist() == [1, 3]
    # Box 1 drops 0 and 4 (2 neighbours); 3 and 2 drop none.
    assert hog.nms(boxes, scores, 0.5, min_neighbours=2).tolist() == [1]
    assert hog.nms(boxes[:0], scores[:0]).tolist() == []
    kept = hog.nms(boxes, scores, 0.5)
    iou = overlap(boxes[kept], boxes[kept])
    assert (iou - torch.eye(len(kept))).max() <= 0.5
    with pytest.raises(ValueError, match='boxes must be'):
        hog.nms(boxes[:, :3], scores)
    with pytest.raises(ValueError, match='boxes must be'):
        hog.nms(boxes, scores[:2])


def test_pyramid_levels() -> None:
    """Levels as detectMultiScale builds them, enlarged by upscale, limited as asked."""
    levels = hog.pyramid(640, 480, 'people_64x128', 1.05)
    assert levels[0] == (1.0, 640, 480) and len(levels) == 28
    for scale, width, height in levels:
        assert (width, height) == (round(640 / scale), round(480 / scale))
        assert width >= 64 and height >= 128
    assert round(480 / (levels[-1][0] * 1.05)) < 128
    scales = [level[0] for level in levels]
    assert scales == sorted(scales) and math.isclose(scales[1], 1.05)
    enlarged = hog.pyramid(640, 480, 'people_64x128', 1.05, upscale=2.0)
    assert enlarged[0] == (0.5, 1280, 960) and len(enlarged) == 28 + 14
    assert len(hog.pyramid(640, 480, 'people_64x128', 1.2, max_levels=3)) == 3
    tall = hog.pyramid(640, 480, 'people_64x128', 1.05, min_height=200.0, max_height=300.0)
    assert tall and all(200.0 <= 128 * scale <= 300.0 for scale, _, _ in tall)
    assert hog.pyramid(60, 480) == [] and hog.pyramid(48, 96, 'daimler_48x96') == [
        (1.0, 48, 96)]
    with pytest.raises(ValueError, match='scale_step'):
        hog.pyramid(640, 480, scale_step=1.0)
    with pytest.raises(ValueError, match='upscale'):
        hog.pyramid(640, 480, upscale=0.0)


def test_candidates_are_window_scores_of_each_level() -> None:
    """Every window of every level is a candidate at -inf, scored as window_scores says."""
    image = planar(gradient_image(150, 200))
    levels = hog.pyramid(150, 200, 'people_64x128', 1.2)
    boxes, scores = hog.candidates(image, hit_threshold=-math.inf, scale_step=1.2)
    counts = [((h - 128) // 8 + 1) * ((w - 64) // 8 + 1) for _, w, h in levels]
    assert len(boxes) == len(scores) == sum(counts) and len(levels) == 3
    first = hog.window_scores(image)[0]
    torch.testing.assert_close(scores[:counts[0]], first.reshape(-1))
    assert boxes[0].tolist() == [0.0, 0.0, 64.0, 128.0]
    # Level 1 is 125 x 167, a window there covers 150 / 125 times its size in the image.
    torch.testing.assert_close(boxes[counts[0]], torch.tensor([0.0, 0.0, 64 * 1.2,
                                                               128 * 200 / 167]))
    best, best_scores = hog.detect(image, hit_threshold=-math.inf, scale_step=1.2,
                                   max_detections=3)
    assert len(best) == 3 and (best_scores[:-1] >= best_scores[1:]).all()
    assert best_scores[0] == scores.max()


def test_detect_shapes_and_empty_results() -> None:
    """Too small an image gives empty results; upscale finds windows in it; bad input fails."""
    small = planar(random_image(60, 100))
    boxes, scores = hog.detect(small)
    assert boxes.shape == (0, 4) and scores.shape == (0,)
    assert hog.window_scores(small).shape == (1, 0, 0)
    assert hog.block_descriptors(small[:, :10, :10]).shape == (1, 0, 0, 36)
    boxes, scores = hog.candidates(small, hit_threshold=-math.inf, upscale=2.0)
    assert len(boxes) > 0 and boxes.dtype == torch.float32
    assert (boxes[:, 2:] <= torch.tensor([60.0, 100.0]) + 1e-3).all()
    with pytest.raises(ValueError, match=r'\(3, H, W\)'):
        hog.detect(small[0])
    with pytest.raises(ValueError, match=r'\(3, H, W\)'):
        hog.detect(small[None])
    with pytest.raises(ValueError, match=r'\(3, H, W\)'):
        hog.window_scores(torch.zeros(4, 128, 64))
    with pytest.raises(ValueError, match='torch tensor'):
        hog.window_scores(random_image(64, 128))
    with pytest.raises(ValueError, match='unknown HOG model'):
        hog.window_scores(small, 'people_32x64')
    with pytest.raises(ValueError, match='blocks must be'):
        hog.window_descriptors(torch.zeros(1, 20, 20, 35))


def test_person_boxes() -> None:
    """A window shrinks to the central person_height of its height."""
    model = hog.HOG_MODELS['people_64x128']
    window = torch.tensor([[10.0, 20.0, 74.0, 148.0]])
    assert model.person_boxes(window).tolist() == [[10.0, 36.0, 74.0, 132.0]]
