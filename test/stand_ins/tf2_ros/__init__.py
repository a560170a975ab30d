"""
A stand-in for tf2_ros (ros2/geometry2, tf2_ros_py), for tests where the real one is absent.

tf2_ros is not on PyPI. This package has the part of its interface pose3d_ros uses, with
the real signatures (checked in test/unit/test_tf_interface.py against the ones recorded
from upstream): ``Buffer(cache_time=None, node=None)``,
``Buffer.lookup_transform(target_frame, source_frame, time, timeout=Duration())`` returning
a geometry_msgs/TransformStamped, ``TransformListener(buffer, node, *, spin_thread=False,
qos=None, static_qos=None, tf_topic='/tf', tf_static_topic='/tf_static')`` with
``unregister()``, ``TransformBroadcaster(node, qos=None)`` with ``sendTransform(transform)``
(which, as the real one, publishes tf2_msgs/TFMessage on /tf: it needs tf2_msgs), and
``TransformException`` with its subclasses.

What it does not have is a subscription to /tf: its listener puts into the buffer the
static transforms the environment variable ``TF2_STAND_IN`` holds, JSON
``[{"parent": "base_footprint", "child": "camera", "translation": [x, y, z],
"rotation": [x, y, z, w]}, ...]`` (what /tf_static would carry: the child's pose in the
parent). A lookup chains them through the frame tree, either way along each edge, as tf2
does; an unknown frame raises LookupException, frames in separate trees
ConnectivityException. Every lookup is recorded in ``LOOKUPS`` (frames, time, timeout).
"""

from collections import deque
import json
import os
from typing import Dict, List, Optional, Tuple

from geometry_msgs.msg import TransformStamped
from pose3d_ros.geometry.rigid import RigidTransform
from rclpy.duration import Duration
from rclpy.time import Time

#: The environment variable with the static transforms.
ENVIRONMENT = 'TF2_STAND_IN'
#: (target_frame, source_frame, time, timeout) of every lookup, in order.
LOOKUPS: List[Tuple[str, str, Time, Duration]] = []


class TransformException(Exception):
    """Base of tf2's errors (tf2.TransformException)."""


class LookupException(TransformException):
    """A frame is unknown (tf2.LookupException)."""


class ConnectivityException(TransformException):
    """Two frames are not in one tree (tf2.ConnectivityException)."""


class ExtrapolationException(TransformException):
    """The time is outside the buffer (tf2.ExtrapolationException)."""


class InvalidArgumentException(TransformException):
    """A malformed transform or frame id (tf2.InvalidArgumentException)."""


class TimeoutException(TransformException):
    """A wait ran out (tf2.TimeoutException)."""


def _rigid(message: TransformStamped) -> RigidTransform:
    """Return a transform message as the map of child points into the parent."""
    q, t = message.transform.rotation, message.transform.translation
    return RigidTransform.from_quaternion([q.x, q.y, q.z, q.w], [t.x, t.y, t.z])


def _message(transform: RigidTransform, target: str, source: str,
             time: Time) -> TransformStamped:
    """Return a TransformStamped of ``transform``, which maps ``source`` into ``target``."""
    message = TransformStamped()
    message.header.frame_id, message.child_frame_id = target, source
    message.header.stamp = time.to_msg()
    t, r = message.transform.translation, message.transform.rotation
    t.x, t.y, t.z = (float(v) for v in transform.translation)
    r.x, r.y, r.z, r.w = (float(v) for v in transform.quaternion)
    return message


class Buffer:
    """A tf2_ros.Buffer of static transforms (see the module docstring)."""

    def __init__(self, cache_time: Optional[Duration] = None, node: Optional[object] = None
                 ) -> None:
        if cache_time is not None and not isinstance(cache_time, Duration):
            raise TypeError(f'cache_time must be an rclpy Duration, got {cache_time!r}')
        self._edges: Dict[str, Dict[str, RigidTransform]] = {}  # frame -> neighbour -> map

    def set_transform_static(self, transform: TransformStamped, authority: str) -> None:
        """Add a static transform (the child's pose in the parent)."""
        parent, child = transform.header.frame_id, transform.child_frame_id
        if not parent or not child or parent == child:
            raise InvalidArgumentException(f'invalid frames {parent!r} -> {child!r}')
        into_parent = _rigid(transform)
        self._edges.setdefault(child, {})[parent] = into_parent
        self._edges.setdefault(parent, {})[child] = into_parent.inverse()

    def lookup_transform(self, target_frame: str, source_frame: str, time: Time,
                         timeout: Duration = Duration()) -> TransformStamped:
        """Return the transform of ``source_frame`` points into ``target_frame``."""
        if not isinstance(time, Time) or not isinstance(timeout, Duration):
            raise TypeError('lookup_transform takes an rclpy Time and an rclpy Duration, got '
                            f'{type(time).__name__} and {type(timeout).__name__}')
        LOOKUPS.append((target_frame, source_frame, time, timeout))
        for argument, frame in (('target_frame', target_frame), ('source_frame', source_frame)):
            if frame not in self._edges:
                raise LookupException(f'"{frame}" passed to lookupTransform argument '
                                      f'{argument} does not exist. ')
        found = {source_frame: RigidTransform.identity()}  # frame -> source points into it
        queue = deque([source_frame])
        while queue:
            frame = queue.popleft()
            for neighbour, into_neighbour in self._edges[frame].items():
                if neighbour not in found:
                    found[neighbour] = into_neighbour @ found[frame]
                    queue.append(neighbour)
        if target_frame not in found:
            raise ConnectivityException(f'Could not find a connection between '
                                        f"'{target_frame}' and '{source_frame}' because they "
                                        'are not part of the same tree.')
        return _message(found[target_frame], target_frame, source_frame, time)


class TransformListener:
    """A tf2_ros.TransformListener that fills its buffer from ``TF2_STAND_IN``."""

    def __init__(self, buffer: Buffer, node: object, *, spin_thread: bool = False,
                 qos: Optional[object] = None, static_qos: Optional[object] = None,
                 tf_topic: str = '/tf', tf_static_topic: str = '/tf_static') -> None:
        self.buffer, self.node = buffer, node
        for entry in json.loads(os.environ.get(ENVIRONMENT, '[]')):
            message = TransformStamped()
            message.header.frame_id, message.child_frame_id = entry['parent'], entry['child']
            t, r = message.transform.translation, message.transform.rotation
            t.x, t.y, t.z = (float(v) for v in entry['translation'])
            r.x, r.y, r.z, r.w = (float(v) for v in entry['rotation'])
            buffer.set_transform_static(message, 'default_authority')

    def unregister(self) -> None:
        """Stop listening (nothing to stop here)."""


class TransformBroadcaster:
    """A tf2_ros.TransformBroadcaster: TFMessage on /tf, as the real one sends them."""

    def __init__(self, node: object, qos: Optional[object] = None) -> None:
        from tf2_msgs.msg import TFMessage  # as the real one, it needs tf2_msgs

        self._message = TFMessage
        self.pub_tf = node.create_publisher(TFMessage, '/tf', 100 if qos is None else qos)

    def sendTransform(self, transform: object) -> None:  # noqa: N802 - tf2_ros's name
        """Send a transform or a list of transforms."""
        transforms = list(transform) if isinstance(transform, (list, tuple)) else [transform]
        self.pub_tf.publish(self._message(transforms=transforms))
