"""Launching a family's Sacred experiment: command-line words -> checked config -> run.

Sacred's ``run_commandline`` would do this too, but it decodes values with jsonpickle, reads
config files with code-running loaders, creates the run folder before the config has been
checked (so every rejected command leaves a FAILED folder), and prints tracebacks. Here the
words are parsed with Sacred's own grammar into config updates that are plain data (see
:mod:`qnn.runs.config_data`), the resolved config is checked against the defaults' types and
by the family's own ``check`` before any folder exists, and errors propagate to the caller
(the CLI prints one line).
"""

from __future__ import annotations

import contextlib
import signal
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .config_data import (
    CODE_SUFFIXES,
    DATA_SUFFIXES,
    check_like_defaults,
    dotted_to_nested,
    nested_update,
    parse_value,
    read_config_file,
    read_json_data,
)

with warnings.catch_warnings():  # sacred 0.8 imports the deprecated pkg_resources
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    from sacred import Experiment
    from sacred.run import Run

CONFIG_FILE = "config.json"  # what Sacred's FileStorageObserver writes in every run folder
ConfigCheck = Callable[[Mapping[str, Any]], object]


@dataclass(frozen=True)
class Invocation:
    """What to run: a Sacred command, named configs and config updates (nested, plain data).

    ``options`` are Sacred's command-line options as docopt parsed them (``--id``, ``-F``,
    ``--debug``, ...).
    """

    command: str | None = None
    named_configs: tuple[str, ...] = ()
    config_updates: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    help: bool = False

    def resuming(self, folder: str | Path) -> Invocation:
        """This invocation continuing the run in ``folder``: its recorded config, then these
        updates, then ``store.resume_from`` pointing at it."""
        previous = read_run_config(folder)
        updates = nested_update(nested_update(previous, self.config_updates),
                                {"store": {"resume_from": str(folder)}})
        return Invocation(self.command, self.named_configs, updates, self.options, self.help)


def read_run_config(folder: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a run folder as plain data (never decoded by jsonpickle)."""
    file = Path(folder) / CONFIG_FILE
    if not file.is_file():
        raise ConfigError(f"{folder} is not a run folder (it has no {CONFIG_FILE})")
    config = read_json_data(file)
    if not isinstance(config, dict):
        raise ConfigError(f"{file}: holds a {type(config).__name__}, expected a mapping")
    return config


def parse_words(ex: Experiment, words: Sequence[str]) -> Invocation:
    """Sacred's command-line grammar (``[COMMAND] [with UPDATE...] [options]``), read as data.

    ``with`` words are ``key=value`` updates (a Python literal, else the text), named configs,
    or JSON/TOML config files (merged below the explicit updates). A command word such as
    ``print_config`` may also stand among them.
    """
    from docopt import docopt

    internal_usage = ex.get_usage()[2]
    args = docopt(internal_usage, [str(w) for w in words], default_help=False)
    commands = dict(ex.gather_commands())
    command = args.get("COMMAND")
    named, from_files, updates = [], {}, {}
    for word in args.get("UPDATE") or []:
        key, sep, text = word.partition("=")
        if sep:
            key = key.strip()
            updates = nested_update(updates, dotted_to_nested({key: parse_value(text.strip(),
                                                                                key)}))
        elif word in commands and command is None and word not in ex.named_configs:
            command = word
        elif Path(word).suffix.lower() in DATA_SUFFIXES + CODE_SUFFIXES:
            from_files = nested_update(from_files, read_config_file(word))
        else:
            named.append(word)
    if command is not None and command not in commands:
        raise ConfigError(f"unknown command {command!r}; commands: {sorted(commands)}")
    options = {k: v for k, v in args.items() if k not in ("COMMAND", "UPDATE", "with")}
    return Invocation(command, tuple(named), nested_update(from_files, updates), options,
                      bool(args.get("help") or args.get("--help")))


def launch(ex: Experiment, invocation: Invocation, *, runs_dir: str | Path | None,
           check: ConfigCheck | None = None) -> Run | None:
    """Run ``invocation`` of ``ex``; its folder goes under ``runs_dir`` (``None``: no folder).

    The resolved config is checked — against the types of the defaults, then by ``check``
    (the family's spec builder) — before any observer starts, so a rejected config leaves
    nothing behind. Commands other than the main function (``print_config``, ...) never get
    a folder. SIGTERM interrupts the run like Ctrl-C (Sacred records it as INTERRUPTED).

    Returns:
        The finished Run, or ``None`` when only help was printed.

    Raises:
        ConfigError: the config was rejected (no folder was created).
        Exception: whatever the run raised (its folder says FAILED or INTERRUPTED).
    """
    if invocation.help:
        print(ex.get_usage()[1])
        return None
    from sacred.initialize import create_run
    from sacred.observers import FileStorageObserver

    # Before the run itself: creating a run rebinds every captured function's config.
    defaults = create_run(ex, ex.default_command, {}, named_configs=()).config
    # --force: Sacred would refuse keys that no captured function takes as an argument,
    # which includes every key of a spec section (bbs.lr); unknown keys are refused below.
    run = ex._create_run(invocation.command, invocation.config_updates,
                         invocation.named_configs, info={}, meta_info={},
                         options={**invocation.options, "--force": True})
    if invocation.command in (None, ex.default_command):  # print_config etc.: no folder
        check_config(run.config, defaults, check,
                     sections=tuple(i.path for i in ex.ingredients))
        if runs_dir is not None and not run.observers:
            run.observers.append(FileStorageObserver(str(runs_dir)))
    with sigterm_interrupts():
        run()
    return run


def check_config(config: Mapping[str, Any], defaults: Mapping[str, Any],
                 check: ConfigCheck | None, *, sections: Sequence[str] = ()) -> None:
    """No key the defaults lack (at the top and in the ingredient ``sections``), types
    against the defaults (the plain config, no named configs), then the family's check;
    ValueError, TypeError and KeyError from it become a ConfigError."""
    for where, keys, known in [("", config, defaults),
                               *((f"{s}.", config[s], defaults[s]) for s in sections)]:
        unknown = sorted(set(keys) - set(known))
        if unknown:
            raise ConfigError(f"unknown config key(s) {[where + k for k in unknown]}; "
                              f"known: {sorted(known)}")
    check_like_defaults(config, defaults)
    if check is None:
        return
    try:
        check(config)
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise ConfigError(str(message)) from err


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block SIGTERM raises KeyboardInterrupt (``kill``, Slurm's scancel and time
    limit send it), so the run is recorded as INTERRUPTED and its checkpoint kept."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
