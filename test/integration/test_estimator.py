"""CPU integration of the whole estimator on real photographs from Debian's opencv-doc."""

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models.blazepose import LANDMARK_NAMES
from pose3d_ros.samples import NO_PERSON_IMAGES
from pose3d_ros.samples import read_rgb
import pytest

STAGES = ('preprocess', 'propose', 'landmarks', 'place', 'postprocess')


def joint(name: str) -> int:
    return LANDMARK_NAMES.index(name)


def test_messi_is_one_person_standing_a_few_metres_away(estimator, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])
    result = estimator(rgb, camera)
    assert len(result.persons) == 1 and tuple(result.timings_ms) == STAGES
    person = result.persons[0]
    assert person.score > 0.9 and person.root_from_fit and person.track_id is None
    assert person.keypoints_2d.shape == (33, 2) and person.joints_3d.shape == (33, 3)
    # The player's face is near (250, 114) px (checked by eye, and MediaPipe agrees).
    np.testing.assert_allclose(person.keypoints_2d[joint('nose')], [250, 114], atol=3)
    x0, y0, x1, y1 = person.bbox
    assert 0 <= x0 < 120 and 60 < y0 < 120 and 400 < x1 < 460 and 300 < y1 <= 341
    # In front of the camera at a plausible distance; the prior agrees within 25 %.
    assert 1.5 < person.root[2] < 4.0
    assert abs(person.root_prior_z / person.root[2] - 1) < 0.25
    np.testing.assert_allclose(person.root, person.joints_3d[[23, 24]].mean(axis=0),
                               atol=1e-9)
    # Physical sanity: the head is above the hips (y down) and limbs have human lengths.
    assert person.joints_3d[joint('nose'), 1] < person.root[1] - 0.3
    shin = np.linalg.norm(person.joints_3d[joint('left_knee')] -
                          person.joints_3d[joint('left_ankle')])
    assert 0.3 < shin < 0.6
    # Projecting the 3D joints gives back the 2D keypoints (least squares, not exact).
    fx, fy, cx, cy = camera.intrinsics
    projected = person.joints_3d[:, :2] / person.joints_3d[:, 2:] * [fx, fy] + [cx, cy]
    assert np.median(np.linalg.norm(projected - person.keypoints_2d, axis=1)) < 15


def test_json_record(estimator, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    record = estimator(rgb, CameraModel.from_hfov(548, 342)).to_json('messi5.jpg')
    assert record['image_size'] == [548, 342] and record['camera']['calibrated'] is False
    person = record['persons'][0]
    assert set(person) == {'score', 'bbox', 'keypoints_2d', 'visibility', 'joints_3d', 'root',
                           'root_prior_z', 'id', 'joint_set', 'on_ground', 'height_m', 'foot'}
    # messi5.jpg's player lunges: not standing, so no floor from one person either.
    assert record['ground'] is None and person['on_ground'] is False
    assert person['height_m'] is None and person['foot'] is None
    assert len(person['keypoints_2d']) == len(person['joints_3d']) == 33
    assert person['joint_set'] == 'blazepose33'


@pytest.mark.parametrize('name', NO_PERSON_IMAGES)
def test_no_person_where_there_is_none(estimator, sample_dir, name: str) -> None:
    rgb = read_rgb(sample_dir / name)
    result = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0]))
    assert result.persons == ()


def test_bad_input_raises_value_error(estimator) -> None:
    camera = CameraModel.from_hfov(64, 48)
    for image in (np.zeros((48, 64), np.uint8), np.zeros((48, 64, 3), np.float32),
                  np.zeros((0, 64, 3), np.uint8)):
        with pytest.raises(ValueError, match='uint8'):
            estimator(image, camera)
    with pytest.raises(ValueError, match='camera model is 64 x 48'):
        estimator(np.zeros((50, 64, 3), np.uint8), camera)


def test_tiny_and_blank_images_find_nobody(estimator) -> None:
    for height, width in ((1, 1), (7, 300), (480, 640)):
        blank = np.full((height, width, 3), 127, np.uint8)
        assert estimator(blank, CameraModel.from_hfov(width, height)).persons == ()


def test_fp16_needs_cuda(model_dir) -> None:
    from pose3d_ros.estimation.estimator import PoseEstimator
    with pytest.raises(ValueError, match='fp16 needs a CUDA device'):
        PoseEstimator(EstimatorConfig(device='cpu', fp16=True, model_dir=str(model_dir)))


def test_config_rejects_bad_values() -> None:
    for bad in ({'min_detection_score': 1.5}, {'detector_grids': (0,)}, {'max_persons': 0},
                {'tile_overlap': 0.95}, {'device': 'tpu'}, {'min_visible_landmarks': 40}):
        with pytest.raises(ValueError):
            EstimatorConfig(**bad)


def test_warm_up_leaves_results_unchanged(estimator, sample_dir) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    camera = CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])
    before = estimator(rgb, camera).persons[0]
    estimator.warm_up(320, 240)
    after = estimator(rgb, camera).persons[0]
    np.testing.assert_array_equal(before.keypoints_2d, after.keypoints_2d)
    np.testing.assert_array_equal(before.root, after.root)
