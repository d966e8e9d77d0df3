"""K photonic distributions -> per-weight features: outcome sets, outer product, scalings."""

import math

import numpy as np
import pytest
import torch

from qnn.photonics import Histogram, TBICircuit, fock_basis, get_backend
from qnn.qtrain.mapping import (
    PhotonicDistribution,
    histogram_vector,
    index_features,
    joint_distribution,
    outcome_patterns,
    qpu_vector,
    scale,
    weight_features,
)
from qnn.qtrain.mps import MPSMapping, generated_weights

BACKEND = get_backend("exact")


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


# ----------------------------------------------------------------- outer product
def test_joint_distribution_first_qpu_most_significant_and_truncated():
    v1, v2 = _t([1.0, 2.0]), _t([10.0, 20.0, 30.0])
    # Full product, index j = 3 * i1 + i2: [1*10, 1*20, 1*30, 2*10, 2*20, 2*30].
    assert torch.equal(joint_distribution([v1, v2], 6), _t([10, 20, 30, 20, 40, 60]))
    assert torch.equal(joint_distribution([v1, v2], 4), _t([10, 20, 30, 20]))


def test_joint_distribution_three_qpus_follow_mixed_radix_order():
    gen = torch.Generator().manual_seed(3)
    vs = [torch.rand(s, generator=gen, dtype=torch.float64) for s in (2, 3, 4)]
    joint = joint_distribution(vs, 20)
    for j in range(20):
        i1, rest = divmod(j, 12)
        i2, i3 = divmod(rest, 4)
        assert joint[j] == vs[0][i1] * vs[1][i2] * vs[2][i3]


def test_joint_distribution_broadcasts_batches():
    gen = torch.Generator().manual_seed(4)
    v1 = torch.rand(5, 3, generator=gen, dtype=torch.float64)
    v2 = torch.rand(4, generator=gen, dtype=torch.float64)
    joint = joint_distribution([v1, v2], 10)
    assert joint.shape == (5, 10)
    for b in range(5):
        assert torch.equal(joint[b], joint_distribution([v1[b], v2], 10))


def test_joint_distribution_too_few_entries_names_sizes():
    with pytest.raises(ValueError, match=r"sizes \[2, 3\] has 6 entries"):
        joint_distribution([_t([0.5, 0.5]), _t([0.2, 0.3, 0.5])], 7)
    with pytest.raises(ValueError, match="vectors is empty"):
        joint_distribution([], 1)


