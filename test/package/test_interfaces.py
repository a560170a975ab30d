"""tf2_msgs and the hri_msgs subset built here: the type hashes, the command, the messages."""

import os
from pathlib import Path
import subprocess
import sys

from pose3d_ros.cli.interfaces import main
from pose3d_ros.interfaces.build import (built_packages, digest, is_built, type_hashes,
                                         UPSTREAM_HASHES)
import pytest
from rclpy.serialization import deserialize_message, serialize_message


def test_the_built_types_are_the_upstream_ones(interfaces: Path) -> None:
    # The type hash covers every field, type and constant (not comments), nested types
    # included: equal hashes interoperate with a ROS 2 install's packages.
    assert type_hashes(interfaces) == UPSTREAM_HASHES


#: What a process of a shell that ran the printed lines can do: publish the built types.
USE = """
import rclpy
from hri_msgs.msg import IdsList
from tf2_msgs.msg import TFMessage
rclpy.init()
node = rclpy.create_node('interfaces_check')
node.create_publisher(TFMessage, '/tf', 1).publish(TFMessage())
node.create_publisher(IdsList, '/humans/bodies/tracked', 1).publish(IdsList(ids=['b1']))
print('published')
"""


def test_the_command_says_how_to_use_a_prefix(interfaces: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    assert main(['build', str(interfaces)]) == 0  # up to date: nothing rebuilt
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and is_built(interfaces) and len(digest()) == 64
    # A new shell that runs them starts processes that publish the built types (the ROS
    # wheels' start-up, which sets the library path once per process tree, runs anew).
    variables = {name: value for name, value in os.environ.items() if name not in
                 ('LD_LIBRARY_PATH', 'PYTHONPATH', '_ROS_WHEELS_BOOTSTRAP_COMPLETE')}
    variables.update(ROS_DOMAIN_ID='97', ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
                     RMW_IMPLEMENTATION='rmw_fastrtps_cpp')
    script = '\n'.join(lines + [f'"{sys.executable}" -c "$USE"'])
    done = subprocess.run(['bash', '-c', script], env={**variables, 'USE': USE},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and 'published' in done.stdout, done.stdout + done.stderr
    assert main(['check', str(interfaces)]) == 0
    assert capsys.readouterr().out.count('(equal to upstream)') == len(UPSTREAM_HASHES)


def test_packages_an_install_provides_are_not_built(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # An installation's own tf2_msgs (outside any prefix built here) on the path.
    installed = tmp_path / 'ros' / 'site-packages' / 'tf2_msgs'
    installed.mkdir(parents=True)
    (installed / '__init__.py').write_text('')
    monkeypatch.syspath_prepend(str(installed.parent))
    for name in [name for name in sys.modules if name.split('.')[0] == 'tf2_msgs']:
        monkeypatch.delitem(sys.modules, name)  # the built one, which other tests imported
    prefix = tmp_path / 'prefix'
    assert main(['build', str(prefix)]) == 0
    assert 'tf2_msgs is installed' in capsys.readouterr().err
    assert [p.name for p in built_packages(prefix)] == ['hri_msgs']
    assert set(type_hashes(prefix)) == {n for n in UPSTREAM_HASHES if n.startswith('hri_msgs')}
    assert not (prefix / 'share' / 'tf2_msgs').exists()


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
