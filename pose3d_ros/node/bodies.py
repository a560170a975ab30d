"""
People as ROS data: a TF frame per body, and REP-155's bodies interface (ROS4HRI).

- **Body IDs.** A tracked person's REP-155 body ID is their track id after a ``b``
  (:func:`body_id`: ``b12``): a ROS name token cannot begin with a digit, and the ID
  names topics. Only tracked persons (with a track id) are bodies.
- **Body frames** (:func:`body_transforms`): ``body_<bodyID>``, REP-155's convention:
  origin at the hips' midpoint, x forward (out of the body), z towards the head; its
  parent the camera's frame, as REP-155 asks (the sensor's), or ``target_frame`` when
  the outputs are published there; stamped with the image's stamp. They go out through
  tf2_ros's TransformBroadcaster when tf2_ros can be imported, else as
  tf2_msgs/TFMessage on ``/tf`` (:class:`FrameBroadcaster`).
- **The bodies interface** (:class:`BodiesInterface`, needs hri_msgs):
  ``/humans/bodies/tracked`` (hri_msgs/IdsList), and per body
  ``/humans/bodies/<bodyID>/skeleton2d`` (hri_msgs/Skeleton2D: OpenPose's 18 COCO
  keypoints, :data:`SKELETON2D_JOINTS`) and ``/humans/bodies/<bodyID>/roi``
  (hri_msgs/NormalizedRegionOfInterest2D), in normalised image coordinates; a body's
  topics are created when it appears and destroyed when it is gone. They keep their last
  message for late subscribers (transient local, depth 1): a consumer that subscribes on
  seeing a new ID in the list still gets that body's first message.

tf2_ros, tf2_msgs and hri_msgs are not on PyPI: each is used when it can be imported
(``pose3d-interfaces build`` makes tf2_msgs and hri_msgs importable without a ROS
install).
"""

import functools
from typing import Any, Dict, List, Sequence, Tuple

from geometry_msgs.msg import Transform, TransformStamped, Vector3
import numpy as np
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Header

from .messages import person_pose
from ..estimation.result import Person
from ..models.joint_sets import JointSet

try:  # tf2_ros is used where it is installed (it is not on PyPI)
    import tf2_ros
except ImportError:  # pragma: no cover - depends on the installation
    tf2_ros = None
try:  # tf2_msgs and hri_msgs: a ROS install, or pose3d-interfaces build
    from tf2_msgs.msg import TFMessage
except ImportError:  # pragma: no cover - depends on the installation
    TFMessage = None
try:
    from hri_msgs.msg import (IdsList, NormalizedPointOfInterest2D,
                              NormalizedRegionOfInterest2D, Skeleton2D)
except ImportError:  # pragma: no cover - depends on the installation
    IdsList = NormalizedPointOfInterest2D = NormalizedRegionOfInterest2D = Skeleton2D = None

#: REP-155's namespace of bodies.
BODIES = '/humans/bodies'
#: The bodies' topics: the last message waits for late subscribers.
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
#: Skeleton2D's 18 keypoints in order (OpenPose's COCO model), each as the joints of ours
#: it is the midpoint of, first match wins: the neck is the neck or thorax of a set that
#: has one, else the shoulders' midpoint.
SKELETON2D_JOINTS: Tuple[Tuple[Tuple[str, ...], ...], ...] = (
    (('nose',),), (('neck',), ('thorax',), ('left_shoulder', 'right_shoulder')),
    (('right_shoulder',),), (('right_elbow',),), (('right_wrist',),),
    (('left_shoulder',),), (('left_elbow',),), (('left_wrist',),),
    (('right_hip',),), (('right_knee',),), (('right_ankle',),),
    (('left_hip',),), (('left_knee',),), (('left_ankle',),),
    (('left_eye',),), (('right_eye',),), (('left_ear',),), (('right_ear',),))


def body_id(person: Person) -> str:
    """Return a tracked person's REP-155 body ID (see the module docstring)."""
    if person.track_id is None:
        raise ValueError('only a tracked person is a body')
    return f'b{person.track_id}'


def tracked(persons: Sequence[Person]) -> List[Person]:
    """Return the persons that are bodies: those with a track id."""
    return [person for person in persons if person.track_id is not None]


def body_transforms(header: Header, persons: Sequence[Person]) -> List[TransformStamped]:
    """Return each tracked person's ``body_<bodyID>`` frame in ``header``'s frame, at its stamp."""
    transforms = []
    for person in tracked(persons):
        pose = person_pose(person)  # the frame is where ~/poses puts the person
        position = pose.position
        transforms.append(TransformStamped(
            header=header, child_frame_id=f'body_{body_id(person)}', transform=Transform(
                translation=Vector3(x=position.x, y=position.y, z=position.z),
                rotation=pose.orientation)))
    return transforms


