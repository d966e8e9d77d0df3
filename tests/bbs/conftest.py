"""Shared helpers for the BBS tests: seeded random Max-Cut QUBOs built inline."""

import numpy as np
import pytest

from qnn.problems import QUBO


def maxcut_qubo(n_nodes: int, edge_prob: float, seed: int) -> QUBO:
    """Max-Cut of a G(n, p) graph drawn with ``seed``: per edge ``(i, j)`` with weight ``w``,
    ``Q_ii −= w``, ``Q_jj −= w``, ``Q_ij += 2w``, so the cost is ``−cut``."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((n_nodes, n_nodes))
    for i in range(n_nodes):
        for j in range(i + 1, n_nodes):
            if rng.random() < edge_prob:
                matrix[i, i] -= 1.0
                matrix[j, j] -= 1.0
                matrix[i, j] += 2.0
    return QUBO(matrix, name=f"maxcut-G({n_nodes},{edge_prob})-seed{seed}")


@pytest.fixture
def make_maxcut():
    return maxcut_qubo
