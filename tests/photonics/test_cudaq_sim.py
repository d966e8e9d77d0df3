"""The cudaq-sim backend agrees with our exact simulator: conventions proved against CUDA-Q."""

import math

import numpy as np
import pytest
import torch

cudaq = pytest.importorskip("cudaq")

from qnn.photonics import ProbabilityBackend, TBICircuit, fock_basis, get_backend  # noqa: E402
from qnn.photonics.backends.cudaq_sim import (  # noqa: E402
    CudaqSimBackend,
    histogram_from_counts,
    state_indices,
)
from qnn.photonics.slos import fock_amplitudes, fock_probabilities  # noqa: E402

pytestmark = pytest.mark.cudaq

# (input_state, loop_lengths, phase shifters?). The 8-mode / 4-photon circuit costs a few
# seconds (a dense 5^8 state, gate by gate); 8 modes / 3 photons about one; the rest less.
CASES = [
    ((1, 1), (1,), False),
    ((1, 1, 0, 0), (1,), False),
    ((1, 1, 0, 0), (1, 2), True),
    ((2, 0, 1), (1,), True),
    ((0, 3, 0, 1), (1, 2), True),
    ((1, 0, 1, 0, 1, 0), (1,), True),
    ((1, 0, 1, 0, 1, 0), (1, 2), False),
    ((1, 1, 0, 0, 0, 1), (1, 3), True),
    ((1, 0, 0, 1, 0, 0, 1, 0), (1, 3), True),
    ((1, 0, 0, 1, 0, 0, 1), (1, 3), False),
    ((1, 0, 1, 0, 1, 0, 1, 0), (1, 2), True),
]
SMALL_CASES = [case for case in CASES if (sum(case[0]) + 1) ** len(case[0]) <= 100_000]


def circuit_for(input_state, loops, phases, seed=0):
    """A circuit with seeded random angles: θ in [0, 2π), φ in [-π, π)."""
    rng = np.random.default_rng(seed)
    n_bs = sum(len(input_state) - length for length in loops)
    ps = rng.uniform(-np.pi, np.pi, n_bs) if phases else None
    return TBICircuit(input_state, loops, rng.uniform(0, 2 * np.pi, n_bs), ps)


def case_id(case):
    state, loops, phases = case
    digits = "".join(map(str, state))
    return f"{digits}-loops{''.join(map(str, loops))}-{'ps' if phases else 'nops'}"


def tvd_bound(probs, shots, delta=1e-6):
    """Bound on the total-variation distance of ``shots`` samples from ``probs``.

    ``E[TVD] <= ½ Σ sqrt(p(1-p)/n)`` (Jensen), and one shot moves the TVD by at most ``1/n``,
    so McDiarmid adds ``sqrt(ln(1/δ) / 2n)``: exceeded with probability below ``δ``.
    """
    probs = np.asarray(probs)
    mean = 0.5 * np.sum(np.sqrt(probs * (1 - probs) / shots))
    return mean + math.sqrt(math.log(1 / delta) / (2 * shots))


@pytest.fixture(scope="module")
def backend():
    return get_backend("cudaq-sim")


