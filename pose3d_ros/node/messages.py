"""
Conversions between ROS messages and the estimator's plain values (no rclpy here).

Inputs: CameraInfo to :class:`CameraModel`, Image/CompressedImage to RGB (cv_bridge when it
can be imported, else :mod:`.image_decoding`). Outputs: MarkerArray, PoseArray,
PointCloud2 and the debug Image, each stamped with the input image's header.
"""

import math
from typing import List, Optional, Sequence, Union

from builtin_interfaces.msg import Duration
import cv2
from geometry_msgs.msg import Point, Pose, PoseArray, Quaternion
import numpy as np
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2, PointField
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from .image_decoding import decode_compressed, decode_raw, SUPPORTED_ENCODINGS
from ..estimation.result import Person
from ..geometry.camera import CameraModel
from ..geometry.ground import GroundPlane
from ..models.joint_sets import RESULT_SETS
from ..style import colour, label, person_id
from ..visualisation import draw_skeletons

try:  # cv_bridge is used where it is installed (it is not on PyPI)
    from cv_bridge import CvBridge
except ImportError:  # pragma: no cover - depends on the installation
    CvBridge = None

_BRIDGE = CvBridge() if CvBridge is not None else None


def camera_from_info(info: CameraInfo, default_hfov_deg: float,
                     rectified: bool = False) -> CameraModel:
    """
    Build the camera model of a CameraInfo message (K all zero: ``default_hfov_deg``).

    ``rectified``: the images are rectified (``image_rect``), so their camera is P's
    left 3 x 3 block with no distortion, as sensor_msgs/CameraInfo defines it; otherwise
    K and D describe the raw image.
    """
    roi = info.roi
    if rectified:
        p = list(info.p)
        k, d = p[0:3] + p[4:7] + p[8:11], []
    else:
        k, d = list(info.k), list(info.d)
    return CameraModel.from_values(
        info.width, info.height, k, d, info.distortion_model, info.binning_x, info.binning_y,
        (roi.x_offset, roi.y_offset, roi.width, roi.height), default_hfov_deg)


def image_to_rgb(message: Union[Image, CompressedImage]) -> np.ndarray:
    """
    Convert an Image or CompressedImage message to (H, W, 3) uint8 RGB.

    The package's own conversion handles every encoding it lists
    (:data:`~pose3d_ros.node.image_decoding.SUPPORTED_ENCODINGS`) and checks the layout (size,
    ``step``, data length), which cv_bridge does not; cv_bridge, where it can be
    imported, converts any other encoding.

    Raises
    ------
    ValueError
        Unsupported encoding or malformed message (the message says why).

    """
    if isinstance(message, CompressedImage):
        return decode_compressed(message.format, message.data)
    if message.encoding in SUPPORTED_ENCODINGS or _BRIDGE is None:
        return decode_raw(message.encoding, message.width, message.height, message.step,
                          bool(message.is_bigendian), message.data)
    if message.width <= 0 or message.height <= 0 or \
            len(message.data) != message.step * message.height:
        raise ValueError(f'malformed {message.encoding} image: {message.width} x '
                         f'{message.height}, step {message.step}, {len(message.data)} bytes')
    try:
        return np.ascontiguousarray(_BRIDGE.imgmsg_to_cv2(message, 'rgb8'))
    except Exception as exc:  # noqa: B902 - cv_bridge raises its own error types
        raise ValueError(f'cv_bridge cannot convert {message.encoding!r}: {exc}') from exc


def colour_message(identifier: int) -> ColorRGBA:
    """Return a person id's colour (:func:`pose3d_ros.style.colour`), opaque."""
    red, green, blue = colour(identifier)
    return ColorRGBA(r=float(red), g=float(green), b=float(blue), a=1.0)


def _points(xyz: np.ndarray) -> List[Point]:
    """Return (K, 3) metres as K Point messages (``tolist``: no NumPy scalar per value)."""
    return [Point(x=x, y=y, z=z) for x, y, z in np.asarray(xyz, np.float64).tolist()]


