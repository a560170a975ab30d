"""Metric root: the 3DMPPE prior and the least-squares translation on synthetic skeletons."""

import numpy as np
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.root import fit_translation, prior_depth, REAL_AREA_M2
import pytest
import torch


def skeleton(seed: int = 0) -> np.ndarray:
    """Return a (33, 3) root-relative body about 1.7 m tall, metres."""
    rng = np.random.default_rng(seed)
    points = rng.normal(0.0, [0.2, 0.45, 0.12], (33, 3))
    return points - points[[23, 24]].mean(axis=0)


def observe(camera: CameraModel, joints: np.ndarray) -> np.ndarray:
    """Return the undistorted rays of absolute joints seen through ``camera`` (via pixels)."""
    fx, fy, cx, cy = camera.intrinsics
    pinhole = joints[:, :2] / joints[:, 2:] * [fx, fy] + [cx, cy]
    pixels = camera.distort(torch.from_numpy(pinhole)).numpy()
    return camera.normalised(pixels)


def test_prior_depth_is_3dmppe_formula() -> None:
    assert REAL_AREA_M2 == 4.0
    # A 2 m box seen 200 px wide by f = 500 px is 5 m away.
    np.testing.assert_allclose(prior_depth(500.0, 500.0, np.array([200.0, 400.0])),
                               [5.0, 2.5])
    with pytest.raises(ValueError):
        prior_depth(500.0, 500.0, np.array([0.0]))


@pytest.mark.parametrize('lens', [(), (-0.3, 0.1, 0.002, -0.001, 0.0)])
def test_fit_recovers_known_translation(lens: tuple) -> None:
    camera = CameraModel.from_values(640, 480, [500, 0, 320, 0, 500, 240, 0, 0, 1], lens)
    truths = np.array([[0.4, -0.2, 3.0], [-1.5, 0.5, 6.0], [0.0, 0.0, 1.2]])
    relative = np.stack([skeleton(i) for i in range(len(truths))])
    rays = np.stack([observe(camera, rel + t) for rel, t in zip(relative, truths)])
    prior = truths * [1.0, 1.0, 1.6]  # a poor prior: the fit must not follow it
    translation, from_fit = fit_translation(relative, rays, np.ones((3, 33)), prior)
    assert from_fit.all()
    np.testing.assert_allclose(translation, truths, rtol=0.01, atol=0.01)
    exact, _ = fit_translation(relative, rays, np.ones((3, 33)), prior, prior_strength=0.0)
    np.testing.assert_allclose(exact, truths, atol=1e-6)


def test_weights_ignore_wrong_joints() -> None:
    camera = CameraModel.from_hfov(640, 480)
    relative, truth = skeleton()[None], np.array([[0.3, 0.1, 4.0]])
    rays = observe(camera, relative[0] + truth[0])[None].copy()
    rays[0, :5] += 0.3  # five joints badly wrong...
    weights = np.ones((1, 33))
    weights[0, :5] = 0.0  # ...and weighted out
    translation, _ = fit_translation(relative, rays, weights, truth * 1.3, prior_strength=0.0)
    np.testing.assert_allclose(translation, truth, atol=1e-6)


def test_degenerate_fits_fall_back_to_prior() -> None:
    relative = np.stack([skeleton(), skeleton(1)])
    rays = np.zeros((2, 33, 2))
    prior = np.array([[0.0, 0.0, 3.0], [0.1, 0.0, 2.0]])
    weights = np.ones((2, 33))
    weights[0] = 0.0  # nothing visible
    rays[1] = relative[1, :, :2] / -5.0  # consistent only with a depth behind the camera
    translation, from_fit = fit_translation(relative, rays, weights, prior)
    assert not from_fit.any()
    np.testing.assert_allclose(translation, prior)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match='shape'):
        fit_translation(np.zeros((1, 33, 3)), np.zeros((1, 32, 2)), np.ones((1, 33)),
                        np.zeros((1, 3)))
