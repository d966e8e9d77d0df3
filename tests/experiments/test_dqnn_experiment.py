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
