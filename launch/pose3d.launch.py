"""
Start pose3d_node for one camera, or one node per camera for several.

Examples::

    ros2 launch pose3d_ros pose3d.launch.py namespace:=camera
    ros2 launch pose3d_ros pose3d.launch.py cameras:=front,rear device:=cuda
    ros2 launch pose3d_ros pose3d.launch.py image_transport:=compressed rviz:=true
    ros2 launch pose3d_ros pose3d.launch.py pose_backend:=lifting
    ros2 launch pose3d_ros pose3d.launch.py ground_frame:=base_footprint target_frame:=base_link

Each node is named ``pose3d`` under its camera's namespace, subscribes
``<namespace>/<image_topic>`` (or ``.../compressed``), ``<namespace>/<camera_info_topic>`` and
optionally ``<namespace>/<depth_topic>``, and publishes ``<namespace>/pose3d/markers``, etc.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PACKAGE = 'pose3d_ros'


#: (name, default, description) of every launch argument; params_file defaults to the
#: installed config/pose3d.yaml.
ARGUMENTS = (
    ('namespace', 'camera', 'Namespace of the camera topics (one camera).'),
    ('cameras', '', 'Comma-separated camera namespaces: one node per camera (overrides '
                    'namespace).'),
    ('image_topic', 'image_raw', 'Image topic, relative to the camera namespace.'),
    ('camera_info_topic', 'camera_info', 'CameraInfo topic, relative to the namespace.'),
    ('depth_topic', 'depth_registered/image_rect', 'Registered depth topic (use_depth).'),
    ('image_transport', '', 'raw, or compressed (<image_topic>/compressed); empty: the '
                            "params file's value."),
    ('params_file', '', 'Node parameters (YAML, key /**/pose3d).'),
    ('device', '', "auto, cpu, cuda or cuda:N; empty: the params file's value."),
    ('pose_backend', '', 'blazepose, lifting or 3dmppe (its checkpoints come from the params '
                         "file); empty: the params file's value."),
    ('ground_frame', '', 'A TF frame whose z = 0 plane is the floor (e.g. base_footprint); '
                         "empty: the params file's value."),
    ('target_frame', '', 'Publish in this TF frame (e.g. base_link); empty: the params '
                         "file's value."),
    ('use_sim_time', 'false', 'Use /clock (playing bags).'),
    ('rviz', 'false', 'Also start RViz with config/pose3d.rviz.'),
)


def _arguments() -> list:
    config = os.path.join(get_package_share_directory(PACKAGE), 'config', 'pose3d.yaml')
    return [DeclareLaunchArgument(
        name, default_value=config if name == 'params_file' else default,
        description=description) for name, default, description in ARGUMENTS]


def _nodes(context: object) -> list:
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    namespaces = [n.strip() for n in value('cameras').split(',') if n.strip()]
    namespaces = namespaces or [value('namespace')]
    overrides = {'use_sim_time': value('use_sim_time').lower() == 'true'}
    overrides.update({name: value(name) for name in (
        'device', 'image_transport', 'pose_backend', 'ground_frame', 'target_frame')
        if value(name)})
    image = value('image_topic')
    actions = [
        Node(package=PACKAGE, executable='pose3d_node', name='pose3d', namespace=namespace,
             parameters=[value('params_file'), overrides],
             remappings=[('image', image), ('image/compressed', image + '/compressed'),
                         ('camera_info', value('camera_info_topic')),
                         ('depth/image', value('depth_topic'))],
             output='screen', emulate_tty=True)
        for namespace in namespaces]
    if value('rviz').lower() == 'true':
        rviz_config = os.path.join(get_package_share_directory(PACKAGE), 'config',
                                   'pose3d.rviz')
        actions.append(Node(package='rviz2', executable='rviz2', name='rviz2',
                            arguments=['-d', rviz_config], output='screen'))
    return actions


def generate_launch_description() -> LaunchDescription:
    """Return the launch description (arguments, then the nodes they describe)."""
    return LaunchDescription(_arguments() + [OpaqueFunction(function=_nodes)])
