"""The NAS experiment as a user runs it: qnn run nas with smoke, resume, qnn figures, hardware."""

import json

import numpy as np
import pandas as pd
import pytest

from qnn.cli import main
from qnn.nas import NASSpec, NASStudy
from qnn.photonics import get_backend
from qnn.runs import Checkpoint, run_study
from qnn.store import RunStore


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "nas", "--runs-dir", str(runs), "with", "smoke"]) == 0
    return runs / "nas" / "1"


def test_smoke_run_spends_equal_budgets_and_trains_nothing_twice(smoke_run):
    results = json.loads((smoke_run / "results.json").read_text())
    rows = results["tasks"]
    assert [(r["seed"], r["method"]) for r in rows] == [
        (s, m) for s in (0, 1) for m in ("photonic", "bernoulli", "evolution", "random")]
    for row in rows:
        assert row["evaluations"] == row["budget"] == 12 == len(row["curve_best_val"])
        assert np.all(np.diff(row["curve_best_val"]) >= 0)
        assert row["best_val"] == max(row["curve_best_val"]) and row["best_val"] > 0.3
        assert row["population"][0] == row["best_bits"] and len(row["population"]) == 3
    # One fitness cache per seed, checkpointed with the run (the last seed's is on disk): its
    # methods together trained exactly its distinct architectures, each once.
    cache = Checkpoint(smoke_run / "checkpoint.json").load()["state"]["cache"]
    assert sum(r["trainings"] for r in rows if r["seed"] == 1) == len(cache)
    assert {k for r in rows if r["seed"] == 1 for k in r["population"]} <= set(cache)
    assert {s["method"] for s in results["summary"]} == {r["method"] for r in rows}
    with RunStore(smoke_run / "histograms.h5", "r") as store:
        names = store.names()
    assert "seed0/photonic/draw00000" in names and "seed1/bernoulli/draw00000" in names
    assert not any(name.startswith(("seed0/random", "seed0/evolution")) for name in names)


