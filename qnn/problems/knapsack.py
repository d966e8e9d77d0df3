"""0/1 knapsack: instances, the slack-bit QUBO, decoding and the dynamic-programming optimum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .qubo import QUBO

SCHEMES = ("uncorrelated", "weakly_correlated", "strongly_correlated")


@dataclass(frozen=True)
class KnapsackInstance:
    """Maximise ``Σ values[i] x_i`` subject to ``Σ weights[i] x_i <= capacity``.

    Attributes:
        values: positive item values (any real).
        weights: positive integer item weights.
        capacity: non-negative integer capacity.
        name: a label for records.
    """

    values: tuple[float, ...]
    weights: tuple[int, ...]
    capacity: int
    name: str = "knapsack"

    def __post_init__(self) -> None:
        values = tuple(float(v) for v in self.values)
        weights = tuple(int(w) for w in self.weights)
        if len(values) != len(weights) or not values:
            raise ValueError(f"values ({len(values)}) and weights ({len(weights)}) must match, > 0")
        for field, items in (("values", values), ("weights", weights)):
            bad = [i for i, v in enumerate(items) if not (np.isfinite(v) and v > 0)]
            if bad:
                raise ValueError(f"{field}[{bad[0]}]={items[bad[0]]} must be positive and finite")
        if weights != tuple(self.weights):
            raise ValueError(f"weights must be integers, got {self.weights}")
        if int(self.capacity) != self.capacity or self.capacity < 0:
            raise ValueError(f"capacity={self.capacity} must be a non-negative integer")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "capacity", int(self.capacity))

    @property
    def n_items(self) -> int:
        return len(self.values)


def random_knapsack(
    n_items: int,
    *,
    rng: np.random.Generator | int,
    scheme: str = "uncorrelated",
    max_weight: int = 10,
    capacity_ratio: float = 0.5,
) -> KnapsackInstance:
    """Random instance in one of Pisinger's classic schemes, with ``R = max_weight``.

    Weights are uniform on ``1 .. R``. Values: ``uncorrelated`` uniform on ``1 .. R``;
    ``weakly_correlated`` uniform on ``w - R/10 .. w + R/10`` (at least 1);
    ``strongly_correlated`` ``w + R/10``. Capacity is ``max(1, floor(capacity_ratio Σ w))``.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose from {list(SCHEMES)}")
    if n_items < 1 or max_weight < 1:
        raise ValueError(f"n_items={n_items} and max_weight={max_weight} must be >= 1")
    if not 0.0 < capacity_ratio <= 1.0:
        raise ValueError(f"capacity_ratio={capacity_ratio} is outside (0, 1]")
    rng = np.random.default_rng(rng)
    weights = rng.integers(1, max_weight + 1, n_items)
    spread = max_weight // 10
    if scheme == "uncorrelated":
        values = rng.integers(1, max_weight + 1, n_items)
    elif scheme == "weakly_correlated":
        values = np.maximum(1, weights + rng.integers(-spread, spread + 1, n_items))
    else:
        values = weights + max(spread, 1)
    capacity = max(1, int(np.floor(capacity_ratio * weights.sum())))
    return KnapsackInstance(
        tuple(values.tolist()), tuple(weights.tolist()), capacity, name=f"knapsack_{scheme}"
    )


def slack_coefficients(capacity: int) -> np.ndarray:
    """Bounded binary slack encoding ``1, 2, .., 2^(K-2), capacity - 2^(K-1) + 1``.

    ``K = capacity.bit_length()`` bits whose subset sums are exactly ``0 .. capacity``.
    """
    k = int(capacity).bit_length()
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.array([1 << i for i in range(k - 1)] + [capacity - (1 << (k - 1)) + 1])


def default_penalty(instance: KnapsackInstance) -> float:
    """``Σ values - greedy value + 1``: every infeasible bitstring then costs more than greedy's.

    Weights are integers, so a bitstring with ``Σ w x + slack != capacity`` has penalty
    ``P r² >= P``; its cost is ``>= -Σ values + P > -greedy value``, the cost of a feasible
    selection. So every QUBO minimiser is feasible with exact slack and has cost ``-optimum``.
    """
    return float(sum(instance.values) - _greedy_value(instance) + 1.0)


def knapsack_qubo(instance: KnapsackInstance, penalty: float | None = None) -> QUBO:
    """``C(x, y) = -Σ v_i x_i + P (Σ w_i x_i + Σ c_k y_k - capacity)²``.

    Bits are the ``n_items`` item bits, then the slack bits ``y`` with coefficients
    :func:`slack_coefficients`. ``penalty`` ``P`` defaults to :func:`default_penalty`; smaller
    values may make an infeasible bitstring optimal.
    """
    p = default_penalty(instance) if penalty is None else float(penalty)
    if not p > 0:
        raise ValueError(f"penalty={penalty} must be positive")
    a = np.concatenate([instance.weights, slack_coefficients(instance.capacity)]).astype(float)
    b = float(instance.capacity)
    q = 2 * p * np.triu(np.outer(a, a), k=1)
    linear = p * (a * a - 2 * b * a)
    linear[: instance.n_items] -= instance.values
    q[np.diag_indices_from(q)] = linear
    return QUBO(q, offset=p * b * b, name=f"{instance.name}_qubo")


