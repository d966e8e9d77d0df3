"""Black-box baselines: every evaluation counted, the budget spent exactly, optima found."""

import itertools

import numpy as np
import pytest

from qnn.problems import QUBO, random_knapsack
from qnn.problems.blackbox_baselines import (
    CountedCost,
    hill_climbing,
    random_search,
    simulated_annealing,
)
from qnn.problems.knapsack import penalty_cost, penalty_optimum

BASELINES = [random_search, hill_climbing, simulated_annealing]


class Recorder:
    """A batched black-box cost that records every string it is asked for."""

    def __init__(self, cost):
        self.cost, self.calls, self.strings = cost, 0, []

    def __call__(self, bits):
        self.calls += 1
        self.strings += [tuple(int(b) for b in row) for row in np.asarray(bits)]
        return self.cost(bits)


@pytest.fixture
def qubo():
    return QUBO(np.random.default_rng(0).integers(-5, 6, (8, 8)).astype(float))


def ones_count(bits):
    """Cost = number of ones: the all-zero string is the unique optimum, no local minima."""
    return np.asarray(bits).sum(axis=1).astype(float)


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("budget", [1, 2, 7, 9, 100, 1001])
def test_every_row_scored_is_counted_and_the_budget_is_spent_exactly(baseline, budget, qubo):
    recorder = Recorder(qubo.energy)
    result = baseline(recorder, 8, budget, rng=1)
    assert len(recorder.strings) == budget == result.evaluations
    assert result.best_cost == qubo.energy(result.best_bits)
    # the best of every string scored, not only of those moved to
    assert result.best_cost == min(qubo.energy(np.array(recorder.strings)))


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_generous_budget_finds_the_brute_force_optimum(baseline, qubo):
    _, best = qubo.brute_force()
    assert baseline(qubo.energy, 8, 20_000, rng=2).best_cost == best


@pytest.mark.parametrize("baseline", [hill_climbing, simulated_annealing])
def test_local_search_solves_a_convex_landscape_far_below_random_search_budgets(baseline):
    # 40 bits: random search would need ~2^40 strings; one descent needs at most 41 scans
    result = baseline(ones_count, 40, 40 * 41 + 1 if baseline is hill_climbing else 40 * 400,
                      rng=3)
    assert result.best_cost == 0.0


def test_hill_climbing_scans_all_neighbours_in_one_call_and_moves_to_the_best():
    recorder = Recorder(ones_count)
    hill_climbing(recorder, 6, 1 + 6 * 3, rng=4)
    # one start, then three scans of 6 one-flip neighbours, one call each
    assert recorder.calls == 4
    start, scan = np.array(recorder.strings[0]), np.array(recorder.strings[1:7])
    assert ((scan != start).sum(axis=1) == 1).all() and len(set(map(tuple, scan))) == 6
    # ones_count: the best neighbour drops a one, so the next scan is around one fewer one
    assert sum(recorder.strings[7]) in (sum(start) - 2, sum(start))


def test_annealing_runs_its_chains_as_batches():
    recorder = Recorder(ones_count)
    simulated_annealing(recorder, 10, 4 * 25 + 3, rng=5, chains=4)
    # 4 starts, 24 full steps of 4 chains, one last step of the 3 left over
    sizes = [4] + [4] * 24 + [3]
    assert recorder.calls == len(sizes) and len(recorder.strings) == sum(sizes)


def test_annealing_at_a_fixed_cold_temperature_never_goes_uphill():
    recorder = Recorder(ones_count)
    simulated_annealing(recorder, 12, 1 + 300, rng=6, chains=1, beta_range=(1e6, 1e6))
    # with one chain each proposal is the current string with one bit flipped; after an
    # uphill proposal (rejected) the next proposal flips from the same, lower string
    current = sum(recorder.strings[0])
    for proposal in recorder.strings[1:]:
        assert abs(sum(proposal) - current) == 1
        current = min(current, sum(proposal))


@pytest.mark.parametrize("seed", range(3))
def test_penalty_knapsack_baselines_return_feasible_optima_at_the_full_budget(seed):
    instance = random_knapsack(10, rng=seed, max_weight=20)
    _, best = penalty_optimum(instance)
    for baseline in BASELINES:
        result = baseline(lambda bits: penalty_cost(instance, bits), 10, 20_000, rng=seed)
        assert result.best_cost == best
        assert np.dot(result.best_bits, instance.weights) <= instance.capacity


def test_counted_cost_refuses_to_pass_the_budget_and_wrong_shapes():
    counted = CountedCost(ones_count, 4, 3)
    counted(np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="2 evaluations asked with 1 left of the budget 3"):
        counted(np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"expected \(batch, 4\)"):
        counted(np.zeros((1, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="cost returned shape"):
        CountedCost(lambda b: np.zeros(7), 4, 10)(np.zeros((2, 4), dtype=np.uint8))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"budget": 0}, "budget=0 must be a positive integer"),
    ({"budget": 2.5}, "budget=2.5 must be a positive integer"),
    ({"chains": 0}, "chains=0 must be a positive integer"),
    ({"beta_range": (2.0, 1.0)}, r"beta_range=\(2.0, 1.0\) must satisfy"),
])
def test_bad_arguments_are_refused_in_one_line(kwargs, message):
    args = {"budget": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        simulated_annealing(ones_count, 4, args.pop("budget"), rng=0, **args)


def test_random_search_with_exhaustive_budget_finds_every_string_often():
    recorder = Recorder(ones_count)
    random_search(recorder, 4, 400, rng=7)
    assert set(recorder.strings) == set(itertools.product((0, 1), repeat=4))
