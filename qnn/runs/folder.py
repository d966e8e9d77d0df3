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
