"""Closed forms of the BBS objective, tiling, the random-clicks control, the shift rule's bias."""

import itertools
import math

import numpy as np
import pytest
import torch

from qnn.bbs import (
    BBSConfig,
    BBSSolver,
    exact_expected_cost,
    flip_marginals,
    random_clicks,
    sample_costs,
    shift_gradient,
    shifted_angle_sets,
    tile_candidates,
)
from qnn.photonics import get_backend
from qnn.problems import QUBO


def random_qubo(n, seed):
    rng = np.random.default_rng(seed)
    return QUBO(rng.normal(size=(n, n)), offset=rng.normal())


def click_distribution(solver, angles):
    patterns, probs = get_backend("exact").probabilities(solver.circuit(angles), "threshold")
    return patterns, probs


def test_flip_marginals_are_the_xor_probabilities():
    clicks = torch.tensor([0.0, 1.0, 0.0, 1.0])
    p = torch.tensor([0.2, 0.2, 0.9, 0.9], dtype=torch.float64)
    assert torch.allclose(flip_marginals(clicks, p), torch.tensor([0.2, 0.8, 0.9, 0.1]).double())


def test_closed_form_matches_enumerating_every_flip():
    qubo, rng = random_qubo(5, 1), np.random.default_rng(2)
    y, p = rng.integers(0, 2, 5), rng.uniform(size=5)
    brute = 0.0
    for b in itertools.product((0, 1), repeat=5):
        weight = np.prod(np.where(np.array(b) == 1, p, 1 - p))
        brute += weight * qubo.energy(y ^ np.array(b))
    got = sample_costs(qubo, torch.as_tensor(y, dtype=torch.float64), torch.as_tensor(p))
    assert float(got) == pytest.approx(brute, abs=1e-12)


def test_exact_cost_of_one_tile_is_the_pattern_average():
    qubo = random_qubo(6, 3)
    solver = BBSSolver(qubo, get_backend("exact"), BBSConfig(loop_lengths=(1, 3)))
    patterns, probs = click_distribution(solver, np.random.default_rng(4).uniform(0, 6, 8))
    p = torch.as_tensor(np.random.default_rng(5).uniform(size=6))
    per_pattern = probs @ sample_costs(qubo, patterns.double(), p)
    assert float(exact_expected_cost(qubo, patterns, probs, p)) == pytest.approx(
        float(per_pattern), abs=1e-12
    )


def test_exact_cost_of_two_tiles_enumerates_independent_tile_pairs():
    """7 bits on 4 modes: candidates are two independent tiles, the second cut to 3 bits."""
    qubo = random_qubo(7, 6)
    solver = BBSSolver(qubo, get_backend("exact"), BBSConfig(loop_lengths=(1,), max_modes=4))
    assert (solver.n_modes, solver.n_tiles) == (4, 2)
    patterns, probs = click_distribution(solver, np.random.default_rng(7).uniform(0, 6, 3))
    p = torch.as_tensor(np.random.default_rng(8).uniform(size=7))
    brute = 0.0
    for (y1, w1), (y2, w2) in itertools.product(zip(patterns, probs, strict=True), repeat=2):
        y = torch.cat([y1, y2[:3]]).double()
        brute += float(w1 * w2 * sample_costs(qubo, y, p))
    got = exact_expected_cost(qubo, patterns, probs, p)
    assert float(got) == pytest.approx(brute, abs=1e-12)
    rates = (probs @ patterns.double()).repeat(2)[:7]
    independent = exact_expected_cost(qubo, patterns, probs, p, independent=True)
    assert float(independent) == pytest.approx(float(sample_costs(qubo, rates, p)), abs=1e-12)


def test_tiles_are_consecutive_samples_cut_to_n_bits():
    samples = np.arange(6 * 4).reshape(6, 4) % 2
    candidates = tile_candidates(samples, 10)
    assert candidates.shape == (2, 10)
    assert np.array_equal(candidates[1], np.concatenate(samples[3:6])[:10])
    with pytest.raises(ValueError, match="tiles"):
        tile_candidates(samples[:5], 10)


