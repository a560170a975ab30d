"""
fp16 where it is safe: output layers and 3DMPPE's stem in float32 (on the CPU).

PyTorch runs float16 convolutions on the CPU as well, so the precision plan is checked
here on a real person with the real weights; ``bench/precision.py`` measures it on every
person of the real photographs.
"""

from pathlib import Path

import numpy as np
from pose3d_ros.estimation.landmarks import regions_from_keypoints
from pose3d_ros.estimation.regions import crop
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models.blazepose import POSE_LANDMARK_FULL
from pose3d_ros.models.precision import Float32Layer, head_layers
from pose3d_ros.models.runtime import TorchNetwork
from pose3d_ros.mppe.backend import Mppe
from pose3d_ros.mppe.networks import PoseNet, RootNet
from pose3d_ros.mppe.preprocessing import normalise
from pose3d_ros.samples import read_rgb
import torch


def test_fp16_landmarks_leave_their_heads_in_float32(estimator, model_dir: Path,
                                                     sample_dir: Path) -> None:
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    person = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)).persons[0]
    regions = regions_from_keypoints(torch.tensor(person.alignment_2d[None], dtype=torch.float32))
    image = torch.from_numpy(rgb).permute(2, 0, 1).float()
    batch = POSE_LANDMARK_FULL.to_input(crop(image, regions, 256, 'border'))
    half = TorchNetwork(POSE_LANDMARK_FULL, torch.device('cpu'), torch.float16, model_dir)
    heads = {name for name, layer in half.module.named_modules()
             if isinstance(layer, Float32Layer)}
    assert heads == head_layers(POSE_LANDMARK_FULL.load(model_dir)) and len(heads) == 5
    with torch.inference_mode():
        found = half(batch)
        expected = TorchNetwork(POSE_LANDMARK_FULL, torch.device('cpu'), torch.float32,
                                model_dir)(batch)
    assert all(output.dtype == torch.float32 for output in found)
    # Crop pixels: the landmarks keep fractions finer than fp16's 0.125 px steps at 128-256,
    # and the network's half-precision body moves them by under a pixel (measured 0.51
    # at most over the photographs' six people).
    pixels = found[0].reshape(-1, 5)[:, :2]
    assert ((pixels * 8) % 1).abs().max() > 0.01
    np.testing.assert_allclose(pixels.numpy(), expected[0].reshape(-1, 5)[:, :2].numpy(),
                               atol=1.0)
    np.testing.assert_allclose(found[4].numpy(), expected[4].numpy(), atol=0.03)  # metres


def test_3dmppe_reads_its_wide_inputs_in_float32(sample_dir: Path) -> None:
    torch.manual_seed(0)
    mppe = Mppe(RootNet(), PoseNet(21), torch.device('cpu'), torch.float16)
    for network in (mppe.rootnet, mppe.posenet):
        stem = network.backbone.conv1
        assert isinstance(stem, Float32Layer) and stem.layer.weight.dtype == torch.float32
        assert stem.output_dtype == torch.float16
    rgb = read_rgb(sample_dir / 'messi5.jpg')
    pixels = torch.from_numpy(rgb[:256, :256].copy()).permute(2, 0, 1).float()[None]
    inputs = normalise(pixels)
    assert float(inputs.abs().max()) > 1000  # fp16 steps by 0.5 to 1 there
    with torch.inference_mode():
        stem = mppe.rootnet.backbone.conv1
        found = stem(inputs)
        expected = torch.nn.functional.conv2d(inputs, stem.layer.weight, stem.layer.bias,
                                              stride=2, padding=3)
    assert found.dtype == torch.float16
    torch.testing.assert_close(found.float(), expected.half().float())
