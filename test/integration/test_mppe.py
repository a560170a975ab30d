"""
3DMPPE RootNet and PoseNet: the networks, the official preprocessing and checkpoints.

The official weights cannot be downloaded here, so the checkpoints are written by the
tests in the official format (``module.`` keys); their heads are designed so that every
number the backend reports follows from the person's box and the intrinsics alone.
"""

import math
from pathlib import Path

import cv2
import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.regions import crop, Regions
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.geometry.root import prior_depth
from pose3d_ros.models.joint_sets import HUMAN36M_18, MUCO_21
from pose3d_ros.mppe.backend import Mppe
from pose3d_ros.mppe.checkpoint import load_posenet, load_rootnet, write_snapshot
from pose3d_ros.mppe.networks import fold_batch_norm, PoseNet, RootNet, soft_argmax
from pose3d_ros.mppe.preprocessing import normalise, PIXEL_MEAN, PIXEL_STD, process_boxes
from pose3d_ros.mppe.resnet import ResNet50Backbone
from pose3d_ros.samples import read_rgb
import pytest
import torch

from ..helpers import designed_depth_bin, DESIGNED_GAMMA, designed_mppe, needs_cuda

#: Parameters of torchvision's ResNet-50 (25,557,032) without its 2048 x 1000 classifier.
RESNET50_TRUNK_PARAMETERS = 25_557_032 - (2048 * 1000 + 1000)


def test_backbone_is_resnet50_with_torchvision_names() -> None:
    backbone = ResNet50Backbone()
    names = list(backbone.state_dict())
    assert sum(p.numel() for p in backbone.parameters()) == RESNET50_TRUNK_PARAMETERS
    for name in ('conv1.weight', 'bn1.running_var', 'layer1.0.downsample.0.weight',
                 'layer1.0.downsample.1.num_batches_tracked', 'layer3.5.conv3.weight',
                 'layer4.2.bn3.bias'):
        assert name in names
    assert backbone.layer2[0].conv2.stride == (2, 2)  # v1.5: the 3 x 3 convolution strides
    assert backbone.layer2[0].conv1.stride == (1, 1)
    with torch.inference_mode():
        assert backbone.eval()(torch.zeros(1, 3, 256, 256)).shape == (1, 2048, 8, 8)


def test_heads_have_the_official_layers() -> None:
    rootnet, posenet = RootNet(), PoseNet(21)
    deconv = rootnet.root.deconv_layers
    assert [type(m).__name__ for m in deconv] == ['ConvTranspose2d', 'BatchNorm2d', 'ReLU'] * 3
    assert deconv[0].kernel_size == (4, 4) and deconv[0].stride == (2, 2) \
        and deconv[0].padding == (1, 1) and deconv[0].bias is None
    assert deconv[0].in_channels == 2048 and deconv[6].out_channels == 256
    assert tuple(rootnet.root.depth_layer.weight.shape) == (1, 2048, 1, 1)
    assert tuple(posenet.head.final_layer.weight.shape) == (21 * 64, 256, 1, 1)
    assert {k.split('.')[0] for k in posenet.state_dict()} == {'backbone', 'head'}


def test_folding_batch_norm_keeps_the_outputs() -> None:
    import copy

    torch.manual_seed(1)
    images, k = torch.randn(1, 3, 256, 256), torch.tensor([3000.0])
    for network, inputs in ((RootNet(), (images, k)), (PoseNet(18), (images,))):
        for module in network.modules():  # statistics as training would leave them
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.data.uniform_(0.5, 1.5)
                module.bias.data.uniform_(-0.1, 0.1)
        network.eval()
        folded = fold_batch_norm(copy.deepcopy(network))
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
        with torch.inference_mode():
            torch.testing.assert_close(folded(*inputs), network(*inputs), atol=1e-3, rtol=1e-5)
    with pytest.raises(ValueError, match='evaluation mode'):
        fold_batch_norm(RootNet())


def test_soft_argmax_is_the_expected_cell() -> None:
    volume = torch.zeros(1, 2, 4, 5, 6)
    volume[0, 0, 3, 1, 2] = 100.0  # depth 3, row 1, column 2
    x, y, z = soft_argmax(volume)[0, 0].tolist()
    assert (x, y, z) == pytest.approx((2.0, 1.0, 3.0), abs=1e-4)
    flat = soft_argmax(torch.zeros(1, 1, 64, 64))[0, 0]
    assert flat.tolist() == pytest.approx([31.5, 31.5])


