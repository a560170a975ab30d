"""
The node's per-frame outputs, in one registry: topic name, message type, builder, QoS depth.

The node creates its publishers from :data:`OUTPUTS`, the bag writer writes the
:data:`RECORDED` ones, the DDS client subscribes to them, and ``bench/where_time_goes.py``
times every builder. Each builder draws a frame's :class:`Scene`: its persons and floor in
the outputs' frame (the camera's, or ``target_frame``'s). The look of a person (colour,
label) is :mod:`pose3d_ros.style`'s, shared with the pictures.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from geometry_msgs.msg import PoseArray
import numpy as np
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from . import messages
from .config import NodeConfig
from ..estimation.result import FrameResult, Person
from ..geometry.rigid import RigidTransform
from ..style import label


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


@dataclass(frozen=True)
class Scene:
    """
    What a frame's outputs show, in their frame: the persons and the floor grid.

    ``persons`` in the outputs' frame; ``floor_lines`` (2L, 3): the ends of the floor
    grid's segments (:func:`~.messages.floor_grid`), metres, None without a floor;
    ``in_camera`` the same persons in the camera's frame (``persons`` themselves when the
    outputs are in it): their labels give the distance from the camera, and the debug
    image is the camera's.
    """

    persons: Sequence[Person]
    floor_lines: Optional[np.ndarray]
    in_camera: Sequence[Person]

    @property
    def labels(self) -> List[str]:
        """Return each person's label: id and distance from the camera."""
        return [label(person, index) for index, person in enumerate(self.in_camera)]

    @staticmethod
    def of(result: FrameResult, to_frame: Optional[RigidTransform] = None) -> 'Scene':
        """Return ``result``'s scene, moved by ``to_frame`` from the camera frame if given."""
        lines = None if result.ground is None else messages.floor_grid(result.ground)
        if to_frame is None:
            return Scene(result.persons, lines, result.persons)
        return Scene([person.transformed(to_frame) for person in result.persons],
                     None if lines is None else to_frame.apply(lines), result.persons)


#: A builder: (input header, RGB image or None, the frame's scene, style) -> message.
Builder = Callable[[Header, Optional[np.ndarray], Scene, OutputStyle], Any]


@dataclass(frozen=True)
class Output:
    """
    One per-frame output: ``~/<name>``, its message type, how it is built, its QoS depth.

    ``recorded``: written into bags by ``pose3d-estimate --output-bag`` and awaited by the
    DDS client (the debug image is neither: it repeats the input). ``spatial``: it holds
    3D points, in the outputs' frame (``target_frame`` when set); the debug image is an
    image of the camera, in the camera's frame.
    """

    name: str
    message_type: type
    build: Builder
    depth: int
    recorded: bool = True
    spatial: bool = True

    @property
    def type_name(self) -> str:
        """Return the ROS type name, e.g. ``visualization_msgs/msg/MarkerArray``."""
        return f'{self.message_type.__module__.split(".")[0]}/msg/{self.message_type.__name__}'


OUTPUTS: Tuple[Output, ...] = (
    Output('markers', MarkerArray, lambda header, rgb, scene, style: messages.markers(
        header, scene.persons, style.marker_scale, style.marker_lifetime_s, style.min_visibility,
        scene.floor_lines, scene.labels), depth=1),
    Output('poses', PoseArray, lambda header, rgb, scene, style:
           messages.root_poses(header, scene.persons), depth=10),
    Output('joints', PoseArray, lambda header, rgb, scene, style:
           messages.joint_poses(header, scene.persons), depth=10),
    Output('skeletons', PointCloud2, lambda header, rgb, scene, style:
           messages.skeleton_cloud(header, scene.persons), depth=10),
    Output('debug_image', Image, lambda header, rgb, scene, style:
           messages.debug_image(header, rgb, scene.in_camera, style.min_visibility), depth=1,
           recorded=False, spatial=False),
)

BY_NAME: Dict[str, Output] = {output.name: output for output in OUTPUTS}

#: The outputs bags record and the client waits for.
RECORDED: Tuple[Output, ...] = tuple(output for output in OUTPUTS if output.recorded)
