"""A run folder: its file names in one place, what a resumed run adopts, whether it is alive.

Sacred's FileStorageObserver writes ``run.json`` (status, host, versions), ``config.json``,
``metrics.json``, ``info.json`` and ``cout.txt``; the launcher adds the files below. A run
killed by SIGKILL (or a lost node) cannot record its end, so its ``run.json`` says RUNNING
for ever: :func:`settle_status` recognises such a run (its process is gone, or its
heartbeat stopped) and records it as INTERRUPTED.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ConfigError
from ..store import verify_store
from .config_data import read_json_mapping

RUN_FILE = "run.json"
CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
STORE_FILE = "histograms.h5"
CHECKPOINT_FILE = "checkpoint.json"
PROCESS_FILE = "process.json"  # host and pid of the process running it, for liveness
# Sacred beats every 10 s; a RUNNING run on another host silent for this long is dead.
STALE_HEARTBEAT_SECONDS = 120.0


def mark_process(folder: Path) -> None:
    """Record which process runs the run in ``folder`` (read back by :func:`settle_status`)."""
    record = {"host": socket.gethostname(), "pid": os.getpid(),
              "started": datetime.now(UTC).isoformat()}
    (folder / PROCESS_FILE).write_text(json.dumps(record))


def settle_status(folder: Path) -> str:
    """The run's status, after recording a dead RUNNING run as INTERRUPTED in its run.json.

    Returns ``"?"`` for a folder without a readable run.json.
    """
    run_file = folder / RUN_FILE
    try:
        run = json.loads(run_file.read_text())
    except (OSError, ValueError):
        return "?"
    status = run.get("status", "?")
    if status == "RUNNING" and not _alive(folder, run):
        run["status"] = "INTERRUPTED"
        run["stop_time"] = run.get("heartbeat") or run.get("start_time")
        run["interrupted_by"] = "found dead (killed without a chance to record it)"
        tmp = run_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(run, indent=2))
        os.replace(tmp, run_file)
        status = "INTERRUPTED"
    return status


def _alive(folder: Path, run: dict) -> bool:
    try:
        process = json.loads((folder / PROCESS_FILE).read_text())
    except (OSError, ValueError):
        process = {}
    if process.get("host") == socket.gethostname() and isinstance(process.get("pid"), int):
        try:
            os.kill(process["pid"], 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    beat = run.get("heartbeat") or run.get("start_time")
    if not beat:
        return False
    last = datetime.fromisoformat(beat)
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return (datetime.now(UTC) - last).total_seconds() < STALE_HEARTBEAT_SECONDS


def adopt(previous: Path, folder: Path) -> None:
    """Copy what a resumed run continues from — checkpoints and the HDF5 store — from the
    ``previous`` run folder into ``folder``; the store is verified first (never modified).

    Raises:
        ConfigError: ``previous`` holds no checkpoint.
        StoreError: its store is corrupt (:func:`qnn.store.verify_store` names the file and
            the entry).
    """
    checkpoints = sorted(previous.glob("checkpoint*"))
    if not checkpoints:
        raise ConfigError(f"{previous} holds no checkpoint files: nothing to resume")
    store = previous / STORE_FILE
    if store.is_file():
        verify_store(store)
    if previous.resolve() != folder.resolve():
        for source in [*checkpoints, store]:
            if source.is_file():
                shutil.copy2(source, folder / source.name)


def resumed_metrics(folder: Path) -> tuple[dict, list[str]]:
    """The run's ``metrics.json`` with the rounds of the runs it resumed put back in front.

    A resumed run is a new Sacred run that logs only what it computes; its earlier rounds
    are in the ``metrics.json`` of the run named by ``info.json``'s ``resumed_from`` (and so
    on back). For each metric, the earlier run's steps before the later run's first step are
    prepended (a step redone after the checkpoint keeps the later value).

    Returns:
        The merged metrics (empty if the run has none) and the earlier runs that could not be
        found (their rounds are missing from the merge).
    """
    metrics = read_json_mapping(folder / "metrics.json")
    missing: list[str] = []
    seen = {folder.resolve()}
    current = folder
    while (earlier_name := read_json_mapping(current / "info.json").get("resumed_from")):
        earlier = _locate(str(earlier_name), current)
        if earlier is None or earlier.resolve() in seen:
            if earlier is None:
                missing.append(str(earlier_name))
            break
        seen.add(earlier.resolve())
        for name, before in read_json_mapping(earlier / "metrics.json").items():
            later = metrics.get(name, {"steps": [], "values": [], "timestamps": []})
            first = min(later["steps"], default=float("inf"))
            keep = [i for i, step in enumerate(before["steps"]) if step < first]
            metrics[name] = {key: [before[key][i] for i in keep] + list(later.get(key, []))
                             for key in ("steps", "values", "timestamps")}
        current = earlier
    return metrics, missing


def _locate(recorded: str, folder: Path) -> Path | None:
    """A recorded run path: as written (absolute, or relative to where that run was started,
    which was at or above its runs directory), else relative to each folder above ``folder``."""
    path = Path(recorded)
    for candidate in [path, *(ancestor / path for ancestor in folder.resolve().parents)]:
        if candidate.is_dir():
            return candidate
    return None
