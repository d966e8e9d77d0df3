"""Max-Cut QUBO, cut values, graph generators and Goemans–Williamson."""

import networkx as nx
import numpy as np
import pytest

from qnn.problems import (
    cut_value,
    erdos_renyi_graph,
    goemans_williamson,
    maxcut_qubo,
    random_regular_graph,
)


def test_qubo_energy_is_minus_cut_on_random_bitstrings():
    graph = erdos_renyi_graph(9, 0.5, rng=1, weights=lambda g, k: g.uniform(0.5, 2.0, k))
    bits = np.random.default_rng(2).integers(0, 2, (50, 9))
    np.testing.assert_allclose(maxcut_qubo(graph).energy(bits), -cut_value(graph, bits), atol=1e-12)


def test_qubo_is_upper_triangular_qlauncher_convention():
    q = maxcut_qubo(nx.Graph([(0, 1), (1, 2)])).matrix
    np.testing.assert_array_equal(q, [[-1, 2, 0], [0, -2, 2], [0, 0, -1]])


@pytest.mark.parametrize(("graph", "best"), [(nx.cycle_graph(5), 4), (nx.complete_graph(4), 4)])
def test_brute_force_maximum_cut(graph, best):
    assert maxcut_qubo(graph).brute_force()[1] == -best


def test_generators_are_seeded_and_regular():
    graph = random_regular_graph(10, 3, rng=4)
    assert sorted(graph.nodes) == list(range(10))
    assert {d for _, d in graph.degree} == {3}
    assert nx.utils.edges_equal(graph.edges, random_regular_graph(10, 3, rng=4).edges)
    assert erdos_renyi_graph(6, 1.0, rng=0).number_of_edges() == 15
    with pytest.raises(ValueError, match="degree=3 with n_nodes=5"):
        random_regular_graph(5, 3, rng=0)


def test_goemans_williamson_between_cut_and_sdp_bound():
    graph = erdos_renyi_graph(10, 0.5, rng=3)
    best = -maxcut_qubo(graph).brute_force()[1]
    result = goemans_williamson(graph, rng=5, n_rounds=50)
    assert result.cut == pytest.approx(cut_value(graph, result.bits))
    assert result.cut <= best <= result.sdp_bound * (1 + 1e-6)


def test_goemans_williamson_solves_bipartite_graph():
    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3))
    result = goemans_williamson(graph, rng=0, n_rounds=10)
    assert result.cut == graph.number_of_edges()
    assert result.sdp_bound == pytest.approx(graph.number_of_edges(), rel=1e-6)
