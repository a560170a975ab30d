"""The algorithm never depends on ROS: only pose3d_ros/node/ imports rclpy or messages."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / 'pose3d_ros'
ROS_MODULES = ('rclpy', 'rcl_interfaces', 'builtin_interfaces', 'cv_bridge', 'tf2_ros')


def ros_imports(path: Path) -> list:
    """Return the ROS modules a Python file imports."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module)
    return [n for n in names if n.split('.')[0] in ROS_MODULES or
            n.split('.')[0].endswith('_msgs')]


def test_only_the_node_package_imports_ros() -> None:
    offenders = {str(p.relative_to(PACKAGE)): ros_imports(p) for p in PACKAGE.rglob('*.py')
                 if 'node' not in p.relative_to(PACKAGE).parts[:1] and ros_imports(p)}
    assert not offenders


def test_the_node_package_does_import_ros() -> None:
    assert 'rclpy.lifecycle' in ros_imports(PACKAGE / 'node' / 'pose3d_node.py')
