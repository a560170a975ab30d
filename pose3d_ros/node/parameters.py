"""
The node's ROS parameters: one table with defaults, descriptors and validation.

Only the node reads ROS parameters; this module declares them and turns their values into
an :class:`EstimatorConfig`. ``config/pose3d.yaml`` lists every one of them (a test keeps
the two in step).
"""

from dataclasses import dataclass, replace
from typing import Any, Dict, Optional, Tuple

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from ..estimation.config import EstimatorConfig, POSE_BACKENDS
from ..estimation.one_euro import OneEuroParameters
from ..estimation.stream import StreamConfig
from ..estimation.tracking import TrackingConfig
from ..models.runtime import RUNTIMES

_DEFAULTS = EstimatorConfig()
_STREAM = StreamConfig()
_TRACKING = _STREAM.tracking


@dataclass(frozen=True)
class Parameter:
    """One parameter: default, description, numeric range, and whether it is read-only."""

    name: str
    default: Any
    description: str
    low: Optional[float] = None
    high: Optional[float] = None
    read_only: bool = False
    choices: Tuple[str, ...] = ()

    def descriptor(self) -> ParameterDescriptor:
        """Return the ParameterDescriptor the node declares."""
        text = self.description
        if self.choices:
            text += f' One of: {", ".join(self.choices)}.'
        descriptor = ParameterDescriptor(name=self.name, description=text,
                                         read_only=self.read_only)
        if isinstance(self.default, bool) or self.low is None:
            return descriptor
        if isinstance(self.default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(self.low),
                                                     to_value=int(self.high), step=1)]
        else:
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(self.low), to_value=float(self.high), step=0.0)]
        return descriptor

    def check(self, value: Any) -> Optional[str]:
        """Return why ``value`` is unacceptable, or None."""
        if self.choices and value not in self.choices:
            return f'{self.name} must be one of {self.choices}, got {value!r}'
        if self.low is not None and not isinstance(value, (list, tuple)) and \
                not self.low <= value <= self.high:
            return f'{self.name} must be in [{self.low}, {self.high}], got {value}'
        if self.name == 'tile_grids' and any(g != 0 and not 2 <= g <= 8 for g in value):
            return f'tile_grids entries must be in [2, 8] (or [0]), got {list(value)}'
        return None