def test_process_boxes_follows_the_official_code() -> None:
    boxes = np.array([[10.0, 20.0, 110.0, 220.0],     # inside: h > w, padded in x
                      [-50.0, 100.0, 150.0, 140.0],   # clipped at the left edge
                      [700.0, 10.0, 800.0, 50.0],     # right of a 640 x 480 image
                      [30.0, 30.0, 30.0, 90.0],       # empty
                      [10.0, 10.0, 10.5, 10.5]])      # under a pixel: a square of side 0
    squares, valid = process_boxes(boxes, 640, 480)
    # x1 = 10, x2 = 10 + 99, y2 = 20 + 199: side max(99, 199) * 1.25 about (59.5, 119.5)
    np.testing.assert_allclose(squares[0], [59.5 - 124.375, 119.5 - 124.375, 248.75, 248.75])
    # clipped to x1 = 0, x2 = 0 + 199; y2 = 100 + 39: side 199 * 1.25 about (99.5, 119.5)
    np.testing.assert_allclose(squares[1], [99.5 - 124.375, 119.5 - 124.375, 248.75, 248.75])
    assert valid.tolist() == [True, True, False, False, False]
    # k = sqrt(2000 mm * 2000 mm * fx * fy / (w * h)), in metres.
    assert prior_depth(1000.0, 1000.0, squares[:1, 2])[0] == pytest.approx(2000.0 / 248.75)


def official_patch(image: np.ndarray, x: float, y: float, side: float) -> np.ndarray:
    """
    Return the official 256 x 256 patch of the square box at (x, y), float32.

    gen_trans_from_patch_cv maps the box centre, its right and its down points to the
    crop's; warpAffine samples bilinearly, zeros outside the image.
    """
    centre = np.array([x + side / 2.0, y + side / 2.0])
    source = np.float32([centre, centre + [0.0, side / 2.0], centre + [side / 2.0, 0.0]])
    target = np.float32([[128.0, 128.0], [128.0, 256.0], [256.0, 128.0]])
    return cv2.warpAffine(image, cv2.getAffineTransform(source, target), (256, 256),
                          flags=cv2.INTER_LINEAR).astype(np.float32)


