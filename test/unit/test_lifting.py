"""The Martinez lifting network, its generated training data, metrics and weight files."""

import json
from pathlib import Path

import numpy as np
from pose3d_ros.evaluation.pose_metrics import mpjpe, pa_mpjpe, procrustes_align
from pose3d_ros.lifting import data, kinematics
from pose3d_ros.lifting.kinematics import ANTHROPOMETRY, J, PoseLimits, sample_poses
from pose3d_ros.lifting.lifter import Lifter
from pose3d_ros.lifting.network import LiftingNetwork, MaxNormLinear
from pose3d_ros.models.joint_sets import HUMAN36M_17
import pytest
import torch


def test_network_is_the_published_architecture() -> None:
    network = LiftingNetwork().eval()
    linear = [m for m in network.modules() if isinstance(m, MaxNormLinear)]
    assert [(m.in_features, m.out_features) for m in linear] == \
        [(32, 1024)] + [(1024, 1024)] * 4 + [(1024, 48)]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in network.modules()) == 5
    assert all(m.p == 0.5 for m in network.modules() if isinstance(m, torch.nn.Dropout))
    assert 4.2e6 < sum(p.numel() for p in network.parameters()) < 4.4e6  # "about 4.3 M"
    with torch.inference_mode():
        assert network(torch.zeros(3, 32)).shape == (3, 48)
    with pytest.raises(ValueError, match='32'):
        network(torch.zeros(3, 34))


def test_max_norm_clips_the_weight_matrix_in_use() -> None:
    layer = MaxNormLinear(4, 3)
    with torch.no_grad():
        layer.weight.mul_(100.0)
    x = torch.randn(5, 4)
    clipped = layer.weight / torch.linalg.norm(layer.weight)
    torch.testing.assert_close(layer(x), x @ clipped.T + layer.bias)
    with torch.no_grad():  # a small matrix is used as it is
        layer.weight.mul_(1e-4 / torch.linalg.norm(layer.weight))
    torch.testing.assert_close(layer(x), x @ layer.weight.T + layer.bias)


