"""Grouping result rows: rates, means, sample spreads and counts checked by hand."""

import numpy as np
import pytest

from qnn.runs.tables import aggregate, gap_curves

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
