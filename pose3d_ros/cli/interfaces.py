"""``pose3d-interfaces``: build tf2_msgs and the hri_msgs subset for a ROS without apt."""

import argparse
from pathlib import Path
import sys
from typing import List, Optional

from ..interfaces.build import (build, built_packages, environment_lines, InterfaceBuildError,
                                PACKAGES, provided_by, type_hashes, UPSTREAM_HASHES)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='pose3d-interfaces',
        description='Build the ROS 2 interface packages pose3d_node publishes and PyPI lacks '
                    '(tf2_msgs: the body frames on /tf; hri_msgs: REP-155 bodies) into a '
                    'prefix with colcon, and say how to use them. With a ROS install that '
                    'has them (apt), nothing is built.')
    commands = parser.add_subparsers(dest='command', required=True)
    for name, text in (('build', 'build into PREFIX (if not built already) and print the '
                                 'environment lines; packages a ROS install provides are '
                                 'not built'),
                       ('env', 'print the environment lines of a built PREFIX'),
                       ('check', "compare a built PREFIX's type hashes with the upstream "
                                 "packages'")):
        command = commands.add_parser(name, help=text)
        command.add_argument('prefix', type=Path, help='install prefix, e.g. ~/pose3d_interfaces')
        if name == 'build':
            command.add_argument('--force', action='store_true',
                                 help='build even when PREFIX is up to date, and every '
                                      'package, whatever a ROS install provides')
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the exit code (0 done, 1 the reason on stderr)."""
    args = build_parser().parse_args(argv)
    prefix = args.prefix.expanduser().resolve()
    if args.command == 'build':
        provided = {} if args.force else {
            p.name: place for p in PACKAGES if (place := provided_by(p))}
        for name, place in provided.items():
            print(f'{name} is installed ({place}): not built', file=sys.stderr)
        wanted = [p for p in PACKAGES if p.name not in provided]
        if not wanted:
            return 0
        try:
            build(prefix, wanted, force=args.force)
        except InterfaceBuildError as exc:
            print(f'error: {exc}', file=sys.stderr)
            return 1
    elif not built_packages(prefix):
        print(f'error: {prefix} holds no current build: run `pose3d-interfaces build '
              f'{args.prefix}`', file=sys.stderr)
        return 1
    if args.command == 'check':
        equal = True
        for name, value in type_hashes(prefix).items():
            same = value == UPSTREAM_HASHES[name]
            equal &= same
            print(f'{name}: {value} '
                  f'({"equal to upstream" if same else "upstream: " + UPSTREAM_HASHES[name]})')
        return 0 if equal else 1
    print('\n'.join(environment_lines(prefix)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
