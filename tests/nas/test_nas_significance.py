"""Paired tests over seeds, checked against closed-form p-values."""

import math

import pytest

from qnn.nas import paired_tests


def rows(diffs, *, base=0.5, baseline="random"):
    """Photonic at ``base + d`` and ``baseline`` at ``base`` on seeds 0, 1, …"""
    out = []
    for seed, d in enumerate(diffs):
        out.append({"method": "photonic", "seed": seed, "best_test": base + d})
        out.append({"method": baseline, "seed": seed, "best_test": base})
    return out


def test_six_seeds_all_better_reach_the_exact_wilcoxon_minimum():
    """All n differences positive: the exact two-sided signed-rank p is 2 / 2**n."""
    table = paired_tests(rows([0.01, 0.02, 0.03, 0.04, 0.05, 0.06]), metrics=("best_test",))
    (line,) = table.itertuples()
    assert (line.baseline, line.n, line.wins, line.losses) == ("random", 6, 6, 0)
    assert line.wilcoxon_p == pytest.approx(2 / 2**6)
    assert line.diff_mean == pytest.approx(0.035)
    assert line.verdict == "photonic better (Wilcoxon p < 0.05)"


def test_five_seeds_can_never_be_significant_by_wilcoxon_and_the_verdict_says_so():
    """Not "no significant difference": a test that cannot reach p < 0.05 found nothing."""
    (line,) = paired_tests(rows([0.1] * 5), metrics=("best_test",)).itertuples()
    assert line.wilcoxon_p == pytest.approx(2 / 2**5) and line.wilcoxon_p > 0.05
    assert math.isnan(line.ttest_p)  # constant differences: no t statistic
    assert line.verdict == ("too few seeds to test (n = 5: the smallest two-sided Wilcoxon p "
                            "is 0.0625)")


def test_six_seeds_of_mixed_sign_are_tested_and_not_significant():
    (line,) = paired_tests(rows([0.01, -0.02, 0.03, -0.04, 0.05, 0.06]),
                           metrics=("best_test",)).itertuples()
    assert line.wilcoxon_p > 0.05
    assert line.verdict == "no significant difference (Wilcoxon p >= 0.05)"


def test_paired_t_test_matches_the_closed_form_for_two_degrees_of_freedom():
    """Differences 1, 2, 3 (x 0.01): t = 2 / (1 / sqrt 3); with 2 degrees of freedom the
    two-sided p is 1 - t / sqrt(t^2 + 2)."""
    (line,) = paired_tests(rows([0.01, 0.02, 0.03]), metrics=("best_test",)).itertuples()
    t = 2 * math.sqrt(3)
    assert line.ttest_p == pytest.approx(1 - t / math.sqrt(t**2 + 2))
    assert line.diff_std == pytest.approx(0.01)


def test_worse_equal_and_float_noise():
    worse = paired_tests(rows([-0.01, -0.02, -0.03, -0.04, -0.05, -0.06], baseline="evolution"),
                         metrics=("best_test",))
    assert worse.verdict[0] == "evolution better (Wilcoxon p < 0.05)"
    equal = paired_tests(rows([0.0, 0.0, 0.0]), metrics=("best_test",))
    assert equal.wilcoxon_p[0] == 1.0 and equal.wins[0] == 0
    # 0.68 - 0.61 and 0.69 - 0.62 differ in float arithmetic, not in accuracy
    noisy = [{"method": "photonic", "seed": 0, "best_test": 0.68},
             {"method": "random", "seed": 0, "best_test": 0.61},
             {"method": "photonic", "seed": 1, "best_test": 0.69},
             {"method": "random", "seed": 1, "best_test": 0.62}]
    assert math.isnan(paired_tests(noisy, metrics=("best_test",)).ttest_p[0])


def test_only_seeds_both_methods_ran_are_paired():
    data = rows([0.01, 0.02]) + [{"method": "photonic", "seed": 9, "best_test": 1.0}]
    assert paired_tests(data, metrics=("best_test",)).n[0] == 2


@pytest.mark.parametrize(("data", "kwargs", "match"), [
    (rows([0.1]) + rows([0.1])[:1], {}, "seed=0 appears twice for method='photonic'"),
    ([{"method": "random", "seed": 0, "best_test": 0.5}], {}, "reference='photonic'"),
    (rows([0.1]), {"alpha": 1.5}, "alpha=1.5")])
def test_bad_inputs_are_refused(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        paired_tests(data, metrics=("best_test",), **kwargs)
