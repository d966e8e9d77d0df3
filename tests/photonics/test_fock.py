"""Fock indexing: basis size and order, rank/unrank, packing, clicks."""

import math

import numpy as np
import pytest

from qnn.photonics import (
    click_patterns,
    fock_basis,
    fock_rank,
    fock_unrank,
    n_fock_states,
    pack_patterns,
    unpack_patterns,
)
from qnn.photonics.fock import bits_per_mode, parent_table


@pytest.mark.parametrize(("m", "n"), [(1, 3), (2, 2), (4, 2), (8, 4), (12, 6), (7, 0)])
def test_basis_is_every_pattern_once_in_lexicographic_order(m, n):
    basis = fock_basis(m, n)
    assert basis.shape == (math.comb(m + n - 1, n), m) == (n_fock_states(m, n), m)
    assert (basis.sum(axis=1) == n).all()
    assert len(np.unique(basis, axis=0)) == len(basis)
    as_tuples = [tuple(row) for row in basis.tolist()]
    assert as_tuples == sorted(as_tuples)


def test_rank_inverts_unrank():
    basis = fock_basis(9, 5)
    ranks = np.arange(len(basis))
    np.testing.assert_array_equal(fock_rank(basis), ranks)
    np.testing.assert_array_equal(fock_unrank(ranks[::7], 9, 5), basis[::7])
    assert fock_rank([2, 0, 0]) == 5 and fock_rank([0, 0, 2]) == 0


def test_rank_and_unrank_errors():
    with pytest.raises(ValueError, match="same photon count"):
        fock_rank([[1, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"ranks must lie in \[0, 2\]"):
        fock_unrank([3], 2, 2)


def test_parent_table_points_at_one_photon_fewer():
    basis, smaller = fock_basis(5, 3).astype(int), fock_basis(5, 2).astype(int)
    parents = parent_table(5, 3)
    for row, par in zip(basis, parents, strict=True):
        for mode in range(5):
            if row[mode] == 0:
                assert par[mode] == len(smaller)
            else:
                expected = row.copy()
                expected[mode] -= 1
                np.testing.assert_array_equal(smaller[par[mode]], expected)


def test_pack_round_trip_and_order():
    basis = fock_basis(16, 8)
    keys = pack_patterns(basis, bits_per_mode(8))
    assert keys.dtype == np.uint64 and (keys[1:] > keys[:-1]).all()
    np.testing.assert_array_equal(unpack_patterns(keys, 16, 4), basis)
    clicks = np.random.default_rng(0).integers(0, 2, (100, 64))
    np.testing.assert_array_equal(unpack_patterns(pack_patterns(clicks, 1), 64, 1), clicks)


def test_pack_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="do not fit in 64-bit"):
        pack_patterns(np.zeros((1, 30), dtype=int), 4)
    with pytest.raises(ValueError, match=r"counts must lie in \[0, 3\]"):
        pack_patterns(np.array([[4, 0]]), 2)
    with pytest.raises(ValueError, match="must be integers"):
        pack_patterns(np.array([[1.9, 0.0]]), 2)
    with pytest.raises(ValueError, match="cannot unpack 20 modes x 4 bits"):
        unpack_patterns(np.zeros(1, np.uint64), 20, 4)


def test_click_patterns():
    np.testing.assert_array_equal(click_patterns([[0, 2, 1], [3, 0, 0]]), [[0, 1, 1], [1, 0, 0]])
