"""The BBS sampler on a black-box cost (what NAS uses), checked against the QUBO solver."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from qnn.bbs import BBSConfig, BBSSolver, BlackBoxSolver, exact_expected_cost, flip_probabilities
from qnn.photonics import get_backend
from qnn.problems import QUBO


def maxcut(n_nodes: int, seed: int) -> QUBO:
    rng = np.random.default_rng(seed)
    matrix = np.zeros((n_nodes, n_nodes))
    for i in range(n_nodes):
        for j in range(i + 1, n_nodes):
            if rng.random() < 0.5:
                matrix[i, i] -= 1.0
                matrix[j, j] -= 1.0
                matrix[i, j] += 2.0
    return QUBO(matrix)


def test_black_box_and_qubo_solvers_draw_the_same_click_samples():
    """One sampler: for the same state both solvers sample identical histograms."""
    qubo, backend = maxcut(6, 0), get_backend("exact")
    cfg = BBSConfig(loop_lengths=(1, 2), max_modes=4, shots=10)
    box, bbs = BlackBoxSolver(6, backend, cfg), BBSSolver(qubo, backend, cfg)
    state = bbs.init_state(np.random.default_rng(3))
    assert box.sampler.n_bs == bbs.n_bs and box.sampler.n_tiles == bbs.n_tiles == 2
    proposal = box.propose(state)
    _, report = bbs.step(state)
    assert [label for label, _ in proposal.histograms] == [label for label, _ in report.histograms]
    for (_, ours), (_, theirs) in zip(proposal.histograms, report.histograms, strict=True):
        np.testing.assert_array_equal(ours.patterns, theirs.patterns)
        np.testing.assert_array_equal(ours.counts, theirs.counts)
    assert proposal.candidates.shape == (1 + 2 * bbs.n_bs, 10, 6)


@pytest.mark.parametrize("flip_param", ["logit", "angle"])
def test_score_function_flip_gradient_is_unbiased(flip_param):
    """Frozen angles: the mean of the sampled flip gradient over many independent updates
    from one state matches autograd of the exact E_y E_b C (within 4.5 standard errors)."""
    qubo, backend = maxcut(6, 1), get_backend("exact")
    cfg = BBSConfig(loop_lengths=(1,), max_modes=6, shots=16, freeze_angles=True,
                    flip_param=flip_param, init_flip=0.3)
    solver = BlackBoxSolver(6, backend, cfg)
    state = solver.init_state(np.random.default_rng(0))
    state = replace(state, flip_params=state.flip_params + np.linspace(-0.4, 0.4, 6))
    grads = []
    for i in range(300):
        trial = replace(state, rng_state=np.random.default_rng(100 + i).bit_generator.state)
        proposal = solver.propose(trial)
        _, report = solver.update(trial, proposal, qubo.energy(proposal.bits))
        assert report.angle_grad is None and report.evaluations == 16
        grads.append(report.flip_grad)
    grads = np.array(grads)
    params = torch.tensor(state.flip_params, requires_grad=True)
    patterns, probs = backend.probabilities(solver.sampler.circuit(state.bs_angles), "threshold")
    value = exact_expected_cost(qubo, patterns, probs.detach(),
                                flip_probabilities(params, flip_param))
    exact = torch.autograd.grad(value, params)[0].numpy()
    error = np.abs(grads.mean(axis=0) - exact)
    assert np.all(error < 4.5 * grads.std(axis=0) / np.sqrt(len(grads)) + 1e-9)
    assert np.abs(exact).max() > 5 * (grads.std(axis=0) / np.sqrt(len(grads))).max()


def test_black_box_solver_minimises_a_qubo_and_resumes_bit_identically():
    qubo, backend = maxcut(8, 2), get_backend("exact")
    _, optimum = qubo.brute_force()
    cfg = BBSConfig(loop_lengths=(1, 2), max_modes=8, shots=8, updates=40, optimizer="adam",
                    lr_angles=0.05, lr_flips=0.2, flip_param="logit")
    solver = BlackBoxSolver(8, backend, cfg)
    start = solver.init_state(np.random.default_rng(5))
    result = solver.run(start, qubo.energy)
    assert result.best_cost == pytest.approx(optimum)
    assert qubo.energy(result.best_bits) == pytest.approx(result.best_cost)
    assert result.evaluations == 40 * 8 * (1 + 2 * solver.sampler.n_bs)
    half = solver.run(start, qubo.energy, until=20).state
    resumed = solver.run(type(half).from_dict(half.to_dict()), qubo.energy)
    np.testing.assert_array_equal(resumed.state.flip_params, result.state.flip_params)
    np.testing.assert_array_equal(resumed.state.bs_angles, result.state.bs_angles)


@pytest.mark.parametrize(("field", "value"), [("gradient", "exact"),
                                              ("flip_gradient", "closed_form")])
def test_black_box_refuses_estimators_that_need_a_closed_form(field, value):
    with pytest.raises(ValueError, match=f"BBSConfig.{field}='{value}'"):
        BlackBoxSolver(6, get_backend("exact"), BBSConfig(**{field: value}))


def test_costs_of_the_wrong_size_are_refused():
    solver = BlackBoxSolver(6, get_backend("exact"), BBSConfig(max_modes=6, shots=2))
    state = solver.init_state(np.random.default_rng(0))
    proposal = solver.propose(state)
    with pytest.raises(ValueError, match="costs has 3 values for"):
        solver.update(state, proposal, np.zeros(3))
