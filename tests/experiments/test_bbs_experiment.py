"""The BBS experiment end to end as a user runs it: qnn run, kill and --resume, qnn figures."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from qnn.cli import main
from qnn.runs import Checkpoint
from qnn.runs.catalog import catalog
from qnn.store import RunStore

QNN = [sys.executable, "-m", "qnn.cli"]
SMOKE_UPDATES = 10  # of each bbs task
SMOKE_BBS_UPDATES = 2 * 5 * 3 * SMOKE_UPDATES  # instances x problems x BBS variants
QUBO_PROBLEMS = {"maxcut", "knapsack", "jssp"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "bbs", "--runs-dir", str(runs), "with", "smoke", "seed=11"]) == 0
    return runs


def tasks_without_timing(run_dir):
    rows = json.loads((run_dir / "results.json").read_text())["tasks"]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_smoke_run_folder_holds_records_metrics_and_every_histogram(smoke_run):
    (run,) = catalog(smoke_run).itertuples()
    assert (run.family, run.status, run.named_configs, run.seed) == ("bbs", "COMPLETED",
                                                                     "smoke", 11)
    path = Path(run.path)
    record = json.loads((path / "run.json").read_text())
    assert record["experiment"]["repositories"][0]["commit"]
    assert any(dep.startswith("torch==") for dep in record["experiment"]["dependencies"])
    assert json.loads((path / "metrics.json").read_text())
    rows = json.loads((path / "results.json").read_text())["tasks"]
    updates = sum(len(r["curve_evaluations"]) for r in rows if r["method"].startswith("bbs"))
    assert updates > SMOKE_BBS_UPDATES  # frozen angles: more updates for the same budget
    with RunStore(path / "histograms.h5", "r") as store:
        names = store.names()
        assert len(names) == updates  # one entry per update drawn
        hists = store.get_histograms(names[0])
        assert store.get_attrs()["git_commit"] and store.get_attrs()["sacred_run_id"] == "1"
    # one unshifted and 2 x n_bs shifted parameter sets, 20 shots each, threshold clicks
    assert all(h.detection == "threshold" and h.shots == 20 for h in hists)
    assert {r["method"] for r in rows} == {"bbs", "bbs_frozen", "bbs_random_clicks", "sa",
                                           "random", "hill_climbing", "gw"}
    assert {(r["problem"], r["size"]) for r in rows} == {
        ("maxcut", 8), ("knapsack", 8), ("jssp", 8), ("knapsack_value", 6),
        ("knapsack_penalty", 6), ("tsp", 5)}
    assert all(r["best_cost"] >= r["optimum"] - 1e-9 for r in rows)
    # every method spends what bbs spent on the instance; on a QUBO family a BBS ablation
    # stops at the end of the update that reaches it (frozen angles spend fewer evaluations
    # per update); on a black-box family every method stops exactly at the paper's budget
    frame = pd.DataFrame(rows)
    table = frame.pivot_table("evaluations", ["problem", "size", "instance"], "method")
    for method in ("sa", "random", "hill_climbing"):
        assert (table[method] == table["bbs"]).all()
    per_update = table["bbs"] / SMOKE_UPDATES
    qubo = table.index.get_level_values("problem").isin(QUBO_PROBLEMS)
    for method in ("bbs_frozen", "bbs_random_clicks"):
        assert ((table[method] >= table["bbs"]) & (table[method] < table["bbs"] + per_update)).all()
        assert (table[method][~qubo] == table["bbs"][~qubo]).all()
    # budget N S (2K + 2m + 1); loops 1 and 3 give K = (m − 1) + (m − 3) beam splitters
    blackbox = frame[~frame["problem"].isin(QUBO_PROBLEMS)]
    assert set(blackbox["evaluations"]) == {10 * 20 * (2 * 6 + 2 * 5 + 1),   # tsp, 5 bits
                                            10 * 20 * (2 * 8 + 2 * 6 + 1)}   # 6 items


BBS_FIGURES = ["--only", "bbs_success_vs_size", "bbs_training_curves", "bbs_ablations",
               "bbs_paper_table", "bbs_ablation_tests"]


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
    # without the shipped reference runs (tmp_path holds none), so nothing may be drawn
    assert figures(smoke_and_override, out, "--reference-dir", str(tmp_path)) == 1
    printed = capsys.readouterr().out
    assert ("figure bbs_success_vs_size: skipped: no completed bbs run under "
            f"{smoke_and_override} has the config of 'paper_table'; make one with: qnn run "
            "bbs with paper_table\n") in printed
    assert printed.count("make one with: qnn run bbs with paper_table") == 3
    assert ("figure bbs_ablations: skipped: no completed bbs run under "
            f"{smoke_and_override} has the config of 'paper_ablations'; make one with: qnn run "
            "bbs with paper_ablations\n") in printed
    assert printed.count("make one with: qnn run bbs with paper_ablations") == 2
    assert "0 drawn, 5 skipped, 0 failed" in printed
    assert [p.name for p in out.iterdir()] == ["RESULTS.md"]  # no image, no table
    assert "skipped: no completed bbs run" in (out / "RESULTS.md").read_text()


def test_label_smoke_draws_the_smoke_run_only_and_pinning_draws_the_override(
        smoke_and_override, tmp_path, capsys):
    smoke, override = smoke_and_override / "bbs" / "1", smoke_and_override / "bbs" / "2"
    out = tmp_path / "smoke"
    assert figures(smoke_and_override, out, "--label", "smoke") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "RESULTS.md", "bbs_ablation_tests.csv", "bbs_ablation_tests.md", "bbs_ablations.png",
        "bbs_ablations_table.csv", "bbs_ablations_table.md",
        "bbs_paper_table.csv", "bbs_paper_table.md", "bbs_success_vs_size.png",
        "bbs_table.csv", "bbs_table.md", "bbs_training_curves.png"]
    printed = capsys.readouterr().out
    assert printed.count("drawn from smoke (run 1; seed 11)") == 5 and "run 2" not in printed
    # the three ablation requests resolve to the same smoke run: drawn once, and said so
    assert '"ablation_frozen" and "paper_ablations" are the same runs' in printed
    assert '"ablation_random_clicks" and "paper_ablations" are the same runs' in printed
    table = pd.read_csv(out / "bbs_table.csv")
    assert set(table["size"]) == {5, 6, 8} and set(table["n"]) == {2}  # not the override's 10
    assert table["rel_error_std"].dtype == float
    assert "Runs: smoke (run 1; seed 11)." in (out / "bbs_table.md").read_text()
    paper = pd.read_csv(out / "bbs_paper_table.csv")  # smoke sizes: no published value applies
    assert set(paper["problem"]) == {"maxcut", "knapsack", "jssp", "knapsack_value",
                                     "knapsack_penalty", "tsp"}
    assert not [c for c in paper.columns if c.startswith("published")]
    assert "No published value applies" in (out / "bbs_paper_table.md").read_text()
    assert paper.loc[paper["problem"] == "tsp", "cities"].tolist() == [5] * 6  # gw: Max-Cut
    ablations = pd.read_csv(out / "bbs_ablations_table.csv")
    assert set(ablations["n"]) == {2} and len(ablations) == 6 * 4  # problems x methods
    assert (ablations["solved_low"] <= ablations["solved_pct"]).all()
    assert (ablations["solved_pct"] <= ablations["solved_high"]).all()
    tests = pd.read_csv(out / "bbs_ablation_tests.csv")
    assert set(tests["comparison"]) == {"bbs vs bbs_random_clicks", "bbs vs bbs_frozen",
                                        "bbs vs random"}
    assert set(tests["n"]) == {2} and len(tests) == 6 * 3  # per (problem, size), paired
    assert tests["mcnemar_p"].between(0, 1).all() and tests["wilcoxon_p"].between(0, 1).all()
    for test in ("mcnemar_p", "wilcoxon_p"):  # Holm never makes a p-value smaller
        assert (tests[f"{test}_holm"] >= tests[test]).all()
        assert tests[f"{test}_holm"].between(0, 1).all()
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


def test_paper_table_shows_published_values_only_for_rows_in_their_regime(tmp_path):
    """A cut-down paper_table run (the paper's updates and shots, one m = 20 knapsack
    instance, the two cheapest methods) is drawn beside the published m = 20 values."""
    runs = tmp_path / "runs"
    assert main(["run", "bbs", "--runs-dir", str(runs), "with", "paper_table", "instances=1",
                 "sizes={'knapsack_value': [20]}", "problems=['knapsack_value']",
                 "methods=['sa', 'random']"]) == 0
    out = tmp_path / "out"
    assert main(["figures", "--runs-dir", str(runs), "--out", str(out), "--only",
                 "bbs_paper_table", "--runs", str(runs / "bbs" / "1")]) == 0
    table = pd.read_csv(out / "bbs_paper_table.csv").set_index("method")
    assert table.loc["sa", "published_paper_solved_pct"] == 100.0  # the paper's SA at m = 20
    assert table.loc["random", "published_reproduction_solved_pct"] == 81.0
    assert table["evaluations_mean"].tolist() == [200 * 50 * (2 * 47 + 2 * 20 + 1)] * 2
    assert "published_paper_rel_error_pct" not in table  # only TSP m = 29 has one
    assert "values printed by the paper" in (out / "bbs_paper_table.md").read_text()


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
    ("problems=['qap']", "problems=['qap']: choose from"),
    ("sizes={'tsp': [11]}", "n_bits=11 is no tour-index size"),
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
