"""The shared paired tests: known exact p-values and the defined edges."""

import math

import numpy as np
import pytest

from qnn.stats import holm, mcnemar_p, paired_t_p, proportion_ci, wilcoxon_p


def test_wilcoxon_exact_values_and_edges():
    # five positive differences: the most extreme of 2^5 sign patterns, two-sided
    assert wilcoxon_p([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)
    assert wilcoxon_p([1, 0, 2, 0, 3, 4, 5]) == pytest.approx(2 / 32)  # zeros are dropped
    assert wilcoxon_p([0, 0, 0]) == 1.0  # no evidence either way
    assert math.isnan(wilcoxon_p([]))


def test_mcnemar_is_the_binomial_test_on_discordant_pairs():
    assert mcnemar_p(8, 0) == pytest.approx(2 * 0.5**8)
    assert mcnemar_p(3, 3) == 1.0
    assert mcnemar_p(0, 0) == 1.0


def test_paired_t():
    assert paired_t_p([1.0, -1.0, 1.0, -1.0]) == pytest.approx(1.0)
    assert math.isnan(paired_t_p([0.5, 0.5, 0.5])) and math.isnan(paired_t_p([1.0]))
    assert paired_t_p([1.0, 1.1, 0.9, 1.05]) < 1e-3


def test_proportion_ci_is_clopper_pearson():
    # at 0 of n the upper end solves (1 - p)^n = alpha / 2; at n of n mirrored
    low, high = proportion_ci(0, 10)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 10))
    low, high = proportion_ci(10, 10)
    assert low == pytest.approx(0.025 ** (1 / 10)) and high == 1.0
    low, high = proportion_ci(15, 30)  # symmetric about 1/2
    assert low == pytest.approx(1 - high) and low < 0.5 < high
    assert all(math.isnan(end) for end in proportion_ci(0, 0))


def test_holm_steps_down_and_keeps_the_order():
    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01, 2 x 0.03, then max(0.06, 1 x 0.04)
    assert np.allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert np.allclose(holm([0.5, 0.9]), [1.0, 1.0])  # capped at 1
    adjusted = holm([0.02, float("nan"), 0.01])  # NaN is not a test of the family
    assert np.isnan(adjusted[1]) and np.allclose(adjusted[[0, 2]], [0.02, 0.02])
