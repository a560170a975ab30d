"""
launch/pose3d.launch.py and config/pose3d.rviz, checked without launch_ros or RViz.

launch and launch_ros are not installable here, so the launch file runs against small
stand-ins of the few classes it uses, recording the nodes it would start; where the real
launch_ros can be imported, the description is also built with it.
"""

import ast
import importlib.util
from pathlib import Path
import sys
import types
from typing import Any, Dict, List

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH_FILE = REPO / 'launch' / 'pose3d.launch.py'
RVIZ_FILE = REPO / 'config' / 'pose3d.rviz'


class _Record:
    """Stand-in for a launch action: remembers its arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


class _Configuration:
    """Stand-in for LaunchConfiguration: reads the value from a plain dict context."""

    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: Dict[str, str]) -> str:
        return context[self.name]


def _stand_ins() -> Dict[str, types.ModuleType]:
    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch_ros',
        'launch_ros.actions', 'ament_index_python', 'ament_index_python.packages')}
    modules['launch'].LaunchDescription = _Record
    modules['launch.actions'].DeclareLaunchArgument = _Record
    modules['launch.actions'].OpaqueFunction = _Record
    modules['launch.substitutions'].LaunchConfiguration = _Configuration
    modules['launch_ros.actions'].Node = _Record
    modules['ament_index_python.packages'].get_package_share_directory = lambda _: str(REPO)
    return modules


def run_launch(monkeypatch: pytest.MonkeyPatch, **arguments: str) -> List[Dict[str, Any]]:
    """Run the launch file on stand-ins with ``arguments``; return the nodes' kwargs."""
    for name, module in _stand_ins().items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location('pose3d_launch', LAUNCH_FILE)
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    description = launch.generate_launch_description()
    actions = description.args[0]
    declared = {a.args[0]: a.kwargs for a in actions if 'default_value' in a.kwargs}
    unknown = set(arguments) - set(declared)
    assert not unknown, f'undeclared launch arguments {unknown}'
    for name, kwargs in declared.items():
        assert kwargs['description'], name
    context = {name: kwargs['default_value'] for name, kwargs in declared.items()}
    context.update(arguments)
    opaque = [a for a in actions if 'function' in a.kwargs]
    assert len(opaque) == 1
    return [node.kwargs for node in opaque[0].kwargs['function'](context)]


def test_default_launch_starts_one_node_with_the_params_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    (node,) = run_launch(monkeypatch)
    assert node['package'] == 'pose3d_ros' and node['executable'] == 'pose3d_node'
    assert node['name'] == 'pose3d' and node['namespace'] == 'camera'
    params_file, overrides = node['parameters']
    assert Path(params_file) == REPO / 'config' / 'pose3d.yaml' and Path(params_file).exists()
    assert overrides == {'use_sim_time': False}  # the params file decides the rest
    remappings = dict(node['remappings'])
    assert remappings['image'] == 'image_raw'
    assert remappings['image/compressed'] == 'image_raw/compressed'
    assert remappings['camera_info'] == 'camera_info'


def test_launch_arguments_reach_the_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = run_launch(monkeypatch, cameras='front, rear', device='cuda',
                       image_topic='color/image_raw', image_transport='compressed',
                       pose_backend='lifting', target_frame='base_link', rviz='true')
    assert [n['namespace'] for n in nodes[:2]] == ['front', 'rear']
    for node in nodes[:2]:
        assert node['parameters'][1]['device'] == 'cuda'
        assert node['parameters'][1]['image_transport'] == 'compressed'
        assert node['parameters'][1]['pose_backend'] == 'lifting'
        assert node['parameters'][1]['target_frame'] == 'base_link'
        assert 'ground_frame' not in node['parameters'][1]  # empty: the params file's
        assert dict(node['remappings'])['image/compressed'] == 'color/image_raw/compressed'
    assert nodes[2]['executable'] == 'rviz2'
    assert Path(nodes[2]['arguments'][1]) == RVIZ_FILE


def test_launch_file_names_the_installed_executable() -> None:
    setup = (REPO / 'setup.py').read_text()
    assert "'pose3d_node = pose3d_ros.node.start:main'" in setup
    tree = ast.parse(LAUNCH_FILE.read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert {'pose3d_node', 'pose3d.yaml', 'pose3d.rviz'} <= strings


def test_with_real_launch_ros_when_installed() -> None:
    pytest.importorskip('launch_ros', reason='launch_ros is not installable from PyPI here')
    spec = importlib.util.spec_from_file_location('pose3d_launch_real', LAUNCH_FILE)
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    assert launch.generate_launch_description().entities


def test_rviz_config_shows_the_node_outputs() -> None:
    config = yaml.safe_load(RVIZ_FILE.read_text())
    manager = config['Visualization Manager']
    displays = {d['Class']: d for d in manager['Displays']}
    topics = {d['Topic']['Value'] for d in displays.values() if 'Topic' in d}
    assert topics == {f'/camera/pose3d/{t}' for t in ('markers', 'poses', 'skeletons',
                                                      'debug_image')}
    assert set(displays) == {f'rviz_default_plugins/{c}' for c in (
        'Grid', 'TF', 'MarkerArray', 'PoseArray', 'PointCloud2', 'Image')}
    assert displays['rviz_default_plugins/MarkerArray']['Namespaces'] == {
        'bones': True, 'joints': True, 'labels': True}
    assert manager['Global Options']['Fixed Frame']
