"""Grouping result rows: rates, means, sample spreads and counts checked by hand."""

import numpy as np
import pandas as pd
import pytest

from qnn.runs.tables import aggregate, gap_curves, solved_with_interval

ROWS = [
    {"method": "bbs", "size": 10, "success": True, "rel_error": 0.0},
    {"method": "bbs", "size": 10, "success": False, "rel_error": 0.2},
    {"method": "sa", "size": 10, "success": True, "rel_error": 0.0},
    {"method": "bbs", "size": 20, "success": True, "rel_error": None},
]


def test_aggregate_gives_rates_means_and_counts():
    summary = aggregate(ROWS, by=("method", "size"), metrics=("success", "rel_error"))
    assert [(s["method"], s["size"], s["n"]) for s in summary] == [
        ("bbs", 10, 2), ("bbs", 20, 1), ("sa", 10, 1)]
    assert summary[0]["success_mean"] == 0.5 and summary[0]["rel_error_mean"] == pytest.approx(0.1)
    assert summary[0]["rel_error_std"] == pytest.approx(np.std([0.0, 0.2], ddof=1))  # sample
    assert np.isnan(summary[1]["rel_error_mean"]) and np.isnan(summary[2]["success_std"])


def test_solved_with_interval_counts_each_group_with_its_exact_interval():
    frame = pd.DataFrame({"method": ["sa", "bbs", "sa", "bbs", "sa", "sa"],
                          "success": [True, False, True, False, False, True],
                          "rel_error": [0.0, 0.3, 0.0, 0.1, 0.2, 0.0]})
    summary = solved_with_interval(frame, ["method"], rel_error_max=("rel_error", "max"))
    assert list(summary.columns) == ["method", "n", "solved", "solved_pct", "solved_low",
                                     "solved_high", "rel_error_max"]
    sa, bbs = summary.to_dict("records")  # in order of first appearance, not sorted
    assert (sa["method"], sa["n"], sa["solved"], sa["solved_pct"]) == ("sa", 4, 3, 75.0)
    # Clopper–Pearson for 3 of 4: beta quantiles 2.5 % of B(3, 2) and 97.5 % of B(4, 1)
    assert sa["solved_low"] == pytest.approx(19.412045) and sa["solved_high"] == pytest.approx(
        99.369054)
    assert (bbs["solved"], bbs["solved_low"]) == (0, 0.0)
    assert bbs["solved_high"] == pytest.approx(84.188612)  # 1 - 0.025 ** (1 / 2)
    assert bbs["rel_error_max"] == pytest.approx(0.3)


def test_missing_grouping_keys_are_named():
    with pytest.raises(ValueError, match=r"rows\[0\] lacks grouping key\(s\) \['problem'\]"):
        aggregate(ROWS, by=("problem",), metrics=())


def test_gap_curves_are_relative_to_each_optimum():
    rows = [{"optimum": -10.0, "curve_best_cost": [-5.0, -10.0]},
            {"optimum": 0.0, "curve_best_cost": [1.0, 0.0]},
            {"optimum": -4.0}]
    mean, std, n = gap_curves(rows)
    assert n == 2
    np.testing.assert_allclose(mean, [0.75, 0.0])
    np.testing.assert_allclose(std, [0.25 * np.sqrt(2), 0.0])  # sample std, n = 2
    with pytest.raises(ValueError, match="different lengths"):
        gap_curves(rows + [{"optimum": 1.0, "curve_best_cost": [1.0]}])
