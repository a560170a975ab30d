"""Registered depth: torso sampling, rejection of invalid pixels, fusion and decoding."""

import numpy as np
from pose3d_ros.geometry import depth_fusion
from pose3d_ros.geometry.depth_fusion import fuse_depths, measured_root_depth, move_to_depth
from pose3d_ros.models.blazepose import LANDMARK_NAMES
from pose3d_ros.node.image_decoding import decode_depth
import pytest

J = {name: i for i, name in enumerate(LANDMARK_NAMES)}
SIZE = (64, 48)  # colour image (w, h)


def person(root_z: float = 3.0) -> tuple:
    """Return keypoints (33, 2), visibility, joints (33, 3), root of a simple person."""
    keypoints = np.full((33, 2), 5.0)
    joints = np.zeros((33, 3)) + [0.0, 0.0, root_z]
    for name, uv in (('left_shoulder', (20, 10)), ('right_shoulder', (40, 10)),
                     ('left_hip', (25, 30)), ('right_hip', (35, 30))):
        keypoints[J[name]] = uv
    joints[J['left_shoulder'], 2] += 0.1  # shoulders 10 cm further than the root
    return keypoints, np.ones(33), joints, np.array([0.0, 0.0, root_z])


def test_measured_depth_corrects_for_the_skeleton_shape() -> None:
    depth = np.full((48, 64), 2.5, np.float32)
    depth[5:16, 15:26] = 2.6  # around the left shoulder, 10 cm behind the root
    keypoints, visibility, joints, root = person()
    assert measured_root_depth(depth, keypoints, visibility, joints, root,
                               SIZE) == pytest.approx(2.5 + depth_fusion.BODY_DEPTH_M)


def test_invalid_pixels_are_rejected() -> None:
    keypoints, visibility, joints, root = person()
    depth = np.full((48, 64), 2.0, np.float32)
    depth[::2] = 0.0
    depth[1::4] = np.nan
    depth[3::8, ::2] = np.inf
    assert measured_root_depth(depth, keypoints, visibility, joints, root,
                               SIZE) == pytest.approx(2.0 + depth_fusion.BODY_DEPTH_M, abs=0.11)
    empty = np.zeros((48, 64), np.float32)
    assert measured_root_depth(empty, keypoints, visibility, joints, root, SIZE) is None
    far = np.full((48, 64), depth_fusion.MAX_DEPTH_M + 1, np.float32)
    assert measured_root_depth(far, keypoints, visibility, joints, root, SIZE) is None


def test_too_few_visible_torso_joints_gives_none() -> None:
    keypoints, visibility, joints, root = person()
    visibility[[J['left_shoulder'], J['right_shoulder'], J['left_hip']]] = 0.1
    depth = np.full((48, 64), 2.0, np.float32)
    assert measured_root_depth(depth, keypoints, visibility, joints, root, SIZE) is None


def test_depth_at_another_resolution_is_scaled() -> None:
    keypoints, visibility, joints, root = person()
    depth = np.full((24, 32), 4.0, np.float32)
    assert measured_root_depth(depth, keypoints, visibility, joints, root,
                               SIZE) == pytest.approx(4.0 + depth_fusion.BODY_DEPTH_M, abs=0.06)


def test_fusion_trusts_the_sensor_near_and_the_camera_never_alone() -> None:
    fused = fuse_depths(3.0, 2.0)
    assert 2.0 < fused < 2.05
    assert fuse_depths(2.0, 2.0) == pytest.approx(2.0)
    far = fuse_depths(15.0, 12.0)  # sensor noise grows with z^2: the camera counts more
    assert 12.0 < far < 15.0 and far - 12.0 > fused - 2.0


def test_move_to_depth_keeps_shape_and_ray() -> None:
    _, _, joints, root = person(3.0)
    root = np.array([0.6, -0.3, 3.0])
    joints = joints + root - [0.0, 0.0, 3.0]
    moved, new_root = move_to_depth(joints, root, 2.0)
    assert new_root[2] == pytest.approx(2.0)
    assert np.allclose(new_root / new_root[2], root / root[2])
    assert np.allclose(moved - new_root, joints - root)


def test_decode_depth_encodings_and_byte_order() -> None:
    millimetres = np.array([[1000, 0], [2500, 65535]], np.uint16)
    metres = decode_depth('16UC1', 2, 2, 6, False,
                          np.pad(millimetres.astype('<u2').view(np.uint8), ((0, 0), (0, 2)))
                          .tobytes())
    assert np.allclose(metres, [[1.0, 0.0], [2.5, 65.535]])
    big = decode_depth('16UC1', 2, 2, 4, True, millimetres.astype('>u2').tobytes())
    assert np.allclose(big, metres)
    floats = np.array([[1.5, np.nan]], np.float32)
    assert np.allclose(decode_depth('32FC1', 2, 1, 8, False, floats.tobytes()), floats,
                       equal_nan=True)
    with pytest.raises(ValueError, match='16UC1'):
        decode_depth('rgb8', 2, 1, 6, False, bytes(6))
    with pytest.raises(ValueError, match='bytes'):
        decode_depth('32FC1', 2, 1, 8, False, bytes(7))
