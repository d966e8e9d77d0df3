"""Knapsack QUBO with slack bits: its optimum is the knapsack optimum."""

import itertools

import numpy as np
import pytest

from qnn.problems import (
    KnapsackInstance,
    decode_knapsack,
    knapsack_optimum,
    knapsack_qubo,
    random_knapsack,
    slack_coefficients,
)


@pytest.mark.parametrize("capacity", [0, 1, 2, 5, 8, 13, 16])
def test_slack_subset_sums_are_exactly_zero_to_capacity(capacity):
    c = slack_coefficients(capacity)
    sums = {int(np.dot(c, s)) for s in itertools.product((0, 1), repeat=len(c))}
    assert sums == set(range(capacity + 1))


def test_dynamic_programming_matches_enumeration():
    instance = random_knapsack(9, rng=7, max_weight=12)
    best = max(
        sum(v for v, s in zip(instance.values, sel, strict=True) if s)
        for sel in itertools.product((0, 1), repeat=9)
        if np.dot(instance.weights, sel) <= instance.capacity
    )
    solution = knapsack_optimum(instance)
    assert solution.feasible and solution.value == best


@pytest.mark.parametrize(
    ("scheme", "seed"), [("uncorrelated", 0), ("weakly_correlated", 1), ("strongly_correlated", 2)]
)
def test_qubo_optimum_decodes_to_knapsack_optimum(scheme, seed):
    instance = random_knapsack(8, rng=seed, scheme=scheme)
    bits, cost = knapsack_qubo(instance).brute_force()
    solution = decode_knapsack(instance, bits)
    assert solution.feasible
    assert solution.value == knapsack_optimum(instance).value == -cost


def test_too_small_penalty_can_prefer_infeasible():
    instance = KnapsackInstance(values=(10, 10), weights=(3, 3), capacity=3)
    bits, _ = knapsack_qubo(instance, penalty=1.0).brute_force()
    assert not decode_knapsack(instance, bits).feasible
    bits, _ = knapsack_qubo(instance).brute_force()
    assert decode_knapsack(instance, bits).value == 10


def test_bad_instance_names_the_field():
    with pytest.raises(ValueError, match=r"weights\[1\]=0"):
        KnapsackInstance(values=(1, 2), weights=(1, 0), capacity=3)
    with pytest.raises(ValueError, match="unknown scheme 'bogus'"):
        random_knapsack(3, rng=0, scheme="bogus")