def test_registry_builds_a_probability_backend(backend):
    assert isinstance(backend, CudaqSimBackend)
    assert isinstance(backend, ProbabilityBackend)
    assert backend.name == "cudaq-sim"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_probabilities_match_exact_simulator(backend, case):
    circuit = circuit_for(*case)
    patterns, probs = backend.probabilities(circuit)
    np.testing.assert_array_equal(patterns.numpy(), fock_basis(circuit.n_modes, circuit.n_photons))
    assert patterns.dtype == torch.long and probs.dtype == torch.float64
    expected = fock_probabilities(circuit.unitary(), circuit.input_state)
    np.testing.assert_allclose(probs.numpy(), expected.numpy(), rtol=0, atol=1e-9)
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_amplitudes_agree_without_a_global_phase(backend, case):
    """Not just equal up to a phase: equal, so sign and phase conventions match CUDA-Q's."""
    circuit = circuit_for(*case, seed=1)
    patterns, amps = backend.amplitudes(circuit)
    assert amps.dtype == torch.complex128
    expected = fock_amplitudes(circuit.unitary(), circuit.input_state)
    np.testing.assert_allclose(amps.numpy(), expected.numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("theta", [0.0, np.pi / 8, np.pi / 4])
def test_hong_ou_mandel(backend, theta):
    """|t| = cos θ: P(1,1) = cos²(2θ), vanishing at θ = π/4 (50:50)."""
    patterns, probs = backend.probabilities(TBICircuit((1, 1), (1,), [theta]))
    p = dict(zip(map(tuple, patterns.tolist()), probs.tolist(), strict=True))
    assert p[(1, 1)] == pytest.approx(np.cos(2 * theta) ** 2, abs=1e-12)
    assert p[(2, 0)] == pytest.approx(np.sin(2 * theta) ** 2 / 2, abs=1e-12)
    assert p[(0, 2)] == pytest.approx(p[(2, 0)], abs=1e-12)


def test_single_photon_amplitudes_are_the_unitary_column(backend):
    """One photon in bin 0: beam splitter [[c, s], [-s, c]] (rows = outputs), then e^{iφ}."""
    theta, phi = 0.3, 0.5
    patterns, amps = backend.amplitudes(TBICircuit((1, 0), (1,), [theta], [phi]))
    assert patterns.tolist() == [[0, 1], [1, 0]]
    expected = [-np.sin(theta), np.cos(theta) * np.exp(1j * phi)]
    np.testing.assert_allclose(amps.numpy(), expected, atol=1e-12)


def test_batched_circuits_give_one_row_per_parameter_set(backend):
    circuit = circuit_for((1, 0, 1, 0), (1, 2), True)
    rng = np.random.default_rng(2)
    batched = circuit.with_angles(rng.uniform(0, np.pi, (2, 3, 5)), rng.uniform(-1, 1, (3, 5)))
    patterns, probs = backend.probabilities(batched)
    assert probs.shape == (2, 3, len(patterns))
    expected = fock_probabilities(batched.unitary(), batched.input_state)
    np.testing.assert_allclose(probs.numpy(), expected.numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("case", [CASES[4], CASES[7]], ids=case_id)
def test_threshold_probabilities_match_exact_backend(backend, case):
    circuit = circuit_for(*case)
    patterns, probs = backend.probabilities(circuit, detection="threshold")
    exact_patterns, exact_probs = get_backend("exact").probabilities(circuit, detection="threshold")
    assert patterns.tolist() == exact_patterns.tolist()
    assert patterns.tolist() == sorted(patterns.tolist())
    np.testing.assert_allclose(probs.numpy(), exact_probs.numpy(), rtol=0, atol=1e-9)
    # ... and each click pattern carries the summed probability of its photon patterns.
    full = fock_probabilities(circuit.unitary(), circuit.input_state).numpy()
    clicks = np.minimum(fock_basis(circuit.n_modes, circuit.n_photons), 1)
    for row, p in zip(patterns.numpy(), probs.numpy(), strict=True):
        assert p == pytest.approx(full[(clicks == row).all(axis=1)].sum(), abs=1e-12)


def test_cudaq_samples_follow_the_exact_distribution(backend):
    circuit = circuit_for((1, 0, 1, 0, 1, 0), (1, 2), True, seed=3)
    shots = 20_000
    hist = backend.sample(circuit, shots)
    assert hist.shots == shots and hist.detection == "pnr"
    assert (hist.patterns.sum(axis=1) == circuit.n_photons).all()
    expected = fock_probabilities(circuit.unitary(), circuit.input_state).numpy()
    observed = np.zeros_like(expected)
    basis = fock_basis(circuit.n_modes, circuit.n_photons)
    index = {tuple(row): i for i, row in enumerate(basis.tolist())}
    for pattern, count in hist.to_dict().items():
        observed[index[pattern]] = count / shots
    tvd = 0.5 * np.abs(observed - expected).sum()
    assert tvd < tvd_bound(expected, shots)


def test_threshold_samples_are_clicks(backend):
    circuit = circuit_for((2, 0, 1), (1,), True)
    hist = backend.sample(circuit, 500, detection="threshold")
    assert hist.detection == "threshold" and hist.shots == 500
    assert hist.patterns.max() <= 1


def test_sample_batch_and_zero_shots(backend):
    circuit = circuit_for((1, 1, 0), (1,), True).with_angles(np.zeros((3, 2)))
    hists = backend.sample_batch(circuit, 50)
    assert [h.shots for h in hists] == [50, 50, 50]
    assert all(h.to_dict() == {(1, 1, 0): 50} for h in hists)  # zero angles: identity
    empty = backend.sample(circuit_for((1, 1, 0), (1,), False), 0)
    assert empty.shots == 0 and empty.n_modes == 3


def test_seed_is_ignored_with_a_warning(backend):
    with pytest.warns(UserWarning, match="not seedable"):
        hist = backend.sample(TBICircuit((1, 0), (1,), [0.0]), 10, seed=1)
    assert hist.to_dict() == {(1, 0): 10}


def test_each_call_selects_its_target(backend):
    """Another target selected in between (as the orca backend does) is no obstacle."""
    cudaq.set_target("qpp-cpu")
    _, probs = backend.probabilities(TBICircuit((1, 1), (1,), [np.pi / 4]))
    assert probs.tolist() == pytest.approx([0.5, 0.0, 0.5], abs=1e-12)
    assert cudaq.get_target().name == "orca-photonics"


def test_refuses_states_too_large_for_a_dense_vector(backend):
    circuit = circuit_for((1, 0) * 5, (1,), False)  # 6^10 = 6.0e7 amplitudes
    with pytest.raises(ValueError, match=r"6\^10 = 60,466,176 amplitudes.*max_amplitudes"):
        backend.probabilities(circuit)
    small = CudaqSimBackend(max_amplitudes=8)
    with pytest.raises(ValueError, match=r"3\^2 = 9 amplitudes"):
        small.sample(TBICircuit((1, 1), (1,), [0.1]), 10)


def test_bad_calls_are_refused(backend):
    batched = TBICircuit((1, 1), (1,), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="use sample_batch"):
        backend.sample(batched, 10)
    with pytest.raises(ValueError, match="detection='clicks'"):
        backend.probabilities(batched, detection="clicks")
    with pytest.raises(ValueError, match="at most 9 photons"):
        backend.sample(TBICircuit((10, 0), (1,), [0.1]), 10)
    with pytest.raises(ValueError, match="shots=-1"):
        backend.sample(TBICircuit((1, 1), (1,), [0.1]), -1)
    with pytest.raises(ValueError, match="max_amplitudes=0"):
        CudaqSimBackend(max_amplitudes=0)


def test_state_indices_are_mixed_radix_with_mode_0_most_significant():
    patterns = np.array([[0, 0, 1], [0, 1, 0], [2, 0, 1]])
    assert state_indices(patterns, 3).tolist() == [1, 3, 19]


def test_count_strings_become_histograms():
    hist = histogram_from_counts({"0200": 3, "1010": 2}, 4)
    assert hist.to_dict() == {(0, 2, 0, 0): 3, (1, 0, 1, 0): 2}
    clicks = histogram_from_counts({"0200": 3, "0100": 1}, 4, "threshold")
    assert clicks.to_dict() == {(0, 1, 0, 0): 4}
    for bad in ("12", "01a0", "0,10"):
        with pytest.raises(ValueError, match="not 4 decimal digits"):
            histogram_from_counts({bad: 1}, 4)
