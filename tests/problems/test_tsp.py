"""Euclidean TSP: the binary tour index, its invalid strings, and Held–Karp against brute force."""

import itertools
import math

import numpy as np
import pytest

from qnn.problems import (
    TSPInstance,
    cities_for_bits,
    decode_tours,
    encode_tours,
    held_karp,
    random_tsp,
    tour_bits,
)
from qnn.problems.tsp import bits_to_index, brute_force_tour, index_to_bits

SQUARE = np.array([[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0]])  # side 2, scrambled order


@pytest.mark.parametrize(("cities", "bits"), [(7, 10), (10, 19), (13, 29)])
def test_table_sizes_are_the_tour_index_lengths_of_7_10_13_cities(cities, bits):
    # 6! = 720 <= 2^10, 9! = 362880 <= 2^19, 12! = 479001600 <= 2^29, each above half of it
    assert tour_bits(cities) == bits
    assert 2 ** (bits - 1) < math.factorial(cities - 1) <= 2**bits
    assert cities_for_bits(bits) == cities


@pytest.mark.parametrize("bits", [11, 20, 30])
def test_a_size_no_city_count_gives_is_refused(bits):
    with pytest.raises(ValueError, match=f"n_bits={bits} is no tour-index size"):
        cities_for_bits(bits)


def test_square_optimum_is_its_perimeter_and_the_crossing_tour_is_longer():
    square = TSPInstance(SQUARE)
    best = held_karp(square)
    assert best.length == pytest.approx(4 * 2.0)
    assert set(best.order) == {0, 1, 2, 3} and best.order[0] == 0
    # 0 -> (2,2) -> (2,0) -> (0,2): two diagonals and two sides
    assert square.tour_length(np.array([0, 1, 2, 3])) == pytest.approx(2 * 2 + 2 * 2 * math.sqrt(2))


def test_collinear_cities_optimum_is_twice_the_span():
    line = TSPInstance(np.array([[0.0, 0.0], [3.0, 0.0], [1.0, 0.0], [7.0, 0.0], [2.0, 0.0]]))
    assert held_karp(line).length == pytest.approx(14.0)


@pytest.mark.parametrize("cities", [3, 4, 5, 6, 7])
def test_every_index_round_trips_and_names_each_tour_once(cities):
    indices = np.arange(math.factorial(cities - 1))
    tours = decode_tours(indices, cities)
    assert (tours[:, 0] == 0).all()
    assert len({tuple(t) for t in tours}) == indices.size  # a bijection onto the tours
    expected = sorted((0, *p) for p in itertools.permutations(range(1, cities)))
    assert [tuple(t) for t in tours] == expected  # Lehmer order is lexicographic order
    assert (encode_tours(tours) == indices).all()
    bits = index_to_bits(indices, tour_bits(cities))
    assert (bits_to_index(bits) == indices).all()


def test_index_zero_is_the_identity_tour_and_bits_are_most_significant_first():
    assert decode_tours(np.array([0]), 5).tolist() == [[0, 1, 2, 3, 4]]
    assert index_to_bits(np.array([1, 4]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cities", [4, 6, 8])
def test_held_karp_equals_brute_force(cities, seed):
    instance = random_tsp(cities, rng=seed)
    exact, brute = held_karp(instance), brute_force_tour(instance)
    assert exact.length == pytest.approx(brute.length, rel=1e-12)
    assert instance.tour_length(np.array(exact.order)) == pytest.approx(exact.length)
    assert decode_tours(np.array([exact.index]), cities)[0].tolist() == list(exact.order)


def test_cost_of_bits_is_the_tour_length_and_invalid_indices_cost_more_than_any_tour():
    instance = random_tsp(5, rng=3)  # 24 tours in 5 bits: indices 24..31 are invalid
    every = index_to_bits(np.arange(32), 5)
    costs = instance.cost(every)
    lengths = instance.tour_length(decode_tours(np.arange(24), 5))
    assert np.allclose(costs[:24], lengths)
    assert (costs[24:] == instance.invalid_cost).all()
    assert instance.invalid_cost > lengths.max()
    assert [instance.feasible(b) for b in every] == [True] * 24 + [False] * 8
    assert costs.argmin() < 24


def test_held_karp_at_13_cities_takes_well_under_a_second():
    import time

    instance = random_tsp(13, rng=0)
    start = time.perf_counter()
    best = held_karp(instance)
    assert time.perf_counter() - start < 1.0
    assert best.length <= instance.tour_length(decode_tours(np.arange(2000), 13)).min()


@pytest.mark.parametrize(("coords", "message"), [
    (np.zeros((3, 3)), "coords has shape"),
    (np.zeros((2, 2)), "n_cities=2 must be an integer >= 3"),
    (np.ones((4, 2)), "every city in one point"),
    (np.array([[0, 0], [1, np.nan], [2, 2]]), "coords must be finite"),
])
def test_bad_instances_are_refused(coords, message):
    with pytest.raises(ValueError, match=message):
        TSPInstance(coords)


def test_cost_refuses_bits_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"expected \(batch, 5\)"):
        random_tsp(5, rng=0).cost(np.zeros((2, 6), dtype=np.uint8))
