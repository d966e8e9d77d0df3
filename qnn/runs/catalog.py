"""The run catalogue: every run folder under a runs directory as one row of a pandas DataFrame.

A row says what a run is (family, id, named configs and overrides, seed), how it went
(status — a run killed without a chance to record it is settled to INTERRUPTED here —,
start, duration) and its headline metric; its whole config follows as ``config.<key>``
columns, so runs can be filtered and compared like any table. Files are read as data
(:func:`~qnn.runs.config_data.read_json_data`), never as code.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .config_data import read_json_mapping
from .folder import CONFIG_FILE, RESULTS_FILE, RUN_FILE, settle_status

COLUMNS = ["family", "id", "status", "named_configs", "overrides", "seed", "started",
           "seconds", "headline", "path"]
RUN_PATTERNS = ("*/*/" + RUN_FILE, "sweeps/*/*/*/" + RUN_FILE)  # qnn run; qnn submit sweeps


def run_folders(root: str | Path) -> list[Path]:
    """Every run folder under ``root``, in family then numeric id order."""
    root = Path(root)
    found = {p.parent for pattern in RUN_PATTERNS for p in root.glob(pattern)}
    return sorted(found, key=lambda p: (p.parent.name, _id_order(p.name), str(p)))


def catalog(root: str | Path = "runs") -> pd.DataFrame:
    """One row per run under ``root``: :data:`COLUMNS`, then ``config.<dotted key>`` columns."""
    rows = [describe_run(folder) for folder in run_folders(root)]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    return frame[COLUMNS + sorted(c for c in frame.columns if c not in COLUMNS)]


def run_updates(folder: Path) -> dict[str, Any]:
    """The config updates a run was started with (``qnn run … with k=v``), flattened to
    dotted keys, without the ``seed`` and a resume's ``store.resume_from``."""
    meta = read_json_mapping(folder / RUN_FILE).get("meta") or {}
    updates = flatten(meta.get("config_updates") or {})
    return {k: v for k, v in updates.items() if k not in ("seed", "store.resume_from")}


def describe_run(folder: Path) -> dict[str, Any]:
    """The catalogue row of one run folder (settling a dead RUNNING run to INTERRUPTED)."""
    status = settle_status(folder)
    run = read_json_mapping(folder / RUN_FILE)
    config = read_json_mapping(folder / CONFIG_FILE)
    meta = run.get("meta") or {}
    updates = run_updates(folder)
    start, stop = _time(run.get("start_time")), _time(run.get("stop_time") or run.get("heartbeat"))
    return {
        "family": (run.get("experiment") or {}).get("name") or folder.parent.name,
        "id": folder.name, "status": status,
        "named_configs": " ".join(meta.get("named_configs") or []) or "-",
        "overrides": " ".join(f"{k}={v!r}" for k, v in sorted(updates.items())),
        "seed": config.get("seed"), "started": start,
        "seconds": (stop - start).total_seconds() if start and stop else None,
        "headline": headline(folder, (run.get("experiment") or {}).get("name")),
        "path": str(folder),
        **{f"config.{k}": _cell(v) for k, v in flatten(config).items()},
    }


def task_table(folder: str | Path, table: str = "tasks") -> pd.DataFrame:
    """One results table of a run (``tasks``: a row per task; ``summary``) as a DataFrame."""
    results = read_json_mapping(Path(folder) / RESULTS_FILE)
    if table not in results:
        raise ConfigError(f"{folder}: no {table!r} table in {RESULTS_FILE} (did the run finish?)")
    return pd.DataFrame(results[table])


def headline(folder: Path, family: str | None) -> str:
    """The family's headline metric over the run's main method, e.g. ``success 0.83 (n=10)``."""
    results = read_json_mapping(folder / RESULTS_FILE)
    if not results.get("tasks") or family is None:
        return "-"
    from .families import family_names, load_family

    if family not in family_names():
        return "-"
    metric, where = load_family(family).study.headline
    tasks = pd.DataFrame(results["tasks"])
    if metric not in tasks:
        return "-"
    for key, value in where.items():
        if key in tasks and (tasks[key] == value).any():
            tasks = tasks[tasks[key] == value]
    values = pd.to_numeric(tasks[metric], errors="coerce").dropna()
    return f"{metric} {values.mean():.3g} (n={len(values)})" if len(values) else "-"


def config_differences(configs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The dotted config keys whose values differ between ``configs`` (name -> config), one
    row per key and one column per config (``-`` where a config lacks the key)."""
    flat = {name: {k: _cell(v) for k, v in flatten(c).items()} for name, c in configs.items()}
    keys = sorted({k for f in flat.values() for k in f})
    rows = {k: {name: f.get(k, "-") for name, f in flat.items()} for k in keys}
    differing = {k: v for k, v in rows.items() if len({json.dumps(x) for x in v.values()}) > 1}
    return pd.DataFrame.from_dict(differing, orient="index", columns=list(configs))


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"bbs": {"updates": 3}}`` -> ``{"bbs.updates": 3}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _cell(value: Any) -> Any:
    """Lists and mappings as compact JSON text, so every cell is hashable and printable."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _id_order(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (1 << 62, name)
