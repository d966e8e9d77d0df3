"""Clifford & Clifford sampler and Glynn permanent against brute-force references."""

import itertools
import math

import numba
import numpy as np
import pytest
from scipy.stats import unitary_group

from qnn.photonics.clifford import clifford_sample, permanent


def brute_permanent(a):
    n = a.shape[0]
    return sum(
        math.prod(a[i, p[i]] for i in range(n)) for p in itertools.permutations(range(n))
    ) if n else 1.0


def exact_distribution(unitary, input_state):
    """``{pattern: |Per(U[rows, cols])|^2 / (prod n_i! prod m_j!)}`` over every pattern."""
    n_modes = len(input_state)
    cols = np.repeat(np.arange(n_modes), input_state)
    norm_in = math.prod(math.factorial(m) for m in input_state)
    probs = {}
    for rows in itertools.combinations_with_replacement(range(n_modes), len(cols)):
        pattern = np.bincount(rows, minlength=n_modes)
        amp = brute_permanent(unitary[np.ix_(rows, cols)])
        probs[tuple(pattern.tolist())] = abs(amp) ** 2 / (
            norm_in * math.prod(math.factorial(n) for n in pattern)
        )
    return probs


def total_variation(samples, probs):
    patterns, counts = np.unique(samples, axis=0, return_counts=True)
    empirical = {tuple(p.tolist()): c / len(samples) for p, c in zip(patterns, counts, strict=True)}
    assert set(empirical) <= set(probs)
    return 0.5 * sum(abs(empirical.get(key, 0.0) - p) for key, p in probs.items())


def beam_splitter_chain(n_modes, rng):
    """Nearest-neighbour beam splitters (one time-bin loop): exact zeros above the band."""
    u = np.eye(n_modes, dtype=complex)
    for i in range(n_modes - 1):
        theta, phi = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        bs = np.eye(n_modes, dtype=complex)
        bs[i, i], bs[i, i + 1] = np.cos(theta) * np.exp(1j * phi), np.sin(theta)
        bs[i + 1, i], bs[i + 1, i + 1] = -np.sin(theta) * np.exp(1j * phi), np.cos(theta)
        u = bs @ u
    return u


HADAMARD_BS = np.array([[1, 1], [1, -1]]) / np.sqrt(2)


def embed(block, n_modes):
    u = np.eye(n_modes, dtype=complex)
    u[: len(block), : len(block)] = block
    return u


CASES = {
    "haar 4 modes, 2 photons": (unitary_group.rvs(4, random_state=1), [1, 0, 1, 0]),
    "haar 5 modes, 3 photons": (unitary_group.rvs(5, random_state=2), [1, 1, 0, 1, 0]),
    "two photons in one mode": (unitary_group.rvs(4, random_state=3), [2, 1, 0, 0]),
    "three photons in one mode": (unitary_group.rvs(3, random_state=4), [0, 3, 0]),
    "structural zeros": (beam_splitter_chain(5, np.random.default_rng(5)), [1, 0, 1, 0, 1]),
}


def test_permanent_matches_brute_force():
    rng = np.random.default_rng(0)
    for n in range(1, 7):
        a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        assert permanent(a) == pytest.approx(brute_permanent(a), rel=1e-10, abs=1e-12)


def test_permanent_of_all_ones_is_factorial():
    for n in range(0, 9):
        assert permanent(np.ones((n, n))) == pytest.approx(math.factorial(n), rel=1e-12)


def test_permanent_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        permanent(np.ones((2, 3)))


def test_hong_ou_mandel_never_gives_coincidences():
    u = embed(HADAMARD_BS, 4)
    samples = clifford_sample(u, [1, 1, 0, 0], 20_000, rng=np.random.default_rng(0))
    coincidences = np.all(samples[:, :2] == 1, axis=1)
    assert not coincidences.any()
    assert set(map(tuple, samples.tolist())) == {(2, 0, 0, 0), (0, 2, 0, 0)}
    assert abs(np.mean(samples[:, 0] == 2) - 0.5) < 0.02


@pytest.mark.parametrize("case", sorted(CASES))
def test_empirical_distribution_matches_exact(case):
    unitary, input_state = CASES[case]
    probs = exact_distribution(unitary, input_state)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
    shots = 100_000
    samples = clifford_sample(unitary, input_state, shots, rng=np.random.default_rng(11))
    # E[TVD] <= 0.5 * sum_i sqrt(p_i / shots) <= 0.5 * sqrt(S / shots) by Cauchy-Schwarz.
    assert total_variation(samples, probs) < np.sqrt(len(probs) / shots)


def test_total_variation_shrinks_with_shots():
    unitary, input_state = CASES["haar 5 modes, 3 photons"]
    probs = exact_distribution(unitary, input_state)
    few = total_variation(clifford_sample(unitary, input_state, 1_000,
                                          rng=np.random.default_rng(1)), probs)
    many = total_variation(clifford_sample(unitary, input_state, 100_000,
                                           rng=np.random.default_rng(1)), probs)
    assert many < few / 4  # ~ 1 / sqrt(shots): a factor 10 expected


def test_same_seed_same_samples_and_photon_number_is_conserved():
    unitary = unitary_group.rvs(12, random_state=7)
    state = [1, 0] * 6
    first = clifford_sample(unitary, state, 500, rng=np.random.default_rng(42))
    again = clifford_sample(unitary, state, 500, rng=np.random.default_rng(42))
    other = clifford_sample(unitary, state, 500, rng=np.random.default_rng(43))
    assert first.shape == (500, 12) and first.dtype == np.int64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert (first.sum(axis=1) == 6).all() and (first >= 0).all()


@pytest.mark.parametrize("n_threads", [1, 3])
def test_samples_do_not_depend_on_the_thread_count(monkeypatch, n_threads):
    unitary = unitary_group.rvs(10, random_state=8)
    state = [1, 1, 0, 2, 0, 0, 1, 0, 0, 0]
    default = clifford_sample(unitary, state, 1_000, rng=np.random.default_rng(5))
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", n_threads)
    np.testing.assert_array_equal(
        clifford_sample(unitary, state, 1_000, rng=np.random.default_rng(5)), default)


def test_single_precision_unitary_is_accepted():
    unitary = unitary_group.rvs(6, random_state=9)
    state = [1, 0, 1, 0, 1, 0]
    low = clifford_sample(unitary.astype(np.complex64), state, 100, rng=np.random.default_rng(2))
    assert (low.sum(axis=1) == 3).all()


def test_no_photons_or_no_shots():
    unitary = unitary_group.rvs(3, random_state=0)
    zeros = clifford_sample(unitary, [0, 0, 0], 4, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(zeros, np.zeros((4, 3), dtype=np.int64))
    assert clifford_sample(unitary, [1, 0, 0], 0, rng=np.random.default_rng(0)).shape == (0, 3)


@pytest.mark.parametrize(
    ("unitary", "state", "shots", "match"),
    [
        (np.eye(3)[:2], [1, 0], 1, "unitary must be a square"),
        (2 * np.eye(2), [1, 0], 1, "not unitary"),
        (np.eye(3), [1, 0], 1, "input_state must have one occupation per mode"),
        (np.eye(2), [1, -1], 1, "non-negative"),
        (np.eye(2), [0.5, 0], 1, "integers"),
        (np.eye(2), [1, 0], -1, "shots must be non-negative, got -1"),
        (np.eye(2), [1, 0], 2.5, "shots must be an integer"),
    ],
)
def test_bad_arguments_raise(unitary, state, shots, match):
    with pytest.raises(ValueError, match=match):
        clifford_sample(unitary, state, shots, rng=np.random.default_rng(0))
