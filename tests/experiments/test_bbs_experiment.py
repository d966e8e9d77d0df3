"""The BBS experiment end to end as a user runs it: qnn run, kill and --resume, qnn figures."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from qnn.cli import main
from qnn.runs import Checkpoint, find_runs
from qnn.store import RunStore

QNN = [sys.executable, "-m", "qnn.cli"]
SMOKE_UPDATES = 10  # of each bbs task
SMOKE_BBS_UPDATES = 2 * 3 * 3 * SMOKE_UPDATES  # instances x problems x BBS variants


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "bbs", "--runs-dir", str(runs), "with", "smoke", "seed=11"]) == 0
    return runs


def tasks_without_timing(run_dir):
    rows = json.loads((run_dir / "results.json").read_text())["tasks"]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_smoke_run_folder_holds_records_metrics_and_every_histogram(smoke_run):
    (run,) = find_runs(smoke_run, "bbs", label="smoke")
    assert run.status == "COMPLETED" and run.config["seed"] == 11
    record = json.loads((run.path / "run.json").read_text())
    assert record["experiment"]["repositories"][0]["commit"]
    assert any(dep.startswith("torch==") for dep in record["experiment"]["dependencies"])
    assert json.loads((run.path / "metrics.json").read_text())
    rows = run.results("tasks")
    updates = sum(len(r["curve_evaluations"]) for r in rows if r["method"].startswith("bbs"))
    assert updates > SMOKE_BBS_UPDATES  # frozen angles: more updates for the same budget
    with RunStore(run.path / "histograms.h5", "r") as store:
        names = store.names()
        assert len(names) == updates  # one entry per update drawn
        hists = store.get_histograms(names[0])
        assert store.get_attrs()["git_commit"] and store.get_attrs()["sacred_run_id"] == "1"
    # one unshifted and 2 x n_bs shifted parameter sets, 20 shots each, threshold clicks
    assert all(h.detection == "threshold" and h.shots == 20 for h in hists)
    assert {r["method"] for r in rows} == {"bbs", "bbs_frozen", "bbs_random_clicks", "sa",
                                           "random", "gw"}
    assert all(r["best_cost"] >= r["optimum"] - 1e-9 for r in rows)
    # every method spends what bbs spent on the instance; a BBS ablation stops at the end
    # of the update that reaches it (frozen angles spend fewer evaluations per update)
    table = pd.DataFrame(rows).pivot_table("evaluations", ["problem", "size", "instance"],
                                           "method")
    for method in ("sa", "random"):
        assert (table[method] == table["bbs"]).all()
    per_update = table["bbs"] / SMOKE_UPDATES
    for method in ("bbs_frozen", "bbs_random_clicks"):
        assert ((table[method] >= table["bbs"]) & (table[method] < table["bbs"] + per_update)).all()


BBS_FIGURES = ["--only", "bbs_success_vs_size", "bbs_training_curves", "bbs_ablations"]


@pytest.fixture(scope="module")
def smoke_and_override(smoke_run, tmp_path_factory):
    """The smoke run (bbs/1) beside an ad-hoc override of it (bbs/2, size 10)."""
    runs = tmp_path_factory.mktemp("mixed")
    shutil.copytree(smoke_run / "bbs", runs / "bbs")
    assert main(["run", "bbs", "--runs-dir", str(runs), "with", "smoke", "sizes=[10]",
                 "instances=1", "problems=['maxcut']", "bbs.updates=2"]) == 0
    return runs


def figures(runs, out, *options):
    return main(["figures", "--runs-dir", str(runs), "--out", str(out), *BBS_FIGURES,
                 *options])


def test_figures_draw_no_run_under_a_name_whose_config_it_lacks(smoke_and_override, tmp_path,
                                                                 capsys):
    out = tmp_path / "paper"
    assert figures(smoke_and_override, out) == 1  # nothing drawn
    printed = capsys.readouterr().out
    assert ("figure bbs_success_vs_size: skipped: no completed bbs run under "
            f"{smoke_and_override} has the config of 'paper_table'; make one with: qnn run "
            "bbs with paper_table\n") in printed
    assert printed.count("make one with: qnn run bbs with paper_table") == 2
    assert ("make them with: qnn run bbs with ablation_frozen && qnn run bbs with "
            "ablation_random_clicks") in printed
    assert "0 drawn, 3 skipped, 0 failed" in printed
    assert [p.name for p in out.iterdir()] == ["RESULTS.md"]  # no image, no table
    assert "skipped: no completed bbs run" in (out / "RESULTS.md").read_text()


def test_label_smoke_draws_the_smoke_run_only_and_pinning_draws_the_override(
        smoke_and_override, tmp_path, capsys):
    smoke, override = smoke_and_override / "bbs" / "1", smoke_and_override / "bbs" / "2"
    out = tmp_path / "smoke"
    assert figures(smoke_and_override, out, "--label", "smoke") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "RESULTS.md", "bbs_ablations.png", "bbs_success_vs_size.png", "bbs_table.csv",
        "bbs_table.md", "bbs_training_curves.png"]
    printed = capsys.readouterr().out
    assert printed.count("drawn from smoke (run 1; seed 11)") == 3 and "run 2" not in printed
    # the two ablation requests resolve to the same smoke run: drawn once, and said so
    assert '"ablation_random_clicks" and "ablation_frozen" are the same runs' in printed
    table = pd.read_csv(out / "bbs_table.csv")
    assert set(table["size"]) == {8} and set(table["n"]) == {2}  # the override is not there
    assert table["rel_error_std"].dtype == float
    assert "Runs: smoke (run 1; seed 11)." in (out / "bbs_table.md").read_text()
    rerun = tmp_path / "again"
    assert figures(smoke_and_override, rerun, "--label", "smoke") == 0
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in rerun.iterdir())

    pinned = tmp_path / "pinned"
    assert figures(smoke_and_override, pinned, "--runs", str(override)) == 0
    table = pd.read_csv(pinned / "bbs_table.csv")
    assert set(table["size"]) == {10} and set(table["problem"]) == {"maxcut"}
    caption = (pinned / "bbs_table.md").read_text()
    assert "smoke bbs.updates=2 instances=1" in caption and "sizes=[10]" in caption
    assert str(smoke) not in capsys.readouterr().out


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    runs = tmp_path / "runs"
    args = ["run", "bbs", "--runs-dir", str(runs)]
    first = subprocess.Popen([*QNN, *args, "with", "smoke", "seed=5"], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = runs / "bbs" / "1" / "checkpoint.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill mid-study, once a few tasks are done
        state = Checkpoint(checkpoint).load()
        if state is not None and len(state["rows"]) >= 4:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    assert not (runs / "bbs" / "1" / "results.json").exists()

    resumed = subprocess.run([*QNN, *args, "--resume", str(runs / "bbs" / "1")], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = subprocess.run([*QNN, *args, "with", "smoke", "seed=5"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
    assert straight.returncode == 0, straight.stderr[-2000:]

    assert tasks_without_timing(runs / "bbs" / "2") == tasks_without_timing(runs / "bbs" / "3")
    with RunStore(runs / "bbs" / "2" / "histograms.h5", "r") as a, \
            RunStore(runs / "bbs" / "3" / "histograms.h5", "r") as b:
        assert a.names() == b.names()
        assert all(a.get_histograms(n) == b.get_histograms(n) for n in a.names()[::7])
    info = json.loads((runs / "bbs" / "2" / "info.json").read_text())
    assert info["resumed_from"] == str(runs / "bbs" / "1")
    # SIGKILL left run 1 saying RUNNING; --resume found its process gone and recorded that
    killed = json.loads((runs / "bbs" / "1" / "run.json").read_text())
    assert killed["status"] == "INTERRUPTED" and "found dead" in killed["interrupted_by"]


@pytest.mark.parametrize(("update", "message"), [
    ("bogus_key=1", "bogus_key"),
    ("bbs.lr=0.1", "unknown key(s) ['lr']"),
    ("problems=['tsp']", "problems=['tsp']: choose from"),
    ("photonics.urls=['http://user:pw@qpu:8080']", "carries credentials"),
])
def test_bad_config_fails_before_any_work_naming_the_key(tmp_path, update, message):
    result = subprocess.run([*QNN, "run", "bbs", "--runs-dir", str(tmp_path), "with", "smoke",
                             update], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert "pw@" not in (result.stderr + result.stdout)
    assert not list(tmp_path.rglob("histograms.h5")) or not any(
        RunStore(p, "r").names() for p in tmp_path.rglob("histograms.h5"))
