"""
The node's ROS parameters: one per setting of :class:`~.config.NodeConfig`.

Descriptors (description, range, read-only) and validation come from the settings'
declarations (:mod:`pose3d_ros.settings.schema`); nothing here says anything of a
particular setting.
"""

from typing import Any, Dict

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from .config import NODE_SETTINGS, NodeConfig
from ..settings.schema import from_values, Setting

BY_NAME: Dict[str, Setting] = {s.name: s for s in NODE_SETTINGS}


def descriptor(setting: Setting) -> ParameterDescriptor:
    """Return the ParameterDescriptor the node declares for ``setting``."""
    allowed = setting.allowed_text()
    text = setting.description + (f' Allowed: {allowed}.' if allowed else '')
    result = ParameterDescriptor(name=setting.name, description=text,
                                 read_only=not setting.runtime)
    if setting.low is None or setting.kind is tuple:  # ROS ranges bound scalars only
        return result
    if setting.kind is int:
        result.integer_range = [IntegerRange(from_value=int(setting.low),
                                             to_value=int(setting.high), step=1)]
    else:
        result.floating_point_range = [FloatingPointRange(
            from_value=float(setting.low), to_value=float(setting.high), step=0.0)]
    return result


def ros_default(setting: Setting) -> Any:
    """Return the default as a ROS parameter value (a list for a list setting)."""
    return list(setting.default) if setting.kind is tuple else setting.default


def node_config(values: Dict[str, Any]) -> NodeConfig:
    """Build the node's settings from parameter values (ValueError with the reason)."""
    return from_values(NodeConfig, values)
