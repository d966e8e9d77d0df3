"""One cost guard: impossible requests are refused at once, naming the size and the limit;
circuits refuse complex angles, unbroadcastable phases and photon counts they cannot store."""

import json

import numpy as np
import pytest
import torch

from qnn.cli import main
from qnn.photonics import NoiseModel, TBICircuit, get_backend
from qnn.photonics.cost import CostLimitError, check_fock_space
from qnn.photonics.fock import fock_basis


def test_a_huge_fock_space_is_refused_before_anything_is_allocated(monkeypatch):
    import qnn.photonics.fock as fock

    monkeypatch.setattr(fock, "_basis", lambda m, n: pytest.fail("enumerated anyway"))
    with pytest.raises(CostLimitError, match=r"40 modes / 20 photons: Fock states 2.79e\+15 "
                                             r"exceed the limit .*QNN_MAX_FOCK_STATES"):
        fock_basis(40, 20)


def test_the_limit_is_raised_through_its_variable(monkeypatch):
    with pytest.raises(CostLimitError):
        check_fock_space(20, 10, limit=1e6)
    monkeypatch.setenv("QNN_MAX_FOCK_STATES", "10")
    with pytest.raises(CostLimitError, match="exceed the limit 10"):
        fock_basis(4, 3)
    monkeypatch.setenv("QNN_MAX_FOCK_STATES", "100")
    assert fock_basis(4, 3).shape == (20, 4)


def test_dqnn_refuses_a_40_mode_qpu_naming_the_size(tmp_path, capsys):
    qpus = json.dumps([{"input_state": [1, 0] * 20, "loop_lengths": [1]}] * 2)
    assert main(["run", "dqnn", "--runs-dir", str(tmp_path), "with", "smoke",
                 f"qpus={qpus}"]) == 2
    err = capsys.readouterr().err
    assert "40 modes / 20 photons" in err and "Fock states" in err
    assert not any(tmp_path.iterdir())  # refused before any run folder


def test_bbs_refuses_ten_billion_instances(tmp_path, capsys):
    assert main(["run", "bbs", "--runs-dir", str(tmp_path), "with", "smoke",
                 "instances=10000000000"]) == 2
    assert "instances=10,000,000,000" in capsys.readouterr().err


def test_sampling_80_modes_is_refused(tmp_path, capsys):
    assert main(["demo", "--modes", "80", "--shots", "1", "--out", str(tmp_path / "d.h5")]) == 2
    err = capsys.readouterr().err
    assert "40 photons" in err and "QNN_MAX_SAMPLER_WORK" in err


def test_partial_distinguishability_of_many_photons_is_refused():
    circuit = TBICircuit([1] * 12 + [0, 0], [1], np.full(13, 0.3))
    with pytest.raises(CostLimitError, match="partial distinguishability of 12 photons"):
        get_backend("exact", noise=NoiseModel(indistinguishability=0.9)).probabilities(circuit)


def test_circuits_refuse_what_they_cannot_mean():
    with pytest.raises(ValueError, match="bs_angles holds complex numbers"):
        TBICircuit([1, 0, 1, 0], [1], np.full(3, 0.3) + 1j)
    with pytest.raises(ValueError, match="bs_angles is a complex tensor"):
        TBICircuit([1, 0, 1, 0], [1], torch.zeros(3, dtype=torch.complex128))
    with pytest.raises(ValueError, match=r"ps_angles batch shape \(3,\) does not broadcast "
                                         r"with bs_angles batch shape \(2,\)"):
        TBICircuit([1, 0, 1, 0], [1], torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="300 photons exceed 255"):
        get_backend("exact").probabilities(TBICircuit([300, 0, 0, 0], [1], np.full(3, 0.3)))
