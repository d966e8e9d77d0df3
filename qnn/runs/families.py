"""Experiment families, found through the ``qnn.families`` entry-point group.

A family is a module holding a Sacred ``Experiment`` named ``ex`` and the
:class:`~qnn.runs.study.Study` it runs, named ``study``.
The library never imports an application package by name: this project's families are
declared in its ``pyproject.toml`` like any third party's would be.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType

from ..errors import ConfigError

GROUP = "qnn.families"


def family_names() -> tuple[str, ...]:
    """The installed families, sorted."""
    return tuple(sorted({point.name for point in entry_points(group=GROUP)}))


def load_family(name: str) -> ModuleType:
    """The module of family ``name``.

    Raises:
        ConfigError: no installed package declares a family of that name.
    """
    points = [point for point in entry_points(group=GROUP) if point.name == name]
    if not points:
        raise ConfigError(f"unknown experiment family {name!r}; installed: "
                          f"{list(family_names())} (families are declared in the "
                          f"{GROUP!r} entry-point group)")
    return import_module(points[0].value)


def family_help(name: str) -> str:
    """What ``qnn run <name> --help`` prints: the family, its named configs with the first
    comment line of each, and how to see every option."""
    import inspect

    module = load_family(name)
    lines = [f"qnn run {name} [with NAMED_CONFIG... KEY=VALUE...] [print_config]",
             "", (module.__doc__ or name).strip().splitlines()[0], "", "named configs:"]
    for config_name, scope in sorted(module.ex.named_configs.items()):
        lines.append(f"  {config_name:<24}{_first_comment(inspect.getsource(scope._func))}")
    lines += ["", f"every option with its default: qnn run {name} print_config [with ...]"]
    return "\n".join(lines)


def _first_comment(source: str) -> str:
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("#"):
            return text.lstrip("# ")
    return ""
