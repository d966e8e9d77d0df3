"""The numbers arXiv 2510.08274 (Table I) and its independent reproduction
(merlinquantum/reproduced_papers: 100 instances, knapsack values and weights uniform on 1..20
as ours) print, to stand beside ours in tables, labelled as theirs and never computed here.

A published value applies only to rows in its regime: the same family, size and method, run
with the paper's settings (200 updates, 50 shots, loops 1, 3, 9). Both our black-box
knapsacks (``knapsack_value``, ``knapsack_penalty``: the same items, two ways of scoring an
overweight selection) are the paper's knapsack family.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from qnn.runs.config_data import read_json_data
from qnn.runs.folder import CONFIG_FILE

PAPER_SETTINGS = {"updates": 200, "shots": 50, "loop_lengths": [1, 3, 9]}
PUBLISHED = pd.DataFrame([  # (family, size, method): published % optimal, % mean rel. error
    ("knapsack", 20, "bbs", "paper", 98.0, math.nan),
    ("knapsack", 25, "bbs", "paper", 99.0, math.nan),
    ("knapsack", 30, "bbs", "paper", 93.0, math.nan),
    ("knapsack", 20, "sa", "paper", 100.0, math.nan),
    ("knapsack", 20, "hill_climbing", "paper", 84.0, math.nan),
    ("tsp", 29, "bbs", "paper", 2.0, 6.58),
    ("knapsack", 20, "random", "reproduction", 81.0, math.nan),
    ("knapsack", 20, "bbs", "reproduction", 99.0, math.nan),
    ("knapsack", 25, "bbs", "reproduction", 96.0, math.nan),
    ("knapsack", 30, "bbs", "reproduction", 73.0, math.nan),
    ("knapsack", 25, "bbs_frozen", "reproduction", 21.0, math.nan),
    ("tsp", 29, "bbs", "reproduction", 7.0, 5.59),
], columns=["family", "size", "method", "source", "solved_pct", "rel_error_pct"])
PAPER_FAMILY = {"knapsack_value": "knapsack", "knapsack_penalty": "knapsack", "tsp": "tsp"}
SOURCES = ("Columns published_* are values printed by the paper (arXiv 2510.08274, Table I) "
           "or the independent reproduction (merlinquantum/reproduced_papers), not ours.")


def in_paper_regime(folders: Iterable[Path]) -> bool:
    """Whether every run folder's BBS used the paper's updates, shots and loops."""
    for folder in folders:
        bbs = read_json_data(Path(folder) / CONFIG_FILE).get("bbs", {})
        if any(bbs.get(key) != value for key, value in PAPER_SETTINGS.items()):
            return False
    return True


def beside_published(table: pd.DataFrame, regime: bool) -> pd.DataFrame:
    """``table`` (columns problem, size, method) with one ``published_<source>_<metric>``
    column per published value that matches one of its rows; unchanged out of ``regime``.

    A variant of a method named ``"<method>, <what differs>"`` (``"bbs, logit flips"``) is
    that method as the paper runs it, so it gets the method's published values too."""
    if not regime:
        return table
    out = table.assign(family=table["problem"].map(PAPER_FAMILY),
                       paper_method=table["method"].str.split(",").str[0])
    for source, part in PUBLISHED.groupby("source", sort=False):
        for metric in ("solved_pct", "rel_error_pct"):
            column = f"published_{source}_{metric}"
            values = part.dropna(subset=[metric])[["family", "size", "method", metric]]
            merged = out.merge(values.rename(columns={"method": "paper_method",
                                                      metric: column}),
                               how="left", on=["family", "size", "paper_method"])
            if merged[column].notna().any():
                out = merged
    return out.drop(columns=["family", "paper_method"])


def published_rates(problem: str, size: int, method: str) -> list[tuple[str, float]]:
    """``(source, % solved)`` of every published rate for ``method`` on ``problem`` (one of
    ours, mapped to the paper's family) at ``size``; empty where none was printed."""
    part = PUBLISHED[(PUBLISHED["family"] == PAPER_FAMILY.get(problem))
                     & (PUBLISHED["size"] == size) & (PUBLISHED["method"] == method)]
    return list(zip(part["source"], part["solved_pct"], strict=True))
