"""Paired significance tests, as every study reports them: p-values that stay defined at the
edges (no differences at all, too few pairs) instead of warnings or NaN from scipy."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats


def wilcoxon_p(differences: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (zeros dropped); 1 when
    every difference is zero (no evidence either way), NaN for no pairs. With ``n`` nonzero
    pairs the smallest possible p is ``2 / 2**n`` (0.0625 at 5)."""
    diffs = np.asarray(differences, dtype=float)
    if diffs.size == 0:
        return float("nan")
    diffs = diffs[diffs != 0]
    if diffs.size == 0:
        return 1.0
    with warnings.catch_warnings():  # tiny n: scipy warns that the test has little power
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(diffs, alternative="two-sided").pvalue)


def paired_t_p(differences: Sequence[float]) -> float:
    """Two-sided paired t-test p-value; NaN below two pairs or for constant differences."""
    diffs = np.asarray(differences, dtype=float)
    if diffs.size < 2 or np.all(diffs == diffs[0]):
        return float("nan")
    return float(stats.ttest_1samp(diffs, 0.0).pvalue)


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact McNemar p-value on success / failure: a two-sided binomial test on the pairs only
    one of the two solved (1 when there are none)."""
    discordant = only_a + only_b
    return float(stats.binomtest(only_a, discordant).pvalue) if discordant else 1.0


def proportion_ci(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) two-sided interval for a success probability from ``successes``
    of ``n`` trials: it never undercovers, and stays inside [0, 1] at 0 and n successes.
    NaN for no trials."""
    if n == 0:
        return float("nan"), float("nan")
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(level, method="exact")
    return float(interval.low), float(interval.high)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values: reject where the adjusted p is
    below alpha and the family-wise error rate stays at most alpha, for any dependence
    between the tests. NaN p-values are left out of the family and stay NaN."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (len(order) - rank) * p[index])
        adjusted[index] = min(1.0, running)
    return adjusted
