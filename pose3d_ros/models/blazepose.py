"""
The bundled BlazePose GHUM 3D networks: files, preprocessing, outputs and skeleton.

Everything later code needs to know about these networks lives here, next to the pinned
weights (as torchvision keeps transforms and keypoint names with its weight enums): input
size and value range, output names and shapes, the 33 landmark names and the skeleton.
Facts are from MediaPipe (google/mediapipe, ``mediapipe/modules/pose_detection`` and
``pose_landmark``, and ``python/solutions/pose*.py`` of the 0.10.14 wheel).
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import fx

from .store import ModelFile, PathLike, verified_path
from ..tflite.to_torch import load_tflite_module


@dataclass(frozen=True)
class OutputSpec:
    """One network output as returned by the torch module (batch dimension excluded)."""

    name: str  # TFLite tensor name
    shape: Tuple[int, ...]  # per-sample shape; 4-D TFLite outputs are given channels-first
    description: str


@dataclass(frozen=True)
class NetworkSpec:
    """
    A pinned network file with its preprocessing and output description.

    Attributes
    ----------
    name
        Short name used in logs and benchmarks.
    file
        The pinned model file.
    input_size
        Network input (height, width) in pixels.
    input_range
        Value range the RGB input is scaled to, (low, high) for 0 and 255.
    outputs
        Outputs in the order the torch module returns them.

    """

    name: str
    file: ModelFile
    input_size: Tuple[int, int]
    input_range: Tuple[float, float]
    outputs: Tuple[OutputSpec, ...]

    def to_input(self, rgb: torch.Tensor) -> torch.Tensor:
        """
        Scale RGB pixels (0..255, any real dtype or uint8) to the network's input range.

        ``rgb`` is (N, 3, H, W) at :attr:`input_size`; the result is float32, same shape.
        """
        low, high = self.input_range
        return (rgb.float() * ((high - low) / 255.0)).add_(low)

    def load(self, model_dir: Optional[PathLike] = None) -> fx.GraphModule:
        """
        Verify the file's digest and build the torch module (CPU, float32, eval mode).

        The module maps ``(N, 3, H, W)`` RGB scaled to :attr:`input_range` to a tuple of
        tensors shaped ``(N, *output.shape)`` in the order of :attr:`outputs`.

        Raises
        ------
        ModelFileError
            The file is missing or altered (the message gives the fix).
        ValueError
            The file is not a readable TFLite model.

        """
        return load_tflite_module(str(verified_path(self.file, model_dir)),
                                  class_name=self.name.title().replace('_', ''))


POSE_DETECTION = NetworkSpec(
    name='pose_detection',
    file=ModelFile(
        filename='pose_detection.tflite',
        wheel_member='mediapipe/modules/pose_detection/pose_detection.tflite',
        sha256='9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c',
        size_bytes=2959046),
    input_size=(224, 224),
    input_range=(-1.0, 1.0),
    outputs=(
        OutputSpec('Identity', (2254, 12),
                   'per anchor: box (dx, dy, w, h) then 4 keypoints (dx, dy), in input pixels '
                   'relative to the anchor centre'),
        OutputSpec('Identity_1', (2254, 1), 'per anchor: person score logit'),
    ),
)

POSE_LANDMARK_FULL = NetworkSpec(
    name='pose_landmark_full',
    file=ModelFile(
        filename='pose_landmark_full.tflite',
        wheel_member='mediapipe/modules/pose_landmark/pose_landmark_full.tflite',
        sha256='e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f',
        size_bytes=6440512),
    input_size=(256, 256),
    input_range=(0.0, 1.0),
    outputs=(
        OutputSpec('Identity', (195,),
                   '39 landmarks x (x, y, z, visibility logit, presence logit); x, y, z in '
                   'input pixels (z relative to the hips, same scale as x)'),
        OutputSpec('Identity_1', (1,), 'pose presence probability (already a sigmoid)'),
        OutputSpec('Identity_2', (1, 256, 256), 'segmentation logits'),
        OutputSpec('Identity_3', (39, 64, 64), 'landmark heatmaps (for refinement)'),
        OutputSpec('Identity_4', (117,),
                   "39 world landmarks x (x, y, z), metres, hip-centred, in the crop's "
                   'rotated frame (x right, y down, z away from the camera)'),
    ),
)

NETWORKS = (POSE_DETECTION, POSE_LANDMARK_FULL)
MODEL_FILES = tuple(network.file for network in NETWORKS)

NUM_LANDMARKS = 33  # body landmarks; the network outputs 39 (33 body, 2 ROI auxiliaries, 4 unused)
NUM_NETWORK_LANDMARKS = 39
AUX_ROI_LANDMARKS = (33, 34)  # hip centre and full-body scale point, used for tracking ROIs
TORSO_LANDMARKS = (11, 12, 23, 24)  # shoulders and hips
#: A landmark at least this likely visible counts as seen (MediaPipe's threshold): for
#: placing, tracking, depth fusion and drawing alike.
VISIBILITY_THRESHOLD = 0.5

LANDMARK_NAMES = (
    'nose', 'left_eye_inner', 'left_eye', 'left_eye_outer', 'right_eye_inner', 'right_eye',
    'right_eye_outer', 'left_ear', 'right_ear', 'mouth_left', 'mouth_right', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky',
    'right_pinky', 'left_index', 'right_index', 'left_thumb', 'right_thumb', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle', 'left_heel',
    'right_heel', 'left_foot_index', 'right_foot_index',
)

SKELETON_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)

DETECTION_KEYPOINT_NAMES = ('mid_hip', 'full_body_scale', 'mid_shoulder', 'upper_body_scale')