# ----------------------------------------------------------------- outcome sets
def test_no_bunching_keeps_collision_free_patterns():
    basis = fock_basis(3, 2)  # 002 011 020 101 110 200
    probs = torch.arange(6, dtype=torch.float64)
    patterns, kept = qpu_vector(basis, probs, "no_bunching")
    assert patterns.tolist() == [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    assert kept.tolist() == [1.0, 3.0, 4.0]
    same, everything = qpu_vector(basis, probs, "pnr")
    assert torch.equal(everything, probs) and same.shape == (6, 3)


def test_published_outcome_counts():
    """9 modes/4 photons and 8 modes/4 photons: 126 x 70 = 8,820 collision-free products."""
    sizes = [outcome_patterns(m, 4, "no_bunching").shape for m in (9, 8)]
    assert sizes == [(126, 9), (70, 8)]
    assert math.prod(s[0] for s in sizes) == 8820


def test_threshold_merges_click_patterns():
    basis = fock_basis(2, 2)  # 02 11 20
    patterns, merged = qpu_vector(basis, _t([[0.1, 0.3, 0.6], [0.2, 0.2, 0.6]]), "threshold")
    assert patterns.tolist() == [[0, 1], [1, 0], [1, 1]]
    assert torch.allclose(merged, _t([[0.1, 0.6, 0.3], [0.2, 0.6, 0.2]]), atol=0, rtol=0)


def test_threshold_vector_equals_backend_threshold_distribution():
    circuit = TBICircuit((1, 0, 1, 0), (1, 2), np.linspace(0.3, 1.2, 5))
    (vector,) = PhotonicDistribution((circuit,), "threshold").exact(BACKEND)
    patterns, probs = BACKEND.probabilities(circuit, "threshold")
    assert torch.equal(outcome_patterns(4, 2, "threshold"), patterns)
    assert torch.allclose(vector, probs, atol=1e-15)


def test_uniform_loss_scales_the_n_photon_vector_by_eta_to_the_n():
    """Uniform loss commutes with the network: P(all N survive, pattern) = η^N P(pattern)."""
    circuit = TBICircuit((1, 0, 1, 0), (1, 2), np.linspace(0.3, 1.2, 5), np.linspace(-1, 1, 5))
    dist = PhotonicDistribution((circuit,), "no_bunching")
    lossy = get_backend("exact", noise={"transmission": 0.8})
    (ideal,), (vector,) = dist.exact(BACKEND), dist.exact(lossy)
    assert vector.shape == (6,)
    assert torch.allclose(vector, 0.8**2 * ideal, atol=1e-14)


def test_unknown_outcome_set_lists_choices():
    with pytest.raises(ValueError, match=r"outcomes='bunched'; choose from \['pnr'"):
        qpu_vector(fock_basis(2, 1), _t([0.5, 0.5]), "bunched")


# ----------------------------------------------------------------- histograms
def test_histogram_vector_aligns_on_the_outcome_list():
    hist = Histogram.from_dict({(0, 1, 1): 3, (1, 1, 0): 5, (2, 0, 0): 2})
    kept = outcome_patterns(3, 2, "no_bunching")  # 011 101 110
    assert histogram_vector(hist, kept).tolist() == [0.3, 0.0, 0.5]  # 200 dropped, 101 unseen


def test_histogram_vector_rejects_other_mode_count():
    hist = Histogram.from_dict({(1, 0): 1})
    with pytest.raises(ValueError, match="2 modes, outcome list 3"):
        histogram_vector(hist, outcome_patterns(3, 1, "pnr"))


def test_sampled_frequencies_match_exact_probabilities():
    circuits = (
        TBICircuit((1, 0, 1, 0), (1,), np.array([0.4, 0.9, 1.3])),
        TBICircuit((0, 1, 0), (1, 2), np.array([0.7, 0.2, 1.1])),
    )
    dist, shots = PhotonicDistribution(circuits, "no_bunching"), 20_000
    exact = dist.exact(BACKEND)
    sampled = dist.sampled(BACKEND, shots, rng=np.random.default_rng(11))
    for p, f in zip(exact, sampled, strict=True):
        assert f.shape == p.shape and f.dtype == torch.float64
        sigma = torch.sqrt(p * (1 - p) / shots)
        assert bool((torch.abs(f - p) <= 5 * sigma + 1e-12).all())


def test_batched_circuits_give_batched_vectors():
    angles = torch.tensor([[0.1, 0.5], [0.8, 1.2], [0.3, 0.3]], dtype=torch.float64)
    circuit = TBICircuit((1, 0, 1), (1,), angles)
    dist = PhotonicDistribution((circuit, circuit), "no_bunching")
    exact, sampled = dist.exact(BACKEND), dist.sampled(BACKEND, 50, rng=2)
    assert [v.shape for v in exact] == [(3, 3), (3, 3)]
    assert [v.shape for v in sampled] == [(3, 3), (3, 3)]
    for b in range(3):
        (row,) = PhotonicDistribution((circuit.unbatched()[b],), "no_bunching").exact(BACKEND)
        assert torch.allclose(exact[0][b], row, atol=1e-15)


# ----------------------------------------------------------------- features and scaling
def test_index_features_are_bits_as_plus_minus_one():
    bits = index_features(6)
    assert bits.shape == (6, 3)
    assert bits[0].tolist() == [-1, -1, -1]
    assert bits[5].tolist() == [1, -1, 1]  # 5 = 0b101
    big = index_features(6690)
    assert big.shape == (6690, 13)
    expected = [1 if c == "1" else -1 for c in format(6689, "013b")]
    assert big[6689].tolist() == expected
    assert index_features(1).shape == (1, 0)
    with pytest.raises(ValueError, match="n_weights=0 must be a positive integer"):
        index_features(0)


def test_weight_features_put_bits_first_and_value_last():
    features = weight_features(_t([[0.5, 1.5, 2.5], [1.0, 1.0, 1.0]]))
    assert features.shape == (2, 3, 3)
    assert features[0, 2].tolist() == [1.0, -1.0, 2.5]


def test_scale_mean_divides_by_the_mean():
    assert torch.allclose(scale(_t([1, 2, 3, 6]), "mean"), _t([1 / 3, 2 / 3, 1, 2]), rtol=1e-15)
    with pytest.raises(ValueError, match="zero mean"):
        scale(_t([0.0, 0.0]), "mean")


def test_scale_qt_matches_hand_computed_values():
    p = [0.5, 0.25, 0.25, 0.0]  # W = 4 -> N = 2 bits -> 2^(N-1) = 2
    raw = [(0.8 * math.tanh(0.1 * 2 * q)) ** 0.3 for q in p]
    centred = [r - sum(raw) / 4 for r in raw]
    assert torch.allclose(scale(_t(p), "qt"), _t(centred), atol=1e-15)
    raw13 = [(0.8 * math.tanh(0.1 * 4096 * q)) ** 0.3 for q in p]
    expected = [r - sum(raw13) / 4 for r in raw13]
    assert torch.allclose(scale(_t(p), "qt", n_bits=13), _t(expected), atol=1e-15)


def test_unknown_scaling_lists_choices():
    with pytest.raises(ValueError, match=r"method='log'; choose from \['mean', 'qt'\]"):
        scale(_t([0.5]), "log")


# ----------------------------------------------------------------- gradients
def _tiny_pipeline(method, mps):
    def weights(bs1, ps1, bs2, ps2):
        circuits = (
            TBICircuit((1, 0, 0), (1, 2), bs1, ps1),
            TBICircuit((0, 1, 0), (1, 2), bs2, ps2),
        )
        vectors = PhotonicDistribution(circuits, "pnr").exact(BACKEND)
        if method == "mean":
            joint = joint_distribution([scale(v, "mean") for v in vectors], 6)
        else:
            joint = scale(joint_distribution(vectors, 6), "qt")
        return generated_weights(mps, weight_features(joint))

    return weights


@pytest.mark.parametrize("method", ["mean", "qt"])
def test_gradient_reaches_circuit_angles(method):
    """Two QPUs, 3 modes / 1 photon each, 6 weights: autograd equals finite differences."""
    gen = torch.Generator().manual_seed(5)
    angles = [
        (torch.rand(3, generator=gen, dtype=torch.float64) * 1.2 + 0.2).requires_grad_()
        for _ in range(4)
    ]
    mps = MPSMapping(4, 2, init_std=1.0, generator=torch.Generator().manual_seed(6))
    weights = _tiny_pipeline(method, mps)
    assert torch.autograd.gradcheck(weights, angles, eps=1e-6, atol=1e-7, rtol=1e-5)
    grads = torch.autograd.grad(weights(*angles).square().sum(), angles)
    assert all(bool(g.abs().sum() > 0) for g in grads)