@functools.lru_cache(maxsize=8)
def _skeleton2d_table(names: Tuple[str, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """
    Return, for joints ``names``, Skeleton2D's (18, 2) joint indices and (18,) presence.

    Each keypoint is the midpoint of its two indices (one joint: repeated); a keypoint the
    set lacks has indices 0 and is not present.
    """
    indices, present = np.zeros((len(SKELETON2D_JOINTS), 2), int), np.zeros(
        len(SKELETON2D_JOINTS), bool)
    for row, choices in enumerate(SKELETON2D_JOINTS):
        found = next((choice for choice in choices if all(n in names for n in choice)), None)
        if found is not None:
            indices[row] = [names.index(found[0]), names.index(found[-1])]
            present[row] = True
    return indices, present


def skeleton2d_points(keypoints: np.ndarray, visibility: np.ndarray, joint_set: JointSet,
                      width: int, height: int) -> np.ndarray:
    """
    Return (18, 3) Skeleton2D's keypoints: x, y normalised to [0, 1], and confidence.

    ``keypoints`` (J, 2) pixels and ``visibility`` (J,) of ``joint_set``. A keypoint the
    set lacks, or outside the image, is (0, 0) or clipped with confidence 0.
    """
    indices, present = _skeleton2d_table(tuple(joint_set.joint_names))
    xy = np.asarray(keypoints, dtype=np.float64)[indices].mean(axis=1) / [width, height]
    inside = ((xy >= 0.0) & (xy <= 1.0)).all(axis=1) & present
    confidence = np.clip(np.asarray(visibility, dtype=np.float64)[indices].min(axis=1),
                         0.0, 1.0)
    return np.concatenate([np.clip(xy, 0.0, 1.0) * present[:, None],
                           np.where(inside, confidence, 0.0)[:, None]], axis=1)


def skeleton2d(header: Header, person: Person, width: int, height: int) -> Any:
    """Return a person's hri_msgs/Skeleton2D (:func:`skeleton2d_points`)."""
    points = skeleton2d_points(person.keypoints_2d, person.visibility, person.joint_set,
                               width, height)
    return Skeleton2D(header=header, skeleton=[
        NormalizedPointOfInterest2D(x=float(x), y=float(y), c=float(c)) for x, y, c in points])


def roi(header: Header, person: Person, width: int, height: int) -> Any:
    """Return a person's box as hri_msgs/NormalizedRegionOfInterest2D, c its score."""
    x0, y0, x1, y1 = np.clip(np.asarray(person.bbox, dtype=np.float64) /
                             [width, height, width, height], 0.0, 1.0)
    return NormalizedRegionOfInterest2D(header=header, xmin=float(x0), ymin=float(y0),
                                        xmax=float(x1), ymax=float(y1),
                                        c=float(np.clip(person.score, 0.0, 1.0)))


class FrameBroadcaster:
    """
    Sends body frames: tf2_ros's TransformBroadcaster, else TFMessage on /tf.

    :attr:`how` says which (``tf2_ros``, ``tf2_msgs``), or why none: then :meth:`send`
    does nothing.
    """

    def __init__(self, node: Any) -> None:
        self._node, self._publisher, self._broadcaster = node, None, None
        if tf2_ros is not None:
            self._broadcaster = tf2_ros.TransformBroadcaster(node)
            self.how = 'tf2_ros'
        elif TFMessage is not None:
            self._publisher = node.create_publisher(TFMessage, '/tf', QoSProfile(depth=100))
            self.how = 'tf2_msgs'
        else:
            self.how = ('neither tf2_ros nor tf2_msgs can be imported (pose3d-interfaces '
                        'build makes tf2_msgs)')

    @property
    def available(self) -> bool:
        """Return whether frames go out."""
        return self._broadcaster is not None or self._publisher is not None

    def send(self, transforms: List[TransformStamped]) -> None:
        """Send one batch of frames (none: nothing)."""
        if not transforms:
            return
        if self._broadcaster is not None:
            self._broadcaster.sendTransform(transforms)
        elif self._publisher is not None:
            self._publisher.publish(TFMessage(transforms=transforms))

    def close(self) -> None:
        """Remove the /tf publisher: this one's, or the one tf2_ros's broadcaster made."""
        publisher = self._publisher if self._broadcaster is None else \
            self._broadcaster.pub_tf
        self._publisher = self._broadcaster = None
        if publisher is not None:
            self._node.destroy_publisher(publisher)


class BodiesInterface:
    """
    REP-155's bodies on a node: the tracked list, and each body's own topics.

    Raises ValueError at construction when hri_msgs cannot be imported.
    """

    def __init__(self, node: Any) -> None:
        if IdsList is None:
            raise ValueError('hri_msgs cannot be imported; it comes with ROS4HRI (apt install '
                             'ros-$ROS_DISTRO-hri-msgs), or `pose3d-interfaces build PREFIX` '
                             'makes it')
        self._node = node
        self._tracked = node.create_publisher(IdsList, f'{BODIES}/tracked', LATCHED)
        self._bodies: Dict[str, Tuple[Any, Any]] = {}  # body ID -> (skeleton2d, roi)

    def publish(self, header: Header, persons: Sequence[Person], width: int,
                height: int) -> None:
        """Publish a frame's bodies: create the topics of new ones, drop those of gone ones."""
        bodies = {body_id(person): person for person in tracked(persons)}
        self._drop(set(self._bodies) - set(bodies))
        for identifier, person in bodies.items():
            if identifier not in self._bodies:
                self._bodies[identifier] = (
                    self._node.create_publisher(
                        Skeleton2D, f'{BODIES}/{identifier}/skeleton2d', LATCHED),
                    self._node.create_publisher(
                        NormalizedRegionOfInterest2D, f'{BODIES}/{identifier}/roi', LATCHED))
            skeleton_publisher, roi_publisher = self._bodies[identifier]
            skeleton_publisher.publish(skeleton2d(header, person, width, height))
            roi_publisher.publish(roi(header, person, width, height))
        self._tracked.publish(IdsList(header=header, ids=list(bodies)))

    def _drop(self, gone: set) -> None:
        for identifier in gone:
            for publisher in self._bodies.pop(identifier):
                self._node.destroy_publisher(publisher)

    def clear(self, header: Header) -> None:
        """Say that no body is tracked any more (the node stops): an empty list, no topics."""
        self._drop(set(self._bodies))
        self._tracked.publish(IdsList(header=header, ids=[]))

    def close(self) -> None:
        """Destroy every topic this made."""
        self._drop(set(self._bodies))
        self._node.destroy_publisher(self._tracked)
