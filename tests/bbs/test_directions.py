"""BlackBoxSolver(directions=k): the shift rule along random directions, 1 + 2k parameter sets."""

import math
from dataclasses import replace

import numpy as np
import pytest

from qnn.bbs import BBSConfig, BlackBoxSolver
from qnn.nas import N_BITS, SearchConfig, capacity_search, search
from qnn.photonics import get_backend

CONFIG = BBSConfig(max_modes=8, loop_lengths=(1, 2), shots=10)


@pytest.fixture(scope="module")
def backend():
    return get_backend("exact")


def test_a_proposal_samples_the_unshifted_and_plus_minus_sets_of_each_direction(backend):
    solver = BlackBoxSolver(N_BITS, backend, CONFIG, directions=2)
    state = solver.init_state(np.random.default_rng(0))
    proposal = solver.propose(state)
    assert proposal.candidates.shape == (5, 10, N_BITS) and proposal.bits.shape == (50, N_BITS)
    assert proposal.directions.shape == (2, 13) and set(np.unique(proposal.directions)) == {-1, 1}
    assert [label for label, _ in proposal.histograms] == [
        "unshifted", "plus/d0", "plus/d1", "minus/d0", "minus/d1"]
    assert all(h.shots == 10 * 2 for _, h in proposal.histograms)  # 2 tiles per candidate


def test_the_angle_gradient_is_the_directional_shift_rule(backend):
    """Costs 1 on the unshifted set, a on θ + Δδ, b on θ − Δδ: the gradient is
    δ (a − b) / sin 2Δ (the rule along δ), and SGD moves the angles by −lr times it."""
    solver = BlackBoxSolver(N_BITS, backend, CONFIG, directions=1)
    state = solver.init_state(np.random.default_rng(1))
    proposal = solver.propose(state)
    costs = np.concatenate([np.full(10, 1.0), np.full(10, 0.7), np.full(10, 0.3)])
    new, report = solver.update(state, proposal, costs)
    want = proposal.directions[0] * 0.4 / math.sin(2 * CONFIG.shift)
    np.testing.assert_allclose(report.angle_grad, want)
    assert report.evaluations == 30 and report.expected_cost == 1.0
    assert report.best_cost == 0.3 and new.step == 1
    assert CONFIG.optimizer == "sgd"
    np.testing.assert_allclose(new.bs_angles - state.bs_angles, -CONFIG.lr_angles * want)


def test_frozen_angles_fall_back_to_the_unshifted_set(backend):
    solver = BlackBoxSolver(N_BITS, backend, replace(CONFIG, freeze_angles=True), 3)
    base = BlackBoxSolver(N_BITS, backend, replace(CONFIG, freeze_angles=True))
    state = solver.init_state(np.random.default_rng(2))
    ours, theirs = solver.propose(state), base.propose(state)
    np.testing.assert_array_equal(ours.candidates, theirs.candidates)
    assert solver.update(state, ours, np.zeros(10))[1].angle_grad is None


def test_search_with_directions_spends_the_budget_deterministically(backend):
    config = capacity_search(budget=90)
    first = search("photonic", lambda k: k.count("1") / N_BITS, N_BITS, config,
                   np.random.default_rng(3), backend=backend)
    again = search("photonic", lambda k: k.count("1") / N_BITS, N_BITS, config,
                   np.random.default_rng(3), backend=backend)
    assert len(first.keys) == 90 and first.keys == again.keys and first.updates >= 2


@pytest.mark.parametrize("value", [0, 1.5, True])
def test_bad_directions_name_the_field(value):
    with pytest.raises(ValueError, match=f"SearchConfig.directions={value!r}"):
        SearchConfig(directions=value)
    with pytest.raises(ValueError, match=f"directions={value!r} must be None or an integer"):
        BlackBoxSolver(N_BITS, get_backend("exact"), CONFIG, value)
