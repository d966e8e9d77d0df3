"""Exact QUBO optima: CP-SAT agrees with brute force."""

import numpy as np
import pytest

from qnn.problems import QUBO, integer_scale, optimum


@pytest.mark.parametrize(("n", "seed"), [(12, 0), (14, 1), (16, 2)])
def test_cpsat_agrees_with_brute_force_on_integer_qubos(n, seed):
    qubo = QUBO(np.random.default_rng(seed).integers(-9, 10, (n, n)), offset=3.0)
    _, best = qubo.brute_force()
    result = optimum(qubo, brute_force_max_bits=0)
    assert result.method == "cp-sat" and result.proven
    assert result.cost == best == result.bound
    assert qubo.energy(result.bits) == best


def test_decimal_coefficients_are_scaled_exactly():
    qubo = QUBO(np.array([[0.1, -0.35, 0.0], [0.0, 0.2, 0.25], [0.0, 0.0, -0.15]]))
    assert integer_scale(qubo.matrix[qubo.matrix != 0]) == (100.0, True)
    result = optimum(qubo, brute_force_max_bits=0)
    assert result.proven and result.cost == pytest.approx(qubo.brute_force()[1])


def test_irrational_coefficients_are_rounded_and_not_proven():
    qubo = QUBO(np.random.default_rng(3).standard_normal((10, 10)))
    result = optimum(qubo, brute_force_max_bits=0)
    best = qubo.brute_force()[1]
    assert not result.proven
    assert result.bound <= best <= result.cost
    assert result.cost == pytest.approx(best, abs=1e-9)


def test_small_qubos_use_brute_force():
    qubo = QUBO(np.array([[1.0, -3.0], [0.0, 1.0]]))
    result = optimum(qubo)
    assert result.method == "brute_force" and result.proven
    np.testing.assert_array_equal(result.bits, [1, 1])
    assert result.cost == -1.0
