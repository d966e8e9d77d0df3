"""State of a sweep's tasks, and its finished runs merged into one table and one HDF5 file.

A task is ``completed`` when one of its runs' ``run.json`` says COMPLETED; ``pending`` or
``running`` while its latest job is alive; ``failed`` when that job ended without completing
(Sacred said FAILED/INTERRUPTED, or the job was killed or cancelled while its run.json still
said RUNNING); ``missing`` when no job ever ran it (cancelled while queued, never submitted).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qnn.runs.folder import RESULTS_FILE

from .sweep import Submission, Sweep
from .task import attempt

LINKS_FILE = "histograms.h5"
TABLE_FILE = "results.json"
RESUBMIT = ("failed", "missing")
LIVE_STATES = {"PENDING": "pending", "CONFIGURING": "pending", "REQUEUED": "pending",
               "RUNNING": "running", "COMPLETING": "running", "SUSPENDED": "running"}


@dataclass(frozen=True)
class TaskState:
    """Where one sweep task stands: ``run_id`` of its deciding run (``None``: never ran)."""

    task: int
    status: str  # completed | running | pending | failed | missing
    run_id: str | None
    attempts: int  # how many submissions included it
    detail: str = ""


def live_jobs(submissions: list[Submission]) -> dict[str, str]:
    """Run id -> ``pending``/``running`` for every array task still queued or running."""
    live: dict[str, str] = {}
    slurm_ids = [s.id for s in submissions if s.executor == "slurm"]
    if slurm_ids:
        live.update(_slurm_live(slurm_ids))
    for submission in submissions:
        if submission.executor == "local":
            for k, pid in enumerate(submission.job_ids):
                if _process_alive(pid):
                    live[f"{submission.id}_{k}"] = "running"
    return live


def _slurm_live(array_ids: list[str]) -> dict[str, str]:
    out = subprocess.run(["squeue", "-h", "-r", "-j", ",".join(array_ids), "-o", "%i %T"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        if "Invalid job id" in out.stderr:
            return {}  # every one of them has left Slurm's memory
        raise RuntimeError(f"squeue failed: {out.stderr.strip()}")
    live = {}
    for line in out.stdout.splitlines():
        job_id, _, state = line.strip().partition(" ")
        if state in LIVE_STATES:  # a one-task "array" is a plain job: "J" runs "J_0"
            live[job_id if "_" in job_id else f"{job_id}_0"] = LIVE_STATES[state]
    return live


def _process_alive(pid: str) -> bool:
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def run_status(sweep: Sweep, run_id: str) -> str | None:
    """Sacred's status in the run's run.json (``None`` when there is no run folder)."""
    file = sweep.run_folder(run_id) / "run.json"
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text()).get("status")
    except ValueError:
        return "RUNNING"  # being rewritten by Sacred's heartbeat


def sweep_status(sweep: Sweep) -> list[TaskState]:
    """One :class:`TaskState` per sweep task."""
    submissions = sweep.submissions()
    live = live_jobs(submissions)
    runs: dict[int, list[str]] = {i: [] for i in range(len(sweep.tasks))}
    for submission in submissions:
        for task, run_id in submission.run_ids().items():
            runs[task].append(run_id)
    states = []
    for task, run_ids in runs.items():
        states.append(_task_state(sweep, task, run_ids, live))
    return states


def _task_state(sweep: Sweep, task: int, run_ids: list[str], live: dict[str, str]
                ) -> TaskState:
    n = len(run_ids)
    for run_id in reversed(run_ids):
        if run_status(sweep, run_id) == "COMPLETED":
            return TaskState(task, "completed", run_id, n)
    if not run_ids:
        return TaskState(task, "missing", None, 0, "never submitted")
    latest = run_ids[-1]
    if latest in live:
        return TaskState(task, live[latest], latest, n)
    status = run_status(sweep, latest)
    if status is None:
        started = attempt(sweep.folder, latest) is not None
        why = "ended before Sacred started" if started else "job ended without running"
        return TaskState(task, "failed" if started else "missing", latest, n, why)
    if status == "RUNNING":
        return TaskState(task, "failed", latest, n, "job killed or cancelled while running")
    return TaskState(task, "failed", latest, n, f"Sacred status {status}")


def wait(sweep: Sweep, *, timeout: float | None = None, poll: float = 1.0,
         progress: bool = False) -> list[TaskState]:
    """Poll until no task is pending or running; returns the final states."""
    from tqdm import tqdm

    deadline = None if timeout is None else time.monotonic() + timeout
    with tqdm(total=len(sweep.tasks), desc=f"sweep {sweep.name}", unit="task",
              disable=not progress) as bar:
        while True:
            states = sweep_status(sweep)
            busy = [s.task for s in states if s.status in ("pending", "running")]
            bar.n = len(states) - len(busy)
            bar.set_postfix_str(", ".join(f"{k} {v}" for k, v in _counts(states).items() if v))
            if not busy:
                return states
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"sweep {sweep.name}: tasks {busy} still pending or running "
                                   f"after {timeout} s")
            time.sleep(poll)


def _counts(states: list[TaskState]) -> dict[str, int]:
    return {k: sum(s.status == k for s in states)
            for k in ("completed", "running", "pending", "failed", "missing")}


def collect(sweep: Sweep, table: str = "tasks") -> tuple[list[dict[str, Any]], list[TaskState]]:
    """Merge the completed runs' ``table`` rows (each prefixed with ``sweep_task``,
    ``run_id`` and the sweep values) into ``results.json`` of the sweep folder, and link
    their HDF5 files from its ``histograms.h5``; returns the rows and every task's state."""
    states = sweep_status(sweep)
    rows: list[dict[str, Any]] = []
    for state in states:
        if state.status != "completed":
            continue
        results = sweep.run_folder(state.run_id) / RESULTS_FILE
        if not results.is_file():
            continue
        prefix = {"sweep_task": state.task, "run_id": state.run_id, **sweep.point(state.task)}
        rows.extend(prefix | row for row in json.loads(results.read_text()).get(table, []))
    status_rows = [vars(s) for s in states]
    (sweep.folder / TABLE_FILE).write_text(json.dumps({table: rows, "status": status_rows}))
    link_histograms(sweep, states)
    return rows, states


