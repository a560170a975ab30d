"""Helpers the tests share: calibration files, designed 3DMPPE networks, ROS contexts, CUDA."""

import json
from pathlib import Path

import cv2
import numpy as np

from pose3d_ros.geometry.camera import CameraModel
import pytest
import torch

#: The marks of a GPU test: it runs only where CUDA is available.
GPU = (pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA'))


def needs_cuda(test):
    """Mark a test as a GPU test (:data:`GPU`)."""
    for mark in GPU:
        test = mark(test)
    return test


def write_calibration(path: Path, camera: CameraModel) -> Path:
    """Write ``camera`` as a camera_calibration YAML file (JSON is YAML); return ``path``."""
    path.write_text(json.dumps({
        'image_width': camera.width, 'image_height': camera.height,
        'distortion_model': camera.distortion_model,
        'camera_matrix': {'rows': 3, 'cols': 3, 'data': camera.k.ravel().tolist()},
        'distortion_coefficients': {'rows': 1, 'cols': len(camera.d),
                                    'data': camera.d.tolist()}}))
    return path


#: The depth correction the test-written RootNet predicts for everyone.
DESIGNED_GAMMA = 1.1


def designed_depth_bin(joint_set, joint: int) -> int:
    """
    Return the depth bin the test-written PoseNet puts ``joint`` of ``joint_set`` in.

    The pelvis and hips get the middle bin (depth 0 relative to the root, as trained
    networks give the root), the others 16 + their index.
    """
    if joint_set.joint_names[joint] in ('pelvis', 'left_hip', 'right_hip'):
        return 32
    return 16 + joint


def designed_mppe(joints: int = 21) -> tuple:
    """
    Return a RootNet and a PoseNet with random backbones and heads of known output.

    RootNet's root heatmap is flat (its soft-argmax is the heatmap centre, 31.5 cells) and
    its gamma is ``DESIGNED_GAMMA``; PoseNet's volumes are flat in x and y and peak at
    :func:`designed_depth_bin` of each joint. So their answers follow from the box alone.
    """
    import torch
    from pose3d_ros.mppe.checkpoint import POSENET_JOINT_SETS
    from pose3d_ros.mppe.networks import DEPTH_BINS, PoseNet, RootNet

    torch.manual_seed(0)
    rootnet, posenet = RootNet(), PoseNet(joints)
    with torch.no_grad():
        rootnet.root.xy_layer.weight.zero_()
        rootnet.root.xy_layer.bias.zero_()
        rootnet.root.depth_layer.weight.zero_()
        rootnet.root.depth_layer.bias.fill_(DESIGNED_GAMMA)
        posenet.head.final_layer.weight.zero_()
        posenet.head.final_layer.bias.zero_()
        for joint in range(joints):
            depth_bin = designed_depth_bin(POSENET_JOINT_SETS[joints], joint)
            posenet.head.final_layer.bias[joint * DEPTH_BINS + depth_bin] = 50.0
    return rootnet, posenet


def ros_context(domain_id: int):
    """
    Yield an rclpy Context on DDS domain ``domain_id`` with discovery on localhost only.

    For module fixtures of the DDS tests (each module its own domain); os.environ is
    restored afterwards.
    """
    import os

    from pose3d_ros.node_client import ros_environment
    import rclpy
    from rclpy.context import Context

    saved = dict(os.environ)
    os.environ.update(ros_environment(domain_id))
    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.shutdown(context=context)
        os.environ.clear()
        os.environ.update(saved)


#: OpenCV's trained people detectors, the reference of :mod:`pose3d_ros.estimation.hog`.
HOG_GETTERS = {'people_64x128': cv2.HOGDescriptor_getDefaultPeopleDetector,
               'daimler_48x96': cv2.HOGDescriptor_getDaimlerPeopleDetector}


def opencv_hog(name: str) -> cv2.HOGDescriptor:
    """Return OpenCV's descriptor of a HOG model, with its SVM set."""
    from pose3d_ros.estimation.hog import HOG_MODELS

    model = HOG_MODELS[name]
    descriptor = cv2.HOGDescriptor(model.window, model.block, model.block_stride,
                                   model.cell, model.bins)
    descriptor.setSVMDetector(HOG_GETTERS[name]())
    return descriptor


def planar(rgb: np.ndarray) -> torch.Tensor:
    """Return an (H, W, 3) RGB array as a (3, H, W) float tensor."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float()


def load_interfaces(prefix: Path) -> None:
    """
    Make the interface packages built into ``prefix`` importable in this process.

    Their generated libraries have no RPATH and the loader reads LD_LIBRARY_PATH only at
    start-up, so each is loaded here (globally, so that rclpy's later loads by name find
    them), in whatever order their dependencies on each other allow.
    """
    import ctypes
    import sys

    from pose3d_ros.interfaces.build import environment

    pending = sorted((Path(prefix) / 'lib').glob('lib*.so'))
    while pending:
        failed = []
        for library in pending:
            try:
                ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                failed.append(library)
        if len(failed) == len(pending):
            raise OSError(f'cannot load {[p.name for p in failed]} from {prefix}/lib')
        pending = failed
    site = environment(prefix)['PYTHONPATH']
    if site not in sys.path:
        sys.path.insert(0, site)
