"""
RootNet and PoseNet together: person boxes in, metric skeletons in the camera frame out.

The estimator finds the people and their boxes (:mod:`pose3d_ros.estimation`); here, as in
the official demo, each square box (:func:`~.preprocessing.process_boxes`) is cropped to
256 x 256 once, RootNet gives the root's pixel and absolute depth, PoseNet each joint's
pixel and depth bin, and every joint is back-projected with the intrinsics:
``X = (u - cx) / fx * Z``, ``Y = (v - cy) / fy * Z``.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple, Union

import numpy as np
import torch

from .checkpoint import load_posenet, load_rootnet, POSENET_JOINT_SETS
from .networks import DEPTH_BINS, fold_batch_norm, INPUT_SIZE, OUTPUT_SIZE, PoseNet, RootNet
from .preprocessing import bins_to_mm, normalise
from ..estimation.devices import upload
from ..estimation.regions import crop, crop_to_image, Regions
from ..geometry.root import prior_depth
from ..models.joint_sets import JointSet
from ..models.precision import Float32Layer


#: Persons per network call: PoseNet's heatmap volumes take about 22 MB per person
#: (21 joints x 64^3 float32), twice during the softmax.
MAX_BATCH = 8


@dataclass(frozen=True)
class MppeOutput:
    """
    3DMPPE's answer for N boxes; J joints of :attr:`Mppe.joint_set`.

    Attributes
    ----------
    pixels
        (N, J, 2) joints' u, v in the boxes' pixel frame (the ideal pinhole image).
    joints
        (N, J, 3) metres, camera optical frame (x right, y down, z forward).
    root_depth
        (N,) RootNet's root depth, metres. As in the official demo, PoseNet's joints take
        only this depth from RootNet, not its root pixel.
    prior_z
        (N,) the distance prior k (gamma = 1), metres.

    """

    pixels: np.ndarray
    joints: np.ndarray
    root_depth: np.ndarray
    prior_z: np.ndarray


class Mppe:
    """
    3DMPPE's RootNet and PoseNet on one device.

    Parameters
    ----------
    rootnet, posenet
        The networks with their weights (:mod:`.checkpoint`); their BatchNorms are folded
        into the convolutions here (:func:`~.networks.fold_batch_norm`).
    device
        Where they run.
    dtype
        float32, or float16 on CUDA (the stem, soft-argmax and geometry stay float32 and
        float64).

    """

    def __init__(self, rootnet: RootNet, posenet: PoseNet, device: torch.device,
                 dtype: torch.dtype = torch.float32) -> None:
        memory = torch.channels_last if device.type == 'cuda' else torch.contiguous_format
        self.rootnet = fold_batch_norm(rootnet.eval()).to(device=device, dtype=dtype,
                                                          memory_format=memory)
        self.posenet = fold_batch_norm(posenet.eval()).to(device=device, dtype=dtype,
                                                          memory_format=memory)
        for network in (self.rootnet, self.posenet) if dtype == torch.float16 else ():
            # Normalised pixels reach about 1130: the stem reads them in float32 and hands
            # float16 on (:mod:`pose3d_ros.models.precision`).
            network.backbone.conv1 = Float32Layer(network.backbone.conv1, dtype)
        self.device, self.dtype, self.memory = device, dtype, memory
        #: The joints PoseNet predicts: MuCo-21 or Human3.6M-18.
        self.joint_set: JointSet = POSENET_JOINT_SETS[posenet.joints]

    @classmethod
    def load(cls, rootnet_path: Union[str, Path], posenet_path: Union[str, Path],
             device: torch.device, dtype: torch.dtype = torch.float32) -> 'Mppe':
        """Load both official snapshots; ValueError says what is wrong and how to fix it."""
        return cls(load_rootnet(rootnet_path), load_posenet(posenet_path), device, dtype)

    @torch.inference_mode()
    def __call__(self, image: torch.Tensor, boxes: np.ndarray,
                 intrinsics: Tuple[float, float, float, float],
                 to_source: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                 ) -> MppeOutput:
        """
        Estimate the skeleton of the person in each box.

        Parameters
        ----------
        image
            (3, H, W) float RGB pixels in 0..255 on :attr:`device`.
        boxes
            (N, 4) square x, y, w, h input boxes (:func:`~.preprocessing.process_boxes`),
            pixels of the ideal pinhole image.
        intrinsics
            fx, fy, cx, cy of that pinhole image, pixels.
        to_source
            Map from pinhole pixels to ``image`` pixels when the lens distorts
            (:meth:`CameraModel.distort`), so the crops are undistorted.

        """
        fx, fy, cx, cy = intrinsics
        count = len(boxes)
        if count == 0:
            joints = len(self.joint_set.joint_names)
            return MppeOutput(np.zeros((0, joints, 2)), np.zeros((0, joints, 3)),
                              np.zeros(0), np.zeros(0))
        prior_z = prior_depth(fx, fy, boxes[:, 2])  # the boxes are square
        boxes_t = upload(boxes, self.device, torch.float32)
        regions = Regions(boxes_t[:, :2] + boxes_t[:, 2:] / 2.0, boxes_t[:, 2],
                          boxes_t.new_zeros(count))
        crops = crop(image, regions, INPUT_SIZE, 'zeros', to_source)
        # float32 in float16 too: there the stem reads them in float32.
        inputs = normalise(crops).to(torch.float32 if self.dtype == torch.float16 else
                                     self.dtype).contiguous(memory_format=self.memory)
        # k in mm stays float32 (small boxes give k beyond float16's 65504).
        k = upload(prior_z * 1000.0, self.device, torch.float32)
        chunks = [slice(start, start + MAX_BATCH) for start in range(0, count, MAX_BATCH)]
        root_mm = torch.cat([self.rootnet(inputs[c], k[c])[:, 2] for c in chunks])  # (N,)
        pose = torch.cat([self.posenet(inputs[c]) for c in chunks])  # (N, J, 3)
        pixels = crop_to_image(pose[..., :2] * (INPUT_SIZE / OUTPUT_SIZE), regions, INPUT_SIZE)
        depth_mm = bins_to_mm(pose[..., 2], root_mm, DEPTH_BINS)
        # One copy to the host: (N, J, 2) pixels, (N, J) depths, (N,) root depths.
        host = torch.cat([pixels.flatten(1), depth_mm, root_mm[:, None]], 1).double().cpu()
        pixels = host[:, :2 * pose.shape[1]].reshape(pixels.shape).numpy()
        depth = host[:, 2 * pose.shape[1]:-1].numpy() / 1000.0
        rays = (pixels - [cx, cy]) / [fx, fy]
        return MppeOutput(
            pixels=pixels,
            joints=np.concatenate([rays * depth[..., None], depth[..., None]], axis=-1),
            root_depth=host[:, -1].numpy() / 1000.0, prior_z=prior_z)
