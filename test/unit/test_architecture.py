"""
The layout's rules: the algorithm never depends on ROS, and the node holds no numerics.

ROS may be imported only where talking ROS is the role: the node and its message
conversions (``node/``), rosbag2 files (``media/bag.py``), the client that drives a node
over DDS (``node_client.py``) and the demo, which runs one (``cli/demo.py``).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / 'pose3d_ros'
ROS_MODULES = ('rclpy', 'rcl_interfaces', 'builtin_interfaces', 'cv_bridge', 'tf2_ros')
#: Where ROS may be imported, relative to the package.
ROS_ROLES = ('node/', 'media/bag.py', 'node_client.py', 'cli/demo.py')
#: What the node module must not import: its numerics live in the pipeline.
NUMERICS = ('numpy', 'torch', 'cv2', 'scipy')


def imports(path: Path) -> list:
    """Return the absolute modules a Python file imports."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module)
    return names


def ros_imports(path: Path) -> list:
    """Return the ROS modules a Python file imports."""
    return [n for n in imports(path) if n.split('.')[0] in ROS_MODULES or
            n.split('.')[0].endswith('_msgs')]


def test_only_the_ros_roles_import_ros() -> None:
    offenders = {}
    for path in PACKAGE.rglob('*.py'):
        name = path.relative_to(PACKAGE).as_posix()
        if not name.startswith(ROS_ROLES) and ros_imports(path):
            offenders[name] = ros_imports(path)
    assert not offenders


def test_the_node_converts_and_publishes_only() -> None:
    node = PACKAGE / 'node' / 'node.py'
    assert 'rclpy.lifecycle' in ros_imports(node)
    assert not [n for n in imports(node) if n.split('.')[0] in NUMERICS]


def test_the_settings_files_need_no_ros() -> None:
    for name in ('node/config.py', 'settings/schema.py', 'settings/surfaces.py'):
        assert not ros_imports(PACKAGE / name), name
