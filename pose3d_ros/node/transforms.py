"""
TF for the node: where the floor is (``ground_frame``) and the outputs' ``target_frame``.

Transforms come from a ``tf2_ros`` Buffer filled by a TransformListener on the node (its
``/tf`` and ``/tf_static`` subscriptions), looked up at the image stamp with a timeout.
tf2_ros is not on PyPI: it is used when it can be imported (a ROS 2 install has it), and
``tf2_ros`` is None here otherwise.
"""

from typing import Any

from builtin_interfaces.msg import Time as TimeMessage
from rclpy.duration import Duration
from rclpy.time import Time

from ..geometry.rigid import RigidTransform

try:  # tf2_ros is used where it is installed (it is not on PyPI)
    import tf2_ros
except ImportError:  # pragma: no cover - depends on the installation
    tf2_ros = None

#: Why TF cannot be used without tf2_ros, and what to do.
TF2_ROS_MISSING = ('tf2_ros cannot be imported; it comes with a ROS 2 install (apt install '
                   'ros-$ROS_DISTRO-tf2-ros, then source its setup file)')
#: How long the buffer keeps transforms (seconds): images are looked up at their stamp.
CACHE_S = 10.0


class TransformUnavailable(Exception):
    """TF cannot give a transform between two frames at a stamp (the reason in the text)."""


class TransformLookup:
    """
    Transforms between frames at an image's stamp, from TF.

    Raises ValueError at construction when tf2_ros cannot be imported
    (:data:`TF2_ROS_MISSING`). :meth:`close` removes the listener's subscriptions.
    """

    def __init__(self, node: Any) -> None:
        if tf2_ros is None:
            raise ValueError(TF2_ROS_MISSING)
        self.buffer = tf2_ros.Buffer(cache_time=Duration(seconds=CACHE_S))
        self.listener = tf2_ros.TransformListener(self.buffer, node)

    def lookup(self, target: str, source: str, stamp: TimeMessage,
               timeout_s: float) -> RigidTransform:
        """
        Return the transform of ``source``-frame points into ``target``'s at ``stamp``.

        Waits up to ``timeout_s`` for transforms to reach the stamp. Raises
        :class:`TransformUnavailable` with tf2's reason (an unknown or unconnected frame,
        a stamp outside the buffer, a malformed transform).
        """
        if not target or not source:
            raise TransformUnavailable('a frame id is empty')
        try:
            message = self.buffer.lookup_transform(
                target, source, Time.from_msg(stamp), timeout=Duration(seconds=timeout_s))
            translation, rotation = message.transform.translation, message.transform.rotation
            return RigidTransform.from_quaternion(
                [rotation.x, rotation.y, rotation.z, rotation.w],
                [translation.x, translation.y, translation.z])
        except (tf2_ros.TransformException, ValueError) as exc:
            raise TransformUnavailable(f'{type(exc).__name__}: {exc}') from exc

    def close(self) -> None:
        """Stop listening to /tf and /tf_static."""
        self.listener.unregister()
