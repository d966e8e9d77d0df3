"""Config records: frozen dataclasses built from plain mappings in one checked way.

:func:`from_dict` is the one place where a mapping (a Sacred config section, a TOML table,
a checkpoint record) becomes a config dataclass: unknown and missing keys, and values of the
wrong kind, are refused with one line naming the dotted key and the value. Lists become
tuples where the field is a tuple, nested mappings become nested dataclasses. What a value
*means* (ranges, choices) stays in the dataclass's own ``__post_init__``.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def from_dict(cls: type[T], record: Mapping[str, Any], *, where: str = "",
              ignore: Collection[str] = ()) -> T:
    """``cls(**record)`` with every key and value checked against ``cls``'s annotations.

    Args:
        cls: a dataclass.
        record: its fields by name.
        where: the dotted prefix of ``record`` in messages (``"bbs"`` for ``bbs.lr``).
        ignore: keys of ``record`` that are not fields and are not an error.

    Raises:
        ConfigError: an unknown or missing key, or a value of the wrong kind; also the
            ``ValueError``/``TypeError`` of the dataclass's own checks, as one line.
    """
    if isinstance(record, cls):
        return record
    if not isinstance(record, Mapping):
        raise ConfigError(f"{where or cls.__name__}={record!r} must be a mapping of "
                          f"{cls.__name__} fields")
    prefix = f"{where}." if where else ""
    known = {f.name: f for f in fields(cls) if f.init}
    unknown = sorted(set(record) - set(known) - set(ignore))
    if unknown:
        raise ConfigError(f"{where or cls.__name__} has unknown key(s) {unknown}; allowed: "
                          f"{sorted(known)}")
    missing = sorted(name for name, f in known.items() if name not in record
                     and f.default is MISSING and f.default_factory is MISSING)
    if missing:
        raise ConfigError(f"{where or cls.__name__} lacks required key(s) {missing}")
    hints = typing.get_type_hints(cls)
    values = {name: coerce(record[name], hints[name], prefix + name)
              for name in known if name in record}
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{prefix}{err}" if prefix and not str(err).startswith(prefix)
                          else str(err)) from None


def coerce(value: Any, hint: Any, name: str) -> Any:
    """``value`` as the annotation ``hint`` wants it (lists -> tuples, mappings -> dataclasses),
    or a ConfigError naming ``name`` and the value."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object:
        return value
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, args, name, hint)
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{name}={value!r}; choose from {list(args)}")
        return value
    if is_dataclass(hint):
        return from_dict(hint, value, where=name)
    if origin is tuple or hint is tuple:
        return _coerce_sequence(value, args, name, tuple)
    if origin is list or hint is list:
        return _coerce_sequence(value, args, name, list)
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}={value!r} must be a mapping, e.g. {{\"key\": value}}")
        return dict(value)
    return _coerce_scalar(value, hint, name)


def _coerce_union(value: Any, options: tuple, name: str, hint: Any) -> Any:
    if value is None and type(None) in options:
        return None
    same_kind = None  # the error of the option whose container kind the value has
    for option in options:
        if option is type(None):
            continue
        try:
            return coerce(value, option, name)
        except ConfigError as err:
            if _container_kind(option) is not None and \
                    _container_kind(option) == _container_kind(type(value)):
                same_kind = err
    if same_kind is not None:  # e.g. a list with one bad entry: name the entry
        raise same_kind
    raise ConfigError(f"{name}={value!r} must be {describe(hint)}")


def _container_kind(hint: Any) -> str | None:
    """``"list"`` for list/tuple types, ``"mapping"`` for mappings and dataclasses, else None."""
    origin = typing.get_origin(hint) or hint
    if origin in (list, tuple):
        return "list"
    if origin in (dict, Mapping) or is_dataclass(hint) or \
            (isinstance(origin, type) and issubclass(origin, Mapping)):
        return "mapping"
    return None


def _coerce_sequence(value: Any, args: tuple, name: str, kind: type) -> Any:
    if not isinstance(value, list | tuple):
        hint = (" (quote strings inside it, e.g. '[\"a\", \"b\"]')"
                if isinstance(value, str) and value.startswith("[") else "")
        raise ConfigError(f"{name}={value!r} must be a list{hint}")
    if len(args) == 2 and args[1] is Ellipsis:
        items = [coerce(item, args[0], f"{name}[{i}]") for i, item in enumerate(value)]
    elif args and kind is tuple:
        if len(value) != len(args):
            raise ConfigError(f"{name}={list(value)!r} must have {len(args)} entries")
        items = [coerce(item, arg, f"{name}[{i}]") for i, (item, arg) in
                 enumerate(zip(value, args, strict=True))]
    elif args:
        items = [coerce(item, args[0], f"{name}[{i}]") for i, item in enumerate(value)]
    else:
        items = list(value)
    return kind(items)


def _coerce_scalar(value: Any, hint: Any, name: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name}={value!r} must be true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name}={value!r} must be an integer")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name}={value!r} must be a number")
        if not math.isfinite(value):
            raise ConfigError(f"{name}={value!r} must be a finite number")
        return float(value)
    elif hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}={value!r} must be a string")
    elif isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{name}={value!r} must be a {hint.__name__}")
    return value


def describe(hint: Any) -> str:
    """An annotation in words: ``int | None`` -> "an integer or null"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    words = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
             type(None): "null", dict: "a mapping"}
    if hint in words:
        return words[hint]
    if origin in (tuple, list) or hint in (tuple, list):
        return "a list"
    if origin is dict:
        return "a mapping"
    return getattr(hint, "__name__", str(hint))
