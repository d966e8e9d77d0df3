"""Result rows (one dict per task) grouped and summarised for tables and figures (pandas)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qnn.stats import proportion_ci


def aggregate(rows: Sequence[dict[str, Any]], by: Sequence[str],
              metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Mean, sample standard deviation and count of ``metrics`` per group of ``by`` keys.

    The one summary statistic of the project: every table and figure reports a spread over
    seeds or instances as the sample std (``ddof=1``) with its ``n``. Booleans average to
    rates (``success`` -> fraction solved). Groups come out sorted; ``None`` is a group too.

    Returns:
        One dict per group: the ``by`` keys, ``n`` (rows in the group), and
        ``<metric>_mean`` / ``<metric>_std`` over the rows where the metric is present
        (``nan`` where none has it; the std is ``nan`` for a single value).
    """
    for i, row in enumerate(rows):
        missing = [key for key in by if key not in row]
        if missing:
            raise ValueError(f"rows[{i}] lacks grouping key(s) {missing}")
    frame = pd.DataFrame([{key: _hashable(row[key]) for key in by}
                          | {m: _number(row.get(m)) for m in metrics} for row in rows],
                         columns=[*by, *metrics])
    if frame.empty:
        return []
    groups = frame.groupby(list(by), dropna=False, sort=True)
    table = groups.size().rename("n").to_frame()
    for metric in metrics:
        table[f"{metric}_mean"] = groups[metric].mean()
        table[f"{metric}_std"] = groups[metric].std(ddof=1)
    out = []
    for record in table.reset_index().to_dict("records"):
        out.append({key: (None if _is_missing(value) else _plain(value))
                    if key in by else _plain(value) for key, value in record.items()})
    return out


def solved_with_interval(frame: pd.DataFrame, by: Sequence[str], level: float = 0.95,
                         **aggregations: tuple[str, str]) -> pd.DataFrame:
    """Instances solved per group of ``by``, with the exact (Clopper–Pearson) interval that a
    figure draws as its error bar: the way every success rate is reported.

    ``frame`` holds one row per task with a boolean ``success``. Groups keep their first
    appearance's order. ``aggregations`` are passed on to pandas' named aggregation
    (``rel_error_sem=("rel_error_pct", "sem")``) for the group's other columns.

    Returns:
        One row per group: the ``by`` keys, ``n`` tasks, ``solved`` of them, ``solved_pct``
        and the interval's ends ``solved_low`` / ``solved_high`` (both in %), then the
        ``aggregations``.
    """
    summary = (frame.groupby(list(by), sort=False)
               .agg(n=("success", "size"), solved=("success", "sum"), **aggregations)
               .reset_index())
    summary["solved"] = summary["solved"].astype(int)
    summary.insert(len(by) + 2, "solved_pct", 100 * summary["solved"] / summary["n"])
    intervals = [proportion_ci(k, n, level)
                 for k, n in zip(summary["solved"], summary["n"], strict=True)]
    summary.insert(len(by) + 3, "solved_low", [100 * low for low, _ in intervals])
    summary.insert(len(by) + 4, "solved_high", [100 * high for _, high in intervals])
    return summary


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, so tables go to JSON as they are."""
    return value.item() if isinstance(value, np.generic) else value


def gap_curves(rows: Sequence[dict[str, Any]], curve: str = "curve_best_cost"
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and sample std over rows of a per-update cost curve as a relative gap to the optimum,
    ``(cost - optimum) / |optimum|`` (plain difference when the optimum is 0).

    Returns:
        ``mean`` and ``std``, each ``(updates,)``, and the number of rows averaged.
    """
    curves = [np.asarray(r[curve], dtype=float) for r in rows if r.get(curve) is not None]
    if not curves:
        raise ValueError(f"no row holds {curve!r}")
    lengths = {len(c) for c in curves}
    if len(lengths) != 1:
        raise ValueError(f"{curve} curves have different lengths {sorted(lengths)}")
    optima = np.array([r["optimum"] for r in rows if r.get(curve) is not None], dtype=float)
    scale = np.where(optima == 0, 1.0, np.abs(optima))[:, None]
    gaps = (np.vstack(curves) - optima[:, None]) / scale
    std = gaps.std(axis=0, ddof=1) if len(curves) > 1 else np.full(gaps.shape[1], np.nan)
    return gaps.mean(axis=0), std, len(curves)


def gap_curves_by_evaluations(rows: Sequence[dict[str, Any]], curve: str, points: int = 60
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`gap_curves` against cost evaluations spent, for curves of different lengths
    (methods that spend a budget in updates of different cost).

    Each row's curve holds the value after each update, which spent ``curve_evaluations``;
    it is read at ``points`` evenly spaced evaluation counts up to the smallest total of the
    rows, as the value of the last update finished by then.

    Returns:
        ``evaluations`` ``(points,)``, ``mean`` and ``std`` there, and the number of rows.
    """
    rows = [r for r in rows if r.get(curve) is not None]
    if not rows:
        raise ValueError(f"no row holds {curve!r}")
    spent = [np.cumsum(np.asarray(r["curve_evaluations"], dtype=float)) for r in rows]
    grid = np.linspace(max(s[0] for s in spent), min(s[-1] for s in spent), points)
    resampled = [{**r, curve: np.asarray(r[curve], dtype=float)[
        np.searchsorted(s, grid, side="right") - 1]} for r, s in zip(rows, spent, strict=True)]
    return (grid, *gap_curves(resampled, curve))

