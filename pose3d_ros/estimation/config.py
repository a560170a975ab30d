"""Settings of the multi-person 3D estimator (a frozen dataclass; only the node reads ROS)."""

from dataclasses import dataclass
from typing import Tuple

from ..models.runtime import RUNTIMES

POSE_BACKENDS = ('blazepose', 'lifting', '3dmppe')


@dataclass(frozen=True)
class EstimatorConfig:
    """
    How :class:`~pose3d_ros.estimation.estimator.PoseEstimator` finds and places people.

    Attributes
    ----------
    device
        ``'auto'`` (CUDA when available), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    fp16
        Run the networks in half precision (CUDA only; decoding and geometry stay float32
        and float64).
    runtime
        What runs the networks: ``'torch'``, ``'litert'`` (the official TFLite interpreter,
        CPU only) or ``'auto'`` (torch on CUDA, the faster of the two on the CPU;
        :mod:`pose3d_ros.models.runtime`).
    threads
        CPU threads for the networks (PyTorch's setting is process-wide); 0 keeps
        PyTorch's default, one per physical core.
    pose_backend
        Where the root-relative 3D skeleton comes from: ``'blazepose'`` (the landmark
        network's metric world landmarks, 33 joints) or ``'lifting'`` (the Martinez
        lifting network on the 2D keypoints mapped to Human3.6M-17, 17 joints;
        :mod:`pose3d_ros.lifting`), both placed by the root localisation; or ``'3dmppe'``
        (Moon et al.'s RootNet and PoseNet on each person's box, MuCo-21 or Human3.6M-18
        joints as the PoseNet checkpoint has them; :mod:`pose3d_ros.mppe`).
    lifter_weights
        Weights file of the lifting network; empty: ``default.pt`` in the lifter cache
        (``pose3d-lifter train`` makes it).
    rootnet_checkpoint, posenet_checkpoint
        The official 3DMPPE ``snapshot_N.pth.tar`` files (``3dmppe`` only; required there).
    min_detection_score
        Detector probability threshold on the full frame (MediaPipe: 0.5).
    tile_min_detection_score
        Threshold on tiles. Higher than on the full frame: every tile is one more chance
        for a false alarm (at 0.5, fruit and furniture pass on the sample images).
    nms_iou
        IoU above which a view's detections merge in weighted NMS (MediaPipe: 0.3).
    tile_grids
        Extra detector views: for each g, overlapping square tiles of side
        ``max(width, height) / g``. Empty: the full frame only, as MediaPipe.
    tile_overlap
        Minimum overlap of neighbouring tiles, fraction of their side, in [0, 0.9].
    view_merge_overlap
        A detection from a later view is dropped when its face box covers more than this
        fraction of an earlier kept one (or the reverse).
    max_persons
        At most this many persons per image, best detector scores first.
    min_pose_presence
        Landmark network's pose-presence threshold (MediaPipe: 0.5).
    min_visible_landmarks
        A person needs at least this many landmarks that are visible (probability at
        least 0.5) and inside the image; fewer cannot be placed in 3D.
    duplicate_distance
        Two skeletons closer than this fraction of the region side (mean landmark
        distance) are one person.
    root_prior_strength
        Weight of the 3DMPPE distance prior in the metric root fit (1: the prior's nominal
        25 % spread; 0: the joints alone).

    """

    device: str = 'auto'
    fp16: bool = False
    runtime: str = 'auto'
    threads: int = 0
    pose_backend: str = 'blazepose'
    lifter_weights: str = ''
    rootnet_checkpoint: str = ''
    posenet_checkpoint: str = ''
    min_detection_score: float = 0.5
    nms_iou: float = 0.3
    tile_min_detection_score: float = 0.7
    tile_grids: Tuple[int, ...] = (2, 3)
    tile_overlap: float = 0.25
    view_merge_overlap: float = 0.5
    max_persons: int = 10
    min_pose_presence: float = 0.5
    min_visible_landmarks: int = 4
    duplicate_distance: float = 0.1
    root_prior_strength: float = 1.0

    def __post_init__(self) -> None:
        """Reject values outside their ranges with a ValueError naming the field."""
        for name in ('min_detection_score', 'tile_min_detection_score', 'nms_iou',
                     'view_merge_overlap', 'min_pose_presence'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {getattr(self, name)}')
        if not 0.0 <= self.tile_overlap <= 0.9:
            raise ValueError(f'tile_overlap must be in [0, 0.9], got {self.tile_overlap}')
        if any(int(g) != g or g < 2 for g in self.tile_grids):
            raise ValueError(f'tile_grids must be integers >= 2, got {self.tile_grids}')
        if not 0 <= self.min_visible_landmarks <= 33:
            raise ValueError(f'min_visible_landmarks must be in [0, 33], got '
                             f'{self.min_visible_landmarks}')
        if self.max_persons < 1:
            raise ValueError(f'max_persons must be at least 1, got {self.max_persons}')
        if self.duplicate_distance < 0 or self.root_prior_strength < 0:
            raise ValueError('duplicate_distance and root_prior_strength must be >= 0')
        if self.runtime not in RUNTIMES:
            raise ValueError(f'runtime must be one of {RUNTIMES}, got {self.runtime!r}')
        if self.pose_backend not in POSE_BACKENDS:
            raise ValueError(f'pose_backend must be one of {POSE_BACKENDS}, got '
                             f'{self.pose_backend!r}')
        if self.threads < 0:
            raise ValueError(f'threads must be >= 0, got {self.threads}')
        if self.device != 'auto' and not (self.device == 'cpu' or
                                          self.device.startswith('cuda')):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")
