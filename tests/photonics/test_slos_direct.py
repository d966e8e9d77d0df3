"""The autograd-free SLOS path against permanents and against the differentiable path."""

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch
from scipy.stats import unitary_group

from qnn.photonics import slos_direct
from qnn.photonics.circuit import TBICircuit, beam_splitter_pairs
from qnn.photonics.fock import fock_basis
from qnn.photonics.slos import fock_probabilities


def permanent(a: np.ndarray) -> complex:
    n = a.shape[0]
    return sum(math.prod(a[i, p[i]] for i in range(n))
               for p in itertools.permutations(range(n))) if n else 1.0


def permanent_probabilities(unitary: np.ndarray, input_state: tuple[int, ...]) -> np.ndarray:
    """|Perm(U[out rows, in columns])|² / (prod n_i! prod m_j!) for every output pattern."""
    cols = [mode for mode, count in enumerate(input_state) for _ in range(count)]
    norm_in = math.prod(math.factorial(m) for m in input_state)
    out = []
    for pattern in fock_basis(len(input_state), len(cols)):
        rows = [mode for mode, count in enumerate(pattern) for _ in range(count)]
        norm_out = math.prod(math.factorial(int(n)) for n in pattern)
        out.append(abs(permanent(unitary[np.ix_(rows, cols)])) ** 2 / (norm_in * norm_out))
    return np.array(out)


@pytest.mark.parametrize("input_state", [(1, 1, 0, 0, 1), (2, 0, 1, 0, 0), (3, 0, 0, 0, 1),
                                         (0, 0, 0, 0, 0), (0, 1, 0, 0, 0)])
def test_probabilities_are_permanents(input_state):
    unitary = unitary_group.rvs(5, random_state=7)
    expected = permanent_probabilities(unitary, input_state)
    [got] = slos_direct.fock_probabilities(unitary[None], input_state)
    np.testing.assert_allclose(got, expected, atol=1e-14)
    assert got.sum() == pytest.approx(1.0, abs=1e-13)


@pytest.mark.parametrize(("input_state", "loops"), [
    ((1, 0, 1, 0, 1, 0, 1, 0), (1, 2)), ((1, 0, 1, 0, 0, 1, 0, 0, 1), (1, 3)),
    ((2, 0, 0, 1, 1, 0), (1,)), ((1,) * 6, (1, 2, 3))])
def test_tbi_batches_agree_with_the_differentiable_path(input_state, loops):
    rng = np.random.default_rng(3)
    m = len(input_state)
    pairs = np.array(beam_splitter_pairs(m, loops))
    bs, ps = rng.uniform(0, 2 * np.pi, (2, 4, len(pairs)))
    circuit = TBICircuit(input_state, loops, bs_angles=torch.tensor(bs),
                         ps_angles=torch.tensor(ps))
    unitaries = slos_direct.tbi_unitaries(m, pairs, bs, ps)
    np.testing.assert_allclose(unitaries, circuit.unitary().numpy(), atol=1e-15)
    np.testing.assert_allclose(slos_direct.tbi_unitaries(m, pairs, bs, None),
                               circuit.with_angles(bs).unitary().numpy(), atol=1e-15)
    expected = fock_probabilities(circuit.unitary(), input_state).numpy()
    np.testing.assert_allclose(slos_direct.fock_probabilities(unitaries, input_state),
                               expected, atol=1e-15)


@pytest.mark.parametrize("noise", [None, {"transmission": 0.8, "dark_count_prob": 0.01},
                                   {"indistinguishability": 0.9}])
@pytest.mark.parametrize("detection", ["pnr", "threshold"])
def test_the_backend_gives_the_same_distribution_with_and_without_gradients(noise, detection):
    from qnn.photonics import MeshCircuit, get_backend, random_tbi

    backend = get_backend("exact", noise=noise)
    tbi = random_tbi(7, (1, 2), batch=(2, 3), rng=4)
    mesh = MeshCircuit.from_unitary((1, 0, 1, 1, 0), unitary_group.rvs(5, random_state=2))
    for circuit in (tbi, mesh):
        with torch.no_grad():  # the direct path (ideal photons), else the autograd path
            patterns, probs = backend.probabilities(circuit, detection)
        graded = dataclasses.replace(circuit, bs_angles=circuit.bs_angles.clone()
                                     .requires_grad_())
        ref_patterns, ref_probs = backend.probabilities(graded, detection)
        assert torch.equal(patterns, ref_patterns)
        assert probs.shape == ref_probs.shape and probs.dtype == ref_probs.dtype
        np.testing.assert_allclose(probs.numpy(), ref_probs.detach().numpy(), atol=1e-15)
