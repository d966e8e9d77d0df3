"""Classical QUBO baselines that spend an exact budget of cost evaluations.

One *evaluation* is the cost of one bitstring: a full ``QUBO.energy`` call counts one per
string, and a single-flip ``delta_flip`` (the cost of a neighbour, known from the current cost)
counts one per neighbour looked at. This is the unit of the Bosonic Binary Solver's budget
``N · S · (2 Σ (m - l_i) + 2m + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .qubo import QUBO

_CHUNK = 4096


@dataclass(frozen=True)
class BaselineResult:
    """Best bitstring a baseline found.

    Attributes:
        best_bits: ``(n,)`` uint8.
        best_cost: its cost.
        evaluations: cost evaluations spent (never more than the budget).
    """

    best_bits: np.ndarray
    best_cost: float
    evaluations: int


def random_search(qubo: QUBO, budget: int, *, rng: np.random.Generator | int) -> BaselineResult:
    """Best of ``budget`` independent uniform bitstrings."""
    _check_budget(budget)
    rng = np.random.default_rng(rng)
    best_bits, best = None, np.inf
    for start in range(0, budget, _CHUNK):
        bits = rng.integers(0, 2, (min(_CHUNK, budget - start), qubo.n_bits), dtype=np.uint8)
        costs = qubo.energy(bits)
        i = int(np.argmin(costs))
        if costs[i] < best:
            best_bits, best = bits[i], float(costs[i])
    return BaselineResult(best_bits, best, budget)


def hill_climbing(qubo: QUBO, budget: int, *, rng: np.random.Generator | int) -> BaselineResult:
    """Steepest-descent single-flip hill climbing with random restarts.

    A restart costs 1 evaluation; each step scans all ``n`` neighbours (``n`` evaluations) and
    moves to the best strictly improving one, restarting at a local minimum. When fewer than
    ``n`` evaluations remain, the last scan covers that many random neighbours.
    """
    _check_budget(budget)
    rng = np.random.default_rng(rng)
    n = qubo.n_bits
    bits = rng.integers(0, 2, n, dtype=np.uint8)
    cost, used = float(qubo.energy(bits)), 1
    best_bits, best = bits.copy(), cost
    while used < budget:
        looked, deltas = _neighbour_deltas(qubo, bits, cost, min(n, budget - used), rng)
        used += looked.size
        i = int(np.argmin(deltas))
        if deltas[i] < 0:
            bits[looked[i]] ^= 1
            cost += float(deltas[i])
        elif used < budget:
            bits, used = rng.integers(0, 2, n, dtype=np.uint8), used + 1
            cost = float(qubo.energy(bits))
        if cost < best:
            best_bits, best = bits.copy(), cost
    return BaselineResult(best_bits, best, used)


def simulated_annealing(
    qubo: QUBO,
    budget: int,
    *,
    rng: np.random.Generator | int,
    beta_range: tuple[float, float] | None = None,
) -> BaselineResult:
    """Metropolis single-flip annealing: 1 evaluation for the start, 1 per proposed flip.

    ``budget - 1`` proposals of a uniformly random bit, accepted with probability
    ``min(1, exp(-β Δ))``, with ``β`` rising geometrically from ``beta_range[0]`` to
    ``beta_range[1]``. By default these are dwave-samplers' heuristic: ``ln 2 / max|Δ|`` (a
    largest uphill move is accepted half the time) to ``ln 100 / min|Δ|`` (a smallest one 1% of
    the time), with ``|Δ|`` bounded from the matrix. Our own loop rather than dwave's
    ``SimulatedAnnealingSampler``, which spends whole sweeps of ``n`` flips per read and so can
    only approximate a budget.
    """
    _check_budget(budget)
    rng = np.random.default_rng(rng)
    n = qubo.n_bits
    hot, cold = _default_betas(qubo) if beta_range is None else beta_range
    if not 0 < hot <= cold:
        raise ValueError(f"beta_range=({hot}, {cold}) must satisfy 0 < start <= end")
    steps = budget - 1
    betas = hot * (cold / hot) ** (np.arange(steps) / max(steps - 1, 1))
    sites = rng.integers(0, n, steps).tolist()
    thresholds = (-np.log(1.0 - rng.random(steps)) / betas).tolist()  # accept iff Δ <= this
    coupling = qubo.matrix + qubo.matrix.T
    np.fill_diagonal(coupling, 0.0)
    diag = np.diagonal(qubo.matrix).tolist()
    bits = rng.integers(0, 2, n, dtype=np.uint8)
    field = coupling @ bits.astype(np.float64)  # Σ_{j≠i} (Q_ij + Q_ji) x_j
    x = bits.tolist()
    cost = float(qubo.energy(bits))
    best_bits, best = bits.copy(), cost
    for i, threshold in zip(sites, thresholds, strict=True):
        delta = (diag[i] + field[i]) * (1 - 2 * x[i])
        if delta <= threshold:
            field += coupling[i] * (1 - 2 * x[i])
            x[i] ^= 1
            cost += delta
            if cost < best:
                best_bits, best = np.array(x, dtype=np.uint8), cost
    return BaselineResult(best_bits, float(qubo.energy(best_bits)), budget)


def _neighbour_deltas(
    qubo: QUBO, bits: np.ndarray, cost: float, scan: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Cost changes of ``scan`` single flips of ``bits`` (whose cost is ``cost``)."""
    n = qubo.n_bits
    if scan == n:
        return np.arange(n), qubo.delta_flip(bits)
    looked = rng.choice(n, scan, replace=False)
    neighbours = np.repeat(bits[None], scan, axis=0)
    neighbours[np.arange(scan), looked] ^= 1
    return looked, qubo.energy(neighbours) - cost


def _default_betas(qubo: QUBO) -> tuple[float, float]:
    """dwave-samplers' default β range from bounds on single-flip ``|Δ|``."""
    sym = np.abs(qubo.matrix + qubo.matrix.T)
    np.fill_diagonal(sym, 0.0)
    largest = float(np.max(np.abs(np.diagonal(qubo.matrix)) + sym.sum(axis=1)))
    nonzero = np.abs(qubo.matrix[qubo.matrix != 0])
    if largest == 0:
        return 1.0, 1.0
    return np.log(2) / largest, np.log(100) / float(nonzero.min())


def _check_budget(budget: int) -> None:
    if int(budget) != budget or budget < 1:
        raise ValueError(f"budget={budget} must be a positive integer")
