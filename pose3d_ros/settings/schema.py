"""
Settings declared once: type, default, range or choices, description, when they may change.

A setting is a field of a frozen settings dataclass declared with :func:`setting`; the
dataclass validates itself with :func:`validate` in ``__post_init__``. Settings dataclasses
nest (the node's holds the pipeline's, which holds the estimator's), and
:func:`settings_of` lists every setting of a tree in declaration order. Everything else is
generated from that list (:mod:`.surfaces`): the node's ROS parameters and their
descriptors, ``config/pose3d.yaml``, the options of ``pose3d-estimate`` and the table in
docs/node.md. One validator (:meth:`Setting.problem`) gives one message per bad value to the
library, the node and the commands alike.
"""

import array
from dataclasses import dataclass, Field, field, fields, is_dataclass
import functools
import re
import typing
from typing import Any, Dict, Mapping, Optional, Tuple

#: Where a setting can be given: ``node`` (ROS parameter, YAML and the docs table) and
#: ``cli`` (an option of ``pose3d-estimate``). The library takes every setting.
SURFACES = ('node', 'cli')

_SPEC = 'pose3d_setting'


@dataclass(frozen=True)
class Setting:
    """
    One setting.

    Attributes
    ----------
    name
        The field name; also the ROS parameter name and, with hyphens, the CLI option.
    kind
        ``bool``, ``int``, ``float``, ``str`` or ``tuple`` (a list of integers).
    default
        The value when none is given.
    description
        One or two sentences for every surface.
    low, high
        Inclusive numeric range (of each element, for lists); None: unbounded text or bool.
    choices
        The allowed strings, when there is a fixed set.
    pattern, pattern_text
        A regular expression a string must match in full, and how to say it to a user.
    runtime
        Whether it may change while the node runs (a ROS parameter that is not read-only).
    surfaces
        Where it is exposed besides the library (:data:`SURFACES`).
    unit
        Unit of a number, for the docs (``'m'``, ``'s'``, ``'Hz'``, ``'deg'``).

    """

    name: str
    kind: type
    default: Any
    description: str
    low: Optional[float] = None
    high: Optional[float] = None
    choices: Tuple[str, ...] = ()
    pattern: str = ''
    pattern_text: str = ''
    runtime: bool = False
    surfaces: Tuple[str, ...] = SURFACES
    unit: str = ''

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in this setting's kind where lossless: 1 -> 1.0, [2] -> (2,)."""
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if self.kind is tuple and isinstance(value, (list, array.array)):  # rclpy: array('q')
            return tuple(value)
        return value

    def problem(self, value: Any) -> Optional[str]:
        """Return why ``value`` is not acceptable, or None: the one message every surface gives."""
        value = self.coerce(value)
        if self.kind is tuple:
            return self._list_problem(value)
        if not _is_kind(value, self.kind):
            return f'{self.name} must be {_KIND_NAMES[self.kind]}, got {value!r}'
        if self.choices and value not in self.choices:
            return f'{self.name} must be one of {", ".join(self.choices)}; got {value!r}'
        if self.pattern and not re.fullmatch(self.pattern, value):
            return f'{self.name} must be {self.pattern_text}; got {value!r}'
        if self.low is not None and not self.low <= value <= self.high:
            return f'{self.name} must be in {self.range_text()}, got {value!r}'
        return None

    def _list_problem(self, value: Any) -> Optional[str]:
        wanted = (f'{self.name} must be a non-empty list of distinct integers in '
                  f'{self.range_text()}, in increasing order')
        if not isinstance(value, tuple) or not value or \
                not all(_is_kind(v, int) for v in value):
            return f'{wanted}; got {value!r}'
        if any(not self.low <= v <= self.high for v in value) or \
                any(b <= a for a, b in zip(value, value[1:])):
            return f'{wanted}; got {list(value)}'
        return None

    def range_text(self) -> str:
        """Return the range as ``[low, high]`` with the unit, or '' when unbounded."""
        if self.low is None:
            return ''
        unit = f' {self.unit}' if self.unit else ''
        return f'[{_number(self.low)}, {_number(self.high)}]{unit}'

    def allowed_text(self) -> str:
        """Return what values are allowed, for help texts and the docs ('' for any)."""
        if self.choices:
            return ', '.join(self.choices)
        if self.pattern_text:
            return self.pattern_text
        if self.kind is tuple:
            return f'increasing integers in {self.range_text()}'
        return self.range_text()