def test_nas_figure_regenerates_from_the_smoke_run(smoke_run, tmp_path):
    out = tmp_path / "figures"
    assert main(["figures", "--runs-dir", str(smoke_run.parents[1]),
                 "--out", str(out), "--label", "smoke", "--only", "nas_search_curves"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "RESULTS.md", "nas_search_curves.png", "nas_table.csv", "nas_table.md"]
    table = (out / "nas_table.csv").read_text().splitlines()
    assert table[0].startswith("dataset,method,n,evaluations,best_val_pct_mean,best_val_pct_std")
    assert len(table) == 5 and any(line.startswith("digits,photonic,2,12,") for line in table)
    assert "±" not in "".join(table)  # numbers only: mean and std are separate columns


def test_capacity_figure_tests_photonic_against_each_baseline_from_the_smoke_run(smoke_run,
                                                                                 tmp_path):
    out = tmp_path / "figures"
    assert main(["figures", "--runs-dir", str(smoke_run.parents[1]),
                 "--out", str(out), "--label", "smoke", "--only", "nas_capacity"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "RESULTS.md", "nas_capacity_curves.png", "nas_capacity_learning.csv",
        "nas_capacity_learning.md", "nas_capacity_tests.csv", "nas_capacity_tests.md"]
    table = (out / "nas_capacity_tests.csv").read_text().splitlines()
    assert table[0].startswith("reference,baseline,metric,n,diff_pts_mean,diff_pts_std,wins,"
                               "losses,wilcoxon_p,wilcoxon_p_holm,ttest_p,verdict")
    assert len(table) == 1 + 3 * 5  # 3 baselines x 5 metrics
    assert all(line.startswith("photonic,") and ",2," in line for line in table[1:])
    learning = pd.read_csv(out / "nas_capacity_learning.csv").set_index("method")
    assert set(learning.index) == {"photonic", "bernoulli", "evolution", "random"}
    assert (learning["n"] == 2).all()
    gain = learning["late_pct_mean"] - learning["early_pct_mean"]
    assert np.allclose(gain, learning["gain_pts_mean"])


def test_smoke_rows_record_the_sampler_capacity(smoke_run):
    rows = json.loads((smoke_run / "results.json").read_text())["tasks"]
    for row in rows:
        if row["method"] in ("photonic", "bernoulli"):
            assert (row["proposer"]["angles"], row["proposer"]["candidates"]) == (3, 7)
        else:
            assert row["proposer"] is None


def _spec(named_configs):
    """The NASSpec that `qnn run nas with <named_configs>` runs."""
    from dataclasses import fields

    from qnn.runs.selection import resolved_config

    config = resolved_config("nas", named_configs)
    return NASSpec(**{f.name: config[f.name] for f in fields(NASSpec)})


@pytest.mark.parametrize("name", ["capacity", "capacity_smoke"])
def test_capacity_configs_run_the_learning_sampler_on_mnist(name):
    from qnn.nas import N_BITS, proposer_capacity

    spec = _spec([name])
    cap = proposer_capacity(N_BITS, spec.search)
    assert spec.dataset == "mnist_small" and spec.search.directions == 1
    assert (cap.n_modes, cap.loop_lengths, cap.shots, cap.candidates) == (8, (1, 2), 10, 30)
    if name == "capacity":
        assert spec.search.budget == 500 and len(spec.seeds) >= 6
        assert spec.methods == ("photonic", "bernoulli", "evolution", "random")
    for other in ("smoke", "digits", "mnist_small", "hardware"):  # the old ones are unchanged
        assert _spec([other]).search.directions is None


def test_an_interrupted_study_resumes_to_the_same_rows_without_retraining(tmp_path):
    spec = NASSpec(seeds=(3,), methods=("photonic", "evolution"),
                   search={"budget": 6, "ensemble_size": 2}, train={"epochs": 1},
                   n_train=150, n_val=100, n_test=100, checkpoint_every=2)
    backend, checkpoint = get_backend("exact"), Checkpoint(tmp_path / "checkpoint.json")
    full = run_study(NASStudy(), spec, seed=0, backend=backend, checkpoint=checkpoint)
    saved = checkpoint.load()
    checkpoint.save({**saved, "rows": saved["rows"][:1]})  # as if killed during the 2nd search
    resumed = run_study(NASStudy(), spec, seed=0, backend=backend, checkpoint=checkpoint)

    def strip(row):
        return {k: v for k, v in row.items() if k not in ("seconds", "trainings")}

    assert [strip(r) for r in resumed] == [strip(r) for r in full]
    assert resumed[1]["trainings"] == 0 and full[1]["trainings"] > 0


def test_bad_study_specs_name_the_field():
    with pytest.raises(ValueError, match="methods=\\['photonic', 'sa'\\]"):
        NASSpec(methods=("photonic", "sa"))
    with pytest.raises(ValueError, match="dataset='cifar'"):
        NASSpec(dataset="cifar")
    with pytest.raises(ValueError, match="seeds=\\[1, 1\\]"):
        NASSpec(seeds=(1, 1))


def test_hardware_config_runs_through_a_qpu_pool_of_two_emulators(tmp_path, monkeypatch):
    pytest.importorskip("cudaq")
    from qnn.emulator import EmulatorProcess

    with EmulatorProcess(token="nas-token", seed=1) as a, \
            EmulatorProcess(token="nas-token", seed=2) as b:
        monkeypatch.setenv("ORCA_ACCESS_URL", f"{a.url},{b.url}")
        monkeypatch.setenv("ORCA_AUTH_TOKEN", "nas-token")
        code = main(["run", "nas", "--runs-dir", str(tmp_path), "with", "hardware",
                     "search.budget=8"])
    assert code == 0
    run_dir = tmp_path / "nas" / "1"
    rows = json.loads((run_dir / "results.json").read_text())["tasks"]
    assert [(r["method"], r["evaluations"]) for r in rows] == [("photonic", 8), ("random", 8)]
    with RunStore(run_dir / "histograms.h5", "r") as store:
        hists = store.get_histograms("seed0/photonic/draw00000")
    assert len(hists) == 1 + 2 * 3 and all(h.shots == 4 for h in hists)  # 4 modes, loop 1
    for name in ("run.json", "config.json", "cout.txt", "info.json"):
        assert "nas-token" not in (run_dir / name).read_text()
