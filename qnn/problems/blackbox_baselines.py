"""Classical baselines on a batched black-box cost, spending exactly a budget of evaluations.

The cost is any ``cost(bits) -> costs``: ``(B, n)`` uint8 bitstrings to ``(B,)`` floats, as
:class:`qnn.bbs.BlackBoxSolver` takes it. Nothing but those values is used (no QUBO matrix,
no cheap one-flip differences), so one *evaluation* is one row handed to ``cost``, counted by
:class:`CountedCost`, and every baseline stops exactly at its budget. Like the black-box BBS,
each keeps the best of EVERY string it evaluated, not only of those it moved to. Calls are
batched where the algorithm allows it, since a Python call per string would dominate.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .baselines import BaselineResult, _check_budget

BatchCost = Callable[[np.ndarray], np.ndarray]  # (B, n) uint8 bits -> (B,) costs
_CHUNK = 4096
_CALIBRATION_MOVES = 64  # observed moves that set the annealing schedule
_MIN_SWEEPS_PER_CHAIN = 200  # annealing chains get at least this many proposals per bit
_MAX_CHAINS = 64


class CountedCost:
    """``cost`` that counts the rows it scores, refuses to go past ``budget`` and keeps the
    best string seen.

    Attributes:
        used: rows scored so far.
        best_bits: ``(n,)`` uint8 best string scored so far (``None`` before the first call).
        best_cost: its cost (``inf`` before the first call).
    """

    def __init__(self, cost: BatchCost, n_bits: int, budget: int) -> None:
        _check_budget(budget)
        if isinstance(n_bits, bool) or int(n_bits) != n_bits or n_bits < 1:
            raise ValueError(f"n_bits={n_bits!r} must be a positive integer")
        self.cost, self.n_bits, self.budget = cost, int(n_bits), int(budget)
        self.used, self.best_bits, self.best_cost = 0, None, math.inf

    @property
    def left(self) -> int:
        return self.budget - self.used

    def __call__(self, bits: np.ndarray) -> np.ndarray:
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.ndim != 2 or bits.shape[1] != self.n_bits:
            raise ValueError(f"bits has shape {bits.shape}; expected (batch, {self.n_bits})")
        if bits.shape[0] > self.left:
            raise RuntimeError(f"{bits.shape[0]} evaluations asked with {self.left} left of "
                               f"the budget {self.budget}")
        costs = np.asarray(self.cost(bits), dtype=np.float64)
        if costs.shape != (bits.shape[0],):
            raise ValueError(f"cost returned shape {costs.shape} for {bits.shape[0]} strings")
        self.used += bits.shape[0]
        i = int(np.argmin(costs))
        if costs[i] < self.best_cost:
            self.best_bits, self.best_cost = bits[i].copy(), float(costs[i])
        return costs

    def result(self) -> BaselineResult:
        return BaselineResult(self.best_bits, self.best_cost, self.used)


def random_search(cost: BatchCost, n_bits: int, budget: int, *,
                  rng: np.random.Generator | int) -> BaselineResult:
    """Best of ``budget`` independent uniform bitstrings."""
    counted, rng = CountedCost(cost, n_bits, budget), np.random.default_rng(rng)
    while counted.left:
        counted(rng.integers(0, 2, (min(_CHUNK, counted.left), n_bits), dtype=np.uint8))
    return counted.result()


def hill_climbing(cost: BatchCost, n_bits: int, budget: int, *,
                  rng: np.random.Generator | int) -> BaselineResult:
    """Steepest-descent one-bit-flip hill climbing with random restarts.

    A start costs 1 evaluation; each step scores all ``n`` one-flip neighbours in one call
    (``n`` evaluations) and moves to the best strictly better one; at a local minimum it
    restarts from a uniform string. When fewer than ``n`` evaluations remain, the last scan
    scores that many random neighbours.
    """
    counted, rng = CountedCost(cost, n_bits, budget), np.random.default_rng(rng)
    flips = np.eye(n_bits, dtype=np.uint8)
    bits = rng.integers(0, 2, (1, n_bits), dtype=np.uint8)
    current = float(counted(bits)[0])
    while counted.left:
        looked = np.arange(n_bits) if counted.left >= n_bits else \
            rng.choice(n_bits, counted.left, replace=False)
        neighbours = bits ^ flips[looked]
        costs = counted(neighbours)
        i = int(np.argmin(costs))
        if costs[i] < current:
            bits, current = neighbours[i : i + 1], float(costs[i])
        elif counted.left:
            bits = rng.integers(0, 2, (1, n_bits), dtype=np.uint8)
            current = float(counted(bits)[0])
    return counted.result()


def simulated_annealing(cost: BatchCost, n_bits: int, budget: int, *,
                        rng: np.random.Generator | int, chains: int | None = None,
                        beta_range: tuple[float, float] | None = None) -> BaselineResult:
    """Metropolis one-bit-flip annealing of independent chains, scored together.

    Each chain starts at a uniform string (1 evaluation) and then proposes flipping a uniform
    random bit (1 evaluation each), accepted with probability ``min(1, exp(−β Δ))``; all
    chains step together, one ``cost`` call per step. ``β`` rises geometrically from
    ``beta_range[0]`` to ``beta_range[1]`` over the steps the budget allows; what is left over
    (``budget − chains`` not divisible by ``chains``) is one last step of that many chains at
    the final ``β``.

    Args:
        chains: parallel chains; ``None``: as many as keep at least 200 proposals per bit in
            every chain, between 1 and 64 (amortises the per-call overhead of a black box,
            while long budgets still anneal slowly).
        beta_range: ``(start, end)``; ``None`` calibrates it as dwave-samplers does from
            ``|Δ|`` bounds, but from observed moves, since a black box gives no bounds: the
            first steps (at least 64 moves over all chains) are a random walk that accepts
            every move, then ``start = ln 2 / max|Δ|`` (the largest uphill move seen is
            accepted half the time) and ``end = ln 100 / min|Δ|`` (the smallest nonzero one
            1% of the time).
    """
    counted, rng = CountedCost(cost, n_bits, budget), np.random.default_rng(rng)
    if chains is None:
        chains = min(_MAX_CHAINS, max(1, budget // (_MIN_SWEEPS_PER_CHAIN * n_bits)))
    if isinstance(chains, bool) or int(chains) != chains or chains < 1:
        raise ValueError(f"chains={chains!r} must be a positive integer")
    if beta_range is not None and not 0 < beta_range[0] <= beta_range[1]:
        raise ValueError(f"beta_range={beta_range} must satisfy 0 < start <= end")
    chains = min(int(chains), budget)
    bits = rng.integers(0, 2, (chains, n_bits), dtype=np.uint8)
    current = counted(bits)
    steps, extra = divmod(counted.left, chains)
    warm = 0 if beta_range is not None else min(steps, math.ceil(_CALIBRATION_MOVES / chains))
    moves: list[np.ndarray] = []
    betas = np.zeros(0)

    def step(active: int, beta: float | None) -> np.ndarray:
        nonlocal bits, current
        proposals = bits[:active].copy()
        proposals[np.arange(active), rng.integers(0, n_bits, active)] ^= 1
        delta = counted(proposals) - current[:active]
        accept = np.ones(active, dtype=bool) if beta is None else \
            delta <= -np.log1p(-rng.random(active)) / beta  # u < exp(−βΔ), u = 1 − U
        bits[:active][accept] = proposals[accept]
        current[:active][accept] += delta[accept]
        return delta

    for t in range(steps):
        if t < warm:
            moves.append(np.abs(step(chains, None)))
            continue
        if t == warm:
            hot, cold = beta_range if beta_range is not None else _observed_betas(moves)
            remaining = steps - warm + (extra > 0)
            betas = hot * (cold / hot) ** (np.arange(remaining) / max(remaining - 1, 1))
        step(chains, float(betas[t - warm]))
    if extra:
        beta = float(betas[-1]) if betas.size else (
            beta_range[1] if beta_range is not None else _observed_betas(moves)[1])
        step(extra, beta)
    return counted.result()


def _observed_betas(moves: list[np.ndarray]) -> tuple[float, float]:
    """dwave-samplers' β range from observed ``|Δ|`` (``(1, 1)`` if no move changed the cost)."""
    seen = np.concatenate(moves) if moves else np.zeros(0)
    seen = seen[np.isfinite(seen) & (seen > 0)]
    if seen.size == 0:
        return 1.0, 1.0
    return math.log(2) / float(seen.max()), math.log(100) / float(seen.min())
