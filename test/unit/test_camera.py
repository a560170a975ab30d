"""Camera model: CameraInfo semantics, uncalibrated default, distortion in both directions."""

import math

import cv2
import numpy as np
from pose3d_ros.geometry.calibration_file import load_camera_info
from pose3d_ros.geometry.camera import CameraModel, DEFAULT_HFOV_DEG
import pytest
import torch

K = [600.0, 0.0, 640.0, 0.0, 610.0, 480.0, 0.0, 0.0, 1.0]
LENSES = [
    ('plumb_bob', (-0.25, 0.08, 0.001, -0.001, 0.01)),
    ('rational_polynomial', (0.1, -0.05, 0.001, 0.002, 0.01, 0.05, -0.01, 0.003)),
    ('equidistant', (0.1, -0.02, 0.005, -0.001)),
]


def test_binning_and_roi_follow_camera_info() -> None:
    camera = CameraModel.from_values(1280, 960, K, binning_x=2, binning_y=2,
                                     roi=(100, 50, 1000, 800))
    assert (camera.width, camera.height) == (500, 400)
    assert camera.intrinsics == pytest.approx((300.0, 305.0, 270.0, 215.0))
    assert camera.calibrated
    # Binning 0 means 1 and an all-zero ROI means the full sensor.
    full = CameraModel.from_values(1280, 960, K, binning_x=0, binning_y=0)
    assert (full.width, full.height) == (1280, 960)
    assert full.intrinsics == pytest.approx((600.0, 610.0, 640.0, 480.0))


@pytest.mark.parametrize('k', [[0.0] * 9, [math.nan] * 9,
                               [600, 0, 320, 0, math.inf, 240, 0, 0, 1]])
def test_uncalibrated_uses_default_field_of_view(k: list) -> None:
    camera = CameraModel.from_values(640, 480, k, d=(0.1, 0.0, 0.0, 0.0, 0.0))
    assert not camera.calibrated and not camera.distorted
    fx, fy, cx, cy = camera.intrinsics
    assert 2 * math.degrees(math.atan(320.0 / fx)) == pytest.approx(DEFAULT_HFOV_DEG)
    assert (fy, cx, cy) == pytest.approx((fx, 319.5, 239.5))


