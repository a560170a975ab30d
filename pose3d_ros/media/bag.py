"""
rosbag2 input and output for offline processing (sqlite3 and mcap, via ``rosbags``).

Frames are read from an Image or CompressedImage topic with the latest CameraInfo seen
before each image; the node's outputs (markers, poses, joints, skeletons) are written to a
new bag stamped with the input images' stamps, so that it replays in RViz or Foxglove.
Messages are (de)serialised with rclpy's own CDR serialisation.
"""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterator, Optional

import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from ..estimation.result import FrameResult
from ..geometry.camera import CameraModel, DEFAULT_HFOV_DEG
from ..node import messages
from ..node.config import NodeConfig
from ..node.outputs import OutputStyle, RECORDED, Scene

IMAGE_TYPES = {'sensor_msgs/msg/Image': Image,
               'sensor_msgs/msg/CompressedImage': CompressedImage}
CAMERA_INFO_TYPE = 'sensor_msgs/msg/CameraInfo'


@dataclass(frozen=True)
class BagFrame:
    """One image of a bag: its header, (H, W, 3) RGB pixels, and its camera (or None)."""

    header: Header
    rgb: np.ndarray
    camera: Optional[CameraModel]


class BagReader:
    """
    Iterate the images of a bag with their cameras.

    ``image_topic`` and ``camera_info_topic`` default to the bag's first image topic (raw
    or compressed) and first CameraInfo topic. ``len()`` is the number of images.
    """

    def __init__(self, path: Path, image_topic: Optional[str] = None,
                 camera_info_topic: Optional[str] = None,
                 default_hfov_deg: float = DEFAULT_HFOV_DEG) -> None:
        self.path, self.default_hfov_deg = path, default_hfov_deg
        with Reader(path) as reader:
            topics: Dict[str, str] = {c.topic: c.msgtype for c in reader.connections}
            counts = {c.topic: c.msgcount for c in reader.connections}
        images = [t for t, kind in topics.items() if kind in IMAGE_TYPES]
        infos = [t for t, kind in topics.items() if kind == CAMERA_INFO_TYPE]
        self.image_topic = image_topic or (images[0] if images else None)
        self.camera_info_topic = camera_info_topic or (infos[0] if infos else None)
        if self.image_topic not in images:
            raise ValueError(f'{path}: no image topic {self.image_topic!r}; image topics: '
                             f'{images or "none"}')
        if camera_info_topic and camera_info_topic not in infos:
            raise ValueError(f'{path}: no CameraInfo topic {camera_info_topic!r}; found '
                             f'{infos or "none"}')
        self.image_type = IMAGE_TYPES[topics[self.image_topic]]
        self.count = counts[self.image_topic]

    def __len__(self) -> int:
        """Return the number of images on the image topic."""
        return self.count

    def __iter__(self) -> Iterator[BagFrame]:
        """Yield the frames in the bag's time order."""
        wanted = {self.image_topic, self.camera_info_topic} - {None}
        camera = None
        with Reader(self.path) as reader:
            connections = [c for c in reader.connections if c.topic in wanted]
            for connection, _, raw in reader.messages(connections=connections):
                if connection.topic == self.camera_info_topic:
                    info = deserialize_message(bytes(raw), CameraInfo)
                    camera = messages.camera_from_info(info, self.default_hfov_deg)
                    continue
                message = deserialize_message(bytes(raw), self.image_type)
                yield BagFrame(message.header, messages.image_to_rgb(message), camera)


class BagWriter:
    """Write the node's outputs for each processed frame into a new bag."""

    def __init__(self, path: Path, namespace: str = '/pose3d', storage: str = 'mcap',
                 style: Optional[OutputStyle] = None) -> None:
        plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
        self.writer = Writer(path, version=8, storage_plugin=plugin)
        self.writer.open()
        typestore = get_typestore(Stores.ROS2_KILTED)
        self.connections = {
            output.name: self.writer.add_connection(f'{namespace}/{output.name}',
                                                    output.type_name, typestore=typestore)
            for output in RECORDED}
        # Markers in a bag stay until replaced: a replay may pause.
        self.style = style or replace(OutputStyle.of(NodeConfig()), marker_lifetime_s=0.0)

    def write(self, header: Header, result: FrameResult) -> None:
        """Write the recorded outputs of one frame (markers, poses, joints, skeletons)."""
        stamp_ns = header.stamp.sec * 1_000_000_000 + header.stamp.nanosec
        for output in RECORDED:
            message = output.build(header, None, Scene.of(result), self.style)
            self.writer.write(self.connections[output.name], stamp_ns,
                              serialize_message(message))

    def close(self) -> None:
        """Finish the bag (its metadata is written here)."""
        self.writer.close()