@dataclass(frozen=True)
class KnapsackSolution:
    """A selection of items. ``feasible`` means ``weight <= capacity``."""

    items: tuple[int, ...]
    value: float
    weight: int
    feasible: bool


def decode(instance: KnapsackInstance, bits: np.ndarray) -> KnapsackSolution:
    """Items chosen by the first ``n_items`` of ``bits`` (slack bits, if present, are ignored)."""
    x = np.asarray(bits).ravel()
    if x.size < instance.n_items:
        raise ValueError(f"bits have {x.size} entries, the instance has {instance.n_items} items")
    items = tuple(int(i) for i in np.flatnonzero(x[: instance.n_items]))
    weight = sum(instance.weights[i] for i in items)
    value = float(sum(instance.values[i] for i in items))
    return KnapsackSolution(items, value, weight, weight <= instance.capacity)


def knapsack_optimum(instance: KnapsackInstance) -> KnapsackSolution:
    """An optimal selection by dynamic programming over capacities, ``O(n_items · capacity)``."""
    c = instance.capacity
    best = np.zeros(c + 1)
    taken = np.zeros((instance.n_items, c + 1), dtype=bool)
    for i, (v, w) in enumerate(zip(instance.values, instance.weights, strict=True)):
        if w <= c:
            with_item = best[: c + 1 - w] + v
            taken[i, w:] = with_item > best[w:]
            best[w:] = np.maximum(best[w:], with_item)
    items, room = [], c
    for i in range(instance.n_items - 1, -1, -1):
        if taken[i, room]:
            items.append(i)
            room -= instance.weights[i]
    bits = np.zeros(instance.n_items, dtype=np.uint8)
    bits[items] = 1
    return decode(instance, bits)


def _greedy_value(instance: KnapsackInstance) -> float:
    """Value of the greedy feasible selection by decreasing value/weight ratio."""
    order = np.argsort([-v / w for v, w in zip(instance.values, instance.weights, strict=True)])
    room, total = instance.capacity, 0.0
    for i in order:
        if instance.weights[i] <= room:
            room -= instance.weights[i]
            total += instance.values[i]
    return total


# ---------------------------------------------------------------- penalty form (no slack bits)
def penalty_weight(instance: KnapsackInstance) -> float:
    """``λ`` of :func:`penalty_cost`: :func:`default_penalty`, ``Σ values − greedy value + 1``.

    Weights are integers, so an infeasible selection exceeds the capacity by at least 1 and
    costs at least ``−Σ values + λ = −greedy value + 1``, more than the greedy selection's
    ``−greedy value`` and so more than the optimum's. No infeasible string beats the best
    feasible one, while ``λ`` stays small enough that the cost still ranks infeasible strings
    by value and overshoot (a larger ``λ`` only flattens that region).
    """
    return default_penalty(instance)


def penalty_cost(instance: KnapsackInstance, bits: np.ndarray, penalty: float | None = None
                 ) -> np.ndarray:
    """``C(x) = −Σ v_i x_i + λ · max(0, Σ w_i x_i − capacity)`` of ``(..., n_items)`` 0/1 rows.

    One bit per item and no slack bits, so the cost is not a QUBO: a black-box cost (see
    :class:`qnn.bbs.BlackBoxSolver`). ``penalty`` ``λ`` defaults to :func:`penalty_weight`.
    """
    lam = penalty_weight(instance) if penalty is None else float(penalty)
    if not lam > 0:
        raise ValueError(f"penalty={penalty} must be positive")
    value, weight = _value_and_weight(instance, bits)
    return -value + lam * np.maximum(0.0, weight - instance.capacity)


def value_cost(instance: KnapsackInstance, bits: np.ndarray) -> np.ndarray:
    """``C(x) = −Σ v_i x_i`` for a selection within capacity and ``0`` for one over it.

    An overweight selection is worth no more than the empty knapsack. Unlike
    :func:`penalty_cost`, the cost is bounded (``−Σ v ≤ C ≤ 0``), so the flip slopes
    ``C(b_i = 1) − C(b_i = 0)`` stay of the order of one item's value whatever the overshoot;
    the independent reproduction of arXiv 2510.08274 (merlinquantum/reproduced_papers) scores
    knapsack this way. Same ``(..., n_items)`` 0/1 rows in, costs out.
    """
    value, weight = _value_and_weight(instance, bits)
    return np.where(weight > instance.capacity, 0.0, -value)


def _value_and_weight(instance: KnapsackInstance, bits: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Packed value and weight of ``(..., n_items)`` 0/1 rows, each ``(...)`` float64."""
    x = np.asarray(bits, dtype=np.float64)
    if x.shape[-1] != instance.n_items:
        raise ValueError(f"bits have {x.shape[-1]} entries, the instance has "
                         f"{instance.n_items} items")
    return (x @ np.asarray(instance.values, dtype=np.float64),
            x @ np.asarray(instance.weights, dtype=np.float64))


def penalty_optimum(instance: KnapsackInstance) -> tuple[np.ndarray, float]:
    """An optimal ``(n_items,)`` uint8 selection and its :func:`penalty_cost` (``−`` the
    dynamic-programming optimum value; a feasible string has no penalty), which is also its
    :func:`value_cost`."""
    best = knapsack_optimum(instance)
    bits = np.zeros(instance.n_items, dtype=np.uint8)
    bits[list(best.items)] = 1
    return bits, -best.value
