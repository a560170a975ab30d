"""
``pose3d_node``: a managed (lifecycle) node that publishes every person's 3D skeleton.

Subscribes ``image`` (or ``image/compressed``), ``camera_info`` and optionally
``depth/image``; publishes ``~/markers``, ``~/poses``, ``~/joints``, ``~/skeletons``,
``~/debug_image`` and ``/diagnostics``, all with the input image's stamp, in the image's
frame or ``target_frame`` (through TF, as the floor of ``ground_frame``:
:mod:`.transforms`); and people as ROS data (:mod:`.bodies`): a ``body_<bodyID>`` TF frame
per tracked person, and REP-155's bodies interface. Models load on configure;
subscriptions exist only while active. A worker thread processes the newest frame; frames
that arrive while it is busy replace each other and count as dropped.
"""

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
import functools
import threading
import time
import traceback
from typing import Any, Callable, Deque, List, Optional, Tuple

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter as RosParameter
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from . import messages
from .bodies import BodiesInterface, body_transforms, FrameBroadcaster
from .config import NODE_SETTINGS, NodeConfig
from .image_decoding import decode_depth
from .outputs import OUTPUTS, OutputStyle, Scene
from .parameters import BY_NAME, descriptor, node_config, ros_default
from .transforms import TransformLookup, TransformUnavailable
from ..estimation.estimator import PoseEstimator, release_cached_memory
from ..estimation.grounding import tf_floor
from ..estimation.pipeline import Pipeline
from ..estimation.result import FrameResult
from ..geometry.camera import CameraModel
from ..geometry.ground import GroundPlane
from ..geometry.rigid import RigidTransform
from ..models.store import ModelFileError

#: Seconds between repeats of the same warning or error.
THROTTLE_S = 5.0


def _logged(transition: Callable) -> Callable:
    """Log a transition callback's exception (rclpy turns it into a silent ERROR)."""
    @functools.wraps(transition)
    def wrapper(node: 'Pose3dNode', state: LifecycleState) -> TransitionCallbackReturn:
        try:
            return transition(node, state)
        except Exception:  # noqa: B902 - reported, then the transition fails
            node.get_logger().error(f'{transition.__name__} failed:\n{traceback.format_exc()}')
            return TransitionCallbackReturn.ERROR
    return wrapper


def _guarded(callback: Callable) -> Callable:
    """Log and swallow a subscription callback's exception: bad input never stops the node."""
    @functools.wraps(callback)
    def wrapper(node: 'Pose3dNode', message: Any) -> None:
        try:
            callback(node, message)
        except Exception as exc:  # noqa: B902 - reported, the message is dropped
            node._error(f'{callback.__name__}: message dropped: {exc!r}')
    return wrapper


