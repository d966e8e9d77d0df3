"""A sweep: the grid of Sacred config updates one ``qnn submit`` runs, recorded in its folder.

``runs/sweeps/<name>/`` holds ``sweep.json`` (family, base Sacred words, one entry per task
with its ``key=value`` updates, cluster settings), ``submissions.json`` (each array submitted:
its id, executor and which sweep tasks it ran, in array order), ``submitit/<n>/`` (submitit's
folder of each submission), the Sacred runs ``<family>/<run id>/`` and ``attempts/<run id>.json``
(which QPUs a task held). Nothing here is secret: tokens stay in the job's environment.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import ClusterConfig

SWEEP_FILE = "sweep.json"
SUBMISSIONS_FILE = "submissions.json"
SWEEPS_FOLDER = "sweeps"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def split_values(text: str) -> list[str]:
    """Split ``"1,2,[3,4],'a,b'"`` at top-level commas: ``["1", "2", "[3,4]", "'a,b'"]``."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_sweep_option(text: str) -> tuple[str, list[str]]:
    """``"bbs.updates=3,5"`` -> ``("bbs.updates", ["3", "5"])`` (values as Sacred reads them)."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not _KEY.match(key):
        raise ValueError(f"--sweep {text!r}: use KEY=VALUE1,VALUE2,... with a config key "
                         "such as seed or bbs.updates")
    items = split_values(values)
    if not items or any(item == "" for item in items):
        raise ValueError(f"--sweep {text!r}: empty value in {items}")
    return key, items


def expand_grid(sweeps: list[tuple[str, list[str]]]) -> list[list[str]]:
    """Every combination (first key slowest) as a list of Sacred ``key=value`` updates."""
    keys = [key for key, _ in sweeps]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ValueError(f"--sweep names {duplicated} more than once")
    if not sweeps:
        return [[]]
    return [[f"{key}={value}" for key, value in zip(keys, point, strict=True)]
            for point in itertools.product(*(values for _, values in sweeps))]


def literal(value: str) -> Any:
    """A sweep value as Sacred would read it: a Python literal, else the plain string."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


@dataclass(frozen=True)
class Submission:
    """One job array: ``id`` (Slurm array job id, or ``local-...``) and, in array order, the
    sweep tasks it runs; task ``k`` of the array has run id ``f"{id}_{k}"``."""

    id: str
    executor: str  # "slurm" | "local"
    tasks: tuple[int, ...]
    job_ids: tuple[str, ...] = ()  # Slurm ids "J_k", or local controller pids
    submitted: str = ""
    resume_from: dict[int, str] = field(default_factory=dict)  # task -> earlier run id

    def run_ids(self) -> dict[int, str]:
        return {task: f"{self.id}_{k}" for k, task in enumerate(self.tasks)}


@dataclass(frozen=True)
class Sweep:
    """A recorded sweep: ``tasks[i]`` are the Sacred updates of sweep task ``i``."""

    name: str
    family: str
    folder: Path
    sacred_args: tuple[str, ...]
    tasks: tuple[tuple[str, ...], ...]
    cluster: ClusterConfig
    executor: str = "slurm"
    created: str = field(default_factory=lambda: now())

    @classmethod
    def create(cls, folder: Path, family: str, sacred_args: list[str],
               sweeps: list[tuple[str, list[str]]], cluster: ClusterConfig,
               executor: str) -> Sweep:
        """Write ``sweep.json`` in a new ``folder`` (an existing sweep is never overwritten)."""
        name = folder.name
        if not _NAME.match(name):
            raise ValueError(f"--name {name!r}: use letters, digits, '_', '-' and '.'")
        if (folder / SWEEP_FILE).exists():
            raise ValueError(f"sweep {name!r} exists in {folder}; pick another --name, or "
                             f"resubmit its failed tasks with: qnn submit --resume {name}")
        sweep = cls(name, family, folder, tuple(sacred_args),
                    tuple(tuple(point) for point in expand_grid(sweeps)), cluster, executor)
        folder.mkdir(parents=True, exist_ok=True)
        _write_json(folder / SWEEP_FILE, sweep.to_dict())
        _write_json(folder / SUBMISSIONS_FILE, [])
        return sweep

    @classmethod
    def load(cls, folder: str | Path) -> Sweep:
        folder = Path(folder)
        file = folder / SWEEP_FILE
        if not file.is_file():
            raise ValueError(f"{folder}: no {SWEEP_FILE} (not a sweep folder)")
        data = json.loads(file.read_text())
        return cls(data["name"], data["family"], folder, tuple(data["sacred_args"]),
                   tuple(tuple(t["updates"]) for t in data["tasks"]),
                   ClusterConfig.from_dict(data["cluster"]), data["executor"], data["created"])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "sacred_args": list(self.sacred_args),
                "tasks": [{"index": i, "updates": list(u)} for i, u in enumerate(self.tasks)],
                "cluster": self.cluster.to_dict(), "executor": self.executor,
                "created": self.created}

    def sacred_argv(self, task: int, run_id: str, resume_from: str | None = None) -> list[str]:
        """``qnn run`` arguments after the family: base words, the task's updates (and
        ``store.resume_from`` to continue an earlier run's checkpoint), the id."""
        argv = list(self.sacred_args)
        updates = [*self.tasks[task], *([f"store.resume_from={resume_from!r}"]
                                        if resume_from else [])]
        if updates:
            if "with" not in argv:
                argv.append("with")
            argv.extend(updates)
        return [*argv, f"--id={run_id}"]

    def point(self, task: int) -> dict[str, Any]:
        """The task's sweep values, parsed: ``{"seed": 2, "bbs.updates": 3}``."""
        return {key: literal(value)
                for key, _, value in (u.partition("=") for u in self.tasks[task])}

    @property
    def runs_folder(self) -> Path:
        """Where the Sacred runs of the sweep go (``qnn run --runs-dir``)."""
        return self.folder

    def run_folder(self, run_id: str) -> Path:
        return self.folder / self.family / run_id

    # -- submissions ---------------------------------------------------------------------

    def submissions(self) -> list[Submission]:
        file = self.folder / SUBMISSIONS_FILE
        rows = json.loads(file.read_text()) if file.is_file() else []
        return [Submission(r["id"], r["executor"], tuple(r["tasks"]), tuple(r["job_ids"]),
                           r["submitted"], {int(t): i for t, i in r["resume_from"].items()})
                for r in rows]

    def add_submission(self, submission: Submission) -> None:
        rows = [vars(s) | {"tasks": list(s.tasks), "job_ids": list(s.job_ids)}
                for s in [*self.submissions(), submission]]
        _write_json(self.folder / SUBMISSIONS_FILE, rows)

    def next_submitit_folder(self) -> Path:
        """A fresh submitit folder per submission (Slurm job ids restart after a state wipe)."""
        return self.folder / "submitit" / str(len(self.submissions()))


def sweep_folder(sweep: str | Path, runs_dir: str | Path = "runs") -> Path:
    """A sweep given by name (``runs/sweeps/<name>``) or by its folder."""
    path = Path(sweep)
    if (path / SWEEP_FILE).is_file():
        return path
    named = Path(runs_dir) / SWEEPS_FOLDER / str(sweep)
    if (named / SWEEP_FILE).is_file():
        return named
    raise ValueError(f"sweep {str(sweep)!r}: neither {path} nor {named} holds a {SWEEP_FILE}")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: Any) -> None:
    """Write atomically: readers on other nodes never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