PARAMETERS: Tuple[Parameter, ...] = (
    Parameter('autostart', True, 'Configure and activate the lifecycle node at start-up.',
              read_only=True),
    Parameter('device', 'auto', 'Inference device: auto (CUDA when available), cpu, cuda, '
              'cuda:N.', read_only=True),
    Parameter('fp16', False, 'Run the networks in half precision (CUDA only).',
              read_only=True),
    Parameter('runtime', 'auto', 'What runs the networks: torch, litert (the official TFLite '
              'interpreter, CPU only) or auto (torch on CUDA, the faster on the CPU).',
              read_only=True, choices=RUNTIMES),
    Parameter('threads', 0, 'CPU threads for the networks; 0: one per physical core.', 0,
              1024, read_only=True),
    Parameter('pose_backend', 'blazepose', 'Where the 3D skeleton comes from: blazepose (33 '
              'metric landmarks), lifting (the Martinez network on the 2D keypoints, '
              'Human3.6M-17) or 3dmppe (RootNet and PoseNet on each box, MuCo-21 or '
              'Human3.6M-18).', read_only=True, choices=POSE_BACKENDS),
    Parameter('lifter_weights', '', 'Weights of the lifting network; empty: default.pt in '
              'the lifter cache (pose3d-lifter train).', read_only=True),
    Parameter('rootnet_checkpoint', '', 'The official 3DMPPE RootNet snapshot_N.pth.tar '
              '(pose_backend 3dmppe).', read_only=True),
    Parameter('posenet_checkpoint', '', 'The official 3DMPPE PoseNet snapshot_N.pth.tar '
              '(pose_backend 3dmppe).', read_only=True),
    Parameter('model_dir', '', 'Directory with the model files; empty: the model store '
              '(see pose3d-models).', read_only=True),
    Parameter('image_transport', 'raw', 'Subscribe to image (raw) or image/compressed.',
              read_only=True, choices=('raw', 'compressed')),
    Parameter('reliable_input', False, 'Subscribe with reliable QoS instead of sensor data '
              '(best effort).', read_only=True),
    Parameter('rectified_input', False, 'The images are rectified (image_rect): use '
              "CameraInfo's P and no distortion instead of K and D.", read_only=True),
    Parameter('use_depth', False, 'Fuse a registered depth image (depth/image, 16UC1 mm or '
              "32FC1 m) into each person's distance.", read_only=True),
    Parameter('min_detection_score', _DEFAULTS.min_detection_score,
              'Detector probability threshold on the full frame.', 0.0, 1.0),
    Parameter('tile_min_detection_score', _DEFAULTS.tile_min_detection_score,
              'Detector probability threshold on tiles.', 0.0, 1.0),
    Parameter('min_pose_presence', _DEFAULTS.min_pose_presence,
              'Landmark network pose-presence threshold.', 0.0, 1.0),
    Parameter('tile_grids', list(_DEFAULTS.tile_grids),
              'Tile grids for small people (each g in [2, 8]: tiles of 1/g of the long '
              'side); [0]: the full frame only.'),
    Parameter('tile_overlap', _DEFAULTS.tile_overlap,
              'Minimum overlap of neighbouring tiles, fraction of their side.', 0.0, 0.9),
    Parameter('max_persons', _DEFAULTS.max_persons, 'At most this many persons per image.',
              1, 100),
    Parameter('tracking', True, 'Track people across frames: stable ids, One Euro smoothing, '
              'and regions from the previous landmarks between detections.'),
    Parameter('detect_every', _STREAM.detect_every, 'With tracking, run the full detector at '
              'least every this many frames (1: every frame).', 1, 1000),
    Parameter('track_min_hits', _TRACKING.min_hits, 'Frames a new person must be seen '
              'before it is published (track birth).', 1, 100),
    Parameter('track_max_missed', _TRACKING.max_missed, 'Frames a track may go unseen '
              'before it ends (track death).', 0, 1000),
    Parameter('smoothing', _TRACKING.smoothing, 'One Euro filtering of every tracked '
              'joint (time from the image stamps).'),
    Parameter('image_min_cutoff', _TRACKING.image_filter.min_cutoff, 'One Euro min_cutoff '
              '(Hz) of the 2D keypoints (MediaPipe: 0.05).', 0.001, 100.0),
    Parameter('image_beta', _TRACKING.image_filter.beta, 'One Euro beta of the 2D keypoints, '
              'speed in person sizes per second (MediaPipe: 80).', 0.0, 10000.0),
    Parameter('world_min_cutoff', _TRACKING.world_filter.min_cutoff, 'One Euro min_cutoff '
              '(Hz) of the 3D joints (MediaPipe world landmarks: 0.1).', 0.001, 100.0),
    Parameter('world_beta', _TRACKING.world_filter.beta, 'One Euro beta of the 3D joints, '
              'speed in distances per second (MediaPipe world landmarks: 40; 10 keeps the '
              'limb-depth noise out).', 0.0,
              10000.0),
    Parameter('derivative_cutoff', _TRACKING.image_filter.derivative_cutoff, 'One Euro '
              'cutoff (Hz) of the speed estimate (MediaPipe: 1).', 0.001, 100.0),
    Parameter('marker_lifetime', 0.5, 'Marker lifetime in seconds (0: until replaced).',
              0.0, 60.0),
    Parameter('marker_scale', 0.05, 'Joint sphere diameter in metres.', 0.005, 0.5),
    Parameter('min_joint_visibility', 0.5, 'Joints less visible than this are left out of '
              'markers and the debug image.', 0.0, 1.0),
    Parameter('frame_id', '', "Frame of the outputs; empty: the image's frame_id (or the "
              "CameraInfo's when the image has none)."),
    Parameter('default_hfov_deg', 0.0, 'Horizontal field of view assumed before the first '
              'CameraInfo; 0 disables (frames wait for CameraInfo). Also used for a '
              'CameraInfo whose K is zero (60 degrees when 0).', 0.0, 179.0),
)

BY_NAME: Dict[str, Parameter] = {p.name: p for p in PARAMETERS}

#: Parameters that map one-to-one onto EstimatorConfig fields.
ESTIMATOR_FIELDS = ('min_detection_score', 'tile_min_detection_score', 'min_pose_presence',
                    'tile_overlap', 'max_persons')


def estimator_config(values: Dict[str, Any]) -> EstimatorConfig:
    """Build the EstimatorConfig from parameter values (ValueError if inconsistent)."""
    config = EstimatorConfig(device=values['device'], fp16=values['fp16'],
                             runtime=values['runtime'], threads=values['threads'],
                             pose_backend=values['pose_backend'],
                             lifter_weights=values['lifter_weights'],
                             rootnet_checkpoint=values['rootnet_checkpoint'],
                             posenet_checkpoint=values['posenet_checkpoint'],
                             tile_grids=tuple(int(g) for g in values['tile_grids'] if g))
    return replace(config, **{name: values[name] for name in ESTIMATOR_FIELDS})


#: Parameters that shape the StreamEstimator (a change restarts the tracks).
STREAM_FIELDS = ('tracking', 'detect_every', 'track_min_hits', 'track_max_missed',
                 'smoothing', 'image_min_cutoff', 'image_beta', 'world_min_cutoff',
                 'world_beta', 'derivative_cutoff')


def stream_config(values: Dict[str, Any]) -> StreamConfig:
    """Build the StreamConfig from parameter values (ValueError if inconsistent)."""
    cutoff = values['derivative_cutoff']
    return StreamConfig(detect_every=values['detect_every'], tracking=TrackingConfig(
        min_hits=values['track_min_hits'], max_missed=values['track_max_missed'],
        smoothing=values['smoothing'],
        image_filter=OneEuroParameters(values['image_min_cutoff'], values['image_beta'],
                                       cutoff),
        world_filter=OneEuroParameters(values['world_min_cutoff'], values['world_beta'],
                                       cutoff)))
