"""Quantum-Train on general meshes (the published paper's kind of circuit) as well as TBIs."""

import pytest
import torch

from qnn.photonics import MeshCircuit, TBICircuit, get_backend
from qnn.qtrain.model import QPUSpec, QuantumTrain
from qnn.qtrain.study import DQNNSpec
from qnn.qtrain.target import DigitsCNN, PaperCNN, n_weights

PUBLISHED = [QPUSpec((1, 0, 1, 0, 0, 1, 0, 0, 1), circuit="mesh"),
             QPUSpec((1, 0, 1, 0, 1, 0, 0, 1), circuit="mesh")]


def test_a_mesh_qpu_trains_every_cell_angle_and_phase():
    spec = QPUSpec((1, 0, 1, 1, 0), circuit="mesh")
    assert spec.n_angles == 2 * 10  # M(M-1)/2 = 10 cells, a θ and a φ each
    angles = torch.linspace(0.1, 2.0, spec.n_angles, dtype=torch.float64)
    circuit = spec.build(angles)
    assert isinstance(circuit, MeshCircuit)
    torch.testing.assert_close(circuit.bs_angles, angles[:10])
    torch.testing.assert_close(circuit.ps_angles, angles[10:])
    assert isinstance(QPUSpec((1, 0, 1), (1,)).build(torch.zeros(2)), TBICircuit)


def test_gradients_reach_both_kinds_of_mesh_parameter():
    qpus = [QPUSpec((1, 0, 1, 0, 1, 0), circuit="mesh"), QPUSpec((1, 0, 1, 0, 1), (1, 2))]
    model = QuantumTrain(qpus, DigitsCNN(), bond_dim=2, outcomes="pnr",
                         generator=torch.Generator().manual_seed(0))
    vectors = model.distribution().exact(get_backend("exact"))
    model.weights(vectors).square().sum().backward()
    mesh_grad = model.bs_angles[0].grad
    cells = qpus[0].n_cells
    assert mesh_grad.shape == (2 * cells,)
    assert mesh_grad[:cells].abs().max() > 1e-6 and mesh_grad[cells:].abs().max() > 1e-6


def test_the_published_meshes_cover_the_published_cnn():
    model = QuantumTrain(PUBLISHED, PaperCNN(), bond_dim=1, outcomes="no_bunching")
    assert model.distribution().sizes == (126, 70)  # C(9, 4) x C(8, 4) = 8,820 >= 6,690
    assert n_weights(PaperCNN()) == 6690
    assert model.n_trained_parameters()["angles"] == 72 + 56


@pytest.mark.parametrize(("qpu", "message"), [
    ({"input_state": [1, 0, 1], "circuit": "mesh", "loop_lengths": [1]}, "a mesh has no loops"),
    ({"input_state": [1, 0, 1], "circuit": "sphere"}, "circuit='sphere'; choose from"),
    ({"input_state": [1, 0, 1]}, "loop_lengths"),
    ({"loop_lengths": [1]}, "must be a dict with input_state"),
])
def test_bad_qpu_entries_name_the_qpu(qpu, message):
    with pytest.raises(ValueError, match=r"qpus\[0\]") as err:
        DQNNSpec(qpus=(qpu,))
    assert message in str(err.value)
