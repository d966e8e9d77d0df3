"""Fock-basis indexing: enumerate, rank and pack occupation patterns of N photons in M modes.

The basis of ``n_photons`` photons in ``n_modes`` modes is ordered lexicographically with
mode 0 most significant, ascending: ``(0, …, 0, N)`` first and ``(N, 0, …, 0)`` last. This is
also the order of the packed integer keys, so sorted histograms and basis order agree.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .cost import check_fock_space

MAX_PHOTONS = 255  # patterns hold uint8 counts per mode


def n_fock_states(n_modes: int, n_photons: int) -> int:
    """Number of occupation patterns of ``n_photons`` in ``n_modes``: ``C(M + N - 1, N)``."""
    if n_modes < 1 or n_photons < 0:
        raise ValueError(f"need n_modes >= 1 and n_photons >= 0, got {n_modes}, {n_photons}")
    return math.comb(n_modes + n_photons - 1, n_photons)


@lru_cache(maxsize=64)
def _basis(n_modes: int, n_photons: int) -> np.ndarray:
    if n_modes == 1:
        return np.full((1, 1), n_photons, dtype=np.uint8)
    blocks = []
    for first in range(n_photons + 1):
        rest = _basis(n_modes - 1, n_photons - first)
        head = np.full((rest.shape[0], 1), first, dtype=np.uint8)
        blocks.append(np.hstack([head, rest]))
    out = np.vstack(blocks)
    out.setflags(write=False)
    return out


def check_photons(n_photons: int) -> int:
    """``n_photons``, or a ValueError above :data:`MAX_PHOTONS` (patterns store uint8 counts)."""
    if n_photons > MAX_PHOTONS:
        raise ValueError(f"{n_photons} photons exceed {MAX_PHOTONS}, the most a pattern "
                         "stores per mode (uint8)")
    return n_photons


def fock_basis(n_modes: int, n_photons: int) -> np.ndarray:
    """All patterns as a read-only ``(C(M+N-1, N), M)`` uint8 array in basis order.

    Raises:
        CostLimitError: above ``QNN_MAX_FOCK_STATES`` patterns (see :mod:`.cost`), before
            anything is allocated: 40 modes / 20 photons would be 2.8e15 patterns.
    """
    n_fock_states(n_modes, n_photons)  # validates
    check_fock_space(n_modes, n_photons)
    check_photons(n_photons)
    return _basis(n_modes, n_photons)


@lru_cache(maxsize=64)
def _rank_table(n_modes: int, n_photons: int) -> np.ndarray:
    """``table[m, r, n]``: patterns that precede ``n`` photons in the first of ``m + 1`` modes
    holding ``r`` photons, i.e. ``sum_{v < n} C(m + r - v - 1, r - v)`` (``m`` modes after it)."""
    table = np.zeros((n_modes, n_photons + 1, n_photons + 2), dtype=np.int64)
    for m in range(n_modes):
        for r in range(n_photons + 1):
            for n in range(1, r + 2):
                v = n - 1
                rest = r - v
                count = (1 if rest == 0 else 0) if m == 0 else math.comb(m + rest - 1, rest)
                table[m, r, n] = table[m, r, n - 1] + count
    return table


def fock_rank(patterns: np.ndarray) -> np.ndarray:
    """Index of each pattern in ``fock_basis(M, N)``; every row must hold the same ``N``.

    Args:
        patterns: ``(..., M)`` non-negative integer occupations.

    Returns:
        ``(...)`` int64 indices.
    """
    patterns = np.asarray(patterns, dtype=np.int64)
    totals = patterns.sum(axis=-1)
    n_modes, n_photons = patterns.shape[-1], int(totals.max(initial=0))
    if (patterns < 0).any() or (totals != n_photons).any():
        raise ValueError(
            "fock_rank needs non-negative patterns that all hold the same photon count"
        )
    table = _rank_table(n_modes, n_photons)
    remaining = n_photons - np.cumsum(patterns, axis=-1) + patterns  # photons in modes i..M-1
    modes_after = np.arange(n_modes - 1, -1, -1)
    return table[modes_after, remaining, patterns].sum(axis=-1)


def fock_unrank(ranks: np.ndarray, n_modes: int, n_photons: int) -> np.ndarray:
    """Inverse of :func:`fock_rank`: ``(...)`` indices to ``(..., M)`` uint8 patterns."""
    ranks = np.asarray(ranks, dtype=np.int64)
    size = n_fock_states(n_modes, n_photons)
    if ((ranks < 0) | (ranks >= size)).any():
        raise ValueError(
            f"ranks must lie in [0, {size - 1}] for {n_modes} modes, {n_photons} photons"
        )
    return fock_basis(n_modes, n_photons)[ranks]


@lru_cache(maxsize=64)
def parent_table(n_modes: int, n_photons: int) -> np.ndarray:
    """``(S_N, M)`` int64: index in ``fock_basis(M, N-1)`` of pattern ``n - e_i``, or ``S_{N-1}``
    (a sentinel slot) where ``n_i = 0``. The photon-by-photon (SLOS) step gathers through it."""
    basis = fock_basis(n_modes, n_photons).astype(np.int64)
    sentinel = n_fock_states(n_modes, n_photons - 1)
    out = np.full(basis.shape, sentinel, dtype=np.int64)
    for mode in range(n_modes):
        has = basis[:, mode] > 0
        lowered = basis[has].copy()
        lowered[:, mode] -= 1
        out[has, mode] = fock_rank(lowered)
    out.setflags(write=False)
    return out


def bits_per_mode(max_count: int) -> int:
    """Bits that hold counts ``0..max_count`` (at least one)."""
    return max(1, int(max_count).bit_length())


def pack_patterns(patterns: np.ndarray, bits: int) -> np.ndarray:
    """Pack ``(K, M)`` counts into ``(K,)`` uint64 keys, mode 0 in the most significant bits.

    Raises:
        ValueError: if ``M * bits > 64`` or a count does not fit in ``bits``.
    """
    patterns = np.asarray(patterns)
    if patterns.dtype.kind not in "biu":
        raise ValueError(f"patterns must be integers, got dtype {patterns.dtype}")
    n_modes = patterns.shape[-1]
    if n_modes * bits > 64:
        raise ValueError(f"{n_modes} modes x {bits} bits do not fit in 64-bit keys")
    if patterns.size and (patterns.min() < 0 or patterns.max() >= 1 << bits):
        raise ValueError(f"counts must lie in [0, {(1 << bits) - 1}] to pack into {bits} bits")
    shifts = (bits * np.arange(n_modes - 1, -1, -1)).astype(np.uint64)
    return (patterns.astype(np.uint64) << shifts).sum(axis=-1, dtype=np.uint64)


def unpack_patterns(keys: np.ndarray, n_modes: int, bits: int) -> np.ndarray:
    """Inverse of :func:`pack_patterns`: ``(K,)`` uint64 keys to ``(K, M)`` uint8 counts."""
    if n_modes * bits > 64 or not 1 <= bits <= 8:
        raise ValueError(
            f"cannot unpack {n_modes} modes x {bits} bits (need bits in [1, 8] and"
            " n_modes * bits <= 64)"
        )
    keys = np.asarray(keys, dtype=np.uint64)
    shifts = (bits * np.arange(n_modes - 1, -1, -1)).astype(np.uint64)
    mask = np.uint64((1 << bits) - 1)
    return ((keys[..., None] >> shifts) & mask).astype(np.uint8)


def click_patterns(patterns: np.ndarray) -> np.ndarray:
    """Threshold-detector view of photon-number patterns: ``min(n_i, 1)`` per mode (uint8)."""
    return (np.asarray(patterns) > 0).astype(np.uint8)
