"""Does a proposer learn? Searches on a planted fitness, cheap and with one known optimum.

Training networks makes fitness slow and noisy, so whether a proposer can learn at all is
checked first on ``planted(target)``: the fraction of bits agreeing with ``target`` (its
unique optimum, fitness 1; a uniform proposal scores 1/2 on average). A proposer learns
when the architectures it proposes late in its budget are fitter than its first ones; one
with frozen parameters (or random search) proposes equally fit ones throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..photonics.backends.base import Backend
from .search import SearchConfig, search


def planted(target: str) -> Callable[[str], float]:
    """``key -> `` fraction of its bits equal to ``target``'s (a ``"0101…"`` string)."""
    if not target or set(target) - {"0", "1"}:
        raise ValueError(f"target={target!r} must be a non-empty string of 0 and 1")
    want = np.frombuffer(target.encode(), np.uint8)

    def fitness(key: str) -> float:
        got = np.frombuffer(key.encode(), np.uint8)
        if got.shape != want.shape:
            raise ValueError(f"key={key!r} has {len(key)} bits, target has {len(target)}")
        return float(np.mean(got == want))

    return fitness


def learning_table(variants: Mapping[str, tuple[str, SearchConfig]], target: str,
                   seeds: Sequence[int], backend: Backend | None, *, window: int = 100
                   ) -> pd.DataFrame:
    """One row per (variant, seed): how fit a search's early and late proposals are.

    Args:
        variants: name -> (search method, config), e.g. the photonic proposer, the same
            with learning rates 0 (frozen), and random search.
        target: the planted optimum; its length is the number of bits.
        seeds: ``np.random.default_rng(seed)`` drives each search.
        window: evaluations averaged at each end of the search.

    Returns:
        Columns ``variant, seed, evaluations, updates, early`` (mean fitness of the first
        ``window`` architectures evaluated), ``late`` (of the last ``window``), ``gain``
        (``late − early``), ``best`` and ``found`` (the optimum was evaluated).
    """
    fitness, rows = planted(target), []
    for name, (method, config) in variants.items():
        if config.budget < 2 * window:
            raise ValueError(f"{name}: budget={config.budget} must be at least 2 * window = "
                             f"{2 * window}")
        for seed in seeds:
            result = search(method, fitness, len(target), config, np.random.default_rng(seed),
                            backend=backend)
            values = np.asarray(result.fitness)
            early, late = values[:window].mean(), values[-window:].mean()
            rows.append({"variant": name, "seed": seed, "evaluations": len(values),
                         "updates": result.updates, "early": early, "late": late,
                         "gain": late - early, "best": values.max(),
                         "found": target in result.keys})
    return pd.DataFrame(rows)
