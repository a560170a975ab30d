"""
Build the interface packages (:mod:`pose3d_ros.interfaces`) into a prefix with colcon.

Each package is written as an ``ament_cmake`` package (package.xml, CMakeLists.txt calling
``rosidl_generate_interfaces``, its ``msg`` files) under ``PREFIX/.build/src`` and built
with ``colcon build --merge-install``, the Python environment's root as the ament prefix
(the PyPI wheels install there). The wheels' exported CMake targets name the include
directory of the machine that built them; the CMakeLists drops include directories that
do not exist from the imported targets (ros-interfaces facts in the project's reference
notes). A prefix remembers which packages it holds and the digest of what they were built
from (:func:`digest`), and is rebuilt only when that changes. Using it takes two
environment variables (:func:`environment`): the generated libraries have no RPATH. Only
the packages no ROS install provides are built (:func:`provided_by`): a prefix in front of
an install's own tf2_msgs would hide the services and actions tf2_ros needs.

Nothing here imports rclpy.
"""

from dataclasses import dataclass
import hashlib
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from ..cache import cache_dir

#: Where the message definitions are: ``<package>/msg/<Type>.msg``.
DEFINITIONS = Path(__file__).resolve().parent / 'definitions'
#: The file in a built prefix that holds the digest it was built from.
STAMP = '.pose3d_interfaces.json'


@dataclass(frozen=True)
class InterfacePackage:
    """One package to build: its name, messages (in dependency order) and dependencies."""

    name: str
    messages: Tuple[str, ...]
    dependencies: Tuple[str, ...]
    description: str

    def msg_files(self) -> List[Path]:
        """Return the package's definition files."""
        return [DEFINITIONS / self.name / 'msg' / f'{message}.msg' for message in self.messages]


PACKAGES = (
    InterfacePackage('tf2_msgs', ('TFMessage',), ('geometry_msgs',),
                     'The TFMessage of tf2_msgs (ros2/geometry2), for /tf.'),
    InterfacePackage('hri_msgs', ('IdsList', 'NormalizedPointOfInterest2D',
                                  'NormalizedRegionOfInterest2D', 'Skeleton2D'), ('std_msgs',),
                     'The messages of hri_msgs (ros4hri/hri_msgs) that REP-155 bodies use.'),
)

#: The type hashes of the upstream definitions, as a ROS 2 Kilted install has them:
#: computed by building the upstream files themselves (ros2/geometry2 at 1b005c65,
#: tf2_msgs/msg; ros4hri/hri_msgs humble-devel at 4e7c176, msg/) with this module's
#: CMakeLists and the pinned generators and message packages (docs/node.md).
UPSTREAM_HASHES = {
    'tf2_msgs/msg/TFMessage':
        'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087',
    'hri_msgs/msg/IdsList':
        'RIHS01_7e0812d1ac945c98fd3e393568d581ad0ab567f37b24eff633eab778c1bfe62d',
    'hri_msgs/msg/NormalizedPointOfInterest2D':
        'RIHS01_cc1d2f720c82afeb850ff1dbf66f41ecb7caf19f842987f1247e66160cf03953',
    'hri_msgs/msg/NormalizedRegionOfInterest2D':
        'RIHS01_2e50c93f1ca166ee77af9a5424dc951ae4e452b740162a7f83c082d917dcaff5',
    'hri_msgs/msg/Skeleton2D':
        'RIHS01_1cb61f012db6ca43c48fa0097ccab9a00108ea39323c13f01bb983323c1e3420',
}

_PACKAGE_XML = """<?xml version="1.0"?>
<package format="3">
  <name>{name}</name>
  <version>0.1.0</version>
  <description>{description} Built by pose3d-interfaces.</description>
  <maintainer email="pose3d-ros@example.com">pose3d_ros maintainers</maintainer>
  <license>Apache-2.0</license>
  <buildtool_depend>ament_cmake</buildtool_depend>
  <buildtool_depend>rosidl_default_generators</buildtool_depend>
{depends}
  <exec_depend>rosidl_default_runtime</exec_depend>
  <member_of_group>rosidl_interface_packages</member_of_group>
  <export>
    <build_type>ament_cmake</build_type>
  </export>
</package>
"""

