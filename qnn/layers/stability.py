"""How steadily a training ran, from its per-epoch curves: the measures behind the claim that
a photonic layer trains *stably*. Both look at the second half of training, where a
converged run should no longer move much."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def jitter(curve: Sequence[float]) -> float:
    """Mean |change| between consecutive epochs over the second half of ``curve``, in its
    units (test accuracy: how much a converged training still wanders)."""
    tail = np.asarray(curve[len(curve) // 2:], dtype=float)
    return float(np.abs(np.diff(tail)).mean())


def roughness(loss: Sequence[float]) -> float:
    """Mean |second difference of log loss| over the second half of a loss curve (from the
    epoch before it, so there are as many second differences as :func:`jitter` has steps).

    Zero for any steady exponential decay, whatever its rate, so a loss that falls fast
    does not count as rough; a loss that alternates by a factor r scores 2 log r.
    """
    tail = np.log(np.asarray(loss[len(loss) // 2 - 1:], dtype=float))
    return float(np.abs(np.diff(tail, n=2)).mean())