class RateCounter:
    """Events per second over a sliding window of the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self.times: Deque[float] = deque()
        self._lock = threading.Lock()  # ticked and read from different threads

    def tick(self) -> None:
        """Record one event now."""
        with self._lock:
            self.times.append(time.monotonic())

    def rate(self) -> float:
        """Return the events per second in the window."""
        now = time.monotonic()
        with self._lock:
            while self.times and now - self.times[0] > self.window_s:
                self.times.popleft()
            return len(self.times) / self.window_s


class Pose3dNode(LifecycleNode):
    """The lifecycle node; see the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('pose3d', **kwargs)
        self.pipeline: Optional[Pipeline] = None  # from configure until cleanup
        self.camera: Optional[CameraModel] = None
        self.camera_frame = ''
        self._outputs: dict = {}
        self._inputs: list = []
        self._tf: Optional[TransformLookup] = None  # while configured, when a frame needs it
        self._frames: Optional[FrameBroadcaster] = None  # while configured, with body_frames
        self._bodies: Optional[BodiesInterface] = None  # while configured, with hri
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: Optional[tuple] = None  # (message, receive monotonic time)
        self._running = False
        # Every PyTorch call (model loading and inference) runs on this one thread: with
        # the OpenMP CPU backend, calling the estimator from a second thread measured
        # 1.4-2.2x slower (bench/run.py; docs/node.md).
        self._compute = ThreadPoolExecutor(max_workers=1, thread_name_prefix='pose3d-compute')
        self._worker: Optional[Future] = None
        self._last_log: dict = {}
        self._last_problem: Tuple[float, str] = (float('-inf'), '')
        self.input_rate, self.processed_rate = RateCounter(), RateCounter()
        self.dropped = 0
        self.last_timings: dict = {}
        # The next frame's stages are timed (on a GPU timing makes it wait): one per
        # diagnostics message.
        self._time_next_frame = True
        self.last_floor: Tuple[Any, int] = (None, 0)
        self.last_latency_ms = float('nan')
        self._diagnostics_timer = None
        # A value from a params file or the command line that the descriptor rejects is
        # replaced by the default and reported; configure then fails with the reason.
        self.rejected_overrides: List[str] = []
        for setting in NODE_SETTINGS:
            try:
                self.declare_parameter(setting.name, ros_default(setting), descriptor(setting))
            except ParameterException as exc:
                self.rejected_overrides.append(f'{setting.name}: {exc}')
                self.declare_parameter(setting.name, ros_default(setting), descriptor(setting),
                                       ignore_override=True)
        # rclpy ignores a value given for a parameter nobody declares (a misspelt or
        # renamed one in an old params file): say so.
        for name in sorted(set(getattr(self, '_parameter_overrides', {})) - set(BY_NAME) -
                           {'use_sim_time'}):
            self.get_logger().warning(f'{name}: not a parameter of pose3d_node, ignored '
                                      '(docs/node.md lists them all)')
        #: The settings in force: the parameters' values once checked (configure checks
        #: them all and fails with the reasons; until then, what could be checked).
        try:
            self.config = node_config(self._values())
        except ValueError:
            self.config = NodeConfig()
        self.add_on_set_parameters_callback(self._on_set_parameters)

    # ---------------------------------------------------------------- parameters
    def _values(self) -> dict:
        return {s.name: self.get_parameter(s.name).value for s in NODE_SETTINGS
                if self.has_parameter(s.name)}

    def _on_set_parameters(self, changes: List[RosParameter]) -> SetParametersResult:
        values = self._values()
        for change in changes:
            if change.name in BY_NAME:
                reason = BY_NAME[change.name].problem(change.value)
                if reason:
                    return SetParametersResult(successful=False, reason=reason)
                values[change.name] = change.value
        try:
            config = node_config(values)
            if self.pipeline is not None:
                self.pipeline.reconfigure(config.pipeline, config.estimator)
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.config = config
        return SetParametersResult(successful=True)

    # ---------------------------------------------------------------- lifecycle
    @_logged
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Check the parameters, load the models and create the publishers."""
        values = self._values()
        problems = self.rejected_overrides + [
            reason for s in NODE_SETTINGS if (reason := s.problem(values[s.name]))]
        if problems:  # values from a params file or the command line skip the set callback
            self.get_logger().error('invalid parameters: ' + '; '.join(problems))
            return TransitionCallbackReturn.FAILURE
        try:
            self.config = node_config(values)
            if not self._listen_to_tf() or not self._people_as_data():
                self._release()
                return TransitionCallbackReturn.FAILURE
            estimator = self._compute.submit(PoseEstimator, self.config.estimator).result()
            self._compute.submit(estimator.warm_up).result()
        except (ModelFileError, ValueError, OSError) as exc:
            self.get_logger().error(f'cannot load the pose models: {exc}')
            self._release()
            return TransitionCallbackReturn.FAILURE
        self.pipeline = Pipeline(estimator, self.config.pipeline)
        self.get_logger().info(f'models loaded on {estimator.device}, run by '
                               f'{estimator.runtime}')
        self._outputs = {output.name: self.create_lifecycle_publisher(
            output.message_type, f'~/{output.name}', output.depth) for output in OUTPUTS}
        self._outputs['diagnostics'] = self.create_lifecycle_publisher(
            DiagnosticArray, '/diagnostics', 10)
        return super().on_configure(state)

    def _listen_to_tf(self) -> bool:
        """Start the TF listener when a frame setting needs it; False: configure must fail."""
        ground_frame, target_frame = self.config.ground_frame, self.config.target_frame
        if not (ground_frame or target_frame):
            return True
        try:
            self._tf = TransformLookup(self)
        except ValueError as exc:
            if target_frame:
                self.get_logger().error(f'target_frame {target_frame!r} needs TF: {exc}; leave '
                                        "target_frame empty to publish in the image's frame")
                return False
            self.get_logger().warning(f'ground_frame {ground_frame!r} needs TF: {exc}; the '
                                      'floor comes from the camera pose parameters, else the '
                                      "people's feet")
        return True

    def _people_as_data(self) -> bool:
        """Start the body frames and the bodies interface; False: configure must fail."""
        if self.config.hri:
            try:
                self._bodies = BodiesInterface(self)
            except ValueError as exc:
                self.get_logger().error(f'hri: {exc}; set hri to false to run without it')
                return False
        if self.config.body_frames:
            frames = FrameBroadcaster(self)
            if frames.available:
                self._frames = frames
            else:
                self.get_logger().info(f'body frames are not published: {frames.how}')
        return True

    @_logged
    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the inputs and start the worker."""
        qos = QoSProfile(depth=1, history=qos_profile_sensor_data.history,
                         reliability=(ReliabilityPolicy.RELIABLE if self.config.reliable_input
                                      else ReliabilityPolicy.BEST_EFFORT))
        if self.config.image_transport == 'compressed':
            image = self.create_subscription(CompressedImage, 'image/compressed',
                                             self._on_image, qos)
        else:
            image = self.create_subscription(Image, 'image', self._on_image, qos)
        self._inputs = [
            image, self.create_subscription(CameraInfo, 'camera_info', self._on_camera_info,
                                            qos)]
        if self.config.pipeline.use_depth:
            self._inputs.append(
                self.create_subscription(Image, 'depth/image', self._on_depth, qos))
        self._running = True
        self._worker = self._compute.submit(self._work)
        self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics)
        return super().on_activate(state)

    @_logged
    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe, stop the worker and return cached GPU memory (models stay loaded)."""
        self._stop()
        if self._bodies is not None:  # the node tracks nobody while inactive
            self._bodies.clear(Header(stamp=self.get_clock().now().to_msg(),
                                      frame_id=self.camera_frame))
        release_cached_memory()
        return super().on_deactivate(state)

    @_logged
    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the models (and GPU memory) and the publishers."""
        self._release()
        return super().on_cleanup(state)

    @_logged
    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop everything from any state."""
        self._stop()
        self._release()
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop everything, as on shutdown; the node returns to unconfigured."""
        self.on_shutdown(state)
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        """Stop the worker and the compute thread, then destroy the node."""
        self._stop()
        self._compute.shutdown(wait=True)
        super().destroy_node()

    def _stop(self) -> None:
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        self._inputs = []
        if self._diagnostics_timer is not None:
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = None
        with self._wake:
            self._running = False
            self._pending = None
            self._wake.notify_all()
        if self._worker is not None:
            if wait([self._worker], timeout=30.0).not_done:
                self.get_logger().error('the frame in progress did not finish within 30 s; '
                                        'the compute thread is still busy with it')
            elif self._worker.exception() is not None:
                self.get_logger().error(f'the worker ended with {self._worker.exception()!r}')
            self._worker = None

    def _release(self) -> None:
        for publisher in self._outputs.values():
            self.destroy_lifecycle_publisher(publisher)
        self._outputs = {}
        lookup, frames, bodies = self._tf, self._frames, self._bodies
        self._tf = self._frames = self._bodies = None
        for held in (lookup, frames, bodies):
            if held is not None:
                held.close()
        self.pipeline = None
        release_cached_memory()

    # ---------------------------------------------------------------- inputs
    def _should_log(self, key: str) -> bool:
        """Return True at most once per THROTTLE_S seconds for each distinct key."""
        now = time.monotonic()
        if now - self._last_log.get(key, -THROTTLE_S) < THROTTLE_S:
            return False
        if len(self._last_log) > 256:  # bounded: texts may contain varying sizes
            self._last_log.clear()
        self._last_log[key] = now
        return True

    # rclpy requires one severity per logging call site: one method per severity.
    def _warn(self, text: str, key: Optional[str] = None) -> None:
        """Log a warning at most once per THROTTLE_S for its ``key`` (default: the text)."""
        self._last_problem = (time.monotonic(), text)
        if self._should_log(key or text):
            self.get_logger().warning(text)

    def _error(self, text: str) -> None:
        self._last_problem = (time.monotonic(), text)
        if self._should_log(text):
            self.get_logger().error(text)

    @_guarded
    def _on_camera_info(self, message: CameraInfo) -> None:
        hfov, rectified = self.config.default_hfov_deg, self.config.rectified_input
        try:
            camera = messages.camera_from_info(message, hfov, rectified)
        except ValueError as exc:
            self._error(f'CameraInfo rejected: {exc}')
            return
        if not camera.calibrated:
            matrix, name = (message.p, 'P') if rectified else (message.k, 'K')
            why = f'{name} is all zero' if not any(matrix) else f'{name} is not finite'
            self._warn(f'CameraInfo has no valid {name} ({why}): assuming a {hfov:g} degree '
                       'horizontal field of view; calibrate the camera for metric distances')
        self.camera, self.camera_frame = camera, message.header.frame_id

    @_guarded
    def _on_depth(self, message: Image) -> None:
        try:
            depth = decode_depth(message.encoding, message.width, message.height,
                                 message.step, bool(message.is_bigendian),
                                 message.data)
        except ValueError as exc:
            self._error(f'depth image skipped: {exc}')
            return
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.add_depth(depth, _seconds(message.header.stamp))

    @_guarded
    def _on_image(self, message: Any) -> None:
        self.input_rate.tick()
        with self._wake:
            if self._pending is not None:
                self.dropped += 1
            self._pending = (message, time.monotonic())
            self._wake.notify()

    # ---------------------------------------------------------------- processing
    def _work(self) -> None:
        while True:
            with self._wake:
                while self._running and self._pending is None:
                    self._wake.wait()
                if not self._running:
                    return
                message, received = self._pending
                self._pending = None
            try:
                self._process(message, received)
            except Exception:  # noqa: B902 - the worker must survive any frame
                self._error(f'frame skipped:\n{traceback.format_exc()}')

    def _frame_camera(self, width: int, height: int) -> Optional[CameraModel]:
        camera = self.camera
        if camera is None:
            if self.config.require_camera_info:
                self._warn('waiting for CameraInfo on camera_info; frames are skipped (set '
                           'require_camera_info to false to run without it)')
                return None
            return CameraModel.from_hfov(width, height, self.config.default_hfov_deg)
        if (camera.width, camera.height) != (width, height):
            self._error(f'image is {width} x {height} but CameraInfo (after '
                        f'binning and ROI) describes {camera.width} x {camera.height}; '
                        'frame skipped')
            return None
        return camera

    def _process(self, message: Any, received: float) -> None:
        try:
            rgb = messages.image_to_rgb(message)
        except ValueError as exc:
            self._error(f'image skipped: {exc}')
            return
        height, width = rgb.shape[:2]
        camera, pipeline = self._frame_camera(width, height), self.pipeline
        if camera is None or pipeline is None:
            return
        header = message.header
        header.frame_id = self.config.frame_id or header.frame_id or self.camera_frame
        to_target = None
        if self.config.target_frame:
            to_target = self._transform('target_frame', self.config.target_frame,
                                        header.frame_id, header.stamp, 'frame skipped')
            if to_target is None:
                return
        timed, self._time_next_frame = self._time_next_frame, False
        result = pipeline(rgb, camera, _seconds(header.stamp), self._tf_floor(header),
                          timed=timed)
        for warning in result.warnings:
            self._warn(warning)
        self._publish(header, rgb, result, to_target)
        self.processed_rate.tick()
        if timed:
            self.last_timings = result.timings_ms
        self.last_floor = (result.ground, sum(p.on_ground for p in result.persons))
        self.last_latency_ms = (time.monotonic() - received) * 1e3

    def _transform(self, setting: str, target: str, source: str, stamp: Any,
                   otherwise: str) -> Optional[RigidTransform]:
        """Return TF's ``source`` -> ``target`` at ``stamp``, or None with a throttled warning."""
        lookup = self._tf
        if lookup is None:  # ground_frame without tf2_ros: said once at configure
            return None
        try:
            return lookup.lookup(target, source, stamp, self.config.tf_timeout)
        except TransformUnavailable as exc:
            self._warn(f'{setting}: no transform from {source!r} to {target!r} at the image '
                       f'stamp ({exc}); {otherwise}', key=f'{setting} {source} {target}')
            return None

    def _tf_floor(self, header: Any) -> Optional[GroundPlane]:
        """Return the floor of ``ground_frame`` at the image's stamp, or None (fall back)."""
        ground_frame = self.config.ground_frame
        if not ground_frame:
            return None
        otherwise = ("the floor falls back to the camera pose parameters, else the people's "
                     'feet')
        ground = self._transform('ground_frame', header.frame_id, ground_frame, header.stamp,
                                 otherwise)
        try:
            return None if ground is None else tf_floor(self.config.estimator, ground)
        except ValueError as exc:  # the camera is not above that plane
            self._warn(f'ground_frame {ground_frame!r}: {exc}; {otherwise}',
                       key=f'ground_frame {ground_frame} under the camera')
            return None

    def _publish(self, header: Any, rgb: Any, result: FrameResult,
                 to_target: Optional[RigidTransform]) -> None:
        publishers = self._outputs
        if not publishers or not self.context.ok():  # cleaned up, or Ctrl-C in progress
            return
        # Each output is built only when somebody subscribes to it: building the messages
        # in Python costs about 1 ms per person (docs/performance.md).
        wanted = [output for output in OUTPUTS
                  if publishers[output.name].get_subscription_count() > 0]
        frames, bodies = self._frames, self._bodies
        if not wanted and frames is None and bodies is None:
            return
        style = OutputStyle.of(self.config)
        scene = Scene.of(result, to_target)
        spatial = header if to_target is None else Header(stamp=header.stamp,
                                                          frame_id=self.config.target_frame)
        for output in wanted:
            publishers[output.name].publish(output.build(
                spatial if output.spatial else header, rgb, scene, style))
        if frames is not None:
            frames.send(body_transforms(spatial, scene.persons))
        if bodies is not None:  # image measures: the camera's frame
            bodies.publish(header, scene.in_camera, *result.image_size)

    def _publish_diagnostics(self) -> None:
        publisher = self._outputs.get('diagnostics')
        if publisher is None or not self.context.ok():
            return
        try:
            publisher.publish(self._diagnostics())
            self._time_next_frame = True
        except Exception:  # noqa: B902 - a timer exception would end spin()
            self._error(f'diagnostics not published:\n{traceback.format_exc()}')

    def _diagnostics(self) -> DiagnosticArray:
        """Describe the node's health: rates, drops, latency, stage times, last problem."""
        pipeline = self.pipeline
        estimator = pipeline.estimator if pipeline is not None else None
        input_rate, processed_rate = self.input_rate.rate(), self.processed_rate.rate()
        values = {
            'input rate (Hz)': f'{input_rate:.2f}',
            'processed rate (Hz)': f'{processed_rate:.2f}',
            'dropped frames': str(self.dropped),
            'latency receive to publish (ms)': f'{self.last_latency_ms:.1f}',
            'device': str(estimator.device) if estimator is not None else 'none',
            'runtime': estimator.runtime if estimator is not None else 'none',
            'camera calibrated': str(self.camera.calibrated) if self.camera else 'no CameraInfo',
        }
        values.update({f'{name} (ms)': f'{ms:.1f}' for name, ms in self.last_timings.items()})
        values.update(messages.floor_values(*self.last_floor))
        level, message = DiagnosticStatus.OK, 'running'
        problem_time, problem = self._last_problem
        if time.monotonic() - problem_time < THROTTLE_S:
            level, message = DiagnosticStatus.WARN, problem[:200]
        elif self.camera is None and self.config.require_camera_info:
            level, message = DiagnosticStatus.WARN, 'waiting for CameraInfo'
        elif input_rate == 0.0:
            level, message = DiagnosticStatus.WARN, 'no images'
        status = DiagnosticStatus(
            level=level, name=f'{self.get_fully_qualified_name()}: pose3d',
            hardware_id=values['device'], message=message,
            values=[KeyValue(key=k, value=v) for k, v in values.items()])
        # Diagnostics describe the node, not a frame: they carry the node's clock.
        return DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()),
                               status=[status])


def _seconds(stamp: Any) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def main(args: Optional[List[str]] = None, freed_memory_kept: bool = False) -> None:
    """
    Run the node until Ctrl-C or an external shutdown.

    The ``pose3d_node`` executable (:mod:`pose3d_ros.node.start`) applies the malloc
    settings before rclpy is imported and says here whether they took; this function only
    reports it.
    """
    rclpy.init(args=args)
    node = Pose3dNode()
    node.get_logger().info('freed memory kept for the next frame' if freed_memory_kept else
                           "glibc's malloc settings not applied: freed memory goes back to "
                           'the kernel (pose3d_ros/malloc_settings.py)')
    try:
        if node.get_parameter('autostart').value:
            for name, transition in (('configure', node.trigger_configure),
                                     ('activate', node.trigger_activate)):
                outcome = transition()
                if outcome != TransitionCallbackReturn.SUCCESS:
                    node.get_logger().error(
                        f'autostart: {name} failed ({outcome.to_label()}); the node keeps '
                        'serving its lifecycle services so that it can be retried')
                    break
            else:
                node.get_logger().info('active: waiting for images')
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
