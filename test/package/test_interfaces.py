"""tf2_msgs and the hri_msgs subset built here: the type hashes, the command, the messages."""

from pathlib import Path

from pose3d_ros.cli.interfaces import main
from pose3d_ros.interfaces.build import (digest, environment, is_built, type_hashes,
                                         UPSTREAM_HASHES)
import pytest
from rclpy.serialization import deserialize_message, serialize_message


def test_the_built_types_are_the_upstream_ones(interfaces: Path) -> None:
    # The type hash covers every field, type and constant (not comments), nested types
    # included: equal hashes interoperate with a ROS 2 install's packages.
    assert type_hashes(interfaces) == UPSTREAM_HASHES


def test_the_command_says_how_to_use_a_prefix(interfaces: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    assert main(['build', str(interfaces)]) == 0  # up to date: nothing rebuilt
    lines = capsys.readouterr().out.splitlines()
    variables = environment(interfaces)
    assert lines == [f'export {name}="{value}${{{name}:+:${name}}}"'
                     for name, value in variables.items()]
    assert Path(variables['LD_LIBRARY_PATH'], 'libhri_msgs__rosidl_typesupport_c.so').is_file()
    assert main(['check', str(interfaces)]) == 0
    assert capsys.readouterr().out.count('(equal to upstream)') == len(UPSTREAM_HASHES)
    assert is_built(interfaces) and len(digest()) == 64


def test_a_prefix_not_built_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(['env', str(tmp_path)]) == 1
    assert 'pose3d-interfaces build' in capsys.readouterr().err


def test_the_messages_round_trip(interfaces: Path) -> None:
    from geometry_msgs.msg import TransformStamped
    from hri_msgs.msg import IdsList, NormalizedPointOfInterest2D, Skeleton2D
    from tf2_msgs.msg import TFMessage

    for message in (TFMessage(transforms=[TransformStamped(child_frame_id='body_b1')]),
                    IdsList(ids=['b1', 'b2']),
                    Skeleton2D(skeleton=[NormalizedPointOfInterest2D(x=0.5, y=0.25, c=1.0)] *
                               18)):
        again = deserialize_message(serialize_message(message), type(message))
        assert again == message
    assert Skeleton2D.LEFT_EAR == 16 and len(Skeleton2D().skeleton) == 18