def _point(xyz: Sequence[float]) -> Point:
    return _points(np.reshape(xyz, (1, 3)))[0]


#: The floor grid: 1 m squares, this many metres to either side and ahead of the camera.
FLOOR_GRID_HALF_WIDTH_M, FLOOR_GRID_LENGTH_M = 5, 15
#: A person's label floats this far above their head (metres).
LABEL_ABOVE_HEAD_M = 0.25
#: The floor grid's colour (grey, half transparent).
FLOOR_COLOUR = ColorRGBA(r=0.6, g=0.6, b=0.6, a=0.5)


def floor_grid(ground: GroundPlane) -> np.ndarray:
    """
    Return (2L, 3) line segment ends of a 1 m grid on ``ground``, camera optical frame.

    The grid starts under the camera and runs :data:`FLOOR_GRID_LENGTH_M` along the
    optical axis' direction on the floor, :data:`FLOOR_GRID_HALF_WIDTH_M` to either side.
    """
    up = ground.normal
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up  # the optical axis, along the floor
    if np.linalg.norm(forward) < 1e-6:  # looking straight down: the image's up ahead
        forward = np.array([0.0, -1.0, 0.0]) - up[1] * up
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    origin = -ground.height_m * up  # the floor under the camera
    half, length = FLOOR_GRID_HALF_WIDTH_M, FLOOR_GRID_LENGTH_M
    across = [(origin + i * right, origin + i * right + length * forward)
              for i in range(-half, half + 1)]
    along = [(origin - half * right + j * forward, origin + half * right + j * forward)
             for j in range(length + 1)]
    return np.array(across + along).reshape(-1, 3)


def floor_values(ground: Optional[GroundPlane], on_floor: int) -> dict:
    """Return the diagnostics' key -> text of a frame's floor and how many stood on it."""
    if ground is None:
        return {'floor source': 'none'}
    return {'floor source': ground.source.value,
            'floor camera height (m)': f'{ground.height_m:.3f}',
            'floor camera height std (m)': f'{ground.height_std_m:.3f}',
            'floor pitch (deg)': f'{math.degrees(ground.pitch_rad):.2f}',
            'floor roll (deg)': f'{math.degrees(ground.roll_rad):.2f}',
            'floor tilt std (deg)': f'{math.degrees(ground.normal_std_rad):.2f}',
            'floor inliers': str(ground.inliers),
            'people on the floor': str(on_floor)}


