"""Euclidean travelling salesman: random instances, the binary tour index and Held–Karp.

A tour starts and ends at city 0; the other ``n − 1`` cities are ordered by a *tour index*
``k`` in ``[0, (n − 1)!)`` read in the factorial number system (Lehmer code): digit ``i``
(``i = 0 .. n − 2``) is ``(k // (n − 2 − i)!) mod (n − 1 − i)`` and picks, among the cities
not yet visited in increasing order, the one visited at position ``i + 1``. Index 0 is the
tour ``0, 1, 2, …, n − 1``. The index is written in ``m = ceil(log2((n − 1)!))`` bits, most
significant first, so every tour has exactly one bitstring (the reverse of a tour is another
index with the same length).

The ``2^m − (n − 1)!`` bitstrings with an index ``>= (n − 1)!`` name no tour. They cost
:attr:`TSPInstance.invalid_cost`, twice the longest any tour can be, rather than being wrapped
onto valid tours (``k mod (n − 1)!``): wrapping would give some tours two bitstrings and so
twice the chance under any proposal distribution, a bias a solver comparison should not
carry. Above every tour, an invalid string is never the optimum, a black-box solver simply
learns to avoid that region (the high indices, i.e. leading bits set), and a row whose best
string is invalid shows a relative error above 1 instead of a plausible tour.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

MAX_HELD_KARP_CITIES = 18  # 2^17 subsets x 17 cities of float64: tens of MB, a few seconds
MAX_INDEX_BITS = 62  # tour indices are held in int64


def tour_bits(n_cities: int) -> int:
    """``m = ceil(log2((n − 1)!))``: bits of the tour index of ``n_cities`` cities."""
    _check_cities(n_cities)
    return max(1, (math.factorial(n_cities - 1) - 1).bit_length())


def cities_for_bits(n_bits: int) -> int:
    """The number of cities whose tour index has exactly ``n_bits`` bits.

    Raises:
        ValueError: no number of cities gives ``n_bits`` bits (e.g. 11: 7 cities need 10
            bits, 8 cities 13), naming the sizes that exist nearby.
    """
    sizes = {tour_bits(n): n for n in range(3, 22)}
    if n_bits not in sizes:
        near = [m for m in sizes if abs(m - n_bits) <= 10]
        raise ValueError(f"n_bits={n_bits} is no tour-index size; sizes (bits) of 3..21 cities "
                         f"near it: {near}")
    return sizes[n_bits]


@dataclass(frozen=True, eq=False)
class TSPInstance:
    """Cities in the plane; the cost of a tour is its Euclidean length.

    Attributes:
        coords: ``(n, 2)`` float64 city positions, ``n >= 3``, not all in one point.
        name: a label for records.
    """

    coords: np.ndarray
    name: str = "tsp"

    def __post_init__(self) -> None:
        coords = np.asarray(self.coords, dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"coords has shape {coords.shape}; expected (n_cities, 2)")
        _check_cities(coords.shape[0])
        if not np.isfinite(coords).all():
            raise ValueError("coords must be finite")
        coords.setflags(write=False)
        object.__setattr__(self, "coords", coords)
        distances = np.sqrt(((coords[:, None] - coords[None]) ** 2).sum(-1))
        if distances.max() == 0:
            raise ValueError("coords puts every city in one point: every tour has length 0")
        distances.setflags(write=False)
        object.__setattr__(self, "distances", distances)

    @property
    def n_cities(self) -> int:
        return self.coords.shape[0]

    @property
    def n_tours(self) -> int:
        """``(n − 1)!`` tours with city 0 fixed (each direction counted)."""
        return math.factorial(self.n_cities - 1)

    @property
    def n_bits(self) -> int:
        return tour_bits(self.n_cities)

    @property
    def invalid_cost(self) -> float:
        """Cost of an index ``>= (n − 1)!``: ``2 n d_max``, twice a bound on any tour (a tour
        has ``n`` edges, none longer than the largest distance ``d_max``), so strictly above
        every tour even when the bound is reached."""
        return 2.0 * self.n_cities * float(self.distances.max())

    def tour_length(self, tour: np.ndarray) -> np.ndarray:
        """Lengths of ``(..., n)`` closed tours given as city orders."""
        tour = np.asarray(tour)
        return self.distances[tour, np.roll(tour, -1, axis=-1)].sum(-1)

    def cost(self, bits: np.ndarray) -> np.ndarray:
        """``(B,)`` costs of ``(B, m)`` 0/1 tour indices (a batched black-box cost): the tour's
        length, or :attr:`invalid_cost` for an index ``>= (n − 1)!``."""
        bits = np.asarray(bits)
        if bits.ndim != 2 or bits.shape[1] != self.n_bits:
            raise ValueError(f"bits has shape {bits.shape}; expected (batch, {self.n_bits})")
        index = bits_to_index(bits)
        valid = index < self.n_tours
        out = np.full(index.shape, self.invalid_cost)
        if valid.any():
            out[valid] = self.tour_length(decode_tours(index[valid], self.n_cities))
        return out

    def feasible(self, bits: np.ndarray) -> bool:
        """Whether one bitstring is a tour index (``< (n − 1)!``)."""
        return bool(bits_to_index(np.asarray(bits)[None])[0] < self.n_tours)


def random_tsp(n_cities: int, *, rng: np.random.Generator | int) -> TSPInstance:
    """``n_cities`` cities uniform in the unit square."""
    _check_cities(n_cities)
    rng = np.random.default_rng(rng)
    return TSPInstance(rng.random((n_cities, 2)), name=f"tsp{n_cities}")


# ------------------------------------------------------------------ the tour index
def bits_to_index(bits: np.ndarray) -> np.ndarray:
    """``(B,)`` int64 indices of ``(B, m)`` 0/1 rows, most significant bit first."""
    bits = np.asarray(bits)
    if bits.shape[-1] > MAX_INDEX_BITS:
        raise ValueError(f"bits has {bits.shape[-1]} columns; at most {MAX_INDEX_BITS} fit int64")
    weights = np.left_shift(np.int64(1), np.arange(bits.shape[-1] - 1, -1, -1, dtype=np.int64))
    return (bits.astype(np.int64) * weights).sum(-1)


def index_to_bits(index: np.ndarray, n_bits: int) -> np.ndarray:
    """``(B, n_bits)`` uint8 rows of ``(B,)`` indices, most significant bit first."""
    index = np.asarray(index, dtype=np.int64)
    if n_bits > MAX_INDEX_BITS or (index >= (np.int64(1) << n_bits)).any() or (index < 0).any():
        raise ValueError(f"indices outside [0, 2^{n_bits}) or n_bits={n_bits} > {MAX_INDEX_BITS}")
    shifts = np.arange(n_bits - 1, -1, -1, dtype=np.int64)
    return ((index[..., None] >> shifts) & 1).astype(np.uint8)


def decode_tours(index: np.ndarray, n_cities: int) -> np.ndarray:
    """``(B, n)`` tours (city 0 first) of ``(B,)`` indices in ``[0, (n − 1)!)``."""
    _check_cities(n_cities)
    index = np.asarray(index, dtype=np.int64)
    if (index < 0).any() or (index >= math.factorial(n_cities - 1)).any():
        raise ValueError(f"tour indices must lie in [0, {math.factorial(n_cities - 1)})")
    batch = index.shape[0]
    remaining = np.tile(np.arange(1, n_cities), (batch, 1))  # unvisited, in increasing order
    rows = np.arange(batch)
    tours = np.zeros((batch, n_cities), dtype=np.int64)
    for i in range(n_cities - 1):
        place = math.factorial(n_cities - 2 - i)
        digit = (index // place) % (n_cities - 1 - i)
        tours[:, i + 1] = remaining[rows, digit]
        keep = np.arange(remaining.shape[1])[None] != digit[:, None]
        remaining = remaining[keep].reshape(batch, -1)
    return tours


def encode_tours(tours: np.ndarray) -> np.ndarray:
    """``(B,)`` indices of ``(B, n)`` tours that start at city 0 (inverse of
    :func:`decode_tours`)."""
    tours = np.asarray(tours, dtype=np.int64)
    n = tours.shape[-1]
    _check_cities(n)
    expected = np.arange(n)
    if (tours[:, 0] != 0).any() or (np.sort(tours, axis=1) != expected).any():
        raise ValueError("every tour must start at city 0 and visit each city once")
    index = np.zeros(tours.shape[0], dtype=np.int64)
    for i in range(1, n):
        # Lehmer digit: how many later cities have a smaller number than this one.
        digit = (tours[:, i + 1:] < tours[:, i : i + 1]).sum(1)
        index += digit * math.factorial(n - 1 - i)
    return index


# ------------------------------------------------------------------ exact optimum
@dataclass(frozen=True)
class Tour:
    """An optimal tour: the city order (city 0 first), its length and its tour index."""

    order: tuple[int, ...]
    length: float
    index: int


def held_karp(instance: TSPInstance) -> Tour:
    """A shortest tour by Held–Karp dynamic programming, ``O(2^n n²)`` time.

    ``best[S, j]`` is the shortest path from city 0 through the set ``S`` of other cities
    ending at ``j ∈ S``; sets are processed by size, each size in one vectorised step.
    """
    n = instance.n_cities
    if n > MAX_HELD_KARP_CITIES:
        raise ValueError(f"n_cities={n}: Held–Karp is limited to {MAX_HELD_KARP_CITIES} cities")
    d = instance.distances
    k = n - 1  # city c >= 1 is bit c - 1 of a set
    best = np.full((1 << k, k), np.inf)
    parent = np.full((1 << k, k), -1, dtype=np.int64)
    singles = 1 << np.arange(k)
    best[singles, np.arange(k)] = d[0, 1:]
    sets = np.arange(1 << k)
    sizes = np.array([bin(s).count("1") for s in range(1 << k)])
    step = d[1:, 1:]  # step[a, b]: from city a + 1 to city b + 1
    for size in range(2, k + 1):
        layer = sets[sizes == size]
        for j in range(k):
            members = layer[(layer >> j) & 1 == 1]
            before = members ^ (1 << j)
            totals = best[before] + step[:, j]  # (L, k): inf where the last city is not in it
            parent[members, j] = np.argmin(totals, axis=1)
            best[members, j] = totals[np.arange(members.size), parent[members, j]]
    full = (1 << k) - 1
    closing = best[full] + d[1:, 0]
    last = int(np.argmin(closing))
    order, subset = [], full
    while last >= 0:
        order.append(last + 1)
        subset, last = subset ^ (1 << last), int(parent[subset, last])
    tour = np.array([0, *reversed(order)])
    return Tour(tuple(int(c) for c in tour), float(closing.min()),
                int(encode_tours(tour[None])[0]))


def brute_force_tour(instance: TSPInstance) -> Tour:
    """A shortest tour by trying all ``(n − 1)!`` orders (small ``n``: tests)."""
    n = instance.n_cities
    if n > 10:
        raise ValueError(f"n_cities={n}: brute force is limited to 10 cities")
    tours = np.array([(0, *p) for p in itertools.permutations(range(1, n))])
    lengths = instance.tour_length(tours)
    i = int(np.argmin(lengths))
    return Tour(tuple(int(c) for c in tours[i]), float(lengths[i]),
                int(encode_tours(tours[i : i + 1])[0]))


def _check_cities(n_cities: int) -> None:
    if isinstance(n_cities, bool) or int(n_cities) != n_cities or n_cities < 3:
        raise ValueError(f"n_cities={n_cities!r} must be an integer >= 3")
    if (math.factorial(int(n_cities) - 1) - 1).bit_length() > MAX_INDEX_BITS:
        raise ValueError(f"n_cities={n_cities}: the tour index needs more than "
                         f"{MAX_INDEX_BITS} bits")
