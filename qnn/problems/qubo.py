"""Quadratic unconstrained binary optimisation: ``C(x) = sum_{i<=j} Q_ij x_i x_j + offset``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True, eq=False)
class QUBO:
    """A cost over bitstrings ``x ∈ {0, 1}^n`` to minimise.

    ``matrix`` is stored upper-triangular: ``Q_ii`` are the linear terms (``x_i² = x_i``) and
    ``Q_ij`` (``i < j``) the couplings, so ``C(x) = x·Q·x + offset`` with no double counting.
    Any square matrix given is folded into that form (``Q_ij + Q_ji`` above the diagonal).

    Attributes:
        matrix: ``(n, n)`` float64, upper-triangular.
        offset: constant added to every cost.
        name: a label for records.
    """

    matrix: np.ndarray
    offset: float = 0.0
    name: str = field(default="qubo")

    def __post_init__(self) -> None:
        q = np.asarray(self.matrix, dtype=np.float64)
        if q.ndim != 2 or q.shape[0] != q.shape[1] or q.shape[0] == 0:
            raise ValueError(f"QUBO matrix must be square and non-empty, got shape {q.shape}")
        if not np.isfinite(q).all() or not np.isfinite(self.offset):
            raise ValueError("QUBO matrix and offset must be finite")
        upper = np.triu(q) + np.triu(q.T, k=1)
        upper.setflags(write=False)
        object.__setattr__(self, "matrix", upper)
        object.__setattr__(self, "offset", float(self.offset))

    @property
    def n_bits(self) -> int:
        return self.matrix.shape[0]

    def energy(self, bits: np.ndarray) -> np.ndarray:
        """Costs of ``(..., n)`` 0/1 bitstrings: ``(...)`` float64."""
        x = np.asarray(bits, dtype=np.float64)
        if x.shape[-1] != self.n_bits:
            raise ValueError(f"bitstrings have {x.shape[-1]} bits, the QUBO has {self.n_bits}")
        return ((x @ self.matrix) * x).sum(-1) + self.offset

    def expected_energy(self, probs: Tensor) -> Tensor:
        """``E[C(x)]`` for independent bits with ``P(x_i = 1) = probs[..., i]`` (torch, exact).

        Independence gives ``E[x_i x_j] = q_i q_j`` for ``i != j`` and ``E[x_i] = q_i``.
        """
        q = torch.tensor(self.matrix, dtype=probs.dtype, device=probs.device)
        diag = torch.diagonal(q)
        couplings = q - torch.diag(diag)
        return probs @ diag + ((probs @ couplings) * probs).sum(-1) + self.offset

    def delta_flip(self, bits: np.ndarray) -> np.ndarray:
        """``(..., n)``: change of cost when bit ``i`` of each bitstring is flipped."""
        x = np.asarray(bits, dtype=np.float64)
        sym = self.matrix + self.matrix.T
        diag = np.diagonal(self.matrix)
        field_ = x @ sym - 2 * x * diag  # sum_{j != i} (Q_ij + Q_ji) x_j
        return (1 - 2 * x) * (diag + field_)

    def brute_force(self, chunk: int = 1 << 16) -> tuple[np.ndarray, float]:
        """An optimal bitstring and its cost by enumerating ``2^n`` strings (``n <= 26``)."""
        n = self.n_bits
        if n > 26:
            raise ValueError(f"brute force over 2^{n} bitstrings is too large (n_bits <= 26)")
        best_bits, best = None, np.inf
        for start in range(0, 1 << n, chunk):
            ints = np.arange(start, min(start + chunk, 1 << n), dtype=np.int64)
            bits = (ints[:, None] >> np.arange(n - 1, -1, -1)) & 1
            costs = self.energy(bits)
            i = int(np.argmin(costs))
            if costs[i] < best:
                best, best_bits = float(costs[i]), bits[i].astype(np.uint8)
        return best_bits, best
