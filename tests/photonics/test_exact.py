"""The exact backend against closed forms, brute-force permanents, autograd and its sampler."""

import itertools
import math

import numpy as np
import pytest
import torch

from qnn.photonics import NoiseModel, TBICircuit, fock_basis, get_backend
from qnn.photonics import random_tbi as random_circuit
from qnn.photonics.backends.exact import ExactBackend
from qnn.photonics.cost import CostLimitError


def permanent(matrix):
    n = matrix.shape[0]
    return sum(
        np.prod([matrix[i, p[i]] for i in range(n)]) for p in itertools.permutations(range(n))
    )


def brute_force_probabilities(unitary, input_state):
    """|Per(U[rows of n, cols of input])|² / (Π n_i! Π m_j!) for every output pattern."""
    cols = [j for j, m in enumerate(input_state) for _ in range(m)]
    norm_in = math.prod(math.factorial(m) for m in input_state)
    out = []
    for pattern in fock_basis(len(input_state), sum(input_state)):
        rows = [i for i, n in enumerate(pattern) for _ in range(n)]
        norm = norm_in * math.prod(math.factorial(int(n)) for n in pattern)
        out.append(abs(permanent(unitary[np.ix_(rows, cols)])) ** 2 / norm)
    return np.array(out)


def as_dict(patterns, probs, *, drop_zeros=False):
    pairs = zip(patterns.tolist(), probs.tolist(), strict=True)
    return {tuple(p): q for p, q in pairs if not (drop_zeros and q == 0.0)}


@pytest.mark.parametrize("theta", [0.0, np.pi / 8, np.pi / 4, 3 * np.pi / 8])
def test_hong_ou_mandel(theta):
    """|t| = cos θ gives P(1,1) = cos²(2θ): zero at 50:50, the HOM dip."""
    circuit = TBICircuit((1, 1), (1,), [theta])
    p = as_dict(*get_backend("exact").probabilities(circuit))
    assert p[(1, 1)] == pytest.approx(np.cos(2 * theta) ** 2, abs=1e-12)
    assert p[(2, 0)] == pytest.approx(p[(0, 2)], abs=1e-12)
    assert p[(2, 0)] == pytest.approx(np.sin(2 * theta) ** 2 / 2, abs=1e-12)