def test_crop_matches_cv2_warp_affine_of_the_official_transform(sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    x, y, side = 150.3, -20.7, 300.9  # partly outside: both read zeros there
    centre = np.array([x + side / 2.0, y + side / 2.0])
    official = official_patch(rgb, x, y, side)
    image = torch.from_numpy(rgb).permute(2, 0, 1).float()
    regions = Regions(torch.tensor(centre[None], dtype=torch.float32),
                      torch.tensor([side], dtype=torch.float32), torch.zeros(1))
    ours = crop(image, regions, 256, 'zeros')[0].permute(1, 2, 0).numpy()
    difference = np.abs(ours - official)
    # Equal but for 8-bit rounding: measured 1 pixel value in 10,000 differs, by 1.
    assert difference.mean() < 0.01 and difference.max() <= 1.0, \
        (difference.mean(), difference.max())


def test_normalise_keeps_the_official_quirk() -> None:
    crops = torch.full((1, 3, 2, 2), 255.0)
    expected = [(255.0 - m) / s for m, s in zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    assert normalise(crops)[0, :, 0, 0].tolist() == pytest.approx(expected)


def test_checkpoints_load_from_the_official_format(mppe_checkpoints: tuple,
                                                   tmp_path: Path) -> None:
    rootnet_path, posenet_path = mppe_checkpoints
    rootnet = load_rootnet(rootnet_path)
    assert rootnet.root.depth_layer.bias.item() == pytest.approx(DESIGNED_GAMMA)
    assert load_posenet(posenet_path).joints == 21
    # Older PyTorch saved no BatchNorm counters; that is accepted.
    content = torch.load(rootnet_path, weights_only=True)
    content['network'] = {k: v for k, v in content['network'].items()
                          if not k.endswith('num_batches_tracked')}
    torch.save(content, tmp_path / 'old.pth.tar')
    load_rootnet(tmp_path / 'old.pth.tar')


def test_checkpoint_problems_are_named(mppe_checkpoints: tuple, tmp_path: Path) -> None:
    rootnet_path, posenet_path = mppe_checkpoints
    with pytest.raises(ValueError, match='3DMPPE_ROOTNET_RELEASE and set rootnet_checkpoint'):
        load_rootnet(tmp_path / 'missing.pth.tar')
    with pytest.raises(ValueError, match='not set'):
        load_posenet('')
    with pytest.raises(ValueError, match='missing: root.deconv_layers.0.weight.*unexpected: '
                       'head.deconv_layers.0.weight'):
        load_rootnet(posenet_path)  # a PoseNet file given as RootNet
    with pytest.raises(ValueError, match='not a PoseNet'):
        load_posenet(rootnet_path)
    content = torch.load(rootnet_path, weights_only=True)
    content['network']['module.root.depth_layer.weight'] = torch.zeros(2, 2048, 1, 1)
    torch.save(content, tmp_path / 'shape.pth.tar')
    with pytest.raises(ValueError, match=r'1 of the wrong shape: root.depth_layer.weight '
                       r'\(2, 2048, 1, 1\) \(expected \(1, 2048, 1, 1\)\)'):
        load_rootnet(tmp_path / 'shape.pth.tar')
    content = torch.load(rootnet_path, weights_only=True)
    del content['network']['module.root.xy_layer.bias']
    content['network']['module.root.extra'] = torch.zeros(1)
    torch.save(content, tmp_path / 'edited.pth.tar')
    with pytest.raises(ValueError, match=r'1 missing: root.xy_layer.bias; 1 unexpected: '
                       r'root.extra'):
        load_rootnet(tmp_path / 'edited.pth.tar')
    torch.save({'state_dict': {}}, tmp_path / 'other.pth.tar')
    with pytest.raises(ValueError, match="no 'network' state dict"):
        load_rootnet(tmp_path / 'other.pth.tar')
    (tmp_path / 'code.pth.tar').write_bytes(b'not a torch file')
    with pytest.raises(ValueError, match='not a readable RootNet snapshot'):
        load_rootnet(tmp_path / 'code.pth.tar')


def test_weights_only_loading_refuses_code(tmp_path: Path) -> None:
    import pickle

    class Payload:

        def __reduce__(self) -> tuple:
            return (print, ('code ran',))

    with open(tmp_path / 'evil.pth.tar', 'wb') as handle:
        pickle.dump({'network': Payload()}, handle, protocol=2)
    with pytest.raises(ValueError, match='not a readable'):
        load_rootnet(tmp_path / 'evil.pth.tar')


def test_human36m_posenet_gives_18_joints(tmp_path: Path) -> None:
    _, posenet = designed_mppe(joints=18)
    assert load_posenet(write_snapshot(posenet, tmp_path / 'h36m.pth.tar')).joints == 18
    torch.save({'network': {'module.head.final_layer.weight': torch.zeros(100, 256, 1, 1)}},
               tmp_path / 'odd.pth.tar')
    with pytest.raises(ValueError, match='100 channels'):
        load_posenet(tmp_path / 'odd.pth.tar')


@pytest.fixture(scope='module')
def mppe_estimator(mppe_checkpoints: tuple, model_dir: Path) -> PoseEstimator:
    """Give a CPU estimator with the 3dmppe backend on the designed checkpoints."""
    rootnet_path, posenet_path = mppe_checkpoints
    return PoseEstimator(EstimatorConfig(device='cpu', pose_backend='3dmppe',
                                         rootnet_checkpoint=str(rootnet_path),
                                         posenet_checkpoint=str(posenet_path),
                                         model_dir=str(model_dir)))


def test_backend_places_the_person_by_the_box_and_intrinsics(
        mppe_estimator: PoseEstimator, estimator: PoseEstimator, sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    intrinsics = [520.0, 0.0, 270.0, 0.0, 530.0, 175.0, 0.0, 0.0, 1.0]
    camera = CameraModel.from_values(rgb.shape[1], rgb.shape[0], intrinsics)
    (person,) = mppe_estimator(rgb, camera).persons
    (blazepose,) = estimator(rgb, camera).persons
    # The box is the landmarks' extent in the image, processed as the official code does.
    landmarks = np.clip(blazepose.keypoints_2d, 0, [rgb.shape[1] - 1, rgb.shape[0] - 1])
    squares, valid = process_boxes(np.concatenate([landmarks.min(0), landmarks.max(0)])[None],
                                   rgb.shape[1], rgb.shape[0])
    x, y, side = squares[0, 0], squares[0, 1], squares[0, 2]
    fx, fy, cx, cy = camera.intrinsics
    k_m = math.sqrt(fx * fy * 2000.0 * 2000.0 / side ** 2) / 1000.0
    assert person.joint_set is MUCO_21 and person.joints_3d.shape == (21, 3)
    assert person.root_prior_z == pytest.approx(k_m, rel=1e-4)
    # RootNet: depth gamma * k; its flat heatmap's soft-argmax is cell 31.5 = crop pixel 126.
    centre = np.array([x + side / 2.0, y + side / 2.0]) + (126.0 / 256.0 - 0.5) * side
    assert person.root[2] == pytest.approx(DESIGNED_GAMMA * k_m, rel=1e-4)
    np.testing.assert_allclose(person.root[:2], (centre - [cx, cy]) / [fx, fy] * person.root[2],
                               rtol=1e-3, atol=1e-4)
    # PoseNet: joint j in its designed depth bin, (bin / 64 * 2 - 1) m around the root.
    bins = np.array([designed_depth_bin(MUCO_21, j) for j in range(21)])
    np.testing.assert_allclose(person.joints_3d[:, 2], person.root[2] + (bins / 64 * 2 - 1),
                               atol=1e-4)
    np.testing.assert_allclose(person.keypoints_2d, np.tile(centre, (21, 1)), atol=0.05)
    np.testing.assert_allclose(person.joints_3d[:, :2], (person.keypoints_2d - [cx, cy]) /
                               [fx, fy] * person.joints_3d[:, 2:], atol=1e-4)
    assert person.visibility.tolist() == [1.0] * 21
    # The root is the hips' midpoint, as for every backend.
    np.testing.assert_allclose(person.root, person.joints_3d[list(MUCO_21.hips)].mean(0))


def test_networks_see_the_official_input_and_each_box_its_own_k(sample_dir: Path) -> None:
    rootnet, posenet = designed_mppe()
    mppe = Mppe(rootnet, posenet, torch.device('cpu'))
    seen = []
    mppe.rootnet.backbone.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    bgr = cv2.imread(str(sample_dir / 'messi5.jpg'))
    image = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1).float()
    boxes = np.array([[150.3, -20.7, 300.9, 300.9], [200.0, 100.0, 90.0, 90.0]])
    intrinsics = (500.0, 510.0, 270.0, 170.0)
    output = mppe(image, boxes, intrinsics)
    for index, (x, y, side, _) in enumerate(boxes):
        # The official pipeline: the patch of the BGR image, to RGB, float32 0..255
        # normalised with the ImageNet mean and std.
        patch = official_patch(bgr, x, y, side)[:, :, ::-1]
        official = (patch - np.array(PIXEL_MEAN)) / np.array(PIXEL_STD)
        ours = seen[0][index].permute(1, 2, 0).numpy()
        assert np.mean(np.abs(ours - official) > 1e-3) < 1e-3  # 8-bit rounding only
        k_m = math.sqrt(500.0 * 510.0 * 2.0 * 2.0 / side ** 2)
        assert output.prior_z[index] == pytest.approx(k_m)
        assert output.root_depth[index] == pytest.approx(DESIGNED_GAMMA * k_m, rel=1e-5)


def test_backend_needs_its_checkpoints(model_dir: Path) -> None:
    with pytest.raises(ValueError, match='rootnet_checkpoint'):
        PoseEstimator(EstimatorConfig(device='cpu', pose_backend='3dmppe',
                                      model_dir=str(model_dir)))


def test_command_runs_the_3dmppe_backend(mppe_checkpoints: tuple, sample_dir: Path,
                                         tmp_path: Path) -> None:
    import json

    from pose3d_ros.cli import estimate

    rootnet_path, posenet_path = mppe_checkpoints
    output = tmp_path / 'out.jsonl'
    common = ['--device', 'cpu', '--pose-backend', '3dmppe', '--rootnet-checkpoint',
              str(rootnet_path), '--posenet-checkpoint', str(posenet_path)]
    assert estimate.main([str(sample_dir / 'messi5.jpg'), *common, '--output', str(output),
                          '--render', str(tmp_path)]) == 0
    (person,) = json.loads(output.read_text())['persons']
    assert person['joint_set'] == 'muco21' and len(person['joints_3d']) == 21
    assert (tmp_path / 'messi5_pose3d.png').is_file()
    assert estimate.main([str(sample_dir / 'messi5.jpg'), *common, '--joint-set', 'coco17']) == 2
    assert estimate.main([str(sample_dir / 'messi5.jpg'), '--device', 'cpu',
                          '--pose-backend', '3dmppe']) == 2


def test_joint_sets_of_posenet_cannot_be_made_from_blazepose() -> None:
    with pytest.raises(ValueError, match='what a network predicts'):
        MUCO_21.convert(np.zeros((33, 2)))
    assert MUCO_21.hips == (11, 8) and MUCO_21.head == 16 and HUMAN36M_18.head == 9
    assert HUMAN36M_18.redundant == ()


@needs_cuda
def test_fp16_keeps_large_distance_priors_finite() -> None:
    rootnet, posenet = designed_mppe()
    mppe = Mppe(rootnet, posenet, torch.device('cuda'), torch.float16)
    image = torch.zeros((3, 480, 640), device='cuda')
    output = mppe(image, np.array([[300.0, 200.0, 30.0, 30.0]]), (3000.0, 3000.0, 320.0, 240.0))
    k_m = 3000.0 * 2.0 / 30.0  # k = 200 000 mm: beyond float16
    assert output.root_depth[0] == pytest.approx(DESIGNED_GAMMA * k_m, rel=1e-3)
    assert np.isfinite(output.joints).all()
