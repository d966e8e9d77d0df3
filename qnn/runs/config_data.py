"""Configs as plain data: config files and run folders read without running any code.

Sacred decodes ``.json`` config files with jsonpickle (a ``{"py/reduce": ...}`` value builds
objects and calls functions), ``.yaml`` with PyYAML's FullLoader and ``.pickle`` with pickle,
and its command line passes every ``key=value`` through jsonpickle too. Run folders, sweep
records and config files travel between colleagues and clusters, so here they are data:
JSON is read with the standard ``json`` module, TOML with ``tomllib``, a ``py/...`` key
anywhere is refused, and YAML and pickle files are not read at all.
"""

from __future__ import annotations

import ast
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError

JSONPICKLE_TAG = "py/"  # jsonpickle's reserved keys: py/object, py/reduce, py/function, ...
DATA_SUFFIXES = (".json", ".toml")
CODE_SUFFIXES = (".yaml", ".yml", ".pickle", ".pkl")


def refuse_code(value: Any, where: str) -> Any:
    """``value`` unchanged if it is plain data; a ``py/...`` key anywhere is a ConfigError.

    Args:
        value: parsed JSON/TOML/literal data (dicts, lists, scalars).
        where: what holds it, for the message (a file, or a config key).
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith(JSONPICKLE_TAG):
                raise ConfigError(f"{where}: key {key!r} is a jsonpickle tag (it would build "
                                  "objects or run code); configs are plain data")
            refuse_code(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            refuse_code(item, f"{where}[{i}]")
    return value


def read_json_data(path: str | Path) -> Any:
    """A JSON file as plain data (``py/...`` tags refused), errors naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ConfigError(f"{path}: not valid JSON: {err}") from None
    return refuse_code(data, str(path))


def read_json_mapping(path: str | Path) -> dict[str, Any]:
    """A run record's top-level mapping as plain data (``run.json``, ``info.json``,
    ``metrics.json``, ...); ``{}`` when the file is missing, unreadable or not a mapping."""
    try:
        data = read_json_data(path)
    except (OSError, ConfigError):
        return {}
    return data if isinstance(data, dict) else {}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A config file named on the command line (``with FILE``): JSON or TOML, as a dict.

    Raises:
        ConfigError: YAML or pickle (Sacred would run code from them), another suffix,
            unreadable content, or a top level that is not a mapping.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CODE_SUFFIXES:
        raise ConfigError(f"config file {path}: {suffix} files are not read (loading them can "
                          "run code); write the config as JSON or TOML")
    if suffix not in DATA_SUFFIXES:
        raise ConfigError(f"config file {path}: unknown format {suffix!r}; use .json or .toml")
    if suffix == ".toml":
        try:
            data = tomllib.loads(path.read_text())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
    else:
        data = read_json_data(path)
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: holds a {type(data).__name__}, expected a "
                          "mapping of config keys")
    return data


def parse_value(text: str, key: str) -> Any:
    """A command-line value as Sacred reads it (a Python literal, else the string itself),
    but never through jsonpickle: ``py/...`` keys are refused."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return text
    return refuse_code(value, key)


def nested_update(base: dict[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``updates`` merged in, mappings recursively (neither is modified)."""
    merged = dict(base)
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = nested_update(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def dotted_to_nested(updates: Mapping[str, Any]) -> dict[str, Any]:
    """``{"bbs.updates": 3}`` -> ``{"bbs": {"updates": 3}}``."""
    nested: dict[str, Any] = {}
    for key, value in updates.items():
        *parents, leaf = key.split(".")
        nested = nested_update(nested, _wrap(parents, {leaf: value}))
    return nested


def _wrap(parents: list[str], leaf: dict[str, Any]) -> dict[str, Any]:
    for parent in reversed(parents):
        leaf = {parent: leaf}
    return leaf
