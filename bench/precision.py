"""
fp16 against float32 on real photographs: what the float32 heads and stem keep.

The persons the float32 estimator finds in bus.jpg, zidane.jpg and messi5.jpg are cropped
as the landmark stage crops them (256 x 256) and the detector's full-frame view of each
photograph as the detector sees it (224 x 224). Each network then runs in float32, in
float16 as it runs now (:mod:`pose3d_ros.models.precision`: its output layers, the heads,
in float32) and in float16 throughout (the heads too), and the outputs are compared with
float32's: the landmarks (crop pixels), the world landmarks (mm), the detector's
regressors (input pixels). 3DMPPE's RootNet and PoseNet (randomly initialised: the real
layers and shapes, not the official weights, which are not distributed with the package)
run on the same person crops, their stem in float32 (now) or float16 (before): root depth
(mm) and joints (heatmap cells).

Runs on the CPU (PyTorch's float16 convolutions there are slow but exact to the format)
or ``--device cuda``. Prints one markdown table; asserts nothing.

Usage: python bench/precision.py [--device cuda]
"""

import argparse
import sys
from typing import Callable, Dict, List, Tuple

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.devices import precision
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.landmarks import regions_from_keypoints
from pose3d_ros.estimation.regions import crop
from pose3d_ros.estimation.views import view_regions
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.models.blazepose import POSE_DETECTION, POSE_LANDMARK_FULL
from pose3d_ros.models.precision import Float32Layer
from pose3d_ros.models.runtime import TorchNetwork
from pose3d_ros.mppe.networks import PoseNet, RootNet
from pose3d_ros.mppe.preprocessing import normalise
from pose3d_ros.samples import fetch_samples, read_rgb
import torch

IMAGES = ('bus.jpg', 'zidane.jpg', 'messi5.jpg')


def inputs(device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return the (P, 3, 256, 256) person crops and (3, 3, 224, 224) full-frame views."""
    estimator = PoseEstimator(EstimatorConfig(device='cpu', runtime='torch'))
    people, views = [], []
    for name in IMAGES:
        rgb = read_rgb(fetch_samples() / name)
        height, width = rgb.shape[:2]
        image = torch.from_numpy(rgb).permute(2, 0, 1).float()
        persons = estimator(rgb, CameraModel.from_hfov(width, height, 60.0)).persons
        keypoints = torch.tensor(np.array([p.alignment_2d for p in persons]), dtype=torch.float32)
        people.append(crop(image, regions_from_keypoints(keypoints), 256, 'border'))
        views.append(crop(image, view_regions(width, height, (1,), 0.25, torch.device('cpu')),
                          224, 'zeros'))
    return torch.cat(people).to(device), torch.cat(views).to(device)


def half_throughout(network: TorchNetwork) -> TorchNetwork:
    """Return ``network`` with its float32 heads back in float16, as before."""
    for name, layer in list(network.module.named_modules()):
        if isinstance(layer, Float32Layer):
            parent_name, _, child = name.rpartition('.')
            parent = network.module.get_submodule(parent_name) if parent_name else network.module
            setattr(parent, child, layer.layer.half())
    return network


def differences(reference: Tuple[torch.Tensor, ...], other: Tuple[torch.Tensor, ...],
                picks: Dict[str, Callable]) -> Dict[str, Tuple[float, float]]:
    """Return each picked output's max and mean |difference| from the reference."""
    found = {}
    for name, pick in picks.items():
        difference = (pick(other).double() - pick(reference).double()).abs()
        found[name] = (float(difference.max()), float(difference.mean()))
    return found


def blazepose_rows(people: torch.Tensor, views: torch.Tensor,
                   device: torch.device) -> List[tuple]:
    """Compare the landmark and detector networks in fp16 (now and before) with float32."""
    rows = []
    for spec, batch, picks in (
            (POSE_LANDMARK_FULL, POSE_LANDMARK_FULL.to_input(people), {
                'landmarks, crop px': lambda out: out[0].reshape(len(out[0]), -1, 5)[..., :2],
                'world landmarks, mm': lambda out: out[4] * 1000.0,
                'pose presence': lambda out: out[1]}),
            (POSE_DETECTION, POSE_DETECTION.to_input(views), {
                'detector regressors, input px': lambda out: out[0]})):
        with torch.inference_mode():
            reference = TorchNetwork(spec, device, torch.float32)(batch)
            for label, network in (
                    ('fp16, float32 heads (now)', TorchNetwork(spec, device, torch.float16)),
                    ('fp16 throughout (before)',
                     half_throughout(TorchNetwork(spec, device, torch.float16)))):
                found = differences(reference, network(batch), picks)
                for output, (largest, mean) in found.items():
                    rows.append((spec.name, label, output, largest, mean))
    return rows


def mppe_rows(people: torch.Tensor, device: torch.device) -> List[tuple]:
    """Compare 3DMPPE (random real-shape weights) in fp16, stem float32 or not, with fp32."""
    torch.manual_seed(0)
    networks = {'RootNet': RootNet().eval(), 'PoseNet': PoseNet(21).eval()}
    k = torch.full((len(people),), 5000.0, device=device)  # a 5 m prior, mm
    crops = normalise(people)
    print(f'3DMPPE inputs: {float(crops.min()):.0f} to {float(crops.max()):.0f}')
    rows = []
    with torch.inference_mode():
        for name, network in networks.items():
            def run(model):
                return (model(crops, k),) if name == 'RootNet' else (model(crops),)
            reference = run(network.to(device))
            picks = ({'root depth, mm': lambda out: out[0][:, 2]} if name == 'RootNet'
                     else {'joints x y, heatmap cells': lambda out: out[0][..., :2],
                           'joints z, depth bins': lambda out: out[0][..., 2]})
            half = network.half()
            before = run(lambda x, *rest: half(x.half(), *rest))
            half.backbone.conv1 = Float32Layer(half.backbone.conv1, torch.float16)
            now = run(half)
            for label, outputs in (('fp16, float32 stem (now)', now),
                                   ('fp16 throughout (before)', before)):
                for output, (largest, mean) in differences(reference, outputs, picks).items():
                    rows.append((name, label, output, largest, mean))
            network.float()
    return rows


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    args = parser.parse_args()
    device = torch.device(args.device)
    with precision(False):  # the float32 reference in float32, not TF32
        return measure(device)


def measure(device: torch.device) -> int:
    """Measure on ``device`` and print the table."""
    people, views = inputs(device)
    print(f'{len(people)} persons from {", ".join(IMAGES)}; {len(views)} full-frame views; '
          f'device {device}\n')
    rows = blazepose_rows(people, views, device) + mppe_rows(people, device)
    print('| network | fp16 | output | max diff | mean diff |\n| --- | --- | --- | --- | --- |')
    for network, label, output, largest, mean in rows:
        print(f'| {network} | {label} | {output} | {largest:.4g} | {mean:.4g} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