def markers(header: Header, persons: Sequence[Person], scale: float, lifetime_s: float,
            min_visibility: float, floor_lines: Optional[np.ndarray] = None,
            labels: Optional[Sequence[str]] = None) -> MarkerArray:
    """
    Build the skeleton markers: a DELETEALL, then per person joints, bones and a label.

    Marker ids are person ids (namespaces ``joints``, ``bones``, ``labels``); joints below
    ``min_visibility`` and bones touching them are left out. ``scale`` is the joint sphere
    diameter in metres (bones are half as thick). Markers keep their default pose, the
    identity (a ROS 2 Quaternion defaults to w = 1), except the label's, 0.25 m above the
    head along the body (mid-hip to head), in whatever frame the joints are. With
    ``floor_lines`` (2L, 3), the ends of the floor grid's segments in the header's frame
    (:func:`floor_grid`), the floor is drawn (namespace ``floor``, id 0), and each person on
    it by their foot point (namespace ``feet``, their id), a sphere of twice the joint size.
    ``labels``: each person's text (default :func:`~pose3d_ros.style.label`, whose distance
    is from the frame's origin: give the camera's when the joints are in another frame).
    """
    lifetime = Duration(sec=int(lifetime_s), nanosec=int((lifetime_s % 1.0) * 1e9))
    array = MarkerArray(markers=[Marker(header=header, action=Marker.DELETEALL)])
    for index, person in enumerate(persons):
        identifier = person_id(person, index)
        shown = person.visibility >= min_visibility
        common = {'header': header, 'id': identifier, 'action': Marker.ADD,
                  'lifetime': lifetime, 'color': colour_message(identifier)}
        points = _points(person.joints_3d)  # shared by both lists: built once per joint
        joints = Marker(ns='joints', type=Marker.SPHERE_LIST, **common)
        joints.scale.x = joints.scale.y = joints.scale.z = scale
        joints.points = [points[j] for j in np.flatnonzero(shown)]
        bones = Marker(ns='bones', type=Marker.LINE_LIST, **common)
        bones.scale.x = scale / 2.0
        edges = np.asarray(person.joint_set.edges).reshape(-1, 2)
        bones.points = [points[j] for j in edges[shown[edges].all(axis=1)].ravel()]
        text = Marker(ns='labels', type=Marker.TEXT_VIEW_FACING, **common)
        head = person.joints_3d[person.joint_set.head]
        up = head - person.root
        text.pose.position = _point(head + LABEL_ABOVE_HEAD_M * up / max(
            float(np.linalg.norm(up)), 1e-9))
        text.scale.z = scale * 4.0
        text.text = label(person, index) if labels is None else labels[index]
        array.markers += [joints, bones, text]
        if person.on_ground and person.foot is not None:
            foot = Marker(ns='feet', type=Marker.SPHERE_LIST, **common)
            foot.scale.x = foot.scale.y = foot.scale.z = 2.0 * scale
            foot.points = _points(person.foot[None])
            array.markers.append(foot)
    if floor_lines is not None:
        grid = Marker(header=header, ns='floor', id=0, type=Marker.LINE_LIST,
                      action=Marker.ADD, lifetime=lifetime, color=FLOOR_COLOUR)
        grid.scale.x = scale / 4.0
        grid.points = _points(floor_lines)
        array.markers.append(grid)
    return array


def person_pose(person: Person) -> Pose:
    """Return a person's pose: the pelvis, oriented as the torso (x forward, y left, z up)."""
    x, y, z, w = person.orientation.tolist()
    return Pose(position=_point(person.root), orientation=Quaternion(x=x, y=y, z=z, w=w))


def root_poses(header: Header, persons: Sequence[Person]) -> PoseArray:
    """One pose per person (:func:`person_pose`)."""
    return PoseArray(header=header, poses=[person_pose(person) for person in persons])


def joint_poses(header: Header, persons: Sequence[Person]) -> PoseArray:
    """Every person's joints, person-major in their joint set's order, identity orientation."""
    joints = [person.joints_3d for person in persons]
    points = _points(np.concatenate(joints)) if joints else []
    return PoseArray(header=header, poses=[Pose(position=point) for point in points])


SKELETON_FIELDS = (('x', PointField.FLOAT32), ('y', PointField.FLOAT32),
                   ('z', PointField.FLOAT32), ('confidence', PointField.FLOAT32),
                   ('person_id', PointField.UINT32), ('joint_id', PointField.UINT32))


def skeleton_cloud(header: Header, persons: Sequence[Person]) -> PointCloud2:
    """All joints as a PointCloud2 with fields x, y, z, confidence, person_id, joint_id."""
    dtype = np.dtype([(name, '<f4' if kind == PointField.FLOAT32 else '<u4')
                      for name, kind in SKELETON_FIELDS])
    ends = np.cumsum([0] + [len(person.joints_3d) for person in persons])
    points = np.zeros(ends[-1], dtype=dtype)
    for index, person in enumerate(persons):
        rows = slice(ends[index], ends[index + 1])
        for axis, name in enumerate('xyz'):
            points[name][rows] = person.joints_3d[:, axis]
        points['confidence'][rows] = person.visibility
        points['person_id'][rows] = person_id(person, index)
        points['joint_id'][rows] = np.arange(len(person.joints_3d))
    fields = [PointField(name=name, offset=dtype.fields[name][1], datatype=kind, count=1)
              for name, kind in SKELETON_FIELDS]
    return PointCloud2(header=header, height=1, width=len(points), fields=fields,
                       is_bigendian=False, point_step=dtype.itemsize,
                       row_step=dtype.itemsize * len(points), data=points.tobytes(),
                       is_dense=True)


