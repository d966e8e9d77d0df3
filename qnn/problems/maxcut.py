"""Max-Cut: random graphs, the Max-Cut QUBO, cut values and the Goemans–Williamson SDP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .qubo import QUBO

#: ``draw(rng, n_edges) -> (n_edges,)`` edge weights, e.g. ``lambda g, k: g.uniform(0.5, 2, k)``.
WeightDraw = Callable[[np.random.Generator, int], np.ndarray]


def erdos_renyi_graph(
    n_nodes: int, p: float, *, rng: np.random.Generator | int, weights: WeightDraw | None = None
) -> nx.Graph:
    """Erdős–Rényi ``G(n, p)`` on nodes ``0 .. n_nodes - 1``.

    Args:
        n_nodes: number of nodes, ``>= 1``.
        p: probability of each of the ``n (n - 1) / 2`` edges, in ``[0, 1]``.
        rng: source of the edge draws (and of the weights).
        weights: weight distribution; ``None`` leaves every edge at weight 1.
    """
    if n_nodes < 1:
        raise ValueError(f"n_nodes={n_nodes} must be >= 1")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} is outside [0, 1]")
    rng = np.random.default_rng(rng)
    rows, cols = np.triu_indices(n_nodes, k=1)
    keep = rng.random(rows.size) < p
    graph = nx.Graph()
    graph.add_nodes_from(range(n_nodes))
    graph.add_edges_from(zip(rows[keep].tolist(), cols[keep].tolist(), strict=True))
    return graph if weights is None else with_random_weights(graph, weights, rng=rng)


def random_regular_graph(
    n_nodes: int, degree: int, *, rng: np.random.Generator | int, weights: WeightDraw | None = None
) -> nx.Graph:
    """Uniformly random ``degree``-regular graph on nodes ``0 .. n_nodes - 1``.

    ``n_nodes * degree`` must be even and ``degree < n_nodes``. ``weights`` as in
    :func:`erdos_renyi_graph`.
    """
    if not 0 <= degree < n_nodes or (n_nodes * degree) % 2:
        raise ValueError(
            f"degree={degree} with n_nodes={n_nodes}: need 0 <= degree < n_nodes, even product"
        )
    rng = np.random.default_rng(rng)
    graph = nx.random_regular_graph(degree, n_nodes, seed=int(rng.integers(2**32)))
    graph = nx.Graph(graph.edges)
    graph.add_nodes_from(range(n_nodes))
    return graph if weights is None else with_random_weights(graph, weights, rng=rng)


def with_random_weights(
    graph: nx.Graph, draw: WeightDraw, *, rng: np.random.Generator | int
) -> nx.Graph:
    """A copy of ``graph`` whose edges (in ``graph.edges`` order) get weights ``draw(rng, n)``."""
    rng = np.random.default_rng(rng)
    edges = list(graph.edges)
    values = np.asarray(draw(rng, len(edges)), dtype=np.float64)
    if values.shape != (len(edges),) or not np.isfinite(values).all():
        raise ValueError(f"draw returned shape {values.shape}, expected ({len(edges)},) finite")
    out = graph.copy()
    for (i, j), w in zip(edges, values.tolist(), strict=True):
        out[i][j]["weight"] = w
    return out


def edge_arrays(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    """``(n_edges, 2)`` int endpoints and ``(n_edges,)`` float weights (missing weight = 1).

    Raises:
        ValueError: if the nodes are not exactly ``0 .. n - 1`` or there is a self-loop.
    """
    n = graph.number_of_nodes()
    if n == 0 or set(graph.nodes) != set(range(n)):
        raise ValueError(f"graph nodes must be 0 .. n - 1, got {sorted(graph.nodes)[:10]}...")
    data = [(i, j, float(d.get("weight", 1.0))) for i, j, d in graph.edges(data=True)]
    if any(i == j for i, j, _ in data):
        raise ValueError("graph has a self-loop, which no cut can separate")
    ends = np.array([(i, j) for i, j, _ in data], dtype=np.int64).reshape(-1, 2)
    return ends, np.array([w for *_, w in data], dtype=np.float64)


def maxcut_qubo(graph: nx.Graph) -> QUBO:
    """The QUBO whose energy is minus the cut value: ``C(x) = -cut(x)``.

    Per edge ``(i, j, w)``: ``Q_ii -= w``, ``Q_jj -= w``, ``Q_ij += 2w`` (``i < j``), since
    ``w (2 x_i x_j - x_i - x_j) = -w [x_i != x_j]``. This is PCSS QLauncher's convention
    (``Q_ii -= 1`` per incident edge, symmetric ``Q_ij = Q_ji = 1`` for unit weights) written
    upper-triangularly. Bit ``i`` is the side of node ``i``; the offset is 0.
    """
    ends, w = edge_arrays(graph)
    n = graph.number_of_nodes()
    q = np.zeros((n, n))
    lo, hi = ends.min(axis=1), ends.max(axis=1)
    np.add.at(q, (lo, hi), 2 * w)
    np.add.at(q, (lo, lo), -w)
    np.add.at(q, (hi, hi), -w)
    return QUBO(q, name=f"maxcut_n{n}_m{len(w)}")


def cut_value(graph: nx.Graph, bits: np.ndarray) -> np.ndarray:
    """Total weight of edges whose ends differ in ``(..., n)`` 0/1 bits: ``(...)`` float64."""
    ends, w = edge_arrays(graph)
    x = np.asarray(bits)
    n = graph.number_of_nodes()
    if x.shape[-1] != n:
        raise ValueError(f"bits have {x.shape[-1]} entries, the graph has {n} nodes")
    return (x[..., ends[:, 0]] != x[..., ends[:, 1]]).astype(np.float64) @ w


@dataclass(frozen=True)
class GoemansWilliamsonResult:
    """Best rounded cut and the SDP relaxation's value.

    Attributes:
        bits: ``(n,)`` uint8, the side of each node in the best cut found.
        cut: its cut value.
        sdp_bound: optimal value of the SDP relaxation, an upper bound on the maximum cut
            (up to the solver's tolerance, ~1e-8 relative with Clarabel).
    """

    bits: np.ndarray
    cut: float
    sdp_bound: float


def goemans_williamson(
    graph: nx.Graph, *, rng: np.random.Generator | int, n_rounds: int = 100
) -> GoemansWilliamsonResult:
    """Goemans–Williamson: SDP relaxation then ``n_rounds`` random-hyperplane roundings.

    Solves ``max Σ_edges w (1 - X_ij) / 2`` over PSD ``X`` with unit diagonal (cvxpy, Clarabel
    if installed, else SCS), factors ``X = V Vᵀ`` and cuts by ``sign(V r)``, ``r ~ N(0, I)``.
    """
    if n_rounds < 1:
        raise ValueError(f"n_rounds={n_rounds} must be >= 1")
    ends, w = edge_arrays(graph)
    n = graph.number_of_nodes()
    if w.size == 0:
        return GoemansWilliamsonResult(np.zeros(n, dtype=np.uint8), 0.0, 0.0)
    gram, bound = _maxcut_sdp(n, ends, w)
    evals, evecs = np.linalg.eigh(gram)
    vectors = evecs * np.sqrt(np.clip(evals, 0.0, None))
    normals = np.random.default_rng(rng).standard_normal((n_rounds, n))
    bits = (normals @ vectors.T >= 0).astype(np.uint8)
    cuts = cut_value(graph, bits)
    best = int(np.argmax(cuts))
    return GoemansWilliamsonResult(bits[best], float(cuts[best]), bound)


def _maxcut_sdp(n: int, ends: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Optimal ``(n, n)`` Gram matrix and value of the Max-Cut SDP relaxation."""
    import cvxpy as cp

    laplacian = np.zeros((n, n))
    np.add.at(laplacian, (ends[:, 0], ends[:, 1]), -w)
    np.add.at(laplacian, (ends[:, 1], ends[:, 0]), -w)
    np.add.at(laplacian, (ends.ravel(), ends.ravel()), np.repeat(w, 2))
    gram = cp.Variable((n, n), PSD=True)
    problem = cp.Problem(cp.Maximize(cp.trace(laplacian @ gram) / 4), [cp.diag(gram) == 1])
    solver = "CLARABEL" if "CLARABEL" in cp.installed_solvers() else "SCS"
    problem.solve(solver=solver)
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"Max-Cut SDP ended with status {problem.status!r} ({solver})")
    return np.asarray(gram.value), float(problem.value)
