"""General meshes: unitarity, universality (Clements round trip), permanents, autograd, and
the same exact-backend path as TBIs."""

import itertools
import math

import numpy as np
import pytest
import torch

from qnn.photonics import (
    MeshCircuit,
    NoiseModel,
    TBICircuit,
    clements_decomposition,
    collision_free,
    fock_basis,
    get_backend,
    random_mesh,
    random_tbi,
)
from qnn.photonics.cost import CostLimitError
from qnn.photonics.mesh import mesh_cells, mesh_unitary


def haar(m, seed):
    """A Haar-random unitary (QR of a complex Ginibre matrix, phases fixed; Mezzadri 2007)."""
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(m, m)) + 1j * rng.normal(size=(m, m))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / abs(np.diag(r)))


def permanent(matrix):
    n = matrix.shape[0]
    rows = range(n)
    return sum(np.prod([matrix[i, p[i]] for i in rows]) for p in itertools.permutations(rows))


def permanent_probabilities(unitary, input_state):
    """|Per(U[rows of n, cols of input])|² / (Π n_i! Π m_j!) for every pattern of fock_basis."""
    cols = [j for j, m in enumerate(input_state) for _ in range(m)]
    norm_in = math.prod(math.factorial(m) for m in input_state)
    out = []
    for pattern in fock_basis(len(input_state), sum(input_state)):
        rows = [i for i, n in enumerate(pattern) for _ in range(n)]
        norm = norm_in * math.prod(math.factorial(int(n)) for n in pattern)
        out.append(abs(permanent(unitary[np.ix_(rows, cols)])) ** 2 / norm)
    return np.array(out)


def test_layout_counts_and_disjoint_columns():
    for m in range(1, 10):
        cells = mesh_cells(m)
        assert len(cells) == m * (m - 1) // 2
        assert len(set(cells)) == len(cells)
        for column in range(m):
            modes = [i for c, k in cells if c == column for i in (k, k + 1)]
            assert len(modes) == len(set(modes))  # a column acts on disjoint pairs


def test_single_cell_closed_form_and_hong_ou_mandel():
    """M = 2: one cell [[e^{iφ}cos θ, -sin θ], [e^{iφ}sin θ, cos θ]], then diag(e^{iα})."""
    theta, phi, a0, a1 = 0.3, 1.1, -0.4, 2.0
    u = MeshCircuit((1, 1), [theta], [phi], [a0, a1]).unitary().numpy()
    c, s, e = np.cos(theta), np.sin(theta), np.exp(1j * phi)
    expected = np.diag(np.exp([1j * a0, 1j * a1])) @ np.array([[e * c, -s], [e * s, c]])
    np.testing.assert_allclose(u, expected, atol=1e-15)
    # 50:50 (θ = π/4): the Hong-Ou-Mandel dip, whatever the phases.
    patterns, probs = get_backend("exact").probabilities(MeshCircuit((1, 1), [np.pi / 4], [phi]))
    got = dict(zip(map(tuple, patterns.tolist()), probs.tolist(), strict=True))
    assert got[(1, 1)] == pytest.approx(0.0, abs=1e-15)
    assert got[(2, 0)] == pytest.approx(0.5, abs=1e-15)


def test_unitary_is_unitary_batched_and_broadcast():
    circuit = random_mesh((1, 0, 1, 0, 0, 1, 0, 0, 1), rng=1, batch=(3, 2))
    u = circuit.unitary()
    assert u.shape == (3, 2, 9, 9) and u.dtype == torch.complex128
    np.testing.assert_allclose((u.mH @ u).numpy(), np.broadcast_to(np.eye(9), u.shape), atol=1e-13)
    # Parameter batches broadcast against each other; unbatched() follows row-major order.
    rng = np.random.default_rng(2)
    mixed = MeshCircuit((1, 0, 1, 0), rng.uniform(0, 6, (3, 1, 6)), rng.uniform(0, 6, (2, 6)))
    assert mixed.batch_shape == (3, 2) and mixed.n_params == 12
    flat = mixed.unitary().reshape(6, 4, 4)
    for b, one in enumerate(mixed.unbatched()):
        torch.testing.assert_close(one.unitary(), flat[b], rtol=0, atol=0)


