"""The solver's gradients: shift-rule sample estimates, analytic flips, exact autograd."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from qnn.bbs import (
    BBSConfig,
    BBSSolver,
    BlackBoxSolver,
    exact_expected_cost,
    flip_probabilities,
    mean_binary_entropy,
    sample_costs,
    shift_gradient,
    shifted_angle_sets,
)
from qnn.photonics import get_backend
from qnn.problems import QUBO


def random_qubo(n, seed):
    return QUBO(np.random.default_rng(seed).normal(size=(n, n)))


def test_shift_estimate_agrees_with_the_exact_two_term_rule_within_sampling_error():
    """4 bits, loops [1]: the sampled rule's mean is the two-term rule on exact f(θ ± Δ).

    Each f is a mean of S i.i.d. ``e(y) = E_b C(y XOR b)``, so its variance is
    ``Var_y e / S``, computed exactly here from the click distribution.
    """
    qubo, shots = random_qubo(4, 0), 20_000
    backend = get_backend("exact")
    cfg = BBSConfig(loop_lengths=(1,), shots=shots, init_flip=0.3)
    solver = BBSSolver(qubo, backend, cfg)
    state = solver.init_state(np.random.default_rng(1))
    _, report = solver.step(state)
    p = flip_probabilities(torch.as_tensor(state.flip_params), cfg.flip_param)
    means, variances = [], []
    for row in shifted_angle_sets(state.bs_angles, cfg.shift):
        patterns, probs = backend.probabilities(solver.circuit(row), "threshold")
        e = sample_costs(qubo, patterns.double(), p)
        means.append(float(probs @ e))
        variances.append(float(probs @ e**2) - means[-1] ** 2)
        assert means[-1] == pytest.approx(float(exact_expected_cost(qubo, patterns, probs, p)))
    expected = shift_gradient(np.array(means), cfg.shift_denominator)
    var = np.array(variances) / shots
    n_bs = solver.n_bs
    sigma = np.sqrt(var[1 : 1 + n_bs] + var[1 + n_bs :]) / cfg.shift_denominator
    assert report.angle_grad.shape == (n_bs,)
    assert np.all(np.abs(report.angle_grad - expected) < 5 * sigma)
    assert np.all(sigma < 0.05 * np.max(np.abs(expected)) + 1e-3)  # the check has teeth


@pytest.mark.parametrize("flip_param", ["angle", "logit"])
def test_flip_gradient_is_the_derivative_of_the_closed_form(flip_param):
    """d/dφ of mean_y E_b C(y XOR b) + λ·H, over the step's own unshifted samples."""
    qubo = random_qubo(6, 2)
    cfg = BBSConfig(loop_lengths=(1, 3), shots=40, init_flip=0.3, entropy_penalty=0.7,
                    flip_param=flip_param, flip_gradient="closed_form")
    solver = BBSSolver(qubo, get_backend("exact"), cfg)
    state = solver.init_state(np.random.default_rng(3))
    state = solver.step(state)[0]  # move off the uniform initial flips
    _, report = solver.step(state)
    hist = dict(report.histograms)["unshifted"]
    clicks = torch.as_tensor(np.repeat(hist.patterns, hist.counts, axis=0), dtype=torch.float64)

    def loss(params):
        probs = flip_probabilities(torch.as_tensor(params), flip_param)
        value = sample_costs(qubo, clicks, probs).mean()
        return float(value + cfg.entropy_penalty * mean_binary_entropy(probs))

    h, fd = 1e-6, np.zeros(6)
    for i in range(6):
        step = np.eye(6)[i] * h
        fd[i] = (loss(state.flip_params + step) - loss(state.flip_params - step)) / (2 * h)
    assert report.flip_grad == pytest.approx(fd, rel=1e-6, abs=1e-8)
    assert report.expected_cost == pytest.approx(
        loss(state.flip_params) - cfg.entropy_penalty * float(
            mean_binary_entropy(flip_probabilities(torch.as_tensor(state.flip_params),
                                                   flip_param))), abs=1e-12)


