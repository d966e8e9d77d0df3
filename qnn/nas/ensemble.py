"""The ensemble of a search's population: the top-K architectures, averaging their outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .fitness import Evaluation, accuracy

CURVES = ("best_val", "best_test", "ensemble_val", "ensemble_test")


def top_k(keys: Sequence[str], fitness: Sequence[float], k: int) -> list[str]:
    """The ``k`` keys of highest fitness, best first; ties go to the earlier evaluated."""
    order = sorted(range(len(keys)), key=lambda i: (-fitness[i], i))
    return [keys[i] for i in order[:k]]


def ensemble_probs(members: Sequence[Evaluation], split: str) -> np.ndarray:
    """``(n, classes)`` mean softmax output of ``members`` on ``"val"`` or ``"test"``."""
    if split not in ("val", "test"):
        raise ValueError(f"split={split!r}; choose from ['val', 'test']")
    if not members:
        raise ValueError("an ensemble needs at least one member")
    return np.mean([getattr(m, f"{split}_probs").astype(np.float64) for m in members], axis=0)


def search_curves(keys: Sequence[str], evaluations: Mapping[str, Evaluation],
                  y_val: np.ndarray, y_test: np.ndarray, k: int) -> dict[str, list[float]]:
    """Accuracies after each evaluation ``e = 1 .. len(keys)`` of a search.

    Returns:
        ``best_val`` and ``best_test``: validation and test accuracy of the best
        architecture by validation accuracy among the first ``e``; ``ensemble_val`` and
        ``ensemble_test``: those of the averaged top-``k`` (the population then).
    """
    curves: dict[str, list[float]] = {name: [] for name in CURVES}
    fitness = [evaluations[key].val_accuracy for key in keys]
    for e in range(1, len(keys) + 1):
        members = [evaluations[key] for key in top_k(keys[:e], fitness[:e], k)]
        curves["best_val"].append(members[0].val_accuracy)
        curves["best_test"].append(members[0].test_accuracy)
        curves["ensemble_val"].append(accuracy(ensemble_probs(members, "val"), y_val))
        curves["ensemble_test"].append(accuracy(ensemble_probs(members, "test"), y_test))
    return curves