@pytest.mark.parametrize(
    ("input_state", "loops"),
    [
        ((1, 0, 1, 0), (1,)),
        ((1, 1, 1), (1, 2)),
        ((2, 0, 1, 0, 0), (1, 3)),
        ((0, 3, 0, 1), (1, 2)),
        ((1, 0, 1, 0, 1, 0), (1, 2)),
    ],
)
def test_slos_equals_permanents(input_state, loops):
    circuit = random_circuit(len(input_state), loops, rng=sum(input_state))
    circuit = TBICircuit(input_state, loops, circuit.bs_angles, circuit.ps_angles)
    patterns, probs = get_backend("exact").probabilities(circuit)
    np.testing.assert_array_equal(patterns.numpy(), fock_basis(len(input_state), sum(input_state)))
    expected = brute_force_probabilities(circuit.unitary().numpy(), input_state)
    np.testing.assert_allclose(probs.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize(("m", "loops"), [(4, (1,)), (8, (1, 2)), (10, (1, 3)), (12, (1, 2))])
def test_probabilities_sum_to_one(m, loops):
    _, probs = get_backend("exact").probabilities(random_circuit(m, loops, rng=m, batch=(3,)))
    np.testing.assert_allclose(probs.sum(-1).numpy(), np.ones(3), atol=1e-12)


def test_amplitudes_square_to_probabilities():
    circuit = random_circuit(6, (1, 2), rng=2)
    backend = ExactBackend()
    _, amps = backend.amplitudes(circuit)
    _, probs = backend.probabilities(circuit)
    torch.testing.assert_close(amps.abs() ** 2, probs)


def test_batch_equals_one_call_per_parameter_set():
    circuit = random_circuit(8, (1, 2), rng=4, batch=(5,))
    _, batched = get_backend("exact").probabilities(circuit)
    singles = torch.stack([get_backend("exact").probabilities(c)[1] for c in circuit.unbatched()])
    torch.testing.assert_close(batched, singles)


def test_gradcheck_probabilities_wrt_angles():
    base = random_circuit(4, (1, 2), rng=7)
    bs = base.bs_angles.clone().requires_grad_(True)
    ps = base.ps_angles.clone().requires_grad_(True)
    backend = get_backend("exact")

    def probs(b, p):
        return backend.probabilities(base.with_angles(b, p))[1]

    assert torch.autograd.gradcheck(probs, (bs, ps))


def test_gradcheck_with_noise_and_threshold():
    base = random_circuit(4, (1,), rng=8, phases=False)
    bs = base.bs_angles.clone().requires_grad_(True)
    noise = NoiseModel(transmission=0.8, indistinguishability=0.9, dark_count_prob=0.05)
    backend = get_backend("exact", noise=noise)
    assert torch.autograd.gradcheck(
        lambda b: backend.probabilities(base.with_angles(b), "threshold")[1], (bs,)
    )


def test_threshold_sums_photon_patterns_with_equal_clicks():
    circuit = random_circuit(6, (1, 2), rng=9)
    backend = get_backend("exact")
    pnr = as_dict(*backend.probabilities(circuit))
    clicks = as_dict(*backend.probabilities(circuit, "threshold"))
    expected = {}
    for pattern, p in pnr.items():
        key = tuple(min(n, 1) for n in pattern)
        expected[key] = expected.get(key, 0.0) + p
    assert clicks.keys() == expected.keys()
    for key, p in expected.items():
        assert clicks[key] == pytest.approx(p, abs=1e-13)


# --------------------------------------------------------------------------- noise
def test_hom_visibility_equals_indistinguishability():
    """P(1,1) = (1 - V) / 2 at 50:50 for pairwise HOM visibility V."""
    for visibility in (0.0, 0.5, 0.81, 1.0):
        backend = get_backend("exact", noise=NoiseModel(indistinguishability=visibility))
        p = as_dict(*backend.probabilities(TBICircuit((1, 1), (1,), [np.pi / 4])))
        assert p[(1, 1)] == pytest.approx((1 - visibility) / 2, abs=1e-12)


def test_fully_distinguishable_photons_are_classical_particles():
    """With V = 0 the distribution is that of independent walkers: sum over assignments of Π|U|²."""
    circuit = random_circuit(5, (1, 2), rng=11)
    u2 = np.abs(circuit.unitary().numpy()) ** 2
    sources = [j for j, m in enumerate(circuit.input_state) for _ in range(m)]
    expected = {}
    for outs in itertools.product(range(5), repeat=len(sources)):
        key = tuple(np.bincount(outs, minlength=5))
        expected[key] = expected.get(key, 0.0) + np.prod(
            [u2[o, s] for o, s in zip(outs, sources, strict=True)]
        )
    backend = get_backend("exact", noise=NoiseModel(indistinguishability=0.0))
    got = as_dict(*backend.probabilities(circuit))
    for key, p in expected.items():
        assert got[key] == pytest.approx(p, abs=1e-12)


def test_uniform_loss_is_binomial_thinning():
    """Photon numbers after loss: P(k photons) = sum over n of Binom(N, η) — a known closed form."""
    circuit = random_circuit(6, (1, 2), rng=12)
    eta = 0.6
    patterns, probs = get_backend("exact", noise=NoiseModel(transmission=eta)).probabilities(
        circuit
    )
    totals = patterns.sum(1).numpy()
    for k in range(4):
        expected = math.comb(3, k) * eta**k * (1 - eta) ** (3 - k)
        assert probs.numpy()[totals == k].sum() == pytest.approx(expected, abs=1e-12)


def test_detector_efficiency_thins_each_mode_alone():
    circuit = random_circuit(4, (1,), rng=13)
    eff = (1.0, 0.5, 0.25, 0.0)
    ideal = get_backend("exact").probabilities(circuit)
    noisy = get_backend("exact", noise=NoiseModel(detector_efficiency=eff)).probabilities(circuit)
    mean_ideal = ideal[1] @ ideal[0].double()
    mean_noisy = noisy[1] @ noisy[0].double()
    torch.testing.assert_close(mean_noisy, mean_ideal * torch.tensor(eff, dtype=torch.float64))


def test_dark_counts_on_vacuum_modes():
    """One photon in mode 0 of 2, no splitting: clicks (1, 0) w.p. 1-p and (1, 1) w.p. p."""
    p = 0.1
    circuit = TBICircuit((1, 0), (1,), [0.0])
    got = as_dict(
        *get_backend("exact", noise=NoiseModel(dark_count_prob=p)).probabilities(
            circuit, "threshold"
        ),
        drop_zeros=True,
    )
    assert got == pytest.approx({(1, 0): 1 - p, (1, 1): p}, abs=1e-14)
    pnr = as_dict(
        *get_backend("exact", noise=NoiseModel(dark_count_prob=p)).probabilities(circuit),
        drop_zeros=True,
    )
    assert pnr == pytest.approx(
        {(1, 0): (1 - p) ** 2, (1, 1): p * (1 - p), (2, 0): p * (1 - p), (2, 1): p * p}, abs=1e-14
    )


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("transmission", 1.2, r"transmission=1.2 is outside \[0, 1\]"),
        ("dark_count_prob", -0.1, "dark_count_prob=-0.1"),
        ("detector_efficiency", (1.0, 2.0), r"detector_efficiency\[1\]=2.0"),
        ("indistinguishability", float("nan"), "indistinguishability=nan"),
    ],
)
def test_bad_noise_parameters(field, value, match):
    with pytest.raises(ValueError, match=match):
        NoiseModel(**{field: value})


