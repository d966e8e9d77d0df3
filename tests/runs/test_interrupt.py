"""Every family stops cleanly on SIGTERM and `--resume` finishes it to the uninterrupted result."""

import json
import signal
import subprocess
import sys
import time

import pytest

from qnn.runs import Checkpoint

QNN = [sys.executable, "-m", "qnn.cli"]
# smoke configs with enough tasks that the signal lands mid-run, and the rows that differ
# between a resumed and an uninterrupted run by design (timings; NAS retrains nothing).
CASES = {
    "bbs": (["instances=3"], 4, ()),
    "dqnn": (["seeds=[0, 1, 2]"], 1, ()),
    "hybrid": (["seeds=[0, 1]"], 1, ()),
    "nas": ([], 2, ("trainings", "mean_train_seconds")),
}


def rows(folder, ignore):
    tasks = json.loads((folder / "results.json").read_text())["tasks"]
    return [{k: v for k, v in row.items() if k != "seconds" and k not in ignore}
            for row in tasks]


@pytest.mark.parametrize("family", sorted(CASES))
def test_sigterm_is_recorded_as_interrupted_and_resume_finishes_the_run(family, tmp_path):
    updates, rows_before_kill, ignore = CASES[family]
    runs = tmp_path / "runs"
    args = ["run", family, "--runs-dir", str(runs)]
    words = ["with", "smoke", "seed=7", *updates]
    first = subprocess.Popen([*QNN, *args, *words], cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    checkpoint = Checkpoint(runs / family / "1" / "checkpoint.json")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        state = checkpoint.load()
        if state is not None and len(state["rows"]) >= rows_before_kill:
            break
        time.sleep(0.02)
    assert first.poll() is None, "the run ended before the signal: make it longer"
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 130, first.stderr.read()[-2000:]
    assert json.loads((runs / family / "1" / "run.json").read_text())["status"] == "INTERRUPTED"

    # no family named: the run folder's run.json says which it is
    resumed = subprocess.run([*QNN, "run", "--runs-dir", str(runs), "--resume",
                              str(runs / family / "1")], cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = subprocess.run([*QNN, *args, *words], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
    assert straight.returncode == 0, straight.stderr[-2000:]
    assert rows(runs / family / "2", ignore) == rows(runs / family / "3", ignore)
    # the resumed run logged only its own rounds; shipped, it has the whole curve
    shipped = tmp_path / "shipped"
    assert subprocess.run([*QNN, "runs", "--runs-dir", str(runs), "ship", f"{family}/2",
                           str(shipped)], cwd=tmp_path, capture_output=True).returncode == 0
    whole = json.loads((runs / family / "3" / "metrics.json").read_text())
    assert {name: m["steps"] for name, m in json.loads(
        (shipped / "metrics.json").read_text()).items()} == {
        name: m["steps"] for name, m in whole.items()}


def test_qnn_run_and_a_slurm_task_go_through_the_same_launcher(tmp_path, monkeypatch):
    from qnn.cli import main
    from qnn.hpc import Sweep
    from qnn.hpc.config import ClusterConfig
    from qnn.hpc.task import _qnn_run
    from qnn.runs import launch as launcher

    calls = []
    monkeypatch.setattr(launcher, "launch", lambda ex, invocation, **kw: calls.append(
        (ex.path, invocation.named_configs, invocation.options.get("--id"))))
    assert main(["run", "bbs", "--runs-dir", str(tmp_path), "with", "smoke"]) == 0
    sweep = Sweep.create(tmp_path / "sweep", "bbs", ["with", "smoke"], [], ClusterConfig(),
                         "local")
    _qnn_run(sweep, 0, "7_0", "")
    assert calls == [("bbs", ("smoke",), None), ("bbs", ("smoke",), "7_0")]
