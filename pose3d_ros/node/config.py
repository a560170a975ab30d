"""
Every setting of ``pose3d_node``: the estimator's, the pipeline's and the node's own.

Plain dataclasses (no ROS import), so that ``config/pose3d.yaml`` and the table in
docs/node.md are generated without ROS (:mod:`pose3d_ros.settings.surfaces`); the node
declares one ROS parameter per setting (:mod:`.parameters`).
"""

from dataclasses import dataclass

from ..estimation.config import EstimatorConfig
from ..estimation.pipeline import PipelineConfig
from ..geometry.camera import DEFAULT_HFOV_DEG
from ..models.blazepose import VISIBILITY_THRESHOLD
from ..settings.schema import setting, settings_of, validate

NODE = ('node',)
#: A TF frame id: letters, digits and ``_ . / -``, not starting with a slash (tf2 refuses
#: those); empty for none.
FRAME_PATTERN = r'([A-Za-z0-9_.-][A-Za-z0-9_./-]*)?'
FRAME_TEXT = 'empty, or a TF frame id (letters, digits, _ . / -; no leading slash)'


@dataclass(frozen=True)
class NodeConfig:
    """The node's settings; ``estimator`` and ``pipeline`` nest theirs."""

    autostart: bool = setting(True, 'Configure and activate the lifecycle node at start-up.',
                              surfaces=NODE)
    estimator: EstimatorConfig = EstimatorConfig()
    pipeline: PipelineConfig = PipelineConfig()
    image_transport: str = setting('raw', 'Subscribe to image (raw) or image/compressed.',
                                   choices=('raw', 'compressed'), surfaces=NODE)
    reliable_input: bool = setting(False, 'Subscribe with reliable QoS instead of sensor data '
                                          '(best effort, depth 1).', surfaces=NODE)
    rectified_input: bool = setting(False, 'The images are rectified (image_rect): use '
                                           "CameraInfo's P and no distortion instead of K "
                                           'and D.', surfaces=NODE)
    require_camera_info: bool = setting(
        True, 'Skip frames until the first CameraInfo; false: run before it with '
              'default_hfov_deg.', runtime=True, surfaces=NODE)
    default_hfov_deg: float = setting(
        DEFAULT_HFOV_DEG, 'Horizontal field of view assumed without a usable CameraInfo '
                          '(before the first one when require_camera_info is false, or when '
                          'its K is zero); distances are then approximate.', low=1.0,
        high=179.0, runtime=True, surfaces=NODE, unit='deg')
    frame_id: str = setting('', "The camera's optical frame, which the outputs are in unless "
                                "target_frame is set; empty: the image's frame_id (or the "
                                "CameraInfo's when the image has none).", runtime=True,
                            surfaces=NODE)
    ground_frame: str = setting(
        '', 'A frame whose z = 0 plane is the floor (e.g. base_footprint): looked up in TF '
            "from the image's frame at the image stamp, it gives the floor standing people "
            'are placed on, before the camera pose parameters and the people; needs tf2_ros. '
            'Empty: none.', pattern=FRAME_PATTERN, pattern_text=FRAME_TEXT, surfaces=NODE)
    target_frame: str = setting(
        '', 'Publish markers, poses, joints and skeletons in this frame (e.g. base_link or '
            'odom), transformed through TF at the image stamp; a frame TF cannot give is '
            "skipped. Needs tf2_ros. Empty: the image's frame.", pattern=FRAME_PATTERN,
        pattern_text=FRAME_TEXT, surfaces=NODE)
    tf_timeout: float = setting(
        0.05, 'How long a TF lookup (ground_frame, target_frame) may wait for transforms at '
              'the image stamp.', low=0.0, high=5.0, runtime=True, surfaces=NODE, unit='s')
    body_frames: bool = setting(
        True, "Publish each tracked person's body_<bodyID> TF frame (REP-155: origin at the "
              "hips' midpoint, x forward, z up; parent the outputs' frame) through tf2_ros, "
              'else on /tf with tf2_msgs; with neither, none (said at configure).',
        surfaces=NODE)
    hri: bool = setting(
        False, "REP-155's bodies interface: /humans/bodies/tracked and each body's "
               'skeleton2d and roi; needs hri_msgs (a ROS4HRI install, or pose3d-interfaces '
               'build).', surfaces=NODE)
    marker_lifetime: float = setting(0.5, 'Marker lifetime (0: until replaced).', low=0.0,
                                     high=60.0, runtime=True, surfaces=NODE, unit='s')
    marker_scale: float = setting(0.05, 'Joint sphere diameter; bones are half as thick.',
                                  low=0.005, high=0.5, runtime=True, surfaces=NODE, unit='m')
    min_joint_visibility: float = setting(
        VISIBILITY_THRESHOLD, 'Joints less visible than this are left out of markers and the '
                              'debug image.', low=0.0, high=1.0, runtime=True, surfaces=NODE)

    def __post_init__(self) -> None:
        """Reject a value outside its range with the setting's one message (ValueError)."""
        validate(self)


#: Every setting the node declares, in declaration order.
NODE_SETTINGS = settings_of(NodeConfig, 'node')
