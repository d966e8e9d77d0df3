"""Exact QUBO optima: brute force for small ``n``, OR-Tools CP-SAT beyond."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .qubo import QUBO

_MAX_DECIMALS = 6  # coefficients integral after scaling by 10^k, k <= 6, count as exact
_INT_BUDGET = 2.0**50  # bound on Σ|scaled coefficient|, well inside CP-SAT's int64 arithmetic


@dataclass(frozen=True)
class Optimum:
    """Best bitstring found for a QUBO.

    Attributes:
        bits: ``(n,)`` uint8.
        cost: ``qubo.energy(bits)``.
        proven: whether ``cost`` is proven to be the minimum.
        bound: a proven lower bound on the minimum (``cost`` when ``proven``).
        method: ``"brute_force"`` or ``"cp-sat"``.
    """

    bits: np.ndarray
    cost: float
    proven: bool
    bound: float
    method: str


def optimum(
    qubo: QUBO,
    *,
    time_limit_s: float = 10.0,
    brute_force_max_bits: int = 22,
    n_workers: int = 1,
) -> Optimum:
    """Minimum of a QUBO: enumeration for ``n <= brute_force_max_bits``, else CP-SAT.

    CP-SAT minimises ``Σ Q_ii x_i + Σ Q_ij y_ij`` with one Boolean ``y_ij = x_i ∧ x_j`` per
    nonzero coupling. Coefficients are scaled to integers by :func:`integer_scale`: exactly when
    they are integral after scaling by ``10^k`` (``k <= 6``), otherwise rounded, in which case
    CP-SAT's optimum is that of the rounded QUBO, ``proven`` is ``False`` and ``bound`` is
    widened by the total rounding error.

    Args:
        time_limit_s: CP-SAT wall-clock limit; on expiry the best bitstring so far is returned
            with ``proven=False``.
        brute_force_max_bits: largest ``n`` enumerated (``2^22`` strings take a few seconds);
            0 forces CP-SAT.
        n_workers: CP-SAT search workers (1 is deterministic).
    """
    if qubo.n_bits <= brute_force_max_bits:
        bits, cost = qubo.brute_force()
        return Optimum(bits, cost, True, cost, "brute_force")
    return _cpsat_optimum(qubo, time_limit_s, n_workers)


def integer_scale(coefficients: np.ndarray) -> tuple[float, bool]:
    """Scale ``s`` making ``s · coefficients`` integers, and whether the scaling is exact.

    Exact: the smallest ``s = 10^k`` (``k <= 6``) leaving every ``s c`` within ``1e-9``
    (relative) of an integer, with ``Σ |s c| <= 2^50``. Otherwise ``s = 2^e``, the largest
    power of two with ``Σ |s c| <= 2^50``, and the caller rounds.
    """
    c = np.asarray(coefficients, dtype=np.float64)
    total = float(np.abs(c).sum())
    for k in range(_MAX_DECIMALS + 1):
        scaled = c * 10.0**k
        if total * 10.0**k > _INT_BUDGET:
            break
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return 10.0**k, True
    return 2.0 ** np.floor(np.log2(_INT_BUDGET / max(total, 1e-300))), False


def _cpsat_optimum(qubo: QUBO, time_limit_s: float, n_workers: int) -> Optimum:
    """CP-SAT on the linearised QUBO (see :func:`optimum`)."""
    from ortools.sat.python import cp_model

    n = qubo.n_bits
    rows, cols = np.nonzero(qubo.matrix)
    coefficients = qubo.matrix[rows, cols]
    scale, exact = integer_scale(coefficients)
    ints = np.round(coefficients * scale)
    rounding_error = float(np.abs(coefficients * scale - ints).sum())
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(n)]
    terms = []
    for i, j, c in zip(rows.tolist(), cols.tolist(), ints.astype(np.int64).tolist(), strict=True):
        if c == 0:
            continue
        if i == j:
            terms.append(c * x[i])
            continue
        y = model.new_bool_var(f"y{i}_{j}")
        model.add_implication(y, x[i])
        model.add_implication(y, x[j])
        model.add_bool_or([x[i].Not(), x[j].Not(), y])
        terms.append(c * y)
    model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = n_workers
    solver.parameters.linearization_level = 2  # LP with the y_ij links: proves optima far sooner
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(
            f"CP-SAT found no solution for {qubo.name} within {time_limit_s} s "
            f"(status {solver.status_name(status)})"
        )
    bits = np.array([solver.value(v) for v in x], dtype=np.uint8)
    bound = (solver.best_objective_bound - rounding_error) / scale + qubo.offset
    proven = status == cp_model.OPTIMAL and exact
    cost = float(qubo.energy(bits))
    return Optimum(bits, cost, proven, cost if proven else float(min(bound, cost)), "cp-sat")
