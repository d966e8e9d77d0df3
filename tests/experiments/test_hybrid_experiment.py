"""The hybrid-QNN experiment as a user runs it: qnn run hybrid with smoke, then its figures."""

import json

import pytest

from qnn.cli import main
from qnn.layers.study import HybridSpec, HybridStudy, load_data, train_task
from qnn.runs import Checkpoint, run_study
from qnn.store import RunStore


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "hybrid", "--runs-dir", str(runs), "with", "smoke", "seed=3"]) == 0
    return runs / "hybrid" / "1"


def test_smoke_run_trains_every_model_and_records(smoke_run):
    rows = json.loads((smoke_run / "results.json").read_text())["tasks"]
    assert [r["task"] for r in rows] == ["hybrid-exact-seed0", "hybrid-shots200-seed0",
                                         "classical-exact-seed0", "linear-exact-seed0"]
    hybrid, sampled, classical, linear = rows
    assert hybrid["n_trainable"] == classical["n_trainable"] < linear["n_trainable"]
    assert hybrid["gradient"] == "autograd" and sampled["gradient"] == "multi_frequency_shift"
    for row in (hybrid, sampled):
        assert row["curve_train_loss"][-1] < row["curve_train_loss"][0]
        assert row["test_accuracy"] > 0.7  # balanced classes: chance is about 0.5
    with RunStore(smoke_run / "histograms.h5", "r") as store:
        names = store.names()
        hists = [h for name in names for h in store.get_histograms(name)]
    # every parameter set the sampled layer ever ran, training and test passes alike
    assert all(name.startswith("hybrid-shots200-seed0/draw") for name in names)
    assert len(hists) == sampled["circuit_evaluations"] and all(h.shots == 200 for h in hists)
    assert json.loads((smoke_run / "metrics.json").read_text())


def test_hybrid_figures_regenerate_from_the_smoke_run(smoke_run, tmp_path):
    out = tmp_path / "figures"
    assert main(["figures", "--runs-dir", str(smoke_run.parents[1]),
                 "--out", str(out), "--label", "smoke", "--only", "hybrid_curves",
                 "hybrid_shots"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "RESULTS.md", "hybrid_curves.png", "hybrid_shots.png", "hybrid_table.csv",
        "hybrid_table.md"]
    table = (out / "hybrid_table.csv").read_text().splitlines()
    assert table[0] == ("runs,model,n,trainable_parameters,test_accuracy_pct_mean,"
                        "test_accuracy_pct_std")
    assert [line.split(",")[:3] for line in table[1:]] == [
        ["smoke", model, "1"] for model in ("classical", "hybrid", "linear")]


def test_photonic_model_beats_90_percent_on_circle():
    spec = HybridSpec("circle", 600, 400, {"n_modes": 4, "loop_lengths": [1, 2],
                                           "n_features": 2}, epochs=12, batch_size=32, lr=0.05)
    data = load_data("circle", 600, 400, seed=0)
    row, _ = train_task(spec, data, "hybrid", backend="exact", shots=None, seed=0)
    assert row["test_accuracy"] > 0.9


def test_study_resumes_from_its_checkpoint(tmp_path):
    spec = HybridSpec("circle", 60, 40, {"n_modes": 4, "loop_lengths": [1], "n_features": 2},
                      models=("hybrid", "classical"), seeds=(0, 1), epochs=2)
    checkpoint = Checkpoint(tmp_path / "checkpoint.json")
    full = run_study(HybridStudy(), spec, seed=5)
    run_study(HybridStudy(), HybridSpec(**{**spec.__dict__, "models": ("hybrid",)}), seed=5,
              checkpoint=checkpoint)
    logged = []
    resumed = run_study(HybridStudy(), spec, seed=5, checkpoint=checkpoint,
                        log_scalar=lambda name, value, step: logged.append(name))
    assert [r["task"] for r in resumed] == [r["task"] for r in full]
    assert [r["test_accuracy"] for r in resumed] == [r["test_accuracy"] for r in full]
    assert {name.split(".")[0] for name in logged} == {"classical-exact-seed0",
                                                      "classical-exact-seed1"}


@pytest.mark.parametrize(("options", "message"), [
    ({"dataset": "iris"}, "dataset='iris'"),
    ({"layer": {"n_modes": 4, "n_features": 2, "width": 3}}, "unknown key"),
    ({"models": ("hybrid", "quantum")}, "models="),
    ({"lr": 0.0}, "lr=0.0"),
])
def test_bad_study_settings_name_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        spec = HybridSpec(**options)
        load_data(spec.dataset, 10, 10, seed=0)