def _length(poses: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(poses[:, J[a]] - poses[:, J[b]], axis=-1)


def test_neutral_pose_has_the_anthropometric_lengths() -> None:
    still = {name: (0.0, 0.0) for name in PoseLimits.__dataclass_fields__
             if name not in ('stature_m', 'segment_spread')}
    pose = sample_poses(1, np.random.default_rng(0),
                        PoseLimits(stature_m=(1.8, 1.8), segment_spread=0.0, **still))
    assert _length(pose, 'left_hip', 'left_knee')[0] == pytest.approx(0.245 * 1.8)
    assert _length(pose, 'right_elbow', 'right_wrist')[0] == pytest.approx(0.146 * 1.8)
    assert pose[0, J['left_ankle'], 1] == pytest.approx(-(0.245 + 0.246) * 1.8)  # feet below
    assert pose[0, J['head'], 1] > pose[0, J['thorax'], 1] > 0  # head up
    assert pose[0, J['nose'], 2] > 0  # facing +Z
    assert pose[0, J['left_shoulder'], 0] > 0 > pose[0, J['right_shoulder'], 0]  # left is +X


def test_random_poses_respect_lengths_and_joint_limits() -> None:
    limits = PoseLimits()
    poses = sample_poses(5000, np.random.default_rng(1), limits)
    assert poses.shape == (5000, 17, 3) and np.isfinite(poses).all()
    np.testing.assert_allclose(poses[:, J['pelvis']], 0.0, atol=1e-12)
    np.testing.assert_allclose(poses[:, [J['left_hip'], J['right_hip']]].mean(1), 0.0,
                               atol=1e-12)  # the pelvis is the hip midpoint
    stature = limits.stature_m
    for a, b, fraction in (('left_hip', 'left_knee', ANTHROPOMETRY['thigh']),
                           ('right_knee', 'right_ankle', ANTHROPOMETRY['shank']),
                           ('left_shoulder', 'left_elbow', ANTHROPOMETRY['upper_arm'])):
        length = _length(poses, a, b)
        assert (length > fraction * stature[0] * 0.75).all()
        assert (length < fraction * stature[1] * 1.25).all()
    thigh = poses[:, J['left_knee']] - poses[:, J['left_hip']]
    shank = poses[:, J['left_ankle']] - poses[:, J['left_knee']]
    cosine = (thigh * shank).sum(-1) / np.linalg.norm(thigh, axis=-1) / \
        np.linalg.norm(shank, axis=-1)
    bend = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    assert bend.max() <= limits.knee_flexion[1] + 1e-6 and bend.max() > 120
    assert np.allclose(poses[:, J['spine']], poses[:, J['thorax']] / 2)


def test_rotation_matrices_are_right_handed() -> None:
    angle = np.array([np.pi / 2])
    np.testing.assert_allclose(kinematics.rotation('z', angle)[0] @ [1, 0, 0], [0, 1, 0],
                               atol=1e-12)
    np.testing.assert_allclose(kinematics.rotation('x', angle)[0] @ [0, 1, 0], [0, 0, 1],
                               atol=1e-12)
    np.testing.assert_allclose(kinematics.rotation('y', angle)[0] @ [0, 0, 1], [1, 0, 0],
                               atol=1e-12)


def test_pairs_are_reproducible_camera_invariant_and_root_relative() -> None:
    inputs, targets = data.make_pairs(1000, seed=5)
    again, _ = data.make_pairs(1000, seed=5)
    other, _ = data.make_pairs(1000, seed=6)
    np.testing.assert_array_equal(inputs, again)
    assert not np.allclose(inputs, other)
    assert inputs.shape == (1000, 32) and targets.shape == (1000, 48)
    assert inputs.dtype == targets.dtype == np.float32
    # The input is centred on the pelvis (the hip midpoint, as the estimator makes it) and
    # of unit RMS size over the 17 joints.
    points = inputs.reshape(-1, 16, 2).astype(np.float64)
    np.testing.assert_allclose((points ** 2).sum(-1).sum(-1) / 17, 1.0, rtol=1e-5)
    # Moving or scaling the 2D skeleton (another camera, another distance) changes nothing.
    skeleton = np.random.default_rng(0).normal(size=(4, 17, 2))
    np.testing.assert_allclose(data.normalise_2d(skeleton * 3.0 + [0.2, -0.1]),
                               data.normalise_2d(skeleton), atol=1e-12)
    with pytest.raises(ValueError, match='degenerate'):
        data.normalise_2d(np.zeros((1, 17, 2)))
    # Targets are human-sized and relative to the pelvis.
    assert 0.3 < np.abs(targets).max() < 1.5


def test_poses_in_view_are_in_front_of_the_camera() -> None:
    rng = np.random.default_rng(2)
    placed = data.place_in_view(sample_poses(2000, rng), rng)
    assert (placed[..., 2] > 0.3).all()
    pelvis = placed[:, J['pelvis']]
    assert (np.abs(pelvis[:, :2] / pelvis[:, 2:]) <= 0.5 + 1e-9).all()
    assert ((1.5 <= pelvis[:, 2]) & (pelvis[:, 2] <= 8.0)).all()


def test_metrics() -> None:
    rng = np.random.default_rng(3)
    target = rng.normal(size=(6, 17, 3))
    assert mpjpe(target, target) == 0.0
    assert mpjpe(target + [0.0, 0.0, 0.01], target) == pytest.approx(0.01)
    angle = np.array([0.7])
    moved = 1.3 * target @ kinematics.rotation('y', angle)[0].T + [1.0, 2.0, 3.0]
    assert pa_mpjpe(moved, target) == pytest.approx(0.0, abs=1e-9)
    mirrored = target * [-1.0, 1.0, 1.0]  # a reflection is not a rotation: not undone
    assert pa_mpjpe(mirrored, target) > 0.1
    assert procrustes_align(moved, target).shape == target.shape
    with pytest.raises(ValueError):
        mpjpe(target, target[:, :16])


def test_lifter_file_round_trip_and_integrity(tmp_path: Path) -> None:
    statistics = {'input_mean': np.zeros(32), 'input_std': np.ones(32),
                  'target_mean': np.full(48, 0.1), 'target_std': np.full(48, 0.2)}
    lifter = Lifter(LiftingNetwork(), statistics, {'name': 'test'})
    path = tmp_path / 'test.pt'
    digest = lifter.save(path, {'mpjpe_mm': 1.0})
    record = json.loads(path.with_suffix('.json').read_text())
    assert record['sha256'] == digest and record['evaluation'] == {'mpjpe_mm': 1.0}
    loaded = Lifter.load(path)
    skeletons = np.random.default_rng(4).normal(size=(3, 17, 2)) * 0.1
    np.testing.assert_allclose(loaded.lift(skeletons), lifter.lift(skeletons), atol=1e-6)
    lifted = loaded.lift(skeletons)
    assert lifted.shape == (3, 17, 3) and (lifted[:, J['pelvis']] == 0).all()
    path.write_bytes(path.read_bytes() + b'x')
    with pytest.raises(ValueError, match='SHA-256'):
        Lifter.load(path)
    with pytest.raises(ValueError, match='pose3d-lifter train'):
        Lifter.load(tmp_path / 'missing.pt')


def test_joint_order_is_human36m() -> None:
    assert kinematics.NAMES == HUMAN36M_17.joint_names and data.PELVIS == 0


def test_quick_training_beats_the_mean_pose_by_a_wide_margin(
        quick_lifter: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    from pose3d_ros.cli import lifter as command

    # The fixture ran `pose3d-lifter train --quick` into this directory.
    assert quick_lifter.is_file() and quick_lifter.with_suffix('.json').is_file()
    monkeypatch.setenv('POSE3D_LIFTER_DIR', str(quick_lifter.parent))
    assert command.main(['eval', '--quick']) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result['mpjpe_mm'] < 0.6 * result['mean_pose_mpjpe_mm'], result
    assert result['pa_mpjpe_mm'] < result['mpjpe_mm'], result
    # BlazePose's 2D keypoints on the sample photograph (and its mirror image), lifted,
    # land near BlazePose's own 3D skeletons.
    assert result['blazepose_skeletons'] == 2
    assert result['blazepose_agreement_mm'] < result['mean_pose_mpjpe_mm'], result


def test_eval_without_weights_says_how_to_make_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    from pose3d_ros.cli import lifter as command

    monkeypatch.setenv('POSE3D_LIFTER_DIR', str(tmp_path))
    assert command.main(['eval', '--no-photos']) == 2
    assert 'pose3d-lifter train' in capsys.readouterr().err


def test_train_rejects_bad_arguments(capsys: pytest.CaptureFixture) -> None:
    from pose3d_ros.cli import lifter as command

    for arguments in (['--steps', '0'], ['--threads', '-1'], ['--seed', '1000003']):
        assert command.main(['train', '--quick', *arguments]) == 2, arguments
        assert 'error:' in capsys.readouterr().err


def test_a_person_anywhere_in_the_image_gets_the_same_input_and_answer() -> None:
    # The same body turned with the camera's view of it (a rotation about the camera
    # centre that takes the optical axis to another ray) must give the same network
    # input, and the answer must turn back with it.
    rng = np.random.default_rng(8)
    body = data.place_in_view(sample_poses(3, rng), rng,
                              data.ViewRanges(image_offset=0.0))  # on the optical axis
    turn = data.facing_rotation(np.array([[0.4, -0.3]] * 3)).transpose(0, 2, 1)
    moved = body @ turn.transpose(0, 2, 1)  # now off-centre, seen from another angle
    inputs, rotations = data.network_input(body[..., :2] / body[..., 2:])
    moved_inputs, moved_rotations = data.network_input(moved[..., :2] / moved[..., 2:])
    # Not exactly: the virtual camera faces the 2D hip midpoint, which is not quite the
    # projection of the 3D one (about 1 % of the skeleton's size here).
    np.testing.assert_allclose(moved_inputs, inputs, atol=0.02)
    answer = rng.normal(size=(3, 48)) * 0.3
    np.testing.assert_allclose(data.to_skeletons(answer, moved_rotations),
                               data.to_skeletons(answer, rotations) @ turn.transpose(0, 2, 1),
                               atol=0.02)
    # Without the virtual camera the inputs would differ by far more.
    plain = data.normalise_2d(body[..., :2] / body[..., 2:]).reshape(3, -1)
    plain_moved = data.normalise_2d(moved[..., :2] / moved[..., 2:]).reshape(3, -1)
    assert np.abs(plain - plain_moved).max() > 0.1
    ray = np.array([[0.3, 0.2]])
    facing = data.facing_rotation(ray)[0]
    np.testing.assert_allclose(facing @ np.append(ray[0], 1.0) / np.linalg.norm(
        np.append(ray[0], 1.0)), [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(facing @ facing.T, np.eye(3), atol=1e-12)


def test_only_averages_of_the_sets_own_joints_are_redundant() -> None:
    from pose3d_ros.models.joint_sets import BLAZEPOSE_33, COCO_17

    names = [HUMAN36M_17.joint_names[i] for i in HUMAN36M_17.redundant]
    assert names == ['pelvis', 'spine', 'thorax']  # the head averages the ears: not here
    assert BLAZEPOSE_33.redundant == () and COCO_17.redundant == ()


def test_lift_each_refuses_only_the_skeletons_it_cannot_take() -> None:
    statistics = {'input_mean': np.zeros(32), 'input_std': np.ones(32),
                  'target_mean': np.zeros(48), 'target_std': np.ones(48)}
    lifter = Lifter(LiftingNetwork(), statistics, {'name': 'test'})
    skeletons = np.random.default_rng(5).normal(size=(3, 17, 2)) * 0.1
    lifted, reasons = lifter.lift_each(skeletons)
    assert reasons == [None, None, None]
    np.testing.assert_allclose(lifted, lifter.lift(skeletons), atol=1e-9)
    skeletons[1] = 0.0  # no extent: the lifter cannot take it
    lifted, reasons = lifter.lift_each(skeletons)
    assert reasons[0] is None and reasons[2] is None and 'degenerate' in reasons[1]
    assert np.isnan(lifted[1]).all()
    np.testing.assert_allclose(lifted[[0, 2]], lifter.lift(skeletons[[0, 2]]), atol=1e-6)
    lifted, reasons = lifter.lift_each(np.zeros((0, 17, 2)))  # nobody: nothing to refuse
    assert lifted.shape == (0, 17, 3) and reasons == []
