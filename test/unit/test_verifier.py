"""The verifier's physics on made-up placements: who is a person, whatever proposed them."""

import numpy as np
from pose3d_ros.estimation.backends import Placement
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.landmarks import KeptPersons
from pose3d_ros.estimation.verifier import body_shaped, Evidence, verify
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.root import prior_depth
from pose3d_ros.models.joint_sets import BLAZEPOSE_33
import torch

CAMERA = CameraModel.from_hfov(640, 480, 60.0)


def standing(depth: float, rng: np.random.Generator) -> np.ndarray:
    """Return (33, 3) joints of a 1.7 m tall body at ``depth`` metres, camera frame."""
    joints = rng.uniform([-0.25, -0.85, -0.1], [0.25, 0.85, 0.1], (33, 3))
    joints[:, 2] += depth
    joints[[23, 24], 1] = 0.0  # the hips, the root, at the middle
    return joints


def scene(depths, region_sides, shift_px=0.0):
    """Kept persons and their placement: joints at ``depths``, seen through ``CAMERA``."""
    rng = np.random.default_rng(0)
    fx, fy, cx, cy = CAMERA.intrinsics
    joints = np.stack([standing(depth, rng) for depth in depths])
    pixels = joints[..., :2] / joints[..., 2:] * [fx, fy] + [cx, cy]
    pixels[..., 0] += shift_px
    count = len(depths)
    sides = np.asarray(region_sides, float)
    kept = KeptPersons(
        pixels=pixels, delivered=pixels, world=joints - joints[:, [23]], visibility=np.ones(
            (count, 33)), inside=np.ones((count, 33)), alignment=pixels[:, :2],
        sides=sides, scores=np.ones(count))
    placement = Placement(pixels, np.ones((count, 33)), joints, prior_depth(fx, fy, sides),
                          np.ones(count, bool))
    return kept, placement


def shape_of(kept: KeptPersons, support: list) -> tuple:
    """Return what :func:`body_shaped` reads of ``kept``, with the given body support."""
    return (torch.from_numpy(kept.pixels), torch.from_numpy(kept.sides),
            torch.tensor(support, dtype=torch.float64))


def test_a_placed_body_is_measured_as_one() -> None:
    fx = CAMERA.intrinsics[0]
    # A 1.7 m person at 3 m spans fx * 1.7 / 3 px; its region about 1.2 times that.
    side = fx * 1.7 / 3.0 * 1.2
    kept, placement = scene([3.0], [side])
    evidence = Evidence.of(placement, CAMERA, kept.sides, BLAZEPOSE_33)
    assert evidence.reprojection[0] < 1e-9
    assert 0.5 < evidence.distance_ratio[0] < 2.0
    assert body_shaped(*shape_of(kept, [1.0]), EstimatorConfig()).tolist() == [True]
    assert verify(kept, placement, CAMERA, BLAZEPOSE_33, EstimatorConfig())[0].scores.size == 1


def test_each_physics_check_rejects_what_it_is_for() -> None:
    fx = CAMERA.intrinsics[0]
    side = fx * 1.7 / 3.0 * 1.2
    config = EstimatorConfig()
    # A skeleton in a region ten times too large: distances disagree, the body is too small
    # for its region.
    kept, placement = scene([3.0], [side * 10])
    evidence = Evidence.of(placement, CAMERA, kept.sides, BLAZEPOSE_33)
    assert evidence.distance_ratio[0] > config.max_distance_ratio
    assert body_shaped(*shape_of(kept, [1.0]), config).tolist() == [False]
    # 2D landmarks that the placed skeleton does not project onto.
    kept, placement = scene([3.0, 3.0], [side, side], shift_px=np.array([[0.0], [0.3 * side]]))
    assert Evidence.of(placement, CAMERA, kept.sides, BLAZEPOSE_33).reprojection[1] > \
        config.max_reprojection_error
    survivors, placed = verify(kept, placement, CAMERA, BLAZEPOSE_33, config)
    assert survivors.sides.tolist() == [side] and len(placed.joints) == 1
    # A skeleton drawn on someone's limb: the segmentation does not hold its torso.
    kept, _ = scene([3.0, 3.0], [side, side])
    assert body_shaped(*shape_of(kept, [1.0, 0.3]), config).tolist() == [True, False]


def test_no_persons_is_nothing_to_verify() -> None:
    kept, placement = scene([3.0], [100.0])
    empty = kept.select(np.zeros(1, bool)), placement.select(np.zeros(1, bool))
    evidence = Evidence.of(empty[1], CAMERA, empty[0].sides, BLAZEPOSE_33)
    assert evidence.distance_ratio.shape == evidence.reprojection.shape == (0,)
    assert len(verify(*empty, CAMERA, BLAZEPOSE_33, EstimatorConfig())[1].joints) == 0


def test_a_frame_without_persons_through_a_distorted_camera() -> None:
    camera = CameraModel.from_values(640, 480, [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0,
                                                0.0, 1.0], d=[-0.2, 0.05, 0.0, 0.0, 0.0])
    assert camera.distorted and camera.normalised(np.zeros((0, 33, 2))).shape == (0, 33, 2)
    kept, placement = scene([3.0], [100.0])
    empty = kept.select(np.zeros(1, bool)), placement.select(np.zeros(1, bool))
    assert len(verify(*empty, camera, BLAZEPOSE_33, EstimatorConfig())[1].joints) == 0
