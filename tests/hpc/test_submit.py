"""qnn submit / collect / --resume against a real single-node Slurm (Gres=qpu:2, license
orca_pt:2; see .ci/slurm.sh), and with submitit's local executor. Every task is a real Sacred
BBS run of a few seconds."""

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import h5py

from qnn.hpc import ClusterConfig, Sweep, collect, submit_tasks, sweep_status, wait
from qnn.hpc.submit import resubmit
from qnn.hpc.task import attempt
from qnn.store import RunStore, read_histograms

QNN = [sys.executable, "-m", "qnn.cli"]
# Each task: one tiny Max-Cut instance, BBS and random search (seconds, mostly imports).
BASE = ["with", "smoke", 'problems=["maxcut"]', "instances=1", 'methods=["bbs","random"]',
        "sizes=[6]"]
SHORT = '{"updates": 3, "shots": 10}'
LONG = '{"updates": 4000, "shots": 10}'  # ~20 s on 2 cores: surely running when cancelled
URLS = ("http://127.0.0.1:18081", "http://127.0.0.1:18082")
TIMEOUT = 240


def qnn(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*QNN, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=cwd)


def recorded_status(folder: Path, within: float) -> str:
    """run.json's status once it is no longer RUNNING (or still RUNNING after ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        status = json.loads((folder / "run.json").read_text())["status"]
        if status != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def interval(sweep: Sweep, run_id: str) -> tuple[datetime, datetime]:
    run = json.loads((sweep.run_folder(run_id) / "run.json").read_text())
    return datetime.fromisoformat(run["start_time"]), datetime.fromisoformat(run["stop_time"])


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def max_concurrent(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(stop, -1) for _, stop in intervals],
                    key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def files_containing(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_four_task_sweep_two_at_a_time_each_on_its_own_qpu(slurm, job_env, tmp_path):
    out = qnn("submit", "bbs", *BASE, f"bbs={SHORT}", "--seeds", "1,2,3,4", "--name", "four",
              "--runs-dir", str(tmp_path), "--qpus", "1", "--parallel", "2",
              "--qpu-urls", ",".join(URLS), "--wait", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    sweep = Sweep.load(tmp_path / "sweeps" / "four")
    [submission] = sweep.submissions()
    assert submission.executor == "slurm" and submission.id.isdigit()
    states = sweep_status(sweep)
    run_ids = [s.run_id for s in states]
    assert [s.status for s in states] == ["completed"] * 4
    assert run_ids == [f"{submission.id}_{k}" for k in range(4)]  # Slurm's array ids
    intervals = {}
    for task, run_id in enumerate(run_ids):
        config = json.loads((sweep.run_folder(run_id) / "config.json").read_text())
        assert config["seed"] == task + 1
        record = attempt(sweep.folder, run_id)
        assert len(record["qpu_ids"]) == 1
        assert record["qpu_urls"] == [URLS[record["qpu_ids"][0]]]  # just the held QPU's URL
        assert record["orca_auth_token_set"] and record["hdf5_file_locking"]
        intervals[run_id] = interval(sweep, run_id)
    assert max_concurrent(list(intervals.values())) <= 2
    for a in run_ids:  # tasks running at the same time held different QPUs
        for b in run_ids:
            if a < b and overlaps(intervals[a], intervals[b]):
                assert (attempt(sweep.folder, a)["qpu_ids"]
                        != attempt(sweep.folder, b)["qpu_ids"]), (a, b)
    # collect: one table of every run's rows, and links (not copies) to their histograms
    table = json.loads((sweep.folder / "results.json").read_text())
    rows = table["tasks"]
    assert sorted({(r["sweep_task"], r["seed"], r["method"]) for r in rows}) == sorted(
        (t, t + 1, m) for t in range(4) for m in ("bbs", "random"))
    assert {r["run_id"] for r in rows} == set(run_ids)
    with h5py.File(sweep.folder / "histograms.h5", "r") as links:
        assert sorted(links) == [f"task-{t}" for t in range(4)]
        for task, run_id in enumerate(run_ids):
            link = links.get(f"task-{task}", getlink=True)
            assert isinstance(link, h5py.ExternalLink)
            assert links[f"task-{task}"].attrs["sacred_run_id"] == run_id
    with RunStore(sweep.run_folder(run_ids[2]) / "histograms.h5", "r") as store:
        name = store.names()[0]
        direct = store.get_histograms(name)
    with h5py.File(sweep.folder / "histograms.h5", "r") as links:  # read through the link
        assert read_histograms(links[f"task-2/{name}"]) == direct
    assert files_containing(sweep.folder, job_env) == []  # the token is never written
    assert "4 completed" in out.stdout  # --wait ends with qnn collect's report


def test_tasks_that_each_need_both_qpus_never_overlap(slurm, job_env, tmp_path):
    # and HDF5 file locking off, as on Lustre/NFS
    cluster = ClusterConfig(qpus=2, qpu_urls=URLS, array_parallelism=2, time=10,
                            hdf5_locking="off")
    sweep = Sweep.create(tmp_path / "both", "bbs", [*BASE, f"bbs={SHORT}"],
                         [("seed", ["1", "2"])], cluster, "slurm")
    submission = submit_tasks(sweep, [0, 1])
    states = wait(sweep, timeout=TIMEOUT)
    assert [s.status for s in states] == ["completed", "completed"]
    first, second = (interval(sweep, f"{submission.id}_{k}") for k in (0, 1))
    # two CPUs and %2 would let them run together: only the GRES keeps them apart
    assert not overlaps(first, second), (first, second)
    for k in (0, 1):
        record = attempt(sweep.folder, f"{submission.id}_{k}")
        assert record["qpu_urls"] == list(URLS) and record["qpu_ids"] == [0, 1]
        assert record["hdf5_file_locking"] is False


def test_scancel_one_task_and_resume_reruns_only_it(slurm, job_env, tmp_path):
    # QPUs as the cluster license orca_pt:2: at most two tasks hold one at a time
    cluster = ClusterConfig(qpus=1, qpu_resource="license", qpu_urls=URLS, time=10)
    sweep = Sweep.create(tmp_path / "kill", "bbs", BASE, [("bbs", [LONG, SHORT, SHORT])],
                         cluster, "slurm")
    first = submit_tasks(sweep, [0, 1, 2])
    victim = f"{first.id}_0"
    deadline = time.monotonic() + TIMEOUT
    # cancel it mid-run, once it has checkpointed (smoke: every 2 of its 4000 updates)
    while not (sweep.run_folder(victim) / "checkpoint.json").is_file():
        assert time.monotonic() < deadline, "the long task never checkpointed"
        time.sleep(0.1)
    subprocess.run(["scancel", victim], check=True)
    states = wait(sweep, timeout=TIMEOUT)
    assert [s.status for s in states] == ["failed", "completed", "completed"], states
    # SIGTERM became an interrupt: Sacred recorded it. Slurm calls the job CANCELLED as soon
    # as scancel returns, while the task may still be unwinding (up to KillWait = 5 s).
    assert recorded_status(sweep.run_folder(victim), within=30) == "INTERRUPTED"
    kept = {t: (sweep.run_folder(f"{first.id}_{t}") / "run.json").read_bytes() for t in (1, 2)}

    out = qnn("submit", "--resume", str(sweep.folder), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    retry = sweep.submissions()[-1]
    assert retry.tasks == (0,) and len(sweep.submissions()) == 2  # only the killed one
    assert retry.resume_from == {0: victim}  # it left a checkpoint: continue from there
    states = wait(sweep, timeout=TIMEOUT)
    assert [s.status for s in states] == ["completed"] * 3
    assert [s.run_id for s in states] == [f"{retry.id}_0", f"{first.id}_1", f"{first.id}_2"]
    for t in (1, 2):  # the others untouched
        assert (sweep.run_folder(f"{first.id}_{t}") / "run.json").read_bytes() == kept[t]
    info = json.loads((sweep.run_folder(f"{retry.id}_0") / "info.json").read_text())
    assert Path(info["resumed_from"]) == sweep.run_folder(victim).resolve()
    rows, _ = collect(sweep)
    assert sorted({r["sweep_task"] for r in rows}) == [0, 1, 2]
    for run_id in (f"{retry.id}_0", f"{first.id}_1", f"{first.id}_2"):  # licenses: claims
        record = attempt(sweep.folder, run_id)
        assert record["qpu_urls"] == [URLS[record["qpu_ids"][0]]]
    assert resubmit(sweep) == (states, None)  # nothing left to resubmit


def test_local_executor_runs_the_same_array(job_env, tmp_path):
    out = qnn("submit", "bbs", *BASE, f"bbs={SHORT}", "--seeds", "5,6", "--name", "loc",
              "--runs-dir", str(tmp_path), "--qpus", "1", "--qpu-urls", ",".join(URLS),
              "--local", "--wait", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    sweep = Sweep.load(tmp_path / "sweeps" / "loc")
    states = sweep_status(sweep)
    assert [s.status for s in states] == ["completed", "completed"]
    a, b = (s.run_id for s in states)
    assert a.startswith("local-") and a != b
    if overlaps(interval(sweep, a), interval(sweep, b)):  # claims keep the QPUs apart
        assert attempt(sweep.folder, a)["qpu_ids"] != attempt(sweep.folder, b)["qpu_ids"]
    assert len(json.loads((sweep.folder / "results.json").read_text())["tasks"]) == 4
    assert files_containing(sweep.folder, job_env) == []