@pytest.mark.parametrize('arguments, message', [
    ({'width': 0, 'height': 480, 'k': K}, 'size'),
    ({'width': 640, 'height': 480, 'k': K[:8]}, '9 values'),
    ({'width': 640, 'height': 480, 'k': [-1.0] + K[1:]}, 'positive focal'),
    ({'width': 640, 'height': 480, 'k': K, 'd': (0.1,), 'distortion_model': 'kannala'},
     'unknown'),
    ({'width': 640, 'height': 480, 'k': K, 'd': (0.1, 0.2),
      'distortion_model': 'equidistant'}, '4 coeff'),
    ({'width': 640, 'height': 480, 'k': K, 'd': (math.nan,)}, 'finite'),
])
def test_bad_values_raise(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CameraModel.from_values(**arguments)


@pytest.mark.parametrize('model, coefficients', LENSES)
def test_distort_inverts_undistortion(model: str, coefficients: tuple) -> None:
    camera = CameraModel.from_values(1280, 960, K, coefficients, model, 2, 2,
                                     (100, 50, 1000, 800))
    pixels = np.random.default_rng(0).uniform([0, 0], [camera.width, camera.height], (200, 2))
    fx, fy, cx, cy = camera.intrinsics
    pinhole = camera.normalised(pixels) * [fx, fy] + [cx, cy]
    back = camera.distort(torch.from_numpy(pinhole)).numpy()
    np.testing.assert_allclose(back, pixels, atol=1e-6)


@pytest.mark.parametrize('coefficients', [(-0.4, 0.2, 0.0, 0.0, -0.05), (0.1, -0.05, 0, 0, 0)])
@pytest.mark.parametrize('model, lens', LENSES)
def test_undistort_on_the_device_is_opencvs(model: str, lens: tuple,
                                            coefficients: tuple) -> None:
    """
    Give cv2.undistortPoints' answer over the image (plumb_bob: other lenses too).

    Where a strong lens folds back on itself, off axis, no answer is right: there the
    pixel only has to stay finite and in OpenCV's range.
    """
    for d in ((lens, coefficients) if model == 'plumb_bob' else (lens,)):
        camera = CameraModel.from_values(1280, 960, K, d, model, 2, 2, (100, 50, 1000, 800))
        grid = np.stack(np.meshgrid(np.linspace(0, camera.width - 1, 21),
                                    np.linspace(0, camera.height - 1, 17)), -1).reshape(-1, 2)
        fx, fy, cx, cy = camera.intrinsics
        expected = camera.normalised(grid) * [fx, fy] + [cx, cy]
        found = camera.undistort(torch.from_numpy(grid)).numpy()
        unfolded = np.abs(camera.distort(torch.from_numpy(expected)).numpy() - grid).max(1) < 1e-6
        assert unfolded.mean() > 0.8 and np.isfinite(found).all()
        np.testing.assert_allclose(found[unfolded], expected[unfolded], atol=1e-6)
        assert np.abs(found - expected).max() < 10 * np.abs(expected - grid).max()
    plain = CameraModel.from_values(640, 480, K)
    pixels = torch.rand(5, 2)
    assert plain.undistort(pixels) is pixels


@pytest.mark.parametrize('model, coefficients', LENSES)
def test_distort_matches_opencv_projection(model: str, coefficients: tuple) -> None:
    camera = CameraModel.from_values(1280, 960, K, coefficients, model)
    rays = np.random.default_rng(1).uniform(-0.6, 0.6, (100, 2))
    points = np.c_[rays, np.ones(len(rays))].reshape(-1, 1, 3)
    k, d = np.array(K).reshape(3, 3), np.array(coefficients)
    project = cv2.fisheye.projectPoints if model == 'equidistant' else cv2.projectPoints
    expected, _ = project(points, np.zeros(3), np.zeros(3), k, d)
    pinhole = torch.from_numpy(rays * [600.0, 610.0] + [640.0, 480.0])
    np.testing.assert_allclose(camera.distort(pinhole).numpy(), expected.reshape(-1, 2),
                               atol=1e-6)


def test_no_distortion_is_the_identity() -> None:
    camera = CameraModel.from_values(640, 480, [500, 0, 320, 0, 500, 240, 0, 0, 1],
                                     (0, 0, 0, 0, 0))
    pixels = torch.rand(5, 2) * 400
    assert camera.distort(pixels) is pixels
    np.testing.assert_allclose(camera.normalised(np.array([[320.0, 240.0], [820.0, 740.0]])),
                               [[0.0, 0.0], [1.0, 1.0]])


def test_calibration_yaml(tmp_path) -> None:
    path = tmp_path / 'camera.yaml'
    path.write_text(
        'image_width: 640\nimage_height: 480\ncamera_name: test\n'
        'camera_matrix: {rows: 3, cols: 3, data: [500, 0, 319.5, 0, 505, 239.5, 0, 0, 1]}\n'
        'distortion_model: plumb_bob\n'
        'distortion_coefficients: {rows: 1, cols: 5, data: [-0.2, 0.05, 0, 0, 0]}\n'
        'rectification_matrix: {rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]}\n'
        'projection_matrix: {rows: 3, cols: 4, data: [500, 0, 319.5, 0, 0, 505, 239.5, 0, '
        '0, 0, 1, 0]}\n')
    camera = load_camera_info(path)
    assert (camera.width, camera.height) == (640, 480)
    assert camera.intrinsics == pytest.approx((500.0, 505.0, 319.5, 239.5))
    assert camera.distorted and camera.distortion_model == 'plumb_bob'
    path.write_text('image_width: 640\nimage_height: 480\n')
    with pytest.raises(ValueError, match='camera_matrix'):
        load_camera_info(path)
    with pytest.raises(ValueError, match='cannot read'):
        load_camera_info(tmp_path / 'missing.yaml')
