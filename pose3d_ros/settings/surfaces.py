"""
Every surface of the settings, generated from their one declaration (:mod:`.schema`).

* :func:`add_arguments` and :func:`from_arguments`: command-line options, checked by the
  settings' own validator;
* :func:`yaml_text`: the ROS parameters file ``config/pose3d.yaml``;
* :func:`markdown_table`: the parameter table of docs/node.md.

The node's ROS parameter descriptors come from the same list
(:mod:`pose3d_ros.node.parameters`). ``python -m pose3d_ros.settings`` writes the two
files; a test fails when the committed ones differ.
"""

import argparse
import json
from typing import Any, Dict, Iterable, Sequence

from .schema import Setting

#: The ROS parameters file's key: the node named pose3d in any namespace.
YAML_KEY = '/**/pose3d'


def option(setting: Setting) -> str:
    """Return the command-line option of a setting: ``--min-detection-score``."""
    return '--' + setting.name.replace('_', '-')


def _value_text(value: Any) -> str:
    """Return a value as the docs, YAML and help texts write it (JSON is YAML)."""
    return json.dumps(list(value) if isinstance(value, tuple) else value)


class _Checked(argparse.Action):
    """Parse a setting's option and check it with the setting's validator."""

    def __init__(self, option_strings: Sequence[str], dest: str, setting: Setting,
                 **kwargs: Any) -> None:
        self.setting = setting
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Any = None) -> None:
        problem = self.setting.problem(values)
        if problem:
            raise argparse.ArgumentError(self, problem)
        setattr(namespace, self.dest, self.setting.coerce(values))


def _number(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'not {"an integer" if kind is int else "a number"}: '
                                             f'{text!r}') from None
    parse.__name__ = kind.__name__
    return parse


def add_arguments(parser: Any, settings: Iterable[Setting]) -> None:
    """Add one option per setting to ``parser`` (or an argument group) with its default."""
    for setting in settings:
        allowed = setting.allowed_text()
        help_text = (setting.description + (f' Allowed: {allowed}.' if allowed else '') +
                     f' Default: {_value_text(setting.default)}.').replace('%', '%%')
        if setting.kind is bool:
            parser.add_argument(option(setting), action=argparse.BooleanOptionalAction,
                                default=setting.default, help=help_text)
            continue
        extra: Dict[str, Any] = {'type': str}
        if setting.kind is tuple:
            extra = {'type': _number(int), 'nargs': '+', 'metavar': 'G'}
        elif setting.kind in (int, float):
            extra = {'type': _number(setting.kind), 'metavar': setting.kind.__name__.upper()}
        elif setting.choices:
            extra['metavar'] = '{' + ','.join(setting.choices) + '}'
        parser.add_argument(option(setting), action=_Checked, setting=setting,
                            default=setting.default, help=help_text, **extra)


def from_arguments(args: argparse.Namespace, settings: Iterable[Setting]) -> Dict[str, Any]:
    """Return the values of the settings' options in ``args``, by setting name."""
    return {setting.name: getattr(args, setting.name) for setting in settings}


def yaml_text(settings: Sequence[Setting]) -> str:
    """Return ``config/pose3d.yaml``: every node setting with its default, explained."""
    lines = [
        '# Parameters of pose3d_node: every one it declares, with its default.',
        '# Generated from the settings declarations by `python -m pose3d_ros.settings`; do',
        '# not edit (test/unit/test_settings.py fails when this file differs).',
        '# Use: ros2 run pose3d_ros pose3d_node --ros-args --params-file config/pose3d.yaml',
        '# "/**/pose3d" is the node named pose3d in any namespace (a plain "pose3d:" key would',
        '# only match /pose3d, and a node started under a camera namespace would silently',
        '# ignore it).',
        f'{YAML_KEY}:',
        '  ros__parameters:']
    for runtime, title in ((False, 'read-only: a change needs a restart (or cleanup + '
                                   'configure)'),
                           (True, 'changeable at runtime (a bad value is rejected with its '
                                  'reason)')):
        lines.append(f'    # --- {title} ---')
        for setting in (s for s in settings if s.runtime == runtime):
            allowed = setting.allowed_text()
            lines.append(f'    # {setting.description}' + (f' ({allowed})' if allowed else ''))
            lines.append(f'    {setting.name}: {_value_text(setting.default)}')
    return '\n'.join(lines) + '\n'


def markdown_table(settings: Sequence[Setting]) -> str:
    """Return the docs' parameter table: name, default, allowed values, runtime, meaning."""
    rows = ['| name | default | allowed | runtime | |', '| --- | --- | --- | --- | --- |']
    for setting in settings:
        rows.append(f'| `{setting.name}` | `{_value_text(setting.default)}` | '
                    f'{setting.allowed_text()} | {"yes" if setting.runtime else ""} | '
                    f'{setting.description} |')
    return '\n'.join(rows) + '\n'


#: The lines around the generated table in docs/node.md.
TABLE_START = '<!-- parameter table: generated by `python -m pose3d_ros.settings` -->'
TABLE_END = '<!-- end of the generated parameter table -->'


def with_table(document: str, table: str) -> str:
    """Return a markdown ``document`` with the text between the table markers replaced."""
    start, end = document.find(TABLE_START), document.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f'the document has no {TABLE_START!r} ... {TABLE_END!r} lines')
    return document[:start + len(TABLE_START)] + '\n' + table + document[end:]
