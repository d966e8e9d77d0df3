"""MPS mapping model: contraction, parameter count, initial scale, determinism."""

import itertools
import math

import numpy as np
import pytest
import torch

from qnn.photonics import TBICircuit, get_backend
from qnn.qtrain.mapping import PhotonicDistribution, joint_distribution, scale, weight_features
from qnn.qtrain.mps import MPSMapping, generated_weights


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(("n_inputs", "bond_dim"), [(1, 3), (2, 1), (3, 2), (14, 10), (14, 7)])
def test_parameter_count_formula(n_inputs, bond_dim):
    mps = MPSMapping(n_inputs, bond_dim, generator=_gen(0))
    counted = sum(p.numel() for p in mps.parameters())
    assert MPSMapping.n_parameters(n_inputs, bond_dim) == counted
    if n_inputs >= 2:
        assert counted == 2 * bond_dim**2 * (n_inputs - 2) + 4 * bond_dim


def test_parameter_count_against_published_31_chi_squared():
    """14 inputs: 24χ² + 4χ here; 31χ² in TorchMPS's layout, 7χ² - 4χ of it redundant."""
    for chi in range(1, 11):
        ours = MPSMapping.n_parameters(14, chi)
        assert 31 * chi**2 - ours == 7 * chi**2 - 4 * chi
    assert MPSMapping.n_parameters(14, 10) == 2440


def test_contraction_equals_full_tensor():
    """n_inputs = 3, χ = 2: f(x) = sum_d T[d0, d1, d2] φ(x0)[d0] φ(x1)[d1] φ(x2)[d2]."""
    mps = MPSMapping(3, 2, init_std=2.0, generator=_gen(1))
    a0, a1, a2 = (core.detach() for core in mps.cores)
    assert [tuple(c.shape) for c in (a0, a1, a2)] == [(1, 2, 2), (2, 2, 2), (2, 2, 1)]
    full = torch.zeros(2, 2, 2, dtype=torch.float64)
    for d0, d1, d2, a, b in itertools.product(range(2), range(2), range(2), range(2), range(2)):
        full[d0, d1, d2] += a0[0, d0, a] * a1[a, d1, b] * a2[b, d2, 0]
    x = torch.randn(7, 3, generator=_gen(2), dtype=torch.float64)
    expected = torch.zeros(7, dtype=torch.float64)
    for w in range(7):
        phis = [torch.stack([torch.ones(()), x[w, i]]).double() for i in range(3)]
        for d0, d1, d2 in itertools.product(range(2), repeat=3):
            expected[w] += full[d0, d1, d2] * phis[0][d0] * phis[1][d1] * phis[2][d2]
    assert torch.allclose(mps(x), expected, atol=1e-13)


def _expected_variance(x, bond_dim, sigma):
    """Exact Var f at initialisation for inputs ``x``, contracting E[f²] right to left.

    Core ``i`` adds i.i.d. noise of variance ``t_i = σ²(1 + x_i²) / (χ n)`` to each entry of
    its matrix, so the second moment ``Q`` of the partial contraction obeys
    ``Q <- Q + t_i tr(Q) I`` (``tr Q`` grows by ``1 + χ t_i``) and ``E[f²] = Q_00 + t_1 tr Q``.
    """
    t = [sigma**2 * (1 + xi**2) / (bond_dim * len(x)) for xi in x]
    q00, trace = 1 + t[-1], 1 + bond_dim * t[-1]
    for ti in reversed(t[1:-1]):
        q00, trace = q00 + ti * trace, trace * (1 + bond_dim * ti)
    return q00 + t[0] * trace - 1


@pytest.mark.parametrize(("n_inputs", "bond_dim"), [(14, 4), (14, 10), (48, 10)])
def test_initial_output_variance_is_bounded(n_inputs, bond_dim):
    """Over random initialisations E[f] = 1 and Var f <= (σ² m / χ) exp(σ² m), any length."""
    sigma, n_models, n_points = 0.5, 60, 16
    bits = torch.randint(0, 2, (n_points, n_inputs), generator=_gen(3)).double() * 2 - 1
    with torch.no_grad():
        models = [
            MPSMapping(n_inputs, bond_dim, init_std=sigma, generator=_gen(100 + s))
            for s in range(n_models)
        ]
        outs = torch.stack([model(bits) for model in models])
    m = 2.0  # mean(1 + x²) for ±1 inputs
    bound = sigma**2 * m / bond_dim * math.exp(sigma**2 * m)
    expected = np.mean([_expected_variance(row.tolist(), bond_dim, sigma) for row in bits])
    assert 0.7 * bound < expected <= bound
    assert abs(outs.mean().item() - 1.0) < 4 * math.sqrt(expected / n_models)
    assert 0.7 * expected < outs.var(dim=0).mean().item() < 1.4 * expected


