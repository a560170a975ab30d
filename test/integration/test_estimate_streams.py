"""pose3d-estimate on a generated video and on rosbag2 round trips (sqlite3 and mcap)."""

import json
from pathlib import Path

from builtin_interfaces.msg import Time
import cv2
import numpy as np
from pose3d_ros.cli import camera_options
from pose3d_ros.cli.estimate import main
from pose3d_ros.evaluation import sequences
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.node import messages
from pose3d_ros.samples import read_player, read_rgb
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores
from sensor_msgs.msg import CompressedImage, PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from ..helpers import write_calibration

COMMON = ['--device', 'cpu', '--detector-grids', '1', '--progress', 'never']


def records(path: Path) -> list:
    """Return the JSON lines of a file."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_video(path: Path, frames: list) -> None:
    """Write RGB ``frames`` as an mp4 video at 15 Hz."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 15.0,
                             (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def test_generated_video_end_to_end(sample_dir: Path, tmp_path: Path) -> None:
    clip = sequences.translated(read_player(), frames=12)
    video = tmp_path / 'walk.mp4'
    write_video(video, clip.frames)
    out = tmp_path / 'walk.jsonl'
    assert main([str(video), '--output', str(out), '--render', str(tmp_path / 'render'),
                 *COMMON]) == 0
    lines = records(out)
    assert [r['frame'] for r in lines] == list(range(12))
    assert [r['stamp'] for r in lines] == pytest.approx([i / 15.0 for i in range(12)])
    ids = {p['id'] for r in lines for p in r['persons']
           if abs(np.mean(np.array(p['keypoints_2d'])[:25, 0]) -
                  clip.centres['a'][r['frame']]) < 120}
    assert len(ids) == 1 and None not in ids, ids
    rendered = cv2.VideoCapture(str(tmp_path / 'render' / 'walk_pose3d.mp4'))
    assert int(rendered.get(cv2.CAP_PROP_FRAME_COUNT)) == 12


def test_video_reads_its_calibration_once(sample_dir: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    clip = sequences.translated(read_player(), frames=4)
    height, width = clip.frames[0].shape[:2]
    video = tmp_path / 'walk.mp4'
    write_video(video, clip.frames)
    calibration = write_calibration(tmp_path / 'camera.yaml', CameraModel.from_values(
        width, height, [700, 0, width / 2, 0, 700, height / 2, 0, 0, 1]))
    reads = []
    load = camera_options.load_camera_info
    monkeypatch.setattr(camera_options, 'load_camera_info',
                        lambda path: reads.append(path) or load(path))
    out = tmp_path / 'walk.jsonl'
    assert main([str(video), '--output', str(out), '--camera-info', str(calibration),
                 *COMMON]) == 0
    lines = records(out)
    assert len(lines) == 4 and reads == [calibration]
    assert all(r['camera']['calibrated'] and r['camera']['fx'] == 700 for r in lines)


def write_input_bag(path: Path, storage: str, photo: np.ndarray, compressed: bool) -> list:
    """Write 5 frames of the photo (with CameraInfo) at 10 Hz; return their stamps (ns)."""
    typestore = get_typestore(Stores.ROS2_KILTED)
    writer = Writer(path, version=8, storage_plugin=StoragePlugin.MCAP if storage == 'mcap'
                    else StoragePlugin.SQLITE3)
    writer.open()
    image_type = 'sensor_msgs/msg/CompressedImage' if compressed else 'sensor_msgs/msg/Image'
    topic = '/cam/image_raw/compressed' if compressed else '/cam/image_raw'
    images = writer.add_connection(topic, image_type, typestore=typestore)
    infos = writer.add_connection('/cam/camera_info', 'sensor_msgs/msg/CameraInfo',
                                  typestore=typestore)
    height, width = photo.shape[:2]
    camera = CameraModel.from_values(width, height, [500.0, 0, width / 2, 0, 500.0,
                                                     height / 2, 0, 0, 1])
    stamps = []
    for index in range(5):
        header = Header(stamp=Time(sec=100, nanosec=index * 100_000_000), frame_id='cam')
        stamp = 100 * 10 ** 9 + index * 100_000_000
        if compressed:
            jpeg = cv2.imencode('.jpg', cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))[1]
            image = CompressedImage(header=header, format='jpeg', data=jpeg.tobytes())
        else:
            image = messages.image_message(header, photo)
        writer.write(infos, stamp, serialize_message(messages.camera_info_message(header,
                                                                                  camera)))
        writer.write(images, stamp, serialize_message(image))
        stamps.append(stamp)
    writer.close()
    return stamps


@pytest.mark.parametrize('storage, compressed', [('sqlite3', False), ('mcap', True)])
def test_bag_round_trip(sample_dir: Path, tmp_path: Path, storage: str,
                        compressed: bool) -> None:
    photo = read_rgb(sample_dir / 'messi5.jpg')
    bag = tmp_path / 'input'
    stamps = write_input_bag(bag, storage, photo, compressed)
    out = tmp_path / 'poses.jsonl'
    assert main([str(bag), '--output', str(out), '--output-bag', str(tmp_path / 'out'),
                 *COMMON]) == 0
    lines = records(out)
    assert [round(r['stamp'] * 1e9) for r in lines] == stamps
    assert all(r['camera']['fx'] == 500.0 and r['camera']['calibrated'] for r in lines)
    assert all(len(r['persons']) == 1 for r in lines)
    assert len({r['persons'][0]['id'] for r in lines}) == 1

    with Reader(tmp_path / 'out' / 'input') as reader:
        topics = {c.topic: c for c in reader.connections}
        assert set(topics) == {'/pose3d/markers', '/pose3d/poses', '/pose3d/joints',
                               '/pose3d/skeletons'}
        assert all(c.msgcount == 5 for c in topics.values())
        seen = {'markers': [], 'skeletons': []}
        for connection, timestamp, raw in reader.messages():
            if connection.topic == '/pose3d/markers':
                array = deserialize_message(bytes(raw), MarkerArray)
                assert array.markers[0].action == Marker.DELETEALL
                assert array.markers[0].header.frame_id == 'cam'
                seen['markers'].append(timestamp)
            elif connection.topic == '/pose3d/skeletons':
                cloud = deserialize_message(bytes(raw), PointCloud2)
                assert cloud.width == 33
                seen['skeletons'].append(timestamp)
    assert seen['markers'] == stamps and seen['skeletons'] == stamps


def test_bag_without_the_named_topic_is_reported(
        sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    photo = read_rgb(sample_dir / 'messi5.jpg')
    bag = tmp_path / 'input'
    write_input_bag(bag, 'mcap', photo, False)
    assert main([str(bag), '--image-topic', '/nope', '--output', str(tmp_path / 'o'),
                 *COMMON]) == 1
    assert "no image topic '/nope'" in capsys.readouterr().err