@pytest.mark.parametrize("m", [2, 3, 4, 5, 8, 9])
def test_clements_round_trip_of_haar_unitaries(m):
    """Every unitary is reachable: the decomposition's mesh reproduces it exactly."""
    target = haar(m, seed=m)
    theta, phi, alpha = clements_decomposition(target)
    assert theta.shape == phi.shape == (m * (m - 1) // 2,) and alpha.shape == (m,)
    u = mesh_unitary(m, *map(torch.as_tensor, (theta, phi, alpha))).numpy()
    np.testing.assert_allclose(u, target, atol=1e-12)
    fidelity = abs(np.trace(target.conj().T @ u)) / m
    assert fidelity > 1 - 1e-12


@pytest.mark.parametrize(
    "target",
    [np.eye(4), np.eye(5)[[2, 0, 4, 1, 3]], np.diag(np.exp(1j * np.arange(4)))],
    ids=["identity", "permutation", "phases"],
)
def test_clements_round_trip_of_sparse_unitaries(target):
    """Zeros to null (0/0 angles) are handled."""
    circuit = MeshCircuit.from_unitary([1] + [0] * (len(target) - 1), target)
    np.testing.assert_allclose(circuit.unitary().numpy(), target, atol=1e-14)


def test_clements_rejects_non_unitary():
    with pytest.raises(ValueError, match="not a unitary"):
        clements_decomposition(np.ones((3, 3)))


def test_from_unitary_is_batched():
    targets = np.stack([haar(4, seed=s) for s in range(6)]).reshape(2, 3, 4, 4)
    circuit = MeshCircuit.from_unitary((1, 1, 0, 0), targets)
    assert circuit.batch_shape == (2, 3)
    np.testing.assert_allclose(circuit.unitary().numpy(), targets, atol=1e-12)


@pytest.mark.parametrize("input_state", [(1, 1, 1, 0, 0), (2, 0, 1, 0, 0), (0, 0, 3, 0, 0)])
def test_probabilities_equal_permanents(input_state):
    """M = 5, N = 3, bunched inputs and outputs included, on a batch of random meshes."""
    circuit = random_mesh(input_state, rng=sum(input_state) + input_state[0], batch=(2,))
    patterns, probs = get_backend("exact").probabilities(circuit)
    np.testing.assert_array_equal(patterns.numpy(), fock_basis(5, 3))
    for u, p in zip(circuit.unitary().numpy(), probs.numpy(), strict=True):
        np.testing.assert_allclose(p, permanent_probabilities(u, input_state), atol=1e-13)
    assert (patterns.max(dim=1).values > 1).any()  # bunched outcomes were compared too


def test_output_phases_change_no_probability():
    circuit = random_mesh((1, 0, 1, 1), rng=3)
    without = MeshCircuit(circuit.input_state, circuit.bs_angles, circuit.ps_angles)
    backend = get_backend("exact")
    torch.testing.assert_close(
        backend.probabilities(circuit)[1], backend.probabilities(without)[1], rtol=0, atol=1e-14
    )


def test_gradcheck():
    rng = np.random.default_rng(4)
    theta = torch.tensor(rng.uniform(0, 6, (2, 3)), requires_grad=True)
    phi = torch.tensor(rng.uniform(0, 6, (2, 3)), requires_grad=True)
    backend = get_backend("exact")

    def probs(theta, phi):
        return backend.probabilities(MeshCircuit((1, 1, 0), theta, phi))[1]

    assert torch.autograd.gradcheck(probs, (theta, phi))


@pytest.mark.parametrize("noise", [None, NoiseModel(transmission=0.8, indistinguishability=0.9)])
@pytest.mark.parametrize("detection", ["pnr", "threshold"])
def test_tbi_unitary_through_the_mesh_gives_the_tbi_probabilities(noise, detection):
    tbi = random_tbi(6, (1, 2), rng=5, batch=(2,))
    mesh = MeshCircuit.from_unitary(tbi.input_state, tbi.unitary())
    backend = get_backend("exact", noise=noise)
    p_tbi, q_tbi = backend.probabilities(tbi, detection)
    p_mesh, q_mesh = backend.probabilities(mesh, detection)
    torch.testing.assert_close(p_mesh, p_tbi, rtol=0, atol=0)
    torch.testing.assert_close(q_mesh, q_tbi, rtol=0, atol=1e-13)


def test_sampling_from_the_distribution_and_by_clifford_clifford():
    circuit = random_mesh((1, 0, 1, 0, 1), rng=6)
    patterns, probs = get_backend("exact").probabilities(circuit)
    exact = dict(zip(map(tuple, patterns.tolist()), probs.tolist(), strict=True))
    for sampler in ("distribution", "clifford"):
        hist = get_backend("exact", sampler=sampler).sample(circuit, 20_000, seed=7)
        assert hist.shots == 20_000 and (hist.patterns.sum(1) == 3).all()
        freq = {k: v / hist.shots for k, v in hist.to_dict().items()}
        tvd = 0.5 * sum(abs(freq.get(k, 0.0) - p) for k, p in exact.items())
        assert tvd < 0.03, sampler
    assert len(get_backend("exact").sample_batch(random_mesh((1, 1), rng=0, batch=(3,)), 5)) == 3


def test_cost_guard_refuses_before_allocating():
    circuit = random_mesh([1, 0] * 15, rng=8)  # 30 modes, 15 photons: 2.3e11 Fock states
    with pytest.raises(CostLimitError, match="QNN_MAX_FOCK_STATES"):
        get_backend("exact").probabilities(circuit)


@pytest.mark.parametrize(
    ("input_state", "outcomes"),
    [((1, 0, 1, 0, 0, 1, 0, 0, 1), 126), ((1, 0, 1, 0, 1, 0, 0, 1), 70)],
)
def test_collision_free_outcomes_of_the_published_inputs(input_state, outcomes):
    """The Quantum-Train inputs: 4 photons in 9 and 8 modes, C(M, 4) no-bunching outcomes."""
    circuit = random_mesh(input_state, rng=9, batch=(2,))
    patterns, probs = get_backend("exact").probabilities(circuit)
    kept, renormalised = collision_free(patterns, probs)
    assert kept.shape == (outcomes, len(input_state)) and (kept <= 1).all()
    torch.testing.assert_close(renormalised.sum(-1), torch.ones(2, dtype=torch.float64))
    _, raw = collision_free(patterns, probs, renormalise=False)
    assert (raw.sum(-1) < 1).all()
    torch.testing.assert_close(renormalised, raw / raw.sum(-1, keepdim=True))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (((1, 0, 1), [0.1] * 2, [0.1] * 3), "bs_angles has 2 entries, expected 3"),
        (((1, 0, 1), [0.1] * 3, [0.1] * 3, [0.0] * 2), "output_phases has 2 entries"),
        (((0, 0), [0.1], [0.1]), "holds no photons"),
        (((1, 1), np.zeros((2, 1)), np.zeros((3, 1))), "do not broadcast"),
    ],
)
def test_invalid_circuits(args, match):
    with pytest.raises(ValueError, match=match):
        MeshCircuit(*args)


def test_a_tbi_and_a_mesh_share_the_interferometer_interface():
    from qnn.photonics import Interferometer

    assert isinstance(random_mesh((1, 0), rng=0), Interferometer)
    assert isinstance(TBICircuit((1, 0), (1,), [0.1]), Interferometer)


def test_gradient_descent_reaches_a_haar_unitary():
    """Trained from random angles by autograd (L-BFGS), the mesh reaches a Haar unitary at
    M = 5 to fidelity |tr(V†U)|/M > 1 - 1e-8 (up to a global phase)."""
    m, target = 5, torch.as_tensor(haar(5, seed=11))
    rng = np.random.default_rng(12)
    params = [torch.tensor(rng.uniform(0, 2 * np.pi, n), requires_grad=True) for n in (10, 10, 5)]
    opt = torch.optim.LBFGS(params, max_iter=300, tolerance_grad=1e-14, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def infidelity():
        opt.zero_grad()
        loss = 1 - (torch.trace(target.mH @ mesh_unitary(m, *params)).abs() / m) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(infidelity)
    u = mesh_unitary(m, *params).detach()
    assert torch.trace(target.mH @ u).abs().item() / m > 1 - 1e-8
