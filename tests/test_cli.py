"""The qnn command line: the README's demo writes a readable run file; bad input exits 2."""

import numpy as np

from qnn.cli import main
from qnn.photonics import get_backend
from qnn.store import RunStore


def test_demo_writes_histogram_and_distribution(tmp_path, capsys):
    out = tmp_path / "demo.h5"
    assert main(["demo", "--modes", "6", "--loops", "1", "--shots", "500", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with RunStore(out, "r") as store:
        assert store.names() == ["demo/histogram", "demo/probabilities"]
        hist = store.get_histogram("demo/histogram")
        circuit = store.get_circuit("demo/histogram")
        patterns, probs = store.get_probabilities("demo/probabilities")
        assert store.get_attrs()["qnn_version"]
    assert hist.shots == 500 and circuit.n_modes == 6 and circuit.loop_lengths == (1,)
    expected = get_backend("exact").probabilities(circuit)
    np.testing.assert_array_equal(patterns, expected[0].numpy())
    np.testing.assert_allclose(probs, expected[1].numpy(), atol=1e-15)


def test_bad_arguments_name_the_field(tmp_path, capsys):
    assert main(["demo", "--modes", "2", "--loops", "1,3", "--out", str(tmp_path / "x.h5")]) == 2
    assert "loop_lengths[1]=3 is outside [1, 1]" in capsys.readouterr().err


def test_show_lists_a_run_file_and_names_damage_in_one_line(tmp_path, capsys):
    out = tmp_path / "demo.h5"
    assert main(["demo", "--modes", "4", "--loops", "1", "--shots", "50", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "2 entries, all readable; 2 checked against their digests" in shown
    assert "demo/histogram" in shown and "probabilities" in shown and "qnn_version" in shown
    assert main(["show", str(tmp_path / "missing.h5")]) != 0
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "missing.h5: no such file" in line
