"""Find stored runs (Sacred FileStorageObserver folders) and read their results back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .folder import RESULTS_FILE  # the run folder owns its file names


@dataclass(frozen=True)
class RunRecord:
    """One run folder: ``runs/<experiment>/<id>/`` with run.json, config.json, results."""

    path: Path
    experiment: str
    run_id: str
    status: str
    config: dict[str, Any]

    @property
    def label(self) -> str | None:
        return self.config.get("label")

    def results(self, table: str) -> list[dict[str, Any]]:
        """Rows of one results table (written by the experiment into ``results.json``)."""
        file = self.path / RESULTS_FILE
        if not file.is_file():
            raise ValueError(f"{self.path}: no {RESULTS_FILE} (did the run finish?)")
        tables = json.loads(file.read_text())
        if table not in tables:
            raise ValueError(f"{file}: no table {table!r}; it has {sorted(tables)}")
        return tables[table]


def find_runs(runs_dir: str | Path, experiment: str, *, label: str | None = None,
              status: str | None = "COMPLETED") -> list[RunRecord]:
    """Runs of ``experiment`` under ``runs_dir/experiment``, oldest first.

    Args:
        label: keep runs whose config ``label`` equals this (named configs set it).
        status: keep runs with this Sacred status (``None``: any).
    """
    base = Path(runs_dir) / experiment
    records = []
    for folder in sorted(base.glob("*"), key=_run_order):
        run_file, config_file = folder / "run.json", folder / "config.json"
        if not (run_file.is_file() and config_file.is_file()):
            continue
        run = json.loads(run_file.read_text())
        record = RunRecord(folder, experiment, folder.name, run.get("status", "?"),
                           json.loads(config_file.read_text()))
        if (status is None or record.status == status) and (label is None or
                                                             record.label == label):
            records.append(record)
    return records


def latest_run(runs_dir: str | Path, experiment: str, *, label: str | None = None) -> RunRecord:
    """The newest completed run, or a ValueError saying which command produces one."""
    runs = find_runs(runs_dir, experiment, label=label)
    if not runs:
        hint = f" with {label}" if label else ""
        raise ValueError(f"no completed {experiment} run{' labelled ' + label if label else ''}"
                         f" under {runs_dir}; run: qnn run {experiment}{hint}")
    return runs[-1]


def task_rows(runs_dir: str | Path, experiment: str, *, label: str,
              table: str = "tasks") -> list[dict[str, Any]]:
    """One table's rows from every completed run of a named config (a sweep may be split
    over many runs); a ValueError naming the command to run when there is none."""
    runs = find_runs(runs_dir, experiment, label=label) or [latest_run(runs_dir, experiment,
                                                                       label=label)]
    return [row for run in runs for row in run.results(table)]


def _run_order(folder: Path) -> tuple[int, str]:
    return (int(folder.name), "") if folder.name.isdigit() else (1 << 62, folder.name)
