"""Classical baselines: exact budgets and the optima they should find."""

import numpy as np
import pytest

from qnn.problems import (
    QUBO,
    erdos_renyi_graph,
    hill_climbing,
    maxcut_qubo,
    random_search,
    simulated_annealing,
)

BASELINES = [random_search, hill_climbing, simulated_annealing]


class CountingQUBO(QUBO):
    """A QUBO that counts the bitstrings whose cost it is asked for."""

    def __init__(self, matrix):
        super().__init__(matrix)
        object.__setattr__(self, "counted", 0)

    def energy(self, bits):
        object.__setattr__(self, "counted", self.counted + int(np.prod(np.shape(bits)[:-1])))
        return super().energy(bits)

    def delta_flip(self, bits):
        object.__setattr__(self, "counted", self.counted + np.shape(bits)[-1])
        return super().delta_flip(bits)


@pytest.fixture
def qubo():
    return QUBO(np.random.default_rng(0).integers(-5, 6, (8, 8)).astype(float))


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("budget", [1, 7, 100, 1000])
def test_reported_evaluations_equal_budget(baseline, budget, qubo):
    result = baseline(qubo, budget, rng=1)
    assert result.evaluations == budget
    assert result.best_cost == qubo.energy(result.best_bits)


@pytest.mark.parametrize("baseline", [random_search, hill_climbing])
@pytest.mark.parametrize("budget", [1, 9, 100, 333])
def test_cost_calls_match_budget(baseline, budget, qubo):
    """Counted at the QUBO: one per ``energy`` string, ``n`` per ``delta_flip`` scan."""
    counting = CountingQUBO(qubo.matrix)
    baseline(counting, budget, rng=2)
    assert counting.counted == budget


def test_random_search_with_exhaustive_budget_finds_optimum(qubo):
    _, best = qubo.brute_force()
    assert random_search(qubo, 2**8 * 8, rng=3).best_cost == best


@pytest.mark.parametrize("baseline", [hill_climbing, simulated_annealing])
def test_local_search_finds_maxcut_optimum(baseline):
    qubo = maxcut_qubo(erdos_renyi_graph(14, 0.4, rng=5))
    _, best = qubo.brute_force()
    assert baseline(qubo, 5000, rng=6).best_cost == best


def test_budget_must_be_positive(qubo):
    with pytest.raises(ValueError, match="budget=0"):
        simulated_annealing(qubo, 0, rng=0)