@pytest.mark.parametrize("max_modes", [30, 4])
def test_exact_gradient_is_the_derivative_of_the_exact_objective(max_modes):
    """gradient='exact': autograd through the click distribution (one tile, then two)."""
    qubo = random_qubo(7, 4)
    backend = get_backend("exact")
    cfg = BBSConfig(loop_lengths=(1, 3), gradient="exact", shots=10, init_flip=0.4,
                    max_modes=max_modes)
    solver = BBSSolver(qubo, backend, cfg)
    state = solver.init_state(np.random.default_rng(5))
    _, report = solver.step(state)
    p = flip_probabilities(torch.as_tensor(state.flip_params), cfg.flip_param)

    def objective(angles):
        patterns, probs = backend.probabilities(solver.circuit(angles), "threshold")
        return float(exact_expected_cost(qubo, patterns, probs, p))

    h = 1e-6
    fd = [(objective(state.bs_angles + h * e) - objective(state.bs_angles - h * e)) / (2 * h)
          for e in np.eye(solver.n_bs)]
    assert report.angle_grad == pytest.approx(fd, rel=1e-5, abs=1e-7)
    assert report.expected_cost == pytest.approx(objective(state.bs_angles), abs=1e-12)
    assert dict(report.histograms)["unshifted"].shots == cfg.shots * solver.n_tiles
    assert math.isfinite(report.best_cost)


@pytest.mark.parametrize("solver_kind", ["qubo", "black_box"])
def test_the_papers_flip_gradient_is_unbiased_for_the_closed_form_slope(solver_kind):
    """E[C] is linear in each p_i, with slope E[C(b_i = 1) − C(b_i = 0)]. On a QUBO the
    candidates' one-flip differences are read off the QUBO; on a black box (the same QUBO
    behind a cost function) both costs are evaluated. With the clicks fixed by the
    histogram the closed-form slope is exact, so each estimate agrees with it within the
    sampling error of the flip draws."""
    qubo = random_qubo(6, 5)
    cfg = BBSConfig(loop_lengths=(1, 3), shots=20_000, init_flip=0.3, flip_param="logit",
                    freeze_angles=True)
    if solver_kind == "qubo":
        solver = BBSSolver(qubo, get_backend("exact"), cfg)
        _, report = solver.step(solver.init_state(np.random.default_rng(8)))
        evaluations = cfg.shots + cfg.shots + 6 * cfg.shots
    else:
        cfg = replace(cfg, flip_gradient="bit_differences")
        solver = BlackBoxSolver(6, get_backend("exact"), cfg)
        _, report = solver.step(solver.init_state(np.random.default_rng(8)), qubo.energy)
        evaluations = cfg.shots + 2 * 6 * cfg.shots
    hist = dict(report.histograms)["unshifted"]
    clicks = torch.as_tensor(np.repeat(hist.patterns, hist.counts, axis=0), dtype=torch.float64)
    probs = torch.full((6,), 0.3, dtype=torch.float64, requires_grad=True)
    slope = torch.autograd.grad(sample_costs(qubo, clicks, probs).mean(), probs)[0].numpy()
    chain = 0.3 * 0.7  # dp/dz of the logit parametrisation
    # one-flip differences are bounded by the row sums of |Q|: a loose but honest 5 sigma
    bound = 5 * np.abs(qubo.matrix + qubo.matrix.T).sum(1) / np.sqrt(cfg.shots)
    assert np.all(np.abs(report.flip_grad / chain - slope) < bound)
    assert report.evaluations == evaluations


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_at_flip_probability_one_half_the_circuit_has_no_gradient(seed):
    """At p = 1/2 every candidate y XOR b is uniform whatever the clicks y, so the expected
    cost does not depend on the circuit: the exact angle gradient vanishes for any cost
    (here random QUBOs), which is why BBS starts out as random search. At p = 0.4 it does
    not vanish: the test can tell the two apart."""
    qubo = random_qubo(8, seed)
    backend = get_backend("exact")
    grads = {}
    for init_flip in (0.5, 0.4):
        cfg = BBSConfig(loop_lengths=(1, 3), gradient="exact", shots=10, init_flip=init_flip)
        solver = BBSSolver(qubo, backend, cfg)
        _, report = solver.step(solver.init_state(np.random.default_rng(seed)))
        grads[init_flip] = np.abs(report.angle_grad).max()
    assert grads[0.5] < 1e-12 < 1e-3 < grads[0.4]
