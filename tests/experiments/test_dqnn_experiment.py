"""The distributed-QNN experiment as a user runs it: qnn run dqnn with smoke, then qnn export."""

import json

import pandas as pd
import pytest
import torch

from qnn.cli import main
from qnn.qtrain.study import load_dataset
from qnn.qtrain.target import DigitsCNN, accuracy


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "dqnn", "--runs-dir", str(runs), "with", "smoke", "seed=2"]) == 0
    return runs / "dqnn" / "1"


def test_smoke_run_learns_and_records(smoke_run):
    (row,) = json.loads((smoke_run / "results.json").read_text())["tasks"]
    assert row["task"] == "chi3-seed0" and row["n_target_weights"] == 1198
    assert row["curve_train_loss"][-1] < row["curve_train_loss"][0]
    assert row["test_accuracy"] > 0.15  # chance is 0.1
    assert row["exported_accuracy"] == pytest.approx(row["test_accuracy"], abs=0.02)
    assert json.loads((smoke_run / "metrics.json").read_text())


def test_dqnn_figures_regenerate_from_the_smoke_run(smoke_run, tmp_path):
    out = tmp_path / "figures"
    assert main(["figures", "--runs-dir", str(smoke_run.parents[1]),
                 "--out", str(out), "--label", "smoke", "--only", "dqnn_chi_sweep",
                 "dqnn_training_curves", "dqnn_noise"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "RESULTS.md", "dqnn_chi_sweep.png", "dqnn_chi_table.csv", "dqnn_chi_table.md",
        "dqnn_noise.png", "dqnn_noise_table.csv", "dqnn_noise_table.md",
        "dqnn_training_curves.png"]
    (row,) = pd.read_csv(out / "dqnn_chi_table.csv").to_dict("records")
    assert (row["runs"], row["bond_dim"], row["n"]) == ("smoke", 3, 1)


def test_export_needs_no_quantum_backend(smoke_run, tmp_path, capsys):
    out = tmp_path / "net.pt"
    assert main(["export", str(smoke_run), "--out", str(out)]) == 0
    assert "no quantum backend" in capsys.readouterr().out
    network = DigitsCNN()
    network.load_state_dict(torch.load(out, weights_only=True))
    data = load_dataset("digits", 2)
    row = json.loads((smoke_run / "results.json").read_text())["tasks"][0]
    assert accuracy(network.eval(), data.x_test.float(), data.y_test) == pytest.approx(
        row["exported_accuracy"])
    with pytest.raises(SystemExit):
        main(["export"])
    assert main(["export", str(smoke_run), "--task", "chi9-seed9", "--out", str(out)]) == 2


def _spec(named_configs):
    """The DQNNSpec that `qnn run dqnn with <named_configs>` trains."""
    from dataclasses import fields

    from qnn.qtrain.study import DQNNSpec
    from qnn.runs.selection import resolved_config

    config = resolved_config("dqnn", named_configs)
    return DQNNSpec(**{f.name: config[f.name] for f in fields(DQNNSpec)})


def test_baselines_paper_counts_sizes_the_compressions_at_the_published_counts():
    spec = _spec(["baselines", "paper_counts"])
    assert spec.baselines and spec.baseline_counts == "paper"
    assert [spec.baseline_budget(chi) for chi in spec.bond_dims] == [
        31 * chi ** 2 + 192 for chi in (1, 2, 4, 6, 8, 10)]
    assert _spec(["baselines"]).baseline_budget(10) == 2468  # ours: 2,440 MPS + 28 angles


def test_noise_sweep_sampled_samples_every_level_at_fixed_raw_shots():
    spec = _spec(["noise_sweep_sampled"])
    assert (spec.train.shots, spec.train.angle_method) == (1000, "spsa")
    kinds = {k for level in spec.noise_levels for k in level}
    assert kinds == {"transmission", "indistinguishability", "dark_count_prob"}


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "dqnn", "--runs-dir", str(runs), "with", "noise_sweep_sampled",
                 "bond_dims=[2]", "seeds=[0]", "train.rounds=1", "train.mps_epochs=1",
                 'noise_levels=[{}, {"transmission": 0.5}]', "seed=3"]) == 0
    return runs / "dqnn" / "1"


def test_sampled_sweep_records_the_post_selected_shots(sampled_run):
    rows = json.loads((sampled_run / "results.json").read_text())["tasks"]
    by_level = {row["noise_level"]: row for row in rows}
    assert by_level[0]["postselected_shots"] == pytest.approx([1000, 1000])
    # η = 0.5, 3 photons per QPU: 1/8 of the raw shots on the outcome list
    assert by_level[1]["postselected_shots"] == pytest.approx([125, 125])
    assert by_level[1]["kept_fraction"] == pytest.approx([0.125, 0.125])
    assert by_level[1]["null_on_exact"] and by_level[1]["shots"] == 1000
    assert by_level[1]["n_params_paper"] == 31 * 4 + 192


def test_noise_figure_draws_the_sampled_sweep_with_labelled_error_bars(sampled_run, tmp_path):
    out = tmp_path / "figures"
    assert main(["figures", "--runs", str(sampled_run), "--out", str(out),
                 "--only", "dqnn_noise"]) == 0
    table = pd.read_csv(out / "dqnn_noise_table.csv").set_index("level")
    assert table.loc["transmission=0.5", "postselected_shots"] == 125
    assert table.loc["noiseless", "vectors"] == (
        "sampled, 1,000 raw shots per vector, test accuracy of one draw")
    # paired against the same runs' noiseless level: none for that level itself
    assert pd.isna(table.loc["noiseless", "p_vs_noiseless"])
    assert table.drop(index="noiseless")["p_vs_noiseless"].between(0, 1).all()
    assert "null_on_exact: the level leaves exact vectors" in (
        out / "dqnn_noise_table.md").read_text()
