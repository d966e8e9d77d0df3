"""The run catalogue: true statuses (including runs killed without a trace), one row per run,
the same rows from `qnn runs ls` and from Python."""

import json
import subprocess
import sys

import pytest

from qnn.cli import main
from qnn.runs.catalog import catalog, config_differences, task_table


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    base = ["run", "--runs-dir", str(runs)]
    assert main([*base[:1], "bbs", *base[1:], "with", "smoke", "instances=1",
                 "problems=['maxcut']", "seed=1"]) == 0                           # bbs/1
    assert main([*base[:1], "bbs", *base[1:], "with", "smoke", "instances=1",
                 "photonics.backend='orca'", "photonics.urls='http://127.0.0.1:9'"]) != 0  # 2
    assert main([*base[:1], "hybrid", *base[1:], "with", "smoke", "models=['classical']",
                 "seed=2"]) == 0                                                   # hybrid/1
    # hybrid/2: a run killed by SIGKILL, whose run.json still says RUNNING
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = runs / "hybrid" / "2"
    subprocess.run(["cp", "-r", str(runs / "hybrid" / "1"), str(killed)], check=True)
    record = json.loads((killed / "run.json").read_text())
    (killed / "run.json").write_text(json.dumps({**record, "status": "RUNNING"}))
    process = json.loads((killed / "process.json").read_text())
    (killed / "process.json").write_text(json.dumps({**process, "pid": dead.pid}))
    (killed / "results.json").unlink()
    return runs


def test_catalog_lists_every_run_with_its_true_status(runs):
    table = catalog(runs)
    assert list(zip(table["family"], table["id"], table["status"], strict=True)) == [
        ("bbs", "1", "COMPLETED"), ("bbs", "2", "FAILED"), ("hybrid", "1", "COMPLETED"),
        ("hybrid", "2", "INTERRUPTED")]
    assert json.loads((runs / "hybrid" / "2" / "run.json").read_text())["status"] == \
        "INTERRUPTED"  # settled on disk too
    bbs = table.iloc[0]
    assert bbs["named_configs"] == "smoke" and bbs["seed"] == 1
    assert "instances=1" in bbs["overrides"] and bbs["config.instances"] == 1
    assert bbs["headline"].startswith("success ") and "(n=1)" in bbs["headline"]
    assert table.iloc[1]["headline"] == "-"


def test_runs_ls_prints_the_catalogue_rows(runs, capsys):
    assert main(["runs", "--runs-dir", str(runs), "ls"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + 4
    assert [line.split()[:3] for line in lines[1:]] == [
        ["bbs", "1", "COMPLETED"], ["bbs", "2", "FAILED"], ["hybrid", "1", "COMPLETED"],
        ["hybrid", "2", "INTERRUPTED"]]


def test_show_compare_and_tables(runs, capsys):
    assert main(["runs", "--runs-dir", str(runs), "show", "bbs/1"]) == 0
    out = capsys.readouterr().out
    assert "instances" in out and "results summary" in out and "histograms.h5" in out
    assert task_table(runs / "bbs" / "1")["task"].str.startswith("maxcut/m8/i000/").all()
    assert main(["runs", "--runs-dir", str(runs), "compare", "bbs/1", "bbs/2"]) == 0
    assert "photonics.backend" in capsys.readouterr().out
    diff = config_differences({"a": {"x": 1, "y": [1]}, "b": {"x": 1, "y": [2]}})
    assert list(diff.index) == ["y"]


def test_clean_removes_only_failed_and_interrupted_runs(runs, tmp_path, capsys):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(runs), str(copy)], check=True)
    assert main(["runs", "--runs-dir", str(copy), "clean", "--yes"]) == 0
    assert sorted((p.parent.parent.name, p.parent.name) for p in copy.glob("*/*/run.json")) \
        == [("bbs", "1"), ("hybrid", "1")]


def test_ship_copies_a_completed_runs_record_that_catalogue_and_figures_read(runs, tmp_path,
                                                                                  capsys):
    dest = tmp_path / "reference" / "bbs" / "smoke-seed1"
    assert main(["runs", "--runs-dir", str(runs), "ship", "bbs/1", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == [
        "config.json", "info.json", "metrics.json", "results.json", "run.json"]
    shipped = catalog(tmp_path / "reference").iloc[0]
    original = catalog(runs).iloc[0]
    assert (shipped["status"], shipped["named_configs"], shipped["headline"]) == (
        original["status"], original["named_configs"], original["headline"])
    capsys.readouterr()
    assert main(["runs", "--runs-dir", str(runs), "ship", "bbs/2", str(tmp_path / "x")]) != 0
    assert "is FAILED: only a COMPLETED run is shipped" in capsys.readouterr().err
    assert main(["runs", "--runs-dir", str(runs), "ship", "bbs/1", str(dest)]) != 0
