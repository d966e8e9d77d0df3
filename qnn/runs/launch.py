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
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..interrupts import sigterm_interrupts
from ..store import verify_store
from .config_data import (
    CODE_SUFFIXES,
    DATA_SUFFIXES,
    dotted_to_nested,
    nested_update,
    parse_value,
    read_config_file,
    read_json_data,
    read_json_mapping,
)
from .folder import CONFIG_FILE, RUN_FILE, STORE_FILE, settle_status
from .study import RUN_KEYS, Study

with warnings.catch_warnings():  # sacred 0.8 imports the deprecated pkg_resources
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    from sacred import Experiment
    from sacred.run import Run



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
    meta: dict[str, Any] = field(default_factory=dict)  # run.json "meta" entries to record

    def resuming(self, folder: str | Path) -> Invocation:
        """This invocation continuing the run in ``folder``: its recorded config, then these
        updates, then ``store.resume_from`` pointing at it. run.json records the earlier
        run's named configs and updates (and these), not the whole config as an update."""
        status = settle_status(Path(folder))
        if status == "RUNNING":
            raise ConfigError(f"--resume {folder}: that run is still running (its process "
                              "is alive); stop it first")
        previous = read_run_config(folder)
        if not any(Path(folder).glob("checkpoint*")):  # refused before a run folder exists
            raise ConfigError(f"{folder} holds no checkpoint files: nothing to resume (the "
                              "run stopped before its first task ended)")
        store = Path(folder) / STORE_FILE
        if store.is_file():  # refuse a corrupt file before any new run folder exists
            verify_store(store)
        resume = {"store": {"resume_from": str(folder)}}
        updates = nested_update(nested_update(previous, self.config_updates), resume)
        meta = read_run_meta(folder)
        recorded = {"named_configs": meta.get("named_configs", []),
                    "config_updates": nested_update(nested_update(
                        meta.get("config_updates") or {}, self.config_updates), resume)}
        return replace(self, config_updates=updates, meta=recorded)


def read_run_config(folder: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a run folder as plain data (never decoded by jsonpickle)."""
    file = Path(folder) / CONFIG_FILE
    if not file.is_file():
        raise ConfigError(f"{folder} is not a run folder (it has no {CONFIG_FILE})")
    config = read_json_data(file)
    if not isinstance(config, dict):
        raise ConfigError(f"{file}: holds a {type(config).__name__}, expected a mapping")
    return config


def read_run_meta(folder: str | Path) -> dict[str, Any]:
    """Sacred's ``meta`` of a run (command, named configs, updates), ``{}`` if unreadable."""
    meta = read_json_mapping(Path(folder) / RUN_FILE).get("meta")
    return meta if isinstance(meta, dict) else {}


def recorded_family(folder: str | Path) -> str | None:
    """The family (Sacred experiment name) a run folder's ``run.json`` records, else ``None``."""
    experiment = read_json_mapping(Path(folder) / RUN_FILE).get("experiment")
    name = experiment.get("name") if isinstance(experiment, dict) else None
    return name if isinstance(name, str) else None


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
           study: Study | None = None) -> Run | None:
    """Run ``invocation`` of ``ex``; its folder goes under ``runs_dir`` (``None``: no folder).

    The resolved config is checked (:func:`check_run_config` with the family's ``study``)
    before any observer starts, so a rejected config leaves nothing behind. Commands other
    than the main function (``print_config``, ...) never get a folder. SIGTERM interrupts
    the run like Ctrl-C (Sacred records it as INTERRUPTED).

    Returns:
        The finished Run, or ``None`` when only help was printed.

    Raises:
        ConfigError: the config was rejected (no folder was created).
        Exception: whatever the run raised (its folder says FAILED or INTERRUPTED).
    """
    if invocation.help:
        print(ex.get_usage()[1])
        return None
    from sacred.observers import FileStorageObserver

    # --force: Sacred would refuse keys that no captured function takes as an argument,
    # which includes every key of a spec section (bbs.lr); from_dict refuses unknown keys.
    run = ex._create_run(invocation.command, invocation.config_updates,
                         invocation.named_configs, info={}, meta_info=invocation.meta,
                         options={**invocation.options, "--force": True})
    if invocation.command in (None, ex.default_command):  # print_config etc.: no folder
        if study is not None:
            check_run_config(study, run.config)
        if runs_dir is not None and not run.observers:
            run.observers.append(FileStorageObserver(str(runs_dir)))
    with sigterm_interrupts():
        run()
    return run


