"""Result rows (one dict per task) grouped and summarised for tables and figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def aggregate(rows: Sequence[dict[str, Any]], by: Sequence[str],
              metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Mean, standard deviation and count of ``metrics`` per group of ``by`` keys.

    Booleans average to rates (``success`` -> fraction solved). Groups come out sorted.

    Returns:
        One dict per group: the ``by`` keys, ``n``, and ``<metric>_mean`` / ``<metric>_std``
        (population std; ``nan`` for a metric missing from every row of the group).
    """
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        missing = [key for key in by if key not in row]
        if missing:
            raise ValueError(f"rows[{i}] lacks grouping key(s) {missing}")
        groups.setdefault(tuple(row[key] for key in by), []).append(row)
    out = []
    for key in sorted(groups, key=lambda k: tuple(map(str, k)) if not _sortable(k) else k):
        members = groups[key]
        summary: dict[str, Any] = dict(zip(by, key, strict=True)) | {"n": len(members)}
        for metric in metrics:
            values = np.array([float(r[metric]) for r in members if r.get(metric) is not None])
            summary[f"{metric}_mean"] = float(values.mean()) if values.size else float("nan")
            summary[f"{metric}_std"] = float(values.std()) if values.size else float("nan")
        out.append(summary)
    return out


def gap_curves(rows: Sequence[dict[str, Any]], curve: str = "curve_best_cost"
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and std over rows of a per-update cost curve as a relative gap to the optimum,
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
    return gaps.mean(axis=0), gaps.std(axis=0), len(curves)


def _sortable(key: tuple) -> bool:
    try:
        sorted([key, key])
    except TypeError:
        return False
    return True