_CMAKELISTS = """cmake_minimum_required(VERSION 3.5)
project({name})
find_package(ament_cmake REQUIRED)
find_package(rosidl_default_generators REQUIRED)
{find_packages}
rosidl_generate_interfaces(${{PROJECT_NAME}}
{messages}
  DEPENDENCIES {dependencies})
# The PyPI wheels' exported targets carry include directories of the machine that built
# them: keep only those that exist here.
get_property(imported DIRECTORY PROPERTY IMPORTED_TARGETS)
foreach(target IN LISTS imported)
  get_target_property(directories ${{target}} INTERFACE_INCLUDE_DIRECTORIES)
  if(directories)
    set(existing "")
    foreach(directory IN LISTS directories)
      if(EXISTS "${{directory}}" OR directory MATCHES "^\\\\$<")
        list(APPEND existing "${{directory}}")
      endif()
    endforeach()
    set_target_properties(${{target}} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${{existing}}")
  endif()
endforeach()
ament_package()
"""


class InterfaceBuildError(ValueError):
    """The interfaces cannot be built here (missing tools, or colcon failed): why, and how."""


def package_files(package: InterfacePackage) -> Dict[str, str]:
    """Return a package's files: relative path -> text."""
    files = {
        'package.xml': _PACKAGE_XML.format(
            name=package.name, description=package.description,
            depends='\n'.join(f'  <depend>{d}</depend>' for d in package.dependencies)),
        'CMakeLists.txt': _CMAKELISTS.format(
            name=package.name,
            find_packages='\n'.join(f'find_package({d} REQUIRED)'
                                    for d in package.dependencies),
            messages='\n'.join(f'  "msg/{m}.msg"' for m in package.messages),
            dependencies=' '.join(package.dependencies)),
    }
    files.update({f'msg/{path.name}': path.read_text() for path in package.msg_files()})
    return files


def digest(packages: Sequence[InterfacePackage] = PACKAGES) -> str:
    """Return the SHA-256 of everything ``packages`` are built from, for this Python."""
    sha = hashlib.sha256(f'python{sys.version_info.major}.{sys.version_info.minor}'.encode())
    for package in packages:
        for name, text in sorted(package_files(package).items()):
            sha.update(f'{package.name}/{name}\0{text}\0'.encode())
    return sha.hexdigest()


def default_prefix() -> Path:
    """Return where the tests keep the built interfaces: one prefix per :func:`digest`."""
    return cache_dir('interfaces', 'POSE3D_INTERFACES_CACHE') / digest()[:16]


def environment(prefix: Path) -> Dict[str, str]:
    """Return the variables that make a process find the packages built into ``prefix``."""
    python = f'python{sys.version_info.major}.{sys.version_info.minor}'
    return {'LD_LIBRARY_PATH': str(Path(prefix) / 'lib'),
            'PYTHONPATH': str(Path(prefix) / 'lib' / python / 'site-packages')}


def environment_lines(prefix: Path) -> List[str]:
    """Return the shell lines that put ``prefix``'s packages in front of the environment's."""
    return [f'export {name}="{value}${{{name}:+:${name}}}"'
            for name, value in environment(prefix).items()]


def built_packages(prefix: Path) -> List[InterfacePackage]:
    """Return the packages ``prefix`` holds, built from the current definitions (or none)."""
    try:
        stamp = json.loads((Path(prefix) / STAMP).read_text())
        packages = [p for p in PACKAGES if p.name in stamp['packages']]
        return packages if stamp['digest'] == digest(packages) else []
    except (OSError, ValueError, KeyError, TypeError):
        return []


def is_built(prefix: Path, packages: Sequence[InterfacePackage] = PACKAGES) -> bool:
    """Return whether ``prefix`` holds ``packages``, built from the current definitions."""
    return [p.name for p in built_packages(prefix)] == [p.name for p in packages]