_KIND_NAMES = {bool: 'true or false', int: 'an integer', float: 'a number', str: 'text'}


def _is_kind(value: Any, kind: type) -> bool:
    if kind in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, kind)


def _number(value: float) -> str:
    return f'{value:g}'


def setting(default: Any, description: str, *, low: Optional[float] = None,
            high: Optional[float] = None, choices: Tuple[str, ...] = (), pattern: str = '',
            pattern_text: str = '', runtime: bool = False,
            surfaces: Tuple[str, ...] = SURFACES, unit: str = '') -> Any:
    """
    Declare a settings dataclass field: its default and everything every surface says of it.

    Numbers need both ends of their range (a ROS parameter range has both).
    """
    if (low is None) != (high is None):
        raise ValueError('give both ends of a range, or neither')
    if not set(surfaces) <= set(SURFACES):
        raise ValueError(f'surfaces must be among {SURFACES}, got {surfaces}')
    spec = {'description': description, 'low': low, 'high': high, 'choices': tuple(choices),
            'pattern': pattern, 'pattern_text': pattern_text, 'runtime': runtime,
            'surfaces': tuple(surfaces), 'unit': unit}
    return field(default=default, metadata={_SPEC: spec})


def _kind(annotation: Any) -> type:
    origin = typing.get_origin(annotation)
    return tuple if origin is tuple else annotation


@functools.lru_cache(maxsize=None)
def _own_settings(cls: type) -> Tuple[Tuple[Field, Setting], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f, Setting(name=f.name, kind=_kind(hints[f.name]), default=f.default,
                             **f.metadata[_SPEC]))
                 for f in fields(cls) if _SPEC in f.metadata)


def _nested(cls: type) -> Tuple[Field, ...]:
    return tuple(f for f in fields(cls) if _SPEC not in f.metadata and is_dataclass(f.default))


def settings_of(cls: type, surface: Optional[str] = None) -> Tuple[Setting, ...]:
    """
    Return every setting of a settings dataclass and the ones it nests, in order.

    ``surface``: only those exposed there (:data:`SURFACES`).
    """
    own = {spec.name: spec for _, spec in _own_settings(cls)}
    found = []
    for f in fields(cls):
        if f.name in own:
            found.append(own[f.name])
        elif is_dataclass(f.default):
            found += settings_of(type(f.default))
    names = [s.name for s in found]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f'settings declared twice in {cls.__name__}: {sorted(duplicates)}')
    return tuple(s for s in found if surface is None or surface in s.surfaces)


def settings_named(cls: type, *names: str) -> Tuple[Setting, ...]:
    """Return the named settings of a settings dataclass tree, in the order named."""
    by_name = {s.name: s for s in settings_of(cls)}
    return tuple(by_name[name] for name in names)


def validate(config: Any) -> None:
    """
    Check a settings dataclass's own settings; raise ValueError with the first problem.

    For ``__post_init__``. Lossless conversions (an int for a float, a list for a list
    setting) are applied to the frozen instance, so equal settings compare equal.
    """
    for f, spec in _own_settings(type(config)):
        value = spec.coerce(getattr(config, f.name))
        object.__setattr__(config, f.name, value)
        problem = spec.problem(value)
        if problem:
            raise ValueError(problem)


def from_values(cls: type, values: Mapping[str, Any]) -> Any:
    """Build a settings dataclass tree from flat ``values`` by name (absent ones: defaults)."""
    kwargs: Dict[str, Any] = {f.name: values[f.name] for f, _ in _own_settings(cls)
                              if f.name in values}
    kwargs.update({f.name: from_values(type(f.default), values) for f in _nested(cls)})
    return cls(**kwargs)


def values_of(config: Any) -> Dict[str, Any]:
    """Return the flat name -> value of every setting in a settings dataclass tree."""
    values = {f.name: getattr(config, f.name) for f, _ in _own_settings(type(config))}
    for f in _nested(type(config)):
        values.update(values_of(getattr(config, f.name)))
    return values
