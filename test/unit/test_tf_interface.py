"""
The node's use of tf2_ros, where tf2_ros itself is absent (it is not on PyPI).

Statically: every name and argument :mod:`pose3d_ros.node.transforms` uses exists in
tf2_ros's Python interface as recorded from upstream (:data:`UPSTREAM`), and the test
stand-in (test/stand_ins/tf2_ros) has exactly those signatures. Then the lookups run
against the stand-in: frames, stamp, timeout, the transform's direction, failures.
"""

import ast
import importlib.util
import inspect
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Iterator

from builtin_interfaces.msg import Time as TimeMessage
import numpy as np
from pose3d_ros.node import transforms
import pytest
from rclpy.duration import Duration

REPO = Path(__file__).resolve().parents[2]
STAND_IN = REPO / 'test' / 'stand_ins' / 'tf2_ros' / '__init__.py'
#: tf2_ros's Python interface as pose3d_ros uses it, recorded from ros2/geometry2
#: (tf2_ros_py/tf2_ros/buffer.py and transform_listener.py; the exceptions are tf2_py's):
#: name -> the parameters of the callable, as (name, kind, default) after ``self``.
EMPTY = inspect.Parameter.empty
POSITIONAL, KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
UPSTREAM = {
    'Buffer': (('cache_time', POSITIONAL, None), ('node', POSITIONAL, None)),
    'Buffer.lookup_transform': (('target_frame', POSITIONAL, EMPTY),
                                ('source_frame', POSITIONAL, EMPTY),
                                ('time', POSITIONAL, EMPTY),
                                ('timeout', POSITIONAL, Duration())),
    'TransformListener': (('buffer', POSITIONAL, EMPTY), ('node', POSITIONAL, EMPTY),
                          ('spin_thread', KEYWORD, False), ('qos', KEYWORD, None),
                          ('static_qos', KEYWORD, None), ('tf_topic', KEYWORD, '/tf'),
                          ('tf_static_topic', KEYWORD, '/tf_static')),
    'TransformListener.unregister': (),
    'TransformBroadcaster': (('node', POSITIONAL, EMPTY), ('qos', POSITIONAL, None)),
    'TransformBroadcaster.sendTransform': (('transform', POSITIONAL, EMPTY),),
}
EXCEPTIONS = ('TransformException', 'LookupException', 'ConnectivityException',
              'ExtrapolationException', 'InvalidArgumentException', 'TimeoutException')
#: What the node's calls are made on: the buffer, listener and broadcaster it makes.
HOLDERS = {'buffer': 'Buffer', 'listener': 'TransformListener',
           '_broadcaster': 'TransformBroadcaster'}
#: The node's modules that use tf2_ros.
USERS = ('transforms.py', 'bodies.py')


def load_stand_in() -> ModuleType:
    spec = importlib.util.spec_from_file_location('tf2_ros_stand_in', STAND_IN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """Make the stand-in the transforms module's tf2_ros, with a camera 1.2 m up."""
    half = math.sqrt(0.5)
    monkeypatch.setenv('TF2_STAND_IN', json.dumps([
        {'parent': 'base_footprint', 'child': 'base_link', 'translation': [0.1, 0.0, 0.2],
         'rotation': [0.0, 0.0, 0.0, 1.0]},
        # The optical frame: z forward (base x), x right (base -y), y down (base -z).
        {'parent': 'base_link', 'child': 'camera_optical', 'translation': [0.0, 0.0, 1.0],
         'rotation': [-0.5, 0.5, -0.5, 0.5]},
        {'parent': 'map', 'child': 'elsewhere', 'translation': [0.0, 0.0, 0.0],
         'rotation': [0.0, 0.0, half, half]}]))
    module = load_stand_in()
    monkeypatch.setattr(transforms, 'tf2_ros', module)
    yield module


def parameters(function: object) -> tuple:
    found = list(inspect.signature(function).parameters.values())
    if found and found[0].name == 'self':
        found = found[1:]
    return tuple((p.name, p.kind, p.default) for p in found)


def test_the_stand_in_has_the_upstream_signatures() -> None:
    module = load_stand_in()
    for name, expected in UPSTREAM.items():
        owner, _, method = name.partition('.')
        function = getattr(getattr(module, owner), method or '__init__')
        assert parameters(function) == expected, name
    for name in EXCEPTIONS:
        assert issubclass(getattr(module, name), module.TransformException), name


@pytest.mark.parametrize('module', USERS)
def test_the_node_uses_only_upstream_names_and_arguments(module: str) -> None:
    tree = ast.parse((REPO / 'pose3d_ros' / 'node' / module).read_text())
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == 'tf2_ros'}
    assert used and used <= {name for name in UPSTREAM if '.' not in name} | set(EXCEPTIONS)
    calls = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        target = node.func.value
        if isinstance(target, ast.Name) and target.id == 'tf2_ros':
            name = node.func.attr
        elif isinstance(target, ast.Attribute) and target.attr in HOLDERS:
            name = f'{HOLDERS[target.attr]}.{node.func.attr}'
        else:
            continue
        accepted = UPSTREAM[name]  # KeyError: a method tf2_ros does not have
        positional = [p for p in accepted if p[1] is POSITIONAL]
        assert len(node.args) <= len(positional), name
        assert {k.arg for k in node.keywords} <= {p[0] for p in accepted}, name
        required = {p[0] for p in positional[len(node.args):] if p[2] is EMPTY}
        assert required <= {k.arg for k in node.keywords}, name
        calls += 1
    # transforms: Buffer, TransformListener, lookup_transform, unregister; bodies:
    # TransformBroadcaster, sendTransform.
    assert calls >= {'transforms.py': 4, 'bodies.py': 2}[module]


def test_lookups_give_the_source_frame_in_the_target_frame(stand_in: ModuleType) -> None:
    lookup = transforms.TransformLookup(node=object())
    stamp = TimeMessage(sec=1700, nanosec=250)
    to_base = lookup.lookup('base_footprint', 'camera_optical', stamp, 0.05)
    # The optical axis (z) points along the base's x; the camera is 1.2 m up.
    np.testing.assert_allclose(to_base.apply([[0.0, 0.0, 2.0], [0.0, 1.0, 0.0]]),
                               [[2.1, 0.0, 1.2], [0.1, 0.0, 0.2]], atol=1e-9)
    back = lookup.lookup('camera_optical', 'base_footprint', stamp, 0.05)
    np.testing.assert_allclose((back @ to_base).rotation, np.eye(3), atol=1e-9)
    target, source, time, timeout = stand_in.LOOKUPS[-1]
    assert (target, source) == ('camera_optical', 'base_footprint')
    assert time.to_msg() == stamp and timeout == Duration(seconds=0.05)
    lookup.close()


def test_failed_lookups_say_why(stand_in: ModuleType) -> None:
    lookup = transforms.TransformLookup(node=object())
    stamp = TimeMessage(sec=1)
    with pytest.raises(transforms.TransformUnavailable, match='LookupException.*nowhere'):
        lookup.lookup('nowhere', 'camera_optical', stamp, 0.0)
    with pytest.raises(transforms.TransformUnavailable, match='ConnectivityException'):
        lookup.lookup('map', 'camera_optical', stamp, 0.0)
    with pytest.raises(transforms.TransformUnavailable, match='empty'):
        lookup.lookup('', 'camera_optical', stamp, 0.0)


def test_without_tf2_ros_there_is_no_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transforms, 'tf2_ros', None)
    with pytest.raises(ValueError, match='tf2_ros cannot be imported'):
        transforms.TransformLookup(node=object())