def check_run_config(study: Study, config: Mapping[str, Any]) -> Any:
    """The shared sections and the family's spec built from ``config``: every unknown key
    and bad value refused as one ConfigError naming it. Returns the spec."""
    from ..config import from_dict
    from .settings import PhotonicsSettings, StoreSettings

    from_dict(PhotonicsSettings, config["photonics"], where="photonics")
    from_dict(StoreSettings, config["store"], where="store")
    return from_dict(study.spec_type, config, where="config", ignore=RUN_KEYS)


def execute(study: Study, config: Mapping[str, Any], run: Run) -> None:
    """The body of every family's Sacred main: the run folder, the backend (every drawn
    histogram recorded), the task loop with checkpoints, results.json and the summary."""
    from ..config import from_dict
    from ..store import RunStore
    from .checkpoint import Checkpoint
    from .folder import CHECKPOINT_FILE, RESULTS_FILE, STORE_FILE, adopt, mark_process
    from .recording import RecordingBackend
    from .settings import PhotonicsSettings, StoreSettings
    from .study import TaskContext, run_tasks
    from .tables import aggregate

    spec = check_run_config(study, config)
    photonics = from_dict(PhotonicsSettings, config["photonics"], where="photonics")
    settings = from_dict(StoreSettings, config["store"], where="store")
    folder = observed_folder(run) or Path(settings.output_dir or "runs/tmp")
    folder.mkdir(parents=True, exist_ok=True)
    mark_process(folder)
    if settings.resume_from is not None:
        adopt(Path(settings.resume_from), folder)
        run.info["resumed_from"] = settings.resume_from
    run.info["versions"] = package_versions()
    backend = photonics.make_backend()
    with RunStore(folder / STORE_FILE, mode="a") as store:
        store.set_attrs(sacred_run_id=str(run._id), experiment=study.family)
        # The recorded config seed (not Sacred's derived _seed) seeds everything, so tools
        # such as `qnn export` can rebuild a run's data split from its config.json.
        context = TaskContext(seed=config["seed"], backend=RecordingBackend(backend, store),
                              folder=folder, rows=[], log_scalar=run.log_scalar)
        rows = run_tasks(study, spec, context, checkpoint=Checkpoint(folder / CHECKPOINT_FILE))
    summary = aggregate(rows, study.summary_by, study.summary_metrics)
    (folder / RESULTS_FILE).write_text(json.dumps({"tasks": rows, "summary": summary}))
    print(format_summary(summary, study.summary_by, study.summary_metrics, folder))


def observed_folder(run: Run) -> Path | None:
    """The folder Sacred's FileStorageObserver gave this run, if one observes it."""
    from sacred.observers import FileStorageObserver

    for observer in run.observers:
        if isinstance(observer, FileStorageObserver) and observer.dir:
            return Path(observer.dir)
    return None


def format_summary(summary: Sequence[Mapping[str, Any]], by: Sequence[str],
                   metrics: Sequence[str], folder: Path) -> str:
    """The closing table: one line per group, each metric as mean ± sample std, and n."""
    import pandas as pd

    table = pd.DataFrame([{**{k: _key(row[k]) for k in by}, "n": row["n"],
                           **{m: _mean_std(row[f"{m}_mean"], row[f"{m}_std"])
                              for m in metrics}} for row in summary])
    body = table.to_string(index=False) if len(table) else "(no tasks)"
    return f"{body}\n(mean ± sample std over n tasks)\nrun folder: {folder}"


def _key(value: Any) -> Any:
    """Group keys as written: ``-`` for none, ``200`` for a count pandas made ``200.0``."""
    if value is None or value != value:
        return "-"
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _mean_std(mean: float, std: float) -> str:
    if mean != mean:  # nan: no task reported it
        return "-"
    return f"{mean:.4g}" if std != std else f"{mean:.4g} ± {std:.2g}"


def package_versions() -> dict[str, str]:
    """Full versions of the packages that decide a run's numbers (local tags like +cpu kept)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("photonic-qnn", "torch", "numpy", "scipy", "h5py", "numba", "cudaq", "ortools"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out
