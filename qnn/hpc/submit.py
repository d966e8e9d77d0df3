"""Submit sweep tasks as one job array through submitit (Slurm, or the local executor)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence

from .config import ClusterConfig
from .sweep import Submission, Sweep, now
from .task import run_task


def slurm_parameters(cluster: ClusterConfig, job_name: str) -> dict:
    """submitit ``SlurmExecutor`` parameters: QPUs as ``--gres=qpu:K`` or ``-L orca_pt:K``."""
    params: dict = {"job_name": job_name, "time": cluster.time,
                    "cpus_per_task": cluster.cpus_per_task, "ntasks_per_node": 1, "nodes": 1,
                    "array_parallelism": cluster.array_parallelism,
                    "additional_parameters": dict(cluster.additional)}
    if cluster.partition:
        params["partition"] = cluster.partition
    if cluster.gpus:
        params["gpus_per_node"] = cluster.gpus
    if cluster.qpus:
        if cluster.qpu_resource == "gres":
            params["gres"] = f"{cluster.resource_name}:{cluster.qpus}"
        else:
            params["additional_parameters"]["licenses"] = f"{cluster.resource_name}:{cluster.qpus}"
    return params


def make_executor(sweep: Sweep, executor: str):
    """A submitit executor writing into a fresh folder of the sweep."""
    import submitit

    folder = sweep.next_submitit_folder()
    if executor == "local":
        local = submitit.LocalExecutor(folder=folder)
        local.update_parameters(timeout_min=sweep.cluster.time,
                                gpus_per_node=sweep.cluster.gpus)
        return local
    if executor != "slurm":
        raise ValueError(f"executor={executor!r}; choose from ['slurm', 'local']")
    if shutil.which("sbatch") is None:
        raise RuntimeError("sbatch not found: submit from a Slurm login node, or run the "
                           "sweep here with --local")
    slurm = submitit.SlurmExecutor(folder=folder)
    slurm.update_parameters(**slurm_parameters(sweep.cluster, f"qnn-{sweep.name}"))
    return slurm


def submit_tasks(sweep: Sweep, tasks: Sequence[int], *, executor: str | None = None,
                 resume_from: dict[int, str] | None = None) -> Submission:
    """Submit sweep ``tasks`` as one array; records and returns the submission.

    Array task ``k`` runs sweep task ``tasks[k]`` as Sacred run ``<array job id>_<k>``
    (``local-<hex>_<k>`` with the local executor); a task in ``resume_from`` continues from
    the checkpoint of that earlier run id of the sweep.
    """
    executor = executor or sweep.executor
    tasks = [int(t) for t in tasks]
    bad = [t for t in tasks if not 0 <= t < len(sweep.tasks)]
    if bad or not tasks:
        raise ValueError(f"tasks {bad or tasks}: the sweep has tasks 0..{len(sweep.tasks) - 1}")
    launcher = make_executor(sweep, executor)
    local_id = f"local-{uuid.uuid4().hex[:8]}" if executor == "local" else ""
    n = len(tasks)
    resume_from = resume_from or {}
    resume = [str(sweep.run_folder(resume_from[t]).resolve()) if t in resume_from else ""
              for t in tasks]
    jobs = launcher.map_array(run_task, [str(sweep.folder.resolve())] * n, tasks,
                              list(range(n)), [local_id] * n, resume)
    job_ids = tuple(str(job.job_id) for job in jobs)
    array_id = local_id or job_ids[0].split("_")[0]
    submission = Submission(array_id, executor, tuple(tasks), job_ids, now(),
                            {t: resume_from[t] for t in tasks if t in resume_from})
    sweep.add_submission(submission)
    return submission


def resubmit(sweep: Sweep, *, executor: str | None = None):
    """Submit the failed and missing tasks again, as one new array; a failed task whose run
    left a checkpoint continues from it. Returns the states before, and the submission
    (``None`` when nothing needed resubmitting). Pending and running tasks are left alone."""
    from .collect import RESUBMIT, sweep_status

    states = sweep_status(sweep)
    todo = [s.task for s in states if s.status in RESUBMIT]
    if not todo:
        return states, None
    resume_from = {s.task: s.run_id for s in states
                   if s.status == "failed" and s.run_id
                   and any(sweep.run_folder(s.run_id).glob("checkpoint*"))}
    return states, submit_tasks(sweep, todo, executor=executor, resume_from=resume_from)
