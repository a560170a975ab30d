"""
The node's per-frame outputs, in one registry: topic name, message type, builder, QoS depth.

The node creates its publishers from :data:`OUTPUTS`, the bag writer writes the
:data:`RECORDED` ones, the DDS client subscribes to them, and ``bench/where_time_goes.py``
times every builder. The look of a person (colour, label) is :mod:`pose3d_ros.style`'s,
shared with the pictures.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from geometry_msgs.msg import PoseArray
import numpy as np
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from . import messages
from .config import NodeConfig
from ..estimation.result import Person
from ..geometry.ground import GroundPlane


@dataclass(frozen=True)
class OutputStyle:
    """How the outputs draw persons: marker size (m) and lifetime (s), joints shown."""

    marker_scale: float
    marker_lifetime_s: float
    min_visibility: float

    @staticmethod
    def of(config: NodeConfig) -> 'OutputStyle':
        """Return the style the node's settings give."""
        return OutputStyle(config.marker_scale, config.marker_lifetime,
                           config.min_joint_visibility)


#: A builder: (input header, RGB image or None, persons, style, the frame's floor or None)
#: -> message.
Builder = Callable[[Header, Optional[np.ndarray], Sequence[Person], OutputStyle,
                    Optional[GroundPlane]], Any]


@dataclass(frozen=True)
class Output:
    """
    One per-frame output: ``~/<name>``, its message type, how it is built, its QoS depth.

    ``recorded``: written into bags by ``pose3d-estimate --output-bag`` and awaited by the
    DDS client (the debug image is neither: it repeats the input).
    """

    name: str
    message_type: type
    build: Builder
    depth: int
    recorded: bool = True

    @property
    def type_name(self) -> str:
        """Return the ROS type name, e.g. ``visualization_msgs/msg/MarkerArray``."""
        return f'{self.message_type.__module__.split(".")[0]}/msg/{self.message_type.__name__}'


OUTPUTS: Tuple[Output, ...] = (
    Output('markers', MarkerArray, lambda header, rgb, persons, style, ground: messages.markers(
        header, persons, style.marker_scale, style.marker_lifetime_s, style.min_visibility,
        ground), depth=1),
    Output('poses', PoseArray, lambda header, rgb, persons, style, ground:
           messages.root_poses(header, persons), depth=10),
    Output('joints', PoseArray, lambda header, rgb, persons, style, ground:
           messages.joint_poses(header, persons), depth=10),
    Output('skeletons', PointCloud2, lambda header, rgb, persons, style, ground:
           messages.skeleton_cloud(header, persons), depth=10),
    Output('debug_image', Image, lambda header, rgb, persons, style, ground:
           messages.debug_image(header, rgb, persons, style.min_visibility), depth=1,
           recorded=False),
)

BY_NAME: Dict[str, Output] = {output.name: output for output in OUTPUTS}

#: The outputs bags record and the client waits for.
RECORDED: Tuple[Output, ...] = tuple(output for output in OUTPUTS if output.recorded)
