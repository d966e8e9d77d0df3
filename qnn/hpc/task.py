"""One array task, as submitit runs it on a node: the sweep point as a ``qnn run``.

submitit pickles :func:`run_task` with plain arguments (folder, task numbers): no
environment, so a token in ``ORCA_AUTH_TOKEN`` reaches the job only through Slurm's
environment export and is never written into the submitit folder.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

ATTEMPTS_FOLDER = "attempts"
CLAIMS_FOLDER = ".qpu-claims"


def slurm_run_id() -> str | None:
    """``"<array job id>_<array task id>"`` inside a Slurm array task, else ``None``."""
    job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{job}_{task}" if job and task else None


def run_task(sweep_dir: str, task: int, position: int, submission: str,
             resume_from: str = "") -> str:
    """Run sweep task ``task`` (array position ``position`` of ``submission``) as a Sacred
    run with id ``<array job>_<array task>``, continuing the checkpoint of the run folder
    ``resume_from`` when given; returns the run id.

    Raises:
        RuntimeError: the run did not complete (its run.json says why).
    """
    from qnn.interrupts import sigterm_interrupts

    # scancel and the time limit send SIGTERM (SIGKILL follows KillWait seconds later), which
    # submitit ignores: as an interrupt, Sacred records the run as INTERRUPTED and its
    # checkpoint stays, where it would otherwise die mid-write, still RUNNING.
    with sigterm_interrupts():
        return _run_task(sweep_dir, task, position, submission, resume_from)


def _run_task(sweep_dir: str, task: int, position: int, submission: str,
              resume_from: str) -> str:
    from qnn.store.locking import apply_locking_environment

    from .sweep import Sweep

    sweep = Sweep.load(sweep_dir)
    # Before anything opens an HDF5 file: HDF5 reads the variable when it opens files.
    locking = apply_locking_environment(sweep.folder, sweep.cluster.hdf5_locking)
    # submitit sends a one-task array as a plain job: its id is the "array" id then
    run_id = slurm_run_id() or f"{os.environ.get('SLURM_JOB_ID') or submission}_{position}"
    ids, claims = _hold_qpus(sweep, run_id)
    try:
        from .qpus import qpu_environment

        with qpu_environment(ids, sweep.cluster.qpu_urls) as urls:
            _record_attempt(sweep, run_id, task, ids, urls, locking)
            code = _qnn_run(sweep, task, run_id, resume_from)
    finally:
        if claims is not None:
            claims.release()
    if code != 0:
        raise RuntimeError(f"sweep {sweep.name} task {task} (run {run_id}) did not complete; "
                           f"see {sweep.run_folder(run_id)}")
    return run_id


def _hold_qpus(sweep, run_id: str):
    """The pool indices this job may use, and the claims to release afterwards (or None)."""
    from .qpus import QPUClaims, slurm_gres_indices

    count = sweep.cluster.qpus
    if count == 0:
        return [], None
    # "J_k", not SLURM_JOB_ID: the last task of an array has the array's own id, under which
    # scontrol and squeue show every task of the array.
    job_id = slurm_run_id() or os.environ.get("SLURM_JOB_ID")
    if job_id and sweep.cluster.qpu_resource == "gres":
        ids = slurm_gres_indices(job_id, sweep.cluster.resource_name)
        if ids is not None:
            return ids, None
    pool = len(sweep.cluster.qpu_urls) or count
    claims = QPUClaims(sweep.folder / CLAIMS_FOLDER, pool)
    owner = {"run_id": run_id, "slurm_job_id": job_id, "host": socket.gethostname(),
             "pid": os.getpid()}
    return claims.acquire(count, owner), claims


def _record_attempt(sweep, run_id: str, task: int, ids: list[int], urls: list[str],
                    locking: bool) -> None:
    folder = sweep.folder / ATTEMPTS_FOLDER
    folder.mkdir(exist_ok=True)
    record = {"task": task, "run_id": run_id, "qpu_ids": ids, "qpu_urls": urls,
              "host": socket.gethostname(),
              "slurm_job_id": slurm_run_id() or os.environ.get("SLURM_JOB_ID"),
              "hdf5_file_locking": locking,
              # whether the token reached the job (never its value)
              "orca_auth_token_set": bool(os.environ.get("ORCA_AUTH_TOKEN"))}
    (folder / f"{run_id}.json").write_text(json.dumps(record, indent=1))


def _qnn_run(sweep, task: int, run_id: str, resume_from: str) -> int:
    """The task's run through the launcher `qnn run` uses (Sacred's Python API, no argv)."""
    from qnn.runs.families import load_family
    from qnn.runs.launch import launch, parse_words

    module = load_family(sweep.family)
    invocation = parse_words(module.ex, sweep.sacred_argv(task, run_id, resume_from or None))
    run = launch(module.ex, invocation, runs_dir=sweep.runs_folder / sweep.family,
                 study=module.study)
    return 0 if run is not None and run.status == "COMPLETED" else 1


def attempt(sweep_dir: str | Path, run_id: str) -> dict | None:
    """The record :func:`run_task` wrote for ``run_id`` (``None`` if it never started)."""
    file = Path(sweep_dir) / ATTEMPTS_FOLDER / f"{run_id}.json"
    return json.loads(file.read_text()) if file.is_file() else None