# --------------------------------------------------------------------------- sampling
def tvd(hist, patterns, probs):
    freq = {k: v / hist.shots for k, v in hist.to_dict().items()}
    exact = as_dict(patterns, probs)
    return 0.5 * sum(abs(freq.get(k, 0.0) - exact.get(k, 0.0)) for k in exact.keys() | freq.keys())


@pytest.mark.parametrize("sampler", ["distribution", "clifford"])
@pytest.mark.parametrize(
    "noise",
    [NoiseModel(), NoiseModel(transmission=0.7, indistinguishability=0.8, dark_count_prob=0.03)],
)
def test_samplers_follow_the_exact_distribution(sampler, noise):
    circuit = random_circuit(6, (1, 2), rng=14)
    backend = get_backend("exact", noise=noise, sampler=sampler)
    patterns, probs = backend.probabilities(circuit)
    shots = 40_000
    hist = backend.sample(circuit, shots, seed=1)
    assert hist.shots == shots
    # E[TVD] <= 0.5 * sum sqrt(p (1 - p) / shots); allow three times that.
    p = probs.numpy()
    bound = 1.5 * np.sqrt(p * (1 - p) / shots).sum()
    assert tvd(hist, patterns, probs) < bound


def test_sampling_is_deterministic_for_a_seed():
    circuit = random_circuit(8, (1, 2), rng=15)
    backend = get_backend("exact")
    assert backend.sample(circuit, 1000, seed=3) == backend.sample(circuit, 1000, seed=3)
    assert backend.sample(circuit, 1000, seed=3) != backend.sample(circuit, 1000, seed=4)


def test_threshold_samples_are_clicks():
    circuit = random_circuit(8, (1, 2), rng=16)
    hist = get_backend("exact").sample(circuit, 500, seed=0, detection="threshold")
    assert hist.detection == "threshold" and hist.patterns.max() == 1


def test_sample_batch_gives_one_histogram_per_parameter_set():
    circuit = random_circuit(6, (1,), rng=17, batch=(2, 3))
    hists = get_backend("exact").sample_batch(circuit, 100, seed=0)
    assert len(hists) == 6 and all(h.shots == 100 for h in hists)
    with pytest.raises(ValueError, match="use sample_batch"):
        get_backend("exact").sample(circuit, 10)


def test_large_circuits_use_clifford_clifford():
    """30 modes / 15 photons: 2.3e11 Fock states cannot be enumerated but can be sampled."""
    circuit = random_circuit(30, (1, 2), rng=18)
    with pytest.raises(CostLimitError, match=r"2.3e\+11 Fock states .*QNN_MAX_FOCK_STATES"):
        get_backend("exact").probabilities(circuit)
    hist = get_backend("exact").sample(circuit, 20, seed=0)
    assert hist.shots == 20 and (hist.patterns.sum(1) == 15).all()


def test_unknown_backend_and_options():
    with pytest.raises(
        ValueError,
        match=r"unknown backend 'exakt'; choose from \['cudaq-sim', 'exact', 'orca', 'pool'\]",
    ):
        get_backend("exakt")
    with pytest.raises(ValueError, match="sampler='fast'"):
        get_backend("exact", sampler="fast")
    with pytest.raises(ValueError, match="shots=-1"):
        get_backend("exact").sample(TBICircuit((1, 0), (1,), [0.1]), -1)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    circuit = random_circuit(10, (1, 2), rng=19, batch=(4,))
    _, cpu = get_backend("exact").probabilities(circuit)
    _, gpu = get_backend("exact", device="cuda").probabilities(circuit)
    torch.testing.assert_close(gpu.cpu(), cpu)