def debug_image(header: Header, rgb: np.ndarray, persons: Sequence[Person],
                min_visibility: float) -> Image:
    """Return the input image with the 2D skeletons drawn, as a bgr8 Image message."""
    bgr = draw_skeletons(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), persons,
                         min_visibility=min_visibility)
    height, width = bgr.shape[:2]
    return Image(header=header, height=height, width=width, encoding='bgr8',
                 is_bigendian=False, step=width * 3, data=bgr.tobytes())


def image_message(header: Header, rgb: np.ndarray) -> Image:
    """Wrap (H, W, 3) uint8 RGB as an rgb8 Image message (players, tests, benchmarks)."""
    height, width = rgb.shape[:2]
    return Image(header=header, height=height, width=width, encoding='rgb8',
                 is_bigendian=False, step=width * 3, data=np.ascontiguousarray(rgb).tobytes())


def camera_info_message(header: Header, camera: CameraModel) -> CameraInfo:
    """Describe a camera model as CameraInfo (binning and ROI folded into K and the size)."""
    fx, fy, cx, cy = camera.intrinsics
    d = [float(v) for v in camera.d] or [0.0] * 5
    return CameraInfo(header=header, width=camera.width, height=camera.height,
                      distortion_model=camera.distortion_model, d=d,
                      k=[fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0],
                      r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                      p=[fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0])


def persons_from_cloud(cloud: PointCloud2, camera: CameraModel) -> List[Person]:
    """
    Rebuild persons from a ``~/skeletons`` cloud (what a subscriber sees of them).

    Joints, confidences and ids come from the cloud (33 joints per person: BlazePose's
    landmarks; 17: Human3.6M-17 from the lifting backend; 21 or 18: MuCo-21 or Human3.6M-18
    from the 3dmppe backend); the root is the mid-hip, as the node's own; the 2D
    keypoints are the joints projected through ``camera`` (pinhole), so they are close to,
    not equal to, the node's own 2D landmarks. Score and prior depth are not in the cloud
    (NaN).
    """
    dtype = np.dtype({'names': [f.name for f in cloud.fields],
                      'formats': ['<f4' if f.datatype == PointField.FLOAT32 else '<u4'
                                  for f in cloud.fields],
                      'offsets': [f.offset for f in cloud.fields],
                      'itemsize': cloud.point_step})
    points = np.frombuffer(bytes(cloud.data), dtype=dtype)
    fx, fy, cx, cy = camera.intrinsics
    persons = []
    for identifier in dict.fromkeys(points['person_id'].tolist()):
        rows = points[points['person_id'] == identifier]
        rows = rows[np.argsort(rows['joint_id'])]
        joints = np.stack([rows['x'], rows['y'], rows['z']], axis=1).astype(np.float64)
        pixels = joints[:, :2] / np.maximum(joints[:, 2:], 1e-6) * [fx, fy] + [cx, cy]
        joint_set = RESULT_SETS.get(len(joints))
        if joint_set is None:
            raise ValueError(f'person {identifier} has {len(joints)} joints in the cloud; '
                             f'expected one of {sorted(RESULT_SETS)}')
        persons.append(Person(
            score=float('nan'), bbox=np.concatenate([pixels.min(0), pixels.max(0)]),
            keypoints_2d=pixels, visibility=rows['confidence'].astype(np.float64),
            joints_3d=joints, root_prior_z=float('nan'), root_from_fit=True,
            track_id=int(identifier),
            joint_set=joint_set))
    return persons
