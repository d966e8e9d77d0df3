"""Does a proposer learn? A search's proposals, early against late: a proposal distribution
that learns proposes fitter architectures at the end of a search than at its start, while
uniform random proposals stay where they began (up to noise)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def early_and_late(fitness: Sequence[float], budget: int) -> tuple[float, float]:
    """Mean fitness of the proposals in the first and in the last fifth of ``budget``
    evaluations (a search that stopped short: of the proposals it made)."""
    fitness = np.asarray(fitness, dtype=float)
    if fitness.size == 0:
        raise ValueError("no proposals: a search without fitness evaluations has no curve")
    fifth = max(1, budget // 5)
    return float(fitness[:fifth].mean()), float(fitness[-fifth:].mean())
