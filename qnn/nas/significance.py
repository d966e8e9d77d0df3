"""Is one search method better than another? Paired tests over seeds.

A seed fixes the data split and every architecture's training, so two methods run on the
same seed differ only in what they proposed: their final accuracies are compared per seed
(paired), by the exact Wilcoxon signed-rank test (no normality assumed) and the paired
t-test. With ``n`` seeds the smallest two-sided Wilcoxon p-value is ``2 / 2**n``: 0.0625 at
5 seeds, so 5 seeds can never reach p < 0.05 with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..stats import paired_t_p, wilcoxon_p


def paired_tests(rows: Iterable[Mapping], *, reference: str = "photonic",
                 metrics: Sequence[str] = ("best_val", "best_test", "ensemble_test"),
                 alpha: float = 0.05) -> pd.DataFrame:
    """``reference`` against every other method of ``rows``, per metric, paired by seed.

    Args:
        rows: one mapping per search with ``method``, ``seed`` and each metric.
        reference: the method compared with the others.
        alpha: significance level of the ``verdict``.

    Returns:
        One row per (baseline, metric): ``n`` (seeds both methods ran), ``diff_mean`` and
        ``diff_std`` (sample std) of ``reference − baseline``, ``wins`` (seeds where the
        reference is higher), ``wilcoxon_p`` (two-sided; 1 when every difference is 0),
        ``ttest_p`` (two-sided paired t; ``nan`` below 2 seeds or for constant
        differences) and ``verdict``.

    Raises:
        ValueError: ``reference`` is not among the methods, or a (seed, method) repeats.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} is outside (0, 1)")
    table: dict[str, dict[int, Mapping]] = {}
    for row in rows:
        by_seed = table.setdefault(row["method"], {})
        if row["seed"] in by_seed:
            raise ValueError(f"seed={row['seed']!r} appears twice for method={row['method']!r}")
        by_seed[row["seed"]] = row
    if reference not in table:
        raise ValueError(f"reference={reference!r} is not among the methods {list(table)}")
    out = []
    for baseline, by_seed in table.items():
        if baseline == reference:
            continue
        seeds = sorted(set(by_seed) & set(table[reference]))
        for metric in metrics:
            # accuracies are k / n: rounding drops the float error that would make equal
            # differences look unequal (a spurious t-test p of 1e-16)
            diffs = np.round([table[reference][s][metric] - by_seed[s][metric]
                              for s in seeds], 12).astype(float)
            wilcoxon, ttest = wilcoxon_p(diffs), paired_t_p(diffs)
            out.append({
                "reference": reference, "baseline": baseline, "metric": metric,
                "n": len(diffs), "diff_mean": diffs.mean() if len(diffs) else np.nan,
                "diff_std": diffs.std(ddof=1) if len(diffs) > 1 else np.nan,
                "wins": int(np.sum(diffs > 0)), "losses": int(np.sum(diffs < 0)),
                "wilcoxon_p": wilcoxon, "ttest_p": ttest,
                "verdict": _verdict(reference, baseline, diffs, wilcoxon, alpha),
            })
    return pd.DataFrame(out)


def _verdict(reference: str, baseline: str, diffs: np.ndarray, p: float, alpha: float) -> str:
    if not len(diffs):
        return "no paired seeds"
    smallest = min(1.0, 2 / 2 ** len(diffs))  # every difference of one sign
    if smallest >= alpha:  # "no significant difference" would claim a test that cannot fail
        return (f"too few seeds to test (n = {len(diffs)}: the smallest two-sided Wilcoxon p "
                f"is {smallest:.3g})")
    if np.isnan(p) or p >= alpha:
        return f"no significant difference (Wilcoxon p >= {alpha:g})"
    better = reference if np.median(diffs) > 0 else baseline
    return f"{better} better (Wilcoxon p < {alpha:g})"