def test_random_clicks_keep_rates_and_drop_correlations():
    rng, n = np.random.default_rng(9), 20_000
    first = rng.random(n) < 0.3
    samples = np.stack([first, first, ~first, rng.random(n) < 0.8], axis=1).astype(np.uint8)
    fake = random_clicks(samples, rng)
    rates = samples.mean(0)
    sigma = np.sqrt(rates * (1 - rates) / n)
    assert np.all(np.abs(fake.mean(0) - rates) < 5 * sigma)
    off = ~np.eye(4, dtype=bool)
    bound = 5 * np.sqrt(np.outer(rates * (1 - rates), rates * (1 - rates)) / n)
    assert np.all(np.abs(np.cov(fake.T))[off] < bound[off])
    assert abs(np.corrcoef(samples.T)[0, 1]) == pytest.approx(1.0)


def exact_shift_terms(solver, qubo, angles, p, shift):
    """Exact ``f`` at every parameter set of the shift rule, from exact click probabilities."""
    sets = shifted_angle_sets(angles, shift)
    return np.array([
        float(exact_expected_cost(qubo, *click_distribution(solver, row), p)) for row in sets
    ])


def autograd_gradient(solver, qubo, angles, p):
    theta = torch.tensor(angles, requires_grad=True)
    value = exact_expected_cost(qubo, *click_distribution(solver, theta), p)
    return torch.autograd.grad(value, theta)[0].numpy()


def test_two_term_rule_with_sin_2delta_is_exact_for_one_photon():
    """Two bits: input (1, 0), one photon, so f(θ) only holds the 2θ harmonic."""
    qubo = random_qubo(2, 10)
    solver = BBSSolver(qubo, get_backend("exact"), BBSConfig(loop_lengths=(1,)))
    angles, p = np.array([0.7]), torch.tensor([0.3, 0.6], dtype=torch.float64)
    shift = math.pi / 6
    rule = shift_gradient(exact_shift_terms(solver, qubo, angles, p, shift), math.sin(2 * shift))
    assert rule == pytest.approx(autograd_gradient(solver, qubo, angles, p), abs=1e-12)


def test_two_term_rule_bias_with_two_photons_is_the_fourier_prediction():
    """Four bits, two photons: f along θ_j has harmonics 0, 2θ, 4θ only. The rule returns
    ``d₂ + d₄ · sin(4Δ) / (2 sin 2Δ)`` (``d_k`` the slope of harmonic ``k``), not ``d₂ + d₄``:
    biased by half the 4θ slope at Δ = π/6. ``gradient="exact"`` has no such bias."""
    qubo = random_qubo(4, 11)
    solver = BBSSolver(qubo, get_backend("exact"), BBSConfig(loop_lengths=(1,)))
    angles = np.random.default_rng(12).uniform(0, 2 * np.pi, 3)
    p = torch.as_tensor(np.random.default_rng(13).uniform(size=4))
    shift = math.pi / 6
    rule = shift_gradient(exact_shift_terms(solver, qubo, angles, p, shift), math.sin(2 * shift))
    grad = autograd_gradient(solver, qubo, angles, p)
    ts = np.linspace(0, np.pi, 9, endpoint=False)
    basis = np.stack([np.ones_like(ts), np.cos(2 * ts), np.sin(2 * ts),
                      np.cos(4 * ts), np.sin(4 * ts)], axis=1)
    for j in range(3):
        values = []
        for t in ts:
            row = angles.copy()
            row[j] += t
            values.append(float(exact_expected_cost(qubo, *click_distribution(solver, row), p)))
        coef, *_ = np.linalg.lstsq(basis, np.array(values), rcond=None)
        assert basis @ coef == pytest.approx(values, abs=1e-10)  # degree <= 2N = 4 in θ
        slope2, slope4 = 2 * coef[2], 4 * coef[4]  # d/dt at t = 0
        assert grad[j] == pytest.approx(slope2 + slope4, abs=1e-9)
        weight = math.sin(4 * shift) / (2 * math.sin(2 * shift))
        assert weight == pytest.approx(0.5)
        assert rule[j] == pytest.approx(slope2 + weight * slope4, abs=1e-9)
    assert np.max(np.abs(rule - grad)) > 1e-2 * np.max(np.abs(grad))  # the bias is not negligible