def test_generated_weights_are_centred_and_batched():
    mps = MPSMapping(4, 3, generator=_gen(7))
    features = weight_features(torch.rand(2, 6, generator=_gen(8), dtype=torch.float64))
    weights = generated_weights(mps, features)
    assert weights.shape == (2, 6)
    assert torch.allclose(weights.mean(dim=-1), torch.zeros(2, dtype=torch.float64), atol=1e-15)
    assert torch.allclose(weights[1], generated_weights(mps, features[1]), atol=1e-15)


def test_float32_option_matches_float64_start():
    m64 = MPSMapping(5, 3, generator=_gen(9))
    m32 = MPSMapping(5, 3, dtype=torch.float32, generator=_gen(9))
    x = torch.randn(10, 5, generator=_gen(10), dtype=torch.float64)
    assert m32(x).dtype == torch.float32
    assert torch.allclose(m32(x).double(), m64(x), atol=1e-5)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="bond_dim=0 must be a positive integer"):
        MPSMapping(3, 0)
    with pytest.raises(ValueError, match="expected n_inputs=3"):
        MPSMapping(3, 2, generator=_gen(0))(torch.zeros(4, 2, dtype=torch.float64))


def test_weights_are_deterministic_and_survive_a_state_dict_round_trip():
    backend = get_backend("exact")
    circuits = (
        TBICircuit((1, 0, 1, 0), (1, 2), np.linspace(0.2, 1.4, 5), np.linspace(-1, 1, 5)),
        TBICircuit((1, 0, 1), (1,), np.array([0.6, 1.1])),
    )
    dist = PhotonicDistribution(circuits, "no_bunching")
    mps = MPSMapping(6, 4, generator=_gen(11))  # 17 weights: 5 bits + value

    def weights(model):
        vectors = [scale(v, "mean") for v in dist.exact(backend)]
        return generated_weights(model, weight_features(joint_distribution(vectors, 17)))

    first = weights(mps)
    assert torch.equal(first, weights(mps))
    clone = MPSMapping(6, 4, generator=_gen(12))
    assert not torch.equal(first, weights(clone))
    clone.load_state_dict(mps.state_dict())
    assert torch.equal(first, weights(clone))


@pytest.mark.parametrize(("n_weights", "bond_dim"), [(1, 2), (2, 3), (5, 4), (1198, 6), (6690, 10)])
def test_indexed_forward_equals_the_feature_forward_with_gradients(n_weights, bond_dim):
    from qnn.qtrain.mapping import n_index_bits

    mps = MPSMapping(n_index_bits(n_weights) + 1, bond_dim,
                     generator=torch.Generator().manual_seed(n_weights))
    values = torch.rand(2, n_weights, dtype=torch.float64, requires_grad=True)
    slow = mps(weight_features(values))
    fast = mps.forward_indexed(values)
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    grads = [torch.autograd.grad(out.square().sum(), [values, *mps.parameters()])
             for out in (fast, slow)]
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_a_short_training_gives_the_same_weights_on_both_paths(monkeypatch):
    """Pins the speed-up: Quantum-Train with the shared-prefix MPS trains to the weights and
    accuracy of the plain per-weight contraction."""
    from qnn.photonics import get_backend
    from qnn.qtrain.model import QPUSpec, QuantumTrain
    from qnn.qtrain.study import load_dataset
    from qnn.qtrain.target import DigitsCNN
    from qnn.qtrain.train import TrainConfig, Trainer

    data = load_dataset("digits", 0)
    config = TrainConfig(rounds=2, mps_epochs=1, batch_size=64, angle_method="autograd")
    results = []
    for indexed in (True, False):
        if not indexed:
            monkeypatch.setattr(MPSMapping, "forward_indexed",
                                lambda self, v: self(weight_features(v)))
        model = QuantumTrain([QPUSpec((1, 0, 1, 0, 1, 0), (1,)), QPUSpec((1, 0, 1, 0, 1), (1,))],
                             DigitsCNN(), bond_dim=3, outcomes="pnr",
                             generator=torch.Generator().manual_seed(5))
        trainer = Trainer(model, get_backend("exact"), config, data)
        history = trainer.fit(seed=1, progress=False)
        with torch.no_grad():
            results.append((model.weights(trainer.vectors()), history[-1]["test_accuracy"]))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-9, atol=1e-11)
    assert results[0][1] == results[1][1]