def link_histograms(sweep: Sweep, states: list[TaskState]) -> Path:
    """Write ``histograms.h5`` with one external link per completed task, ``/task-<i>`` ->
    the run's own ``histograms.h5`` (relative paths: the sweep folder can move). Nothing is
    copied; h5py follows the links on read."""
    import h5py

    from qnn.store.locking import effective_locking

    locking = effective_locking(sweep.folder, sweep.cluster.hdf5_locking)
    out = sweep.folder / LINKS_FILE
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with h5py.File(tmp, "w", locking=locking) as links:
        links.attrs["sweep"] = sweep.name
        links.attrs["family"] = sweep.family
        for state in states:
            target = sweep.run_folder(state.run_id or "-") / "histograms.h5"
            if state.status != "completed" or not target.is_file():
                continue
            name = f"task-{state.task}"
            links[name] = h5py.ExternalLink(os.path.relpath(target, sweep.folder), "/")
    os.replace(tmp, out)
    return out


def format_states(sweep: Sweep, states: list[TaskState]) -> str:
    """A plain-text table: task, status, run id, sweep values, detail."""
    width = max([14, *(len(s.run_id or "") for s in states)])
    lines = [f"{'task':>4}  {'status':<9}  {'run':<{width}}  point"]
    for s in states:
        point = " ".join(sweep.tasks[s.task]) or "-"
        detail = f"  ({s.detail})" if s.detail else ""
        lines.append(f"{s.task:>4}  {s.status:<9}  {s.run_id or '-':<{width}}  {point}{detail}")
    lines.append(", ".join(f"{v} {k}" for k, v in _counts(states).items() if v))
    return "\n".join(lines)