def missing_tools() -> List[str]:
    """Return what the build needs and this environment lacks (empty: all there)."""
    missing = [tool for tool in ('cmake', 'make', 'cc', 'c++') if shutil.which(tool) is None]
    if not (Path(sys.executable).parent / 'colcon').exists():
        missing.append('colcon (pip install colcon-core colcon-ros)')
    share = Path(sys.prefix) / 'share'
    missing += [f'{name} (pip install -r requirements-interfaces.txt)'
                for name in ('ament_cmake', 'rosidl_default_generators', 'geometry_msgs',
                             'std_msgs') if not (share / name).is_dir()]
    return missing


def build(prefix: Path, packages: Sequence[InterfacePackage] = PACKAGES, force: bool = False,
          timeout_s: float = 900.0) -> Path:
    """
    Build ``packages`` into ``prefix`` (merged); return ``prefix``.

    Does nothing when ``prefix`` already holds them, built from the current definitions
    (unless ``force``). Raises :class:`InterfaceBuildError` naming what is missing, or
    with the tail of colcon's output when it fails or builds nothing.
    """
    prefix = Path(prefix).expanduser().resolve()
    if is_built(prefix, packages) and not force:
        return prefix
    missing = missing_tools()
    if missing:
        raise InterfaceBuildError('cannot build the interfaces, missing: ' + ', '.join(missing))
    (prefix / STAMP).unlink(missing_ok=True)
    work = prefix / '.build'
    shutil.rmtree(work / 'src', ignore_errors=True)
    for package in packages:
        for name, text in package_files(package).items():
            path = work / 'src' / package.name / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    venv_bin = str(Path(sys.executable).parent)
    variables = dict(os.environ, AMENT_PREFIX_PATH=sys.prefix,
                     PATH=os.pathsep.join([venv_bin, os.environ.get('PATH', '')]))
    command = [str(Path(venv_bin) / 'colcon'), '--log-base', str(work / 'log'), 'build',
               '--merge-install', '--base-paths', str(work / 'src'),
               '--build-base', str(work / 'build'), '--install-base', str(prefix)]
    try:
        done = subprocess.run(command, env=variables, cwd=work, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise InterfaceBuildError(f'colcon build took longer than {timeout_s:g} s') from exc
    tail = '\n'.join((done.stdout + done.stderr).splitlines()[-30:])
    if done.returncode != 0:
        raise InterfaceBuildError(f'colcon build failed ({done.returncode}):\n{tail}')
    absent = [name for name in _descriptions(prefix, packages) if not name.is_file()]
    if absent:  # colcon succeeds when it recognises no package (colcon-ros missing)
        raise InterfaceBuildError(f'colcon built nothing for {[p.name for p in absent]}:\n'
                                  f'{tail}')
    (prefix / STAMP).write_text(json.dumps({'digest': digest(packages),
                                            'packages': [p.name for p in packages]}))
    return prefix


def _descriptions(prefix: Path, packages: Sequence[InterfacePackage]) -> List[Path]:
    """Return the type description files a build of ``packages`` installs."""
    return [Path(prefix) / 'share' / package.name / 'msg' / f'{message}.json'
            for package in packages for message in package.messages]


def type_hashes(prefix: Path) -> Dict[str, str]:
    """Return the type hash (RIHS01) of every message built: ``pkg/msg/Type`` -> hash."""
    hashes = {}
    for path in _descriptions(prefix, built_packages(prefix)):
        type_name = f'{path.parts[-3]}/msg/{path.stem}'
        for entry in json.loads(path.read_text())['type_hashes']:
            if entry['type_name'] == type_name:
                hashes[type_name] = entry['hash_string']
    return hashes


def provided_by(package: InterfacePackage) -> Optional[str]:
    """
    Return where an installation already provides ``package`` (None: build it).

    It counts when its Python module is on the path outside any prefix built here (with a
    stamp file above it).
    """
    import importlib.util

    spec = importlib.util.find_spec(package.name)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin).resolve()
    if any((parent / STAMP).exists() for parent in origin.parents):
        return None
    return str(origin.parents[1])
