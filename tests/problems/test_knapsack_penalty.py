"""The black-box knapsacks (one bit per item, no slack): their costs, λ and the exact optimum."""

import itertools

import numpy as np
import pytest

from qnn.problems import (
    KnapsackInstance,
    penalty_cost,
    penalty_optimum,
    penalty_weight,
    random_knapsack,
    value_cost,
)


def every_string(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8)


def test_cost_by_hand():
    # values 6, 10, 12; weights 1, 2, 3; capacity 5 (the textbook instance: optimum 22)
    instance = KnapsackInstance((6, 10, 12), (1, 2, 3), 5)
    lam = penalty_weight(instance)
    # greedy by value/weight takes items 0 and 1 (value 16), then item 2 no longer fits
    assert lam == 28 - 16 + 1
    costs = penalty_cost(instance, np.array([[0, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0]]))
    assert costs.tolist() == [-22.0, -16.0, -28.0 + lam * 1, 0.0]
    bits, best = penalty_optimum(instance)
    assert best == -22.0 and bits.tolist() == [0, 1, 1]


def test_value_cost_by_hand_scores_an_overweight_selection_as_the_empty_one():
    instance = KnapsackInstance((6, 10, 12), (1, 2, 3), 5)
    costs = value_cost(instance, np.array([[0, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0]]))
    assert costs.tolist() == [-22.0, -16.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="bits have 2 entries, the instance has 3 items"):
        value_cost(instance, np.zeros((1, 2)))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("items", [4, 8, 12])
def test_brute_force_minimum_is_the_dynamic_programme_and_is_feasible(items, seed):
    instance = random_knapsack(items, rng=seed, max_weight=20)
    strings = every_string(items)
    costs = penalty_cost(instance, strings)
    weights = strings @ np.array(instance.weights)
    feasible = weights <= instance.capacity
    _, best = penalty_optimum(instance)
    assert costs.min() == best
    assert feasible[costs == costs.min()].all()  # every minimiser is feasible
    assert costs[~feasible].min() > costs[feasible].min()  # no infeasible string ties it
    # a feasible string's cost is minus its value: no penalty inside the capacity
    assert np.array_equal(costs[feasible], -(strings[feasible] @ np.array(instance.values)))


def test_greedy_blind_spot_still_keeps_infeasible_strings_above_the_optimum():
    # greedy by ratio takes item 0 (ratio 2) and stops at value 2; the optimum is item 1 (10):
    # λ = Σ v − greedy + 1 = 11, and the overfull pair costs −12 + 11 = −1 > −10
    instance = KnapsackInstance((2, 10), (1, 10), 10)
    assert penalty_weight(instance) == 11
    costs = penalty_cost(instance, every_string(2))
    assert costs.tolist() == [0.0, -10.0, -2.0, -1.0]


def test_a_smaller_penalty_can_make_an_infeasible_string_optimal():
    # why λ matters: with λ = 1 taking everything (value 28, one unit over) costs −27 < −22
    instance = KnapsackInstance((6, 10, 12), (1, 2, 3), 5)
    assert penalty_cost(instance, np.array([1, 1, 1]), penalty=1.0) == -27.0


@pytest.mark.parametrize(("bits", "penalty", "message"), [
    (np.zeros(4), None, "bits have 4 entries, the instance has 3 items"),
    (np.zeros(3), 0.0, "penalty=0.0 must be positive"),
])
def test_bad_input_is_refused(bits, penalty, message):
    instance = KnapsackInstance((6, 10, 12), (1, 2, 3), 5)
    with pytest.raises(ValueError, match=message):
        penalty_cost(instance, bits, penalty)
