"""The paper's flip update: SGD on the flip probabilities themselves, clipped to [0, 1]."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from qnn.bbs import BBSConfig, BlackBoxSolver, flip_probabilities, initial_flip_params
from qnn.photonics import get_backend


def test_the_parameters_are_the_probabilities():
    params = initial_flip_params(3, "probability", 0.3)
    np.testing.assert_array_equal(params, [0.3, 0.3, 0.3])
    probs = flip_probabilities(torch.tensor([0.0, 0.25, 1.0]), "probability")
    np.testing.assert_array_equal(probs.numpy(), [0.0, 0.25, 1.0])


def _solver(**overrides) -> BlackBoxSolver:
    cfg = BBSConfig(max_modes=4, loop_lengths=(1,), shots=4, flip_param="probability",
                    flip_gradient="bit_differences", lr_flips=0.05, **overrides)
    return BlackBoxSolver(4, get_backend("exact"), cfg)


def test_a_step_is_plain_sgd_on_p_then_clipped_to_the_unit_interval():
    solver = _solver()
    state = solver.init_state(np.random.default_rng(0))
    state = replace(state, flip_params=np.array([0.5, 0.5, 0.0, 1.0]))
    rng = state.rng()
    slopes = np.array([2.0, -4.0, -6.0, 30.0])  # dE/dp per bit
    new = solver.sampler.advance(state, None, slopes, None, math.inf, rng, {
        "expected_cost": 0.0, "best_cost": math.inf, "click_rate": 0.0, "evaluations": 0})
    # 0.5 - 0.05*2, 0.5 + 0.05*4, 0 + 0.05*6, and 1 - 0.05*30 = -0.5 clipped to 0
    np.testing.assert_allclose(new.flip_params, [0.4, 0.7, 0.3, 0.0])


def test_at_p_zero_the_probability_keeps_the_slope_where_an_angle_loses_it():
    """The gradient of ``p · slope`` at p = 0: the slope itself for SGD on p, so a flip the
    slope now favours leaves the bound; zero for ORCA's angle (p = (1 − cos α)/2 at α = 0),
    which therefore never leaves it."""
    slope = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    at_zero = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    grads = {kind: torch.autograd.grad((flip_probabilities(at_zero, kind) * slope).sum(),
                                       at_zero)[0].tolist() for kind in ("probability", "angle")}
    assert grads == {"probability": [-1.0, 2.0], "angle": [0.0, 0.0]}


def test_the_paper_update_moves_p_off_zero_in_a_real_step():
    """End to end through propose/update: every bit starts at p = 0 and the cost rewards
    bit 0 being on, so its measured slope is negative and its p rises."""
    solver = _solver(freeze_angles=True, init_flip=0.5)
    state = solver.init_state(np.random.default_rng(2))
    state = replace(state, flip_params=np.zeros(4))
    proposal = solver.propose(state)
    costs = -proposal.bits[:, 0].astype(float)  # C = −x_0
    state, _ = solver.update(state, proposal, costs)
    assert state.flip_params[0] > 0.0
    np.testing.assert_array_equal(state.flip_params[1:], 0.0)  # no slope, no move, no clip


def test_the_score_function_cannot_train_p_on_its_bounds_so_the_pair_is_refused():
    cfg = BBSConfig(max_modes=4, loop_lengths=(1,), flip_param="probability")
    with pytest.raises(ValueError, match="flip_gradient='bit_differences'"):
        BlackBoxSolver(4, get_backend("exact"), cfg)


def test_an_unknown_parametrisation_names_the_field_and_the_choices():
    with pytest.raises(ValueError, match=r"flip_param='prob'.*'probability'"):
        BBSConfig(flip_param="prob")