def test_torch_step_used_on_gpus_equals_the_fused_cpu_step():
    """``add_photon_torch`` is the path CUDA tensors take; on CPU it must agree with the kernels,
    values and gradients alike."""
    from qnn.photonics.slos import add_photon, add_photon_torch

    rng = np.random.default_rng(20)
    prev = torch.tensor(
        rng.normal(size=(3, 56)) + 1j * rng.normal(size=(3, 56)), requires_grad=True
    )
    cols = torch.tensor(rng.normal(size=(3, 6)) + 1j * rng.normal(size=(3, 6)), requires_grad=True)
    probe = torch.tensor(rng.normal(size=(3, 126)) + 1j * rng.normal(size=(3, 126)))
    grads = []
    for step in (add_photon, add_photon_torch):
        out = step(prev, cols, 4)  # 6 modes: 3 -> 4 photons, 56 -> 126 states
        (out * probe).real.sum().backward()
        grads.append((out.detach(), prev.grad.clone(), cols.grad.clone()))
        prev.grad, cols.grad = None, None
    for fused, reference in zip(*grads, strict=True):
        torch.testing.assert_close(fused, reference)


@pytest.mark.parametrize("gather_budget", [None, 0])  # 0: the adjoint's mode-by-mode loop
@pytest.mark.parametrize("kind", ["complex", "real"])
def test_gpu_step_adjoint_equals_autograd_through_the_gathers(kind, gather_budget, monkeypatch):
    """The GPU path's step (:class:`_GatherStep`, a hand-written adjoint by the child table)
    against autograd through :func:`add_photon_torch`, checked on the CPU: values and
    gradients, with broadcast batch shapes, complex amplitudes and real probabilities."""
    from qnn.photonics import slos

    if gather_budget is not None:
        monkeypatch.setattr(slos, "_GATHER_BUDGET", gather_budget)
    rng = np.random.default_rng(21)

    def draw(*shape):
        values = rng.normal(size=shape) + (1j * rng.normal(size=shape) if kind == "complex"
                                           else 0)
        return torch.tensor(values, requires_grad=True)

    prev, cols = draw(2, 1, 15), draw(3, 5)  # 5 modes, 2 -> 3 photons, batch (2, 1) x (3,)
    probe = torch.tensor(rng.normal(size=(2, 3, 35)))
    grads = []
    for step in (slos._gather_step, slos.add_photon_torch):
        out = step(prev, cols, 3)
        (out * probe).real.sum().backward()
        grads.append((out.detach(), prev.grad.clone(), cols.grad.clone()))
        prev.grad, cols.grad = None, None
    for adjoint, reference in zip(*grads, strict=True):
        torch.testing.assert_close(adjoint, reference, rtol=0, atol=1e-12)
    small = (draw(2, 4), draw(2, 4))  # 4 modes, 1 -> 2 photons
    assert torch.autograd.gradcheck(lambda p, w: slos._gather_step(p, w, 2), small)


def test_cached_patterns_follow_the_size_asked_for():
    # The basis is cached per (modes, photons): interleaved sizes each get their own.
    backend = get_backend("exact")
    for m in (6, 7, 6, 8, 7):
        patterns, probs = backend.probabilities(random_circuit(m, (1,), rng=m))
        expected = torch.as_tensor(np.array(fock_basis(m, (m + 1) // 2)), dtype=torch.long)
        assert patterns.dtype == torch.long and torch.equal(patterns, expected)
        assert probs.shape == (len(expected),)


def test_a_limit_lowered_after_a_call_still_refuses(monkeypatch):
    # Size verdicts are cached: the cache must follow the limits' environment variables.
    backend, circuit = get_backend("exact"), random_circuit(8, (1,), rng=4)
    backend.probabilities(circuit)
    monkeypatch.setenv("QNN_MAX_FOCK_STATES", "100")  # 8 modes / 4 photons: 330 states
    with pytest.raises(CostLimitError, match="QNN_MAX_FOCK_STATES"):
        backend.probabilities(circuit)
    monkeypatch.delenv("QNN_MAX_FOCK_STATES")
    assert backend.probabilities(circuit)[1].shape == (330,)


@pytest.mark.parametrize("modes, shots, method", [
    (8, 1, "distribution"),  # 330 states: enumerating is cheaper than one sampler call
    (12, 5000, "distribution"),
    (15, 50, "clifford"),  # a BBS update: 319,770 states for 50 shots
    (16, 10_000, "distribution"),
])
def test_auto_sampling_takes_the_cheaper_exact_method(modes, shots, method):
    circuit = random_circuit(modes, (1, 2), rng=5)
    assert get_backend("exact").sampling_method(circuit, shots) == method
    # a space above max_distribution_states is never enumerated, whatever the shots
    small = get_backend("exact", max_distribution_states=100)
    assert small.sampling_method(circuit, 10**6) == "clifford"
    assert get_backend("exact", sampler="distribution").sampling_method(circuit, 1) == \
        "distribution"
