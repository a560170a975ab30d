"""The lifting backend: the estimator's 2D landmarks lifted to Human3.6M-17 and placed."""

from pathlib import Path

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.evaluation.crowds import crowd
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models.joint_sets import HUMAN36M_17
from pose3d_ros.samples import read_player, read_rgb
import pytest


@pytest.fixture(scope='module')
def lifting_estimator(quick_lifter: Path, model_dir: Path) -> PoseEstimator:
    return PoseEstimator(EstimatorConfig(device='cpu', pose_backend='lifting',
                                         lifter_weights=str(quick_lifter),
                                         model_dir=str(model_dir)))


def test_messi_is_lifted_and_placed_like_blazepose(
        lifting_estimator: PoseEstimator, estimator: PoseEstimator, sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])
    (lifted,) = lifting_estimator(rgb, camera).persons
    (blazepose,) = estimator(rgb, camera).persons
    assert lifted.joint_set is HUMAN36M_17
    assert lifted.joints_3d.shape == (17, 3) and lifted.keypoints_2d.shape == (17, 2)
    assert lifted.visibility.shape == (17,)
    # The 2D keypoints are BlazePose's, mapped to Human3.6M-17.
    np.testing.assert_allclose(lifted.keypoints_2d, HUMAN36M_17.convert(blazepose.keypoints_2d))
    # The root is the pelvis of the placed skeleton, near BlazePose's placement.
    np.testing.assert_allclose(lifted.root, lifted.joints_3d[list(HUMAN36M_17.hips)].mean(0),
                               atol=1e-9)
    assert np.linalg.norm(lifted.root - blazepose.root) < 0.35
    # A human skeleton: pelvis-relative joints within a metre, head above the pelvis.
    relative = lifted.joints_3d - lifted.root
    assert np.abs(relative).max() < 1.2
    assert relative[HUMAN36M_17.index('head'), 1] < -0.3
    assert lifted.to_json()['joint_set'] == 'h36m17'


def test_lifting_backend_needs_trained_weights(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ValueError, match='pose3d-lifter train'):
        PoseEstimator(EstimatorConfig(device='cpu', pose_backend='lifting',
                                      lifter_weights=str(tmp_path / 'none.pt'),
                                      model_dir=str(model_dir)))
    with pytest.raises(ValueError, match='pose_backend'):
        EstimatorConfig(pose_backend='openpose')


def test_command_lifts_with_the_lifting_backend(quick_lifter: Path, sample_dir: Path,
                                                tmp_path: Path) -> None:
    import json

    from pose3d_ros.cli import estimate

    output = tmp_path / 'out.jsonl'
    common = ['--device', 'cpu', '--pose-backend', 'lifting',
              '--lifter-weights', str(quick_lifter)]
    assert estimate.main([str(sample_dir / 'messi5.jpg'), *common, '--joint-set', 'h36m17',
                          '--output', str(output), '--render', str(tmp_path)]) == 0
    (person,) = json.loads(output.read_text())['persons']
    assert person['joint_set'] == 'h36m17' and len(person['joints_3d']) == 17
    assert person['converted']['joints_3d'] == person['joints_3d']
    assert (tmp_path / 'messi5_pose3d.png').is_file()
    assert estimate.main([str(sample_dir / 'messi5.jpg'), *common,
                          '--joint-set', 'coco17']) == 2


def test_messages_carry_the_persons_joint_set(lifting_estimator: PoseEstimator,
                                              sample_dir: Path) -> None:
    from pose3d_ros.node import messages
    from std_msgs.msg import Header

    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])
    persons = lifting_estimator(rgb, camera).persons
    header = Header(frame_id='camera')
    array = messages.markers(header, persons, 0.05, 0.5, 0.0)
    bones = [m for m in array.markers if m.ns == 'bones'][0]
    assert len(bones.points) == 2 * len(HUMAN36M_17.edges)
    assert len(messages.joint_poses(header, persons).poses) == 17
    cloud = messages.skeleton_cloud(header, persons)
    assert cloud.width == 17
    (back,) = messages.persons_from_cloud(cloud, camera)
    assert back.joint_set is HUMAN36M_17
    np.testing.assert_allclose(back.joints_3d, persons[0].joints_3d, atol=1e-6)
    assert messages.debug_image(header, rgb, persons, 0.5).width == rgb.shape[1]


def test_person_the_lifter_refuses_is_dropped_not_the_frame(
        lifting_estimator: PoseEstimator, sample_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])
    lifter = lifting_estimator.backend.lifter

    def refuse_all(points: np.ndarray) -> tuple:
        return np.full((len(points), 17, 3), np.nan), ['refused'] * len(points)

    monkeypatch.setattr(lifter, 'lift_each', refuse_all)
    result = lifting_estimator(rgb, camera)
    assert result.persons == () and 'place' in result.timings_ms
    monkeypatch.undo()
    # Of three people, refusing the second leaves the other two as they were, in order.
    frame = crowd(read_player(), read_rgb(sample_dir / 'building.jpg'), 3, (640, 480))
    camera = CameraModel.from_hfov(640, 480)
    everyone = lifting_estimator(frame, camera).persons
    assert len(everyone) == 3
    lift_each = lifter.lift_each

    def refuse_second(points: np.ndarray) -> tuple:
        lifted, reasons = lift_each(points)
        if len(points) > 1:  # the far rows' pass, after the first, finds nobody here
            lifted[1], reasons[1] = np.nan, 'refused'
        return lifted, reasons

    monkeypatch.setattr(lifter, 'lift_each', refuse_second)
    kept = lifting_estimator(frame, camera).persons
    assert len(kept) == 2
    for person, reference in zip(kept, (everyone[0], everyone[2])):
        np.testing.assert_allclose(person.joints_3d, reference.joints_3d, atol=1e-9)
        np.testing.assert_allclose(person.alignment_2d, reference.alignment_2d, atol=1e-9)
        assert person.score == reference.score
