"""Bosonic Binary Solver (BBS): QUBO minimisation with TBI click samples and trainable flips."""

from .blackbox import BlackBoxSolver
from .config import BBSConfig
from .estimators import (
    exact_expected_cost,
    flip_marginals,
    random_clicks,
    sample_costs,
    shift_gradient,
    shifted_angle_sets,
    tile_candidates,
)
from .flips import flip_probabilities, initial_flip_params, mean_binary_entropy
from .sampler import ClickSampler
from .solver import BBSSolver
from .state import BBSResult, BBSState, StepReport

__all__ = [
    "BBSConfig", "BBSResult", "BBSSolver", "BBSState", "BlackBoxSolver", "ClickSampler",
    "StepReport", "exact_expected_cost",
    "flip_marginals", "flip_probabilities", "initial_flip_params", "mean_binary_entropy",
    "random_clicks", "sample_costs", "shift_gradient", "shifted_angle_sets", "tile_candidates",
]
