"""
Drive a pose3d_node over real DDS: start it as a process, send frames, wait for answers.

Used by the DDS tests and ``bench/run.py``. :class:`NodeProcess` runs the node as
its own process (as ``ros2 run`` would) with its log in a file; :class:`Pose3dClient` is an
rclpy node that publishes Image + CameraInfo and collects the node's outputs by stamp.
Large images sent best effort between processes are often lost (Fast DDS fragments), so
:meth:`Pose3dClient.request` republishes until the answer comes, within a time bound.
"""

from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from .node.outputs import BY_NAME, RECORDED

#: The outputs a client collects unless told otherwise.
OUTPUTS = tuple(output.name for output in RECORDED)


def stamp_of(message: Any) -> Tuple[int, int]:
    """
    Return a message's stamp as (sec, nanosec).

    A MarkerArray has no header of its own: its first marker (the DELETEALL) carries it.
    """
    header = message.markers[0].header if hasattr(message, 'markers') else message.header
    return header.stamp.sec, header.stamp.nanosec


def ros_environment(domain_id: int) -> Dict[str, str]:
    """Return os.environ for an isolated run: this DDS domain, discovery on localhost only."""
    environment = dict(os.environ)
    environment.update({'ROS_DOMAIN_ID': str(domain_id),
                        'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
                        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
                        'PYTHONUNBUFFERED': '1'})
    return environment


class NodeProcess:
    """
    pose3d_node in its own process; ``ros_args`` follow ``--ros-args``.

    Use as a context manager: the node is stopped with SIGINT (as Ctrl-C) on exit, and
    killed if it does not stop within ``stop_timeout_s``. ``log()`` reads what it printed.
    """

    def __init__(self, ros_args: Sequence[str], environment: Dict[str, str],
                 stop_timeout_s: float = 20.0) -> None:
        self.ros_args = list(ros_args)
        self.environment = environment
        self.stop_timeout_s = stop_timeout_s
        self.log_file = Path(tempfile.mkstemp(prefix='pose3d_node_', suffix='.log')[1])
        self.process: Optional[subprocess.Popen] = None
        self.returncode: Optional[int] = None

    def __enter__(self) -> 'NodeProcess':
        with open(self.log_file, 'wb') as log:
            self.process = subprocess.Popen(
                [sys.executable, '-m', 'pose3d_ros.node.start', '--ros-args',
                 *self.ros_args], env=self.environment, stdout=log, stderr=subprocess.STDOUT)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def alive(self) -> bool:
        """Return True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> Optional[int]:
        """Interrupt the node (SIGINT), wait for it, and return its exit code."""
        if self.process is not None and self.returncode is None:
            if self.alive():
                self.process.send_signal(signal.SIGINT)
            try:
                self.returncode = self.process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.returncode = self.process.wait()
        return self.returncode

    def log(self) -> str:
        """Return everything the node has printed so far."""
        return self.log_file.read_text(errors='replace')

    def wait_for_log(self, text: str, timeout_s: float, since: int = 0) -> bool:
        """
        Wait until ``text`` appears in the log; False on timeout or when the node died.

        ``since``: only look after this many characters (a previous ``len(log())``).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.log()[since:]:
                return True
            if not self.alive():
                return text in self.log()[since:]
            time.sleep(0.1)
        return False


@dataclass
class Answer:
    """
    The node's outputs for one input stamp and when each arrived (monotonic seconds).

    ``sent`` is when the frame was last published before the answer came.
    """

    messages: Dict[str, Any] = field(default_factory=dict)
    arrived: Dict[str, float] = field(default_factory=dict)
    sent: float = float('nan')

    def latency_s(self, topic: str = 'markers') -> float:
        """Return seconds from the last publish of the frame to ``topic``'s arrival."""
        return self.arrived[topic] - self.sent


class Pose3dClient(Node):
    """
    Publishes frames to a pose3d_node under ``namespace`` and collects its outputs.

    ``reliable`` chooses the image publisher's reliability (the node's input QoS must
    accept it: a best-effort subscription accepts both); ``compressed`` publishes
    CompressedImage on ``image/compressed``. CameraInfo is always reliable.
    """

    def __init__(self, namespace: str = '', reliable: bool = True, compressed: bool = False,
                 name: str = 'pose3d_client', context: Any = None) -> None:
        super().__init__(name, namespace=namespace, context=context)
        policy = ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT
        self.image_publisher = self.create_publisher(
            CompressedImage if compressed else Image,
            'image/compressed' if compressed else 'image',
            QoSProfile(depth=1, reliability=policy))
        self.info_publisher = self.create_publisher(CameraInfo, 'camera_info', 1)
        self.answers: Dict[tuple, Answer] = {}
        self.diagnostics: List[DiagnosticArray] = []
        for topic in OUTPUTS:
            self.watch(topic)
        self.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics.append, 10)

    def watch(self, topic: str) -> Any:
        """Collect another output of the node (e.g. ``debug_image``) into ``answers``."""
        return self.create_subscription(BY_NAME[topic].message_type, f'pose3d/{topic}',
                                        lambda m: self._on_output(topic, m), 10)

    def _on_output(self, topic: str, message: Any) -> None:
        answer = self.answers.setdefault(stamp_of(message), Answer())
        answer.messages.setdefault(topic, message)
        answer.arrived.setdefault(topic, time.monotonic())

    def spin_for(self, executor: Any, seconds: float) -> None:
        """
        Process callbacks for ``seconds``.

        Each wait blocks until a callback is ready or the time is up, never polls: a
        client waking every 10 ms slowed the node's estimator on a 2-core machine by
        about 12 % (docs/performance.md). Meant for a SingleThreadedExecutor, whose
        ``spin_once`` returns after one callback.
        """
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0.0:
            executor.spin_once(timeout_sec=remaining)

    def next_diagnostics(self, executor: Any, timeout_s: float) -> Optional[DiagnosticStatus]:
        """Return the node's status from the next ``/diagnostics`` (1 Hz), or None in time."""
        self.diagnostics.clear()
        deadline = time.monotonic() + timeout_s
        while not self.diagnostics and (remaining := deadline - time.monotonic()) > 0.0:
            executor.spin_once(timeout_sec=remaining)
        return self.diagnostics[-1].status[0] if self.diagnostics else None

    def wait_for_node(self, executor: Any, timeout_s: float) -> bool:
        """Wait until the node subscribes to our image topic (it is active)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.image_publisher.get_subscription_count() > 0:
                return True
            self.spin_for(executor, 0.1)
        return False

    def send(self, image: Any, info: Optional[CameraInfo]) -> None:
        """Publish CameraInfo (when given) and then the image, as they are."""
        if info is not None:
            self.info_publisher.publish(info)
        self.image_publisher.publish(image)

    def request(self, executor: Any, image: Any, info: Optional[CameraInfo],
                timeout_s: float, republish_s: float = 1.0,
                topics: Sequence[str] = OUTPUTS) -> Optional[Answer]:
        """
        Publish until every one of ``topics`` answered ``image``'s stamp; None on timeout.

        ``Answer.sent`` is the last publish before the answer came, so that its
        ``latency_s()`` covers one delivered frame.
        """
        stamp = (image.header.stamp.sec, image.header.stamp.nanosec)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.send(image, info)
            sent = time.monotonic()
            until = min(sent + republish_s, deadline)
            while (remaining := until - time.monotonic()) > 0.0:
                executor.spin_once(timeout_sec=remaining)  # returns after one callback
                answer = self.answers.get(stamp)
                if answer is not None and all(t in answer.messages for t in topics):
                    answer.sent = sent
                    return answer
        return None
