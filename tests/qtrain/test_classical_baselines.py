"""Tests of the classical baselines: dense CNN, hashed weight sharing, magnitude pruning."""

import pytest
import torch
from torch.nn.functional import cross_entropy

from qnn.qtrain.baselines import (
    FitConfig,
    default_init,
    equal_budget_baselines,
    hashing_assignment,
    shared_weights,
    top_magnitude_indices,
    train_classical,
    train_pruned,
    train_weight_sharing,
)
from qnn.qtrain.study import load_dataset
from qnn.qtrain.target import DigitsCNN, functional_forward, n_weights
from qnn.qtrain.train import Dataset

W = DigitsCNN.N_WEIGHTS  # 1,198


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits", 0)


@pytest.fixture(scope="module")
def small(data):
    """A 400 / 120 image subset for the structural tests (accuracy is not checked there)."""
    return Dataset(data.x_train[:400], data.y_train[:400], data.x_test[:120], data.y_test[:120])


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------- pure maps


def test_default_init_draws_within_the_layer_bounds_and_is_seeded():
    net = DigitsCNN()
    a = default_init(net, generator=_gen(0))
    assert a.shape == (W,) and a.dtype == torch.float64
    assert torch.equal(a, default_init(net, generator=_gen(0)))
    assert not torch.equal(a, default_init(net, generator=_gen(1)))
    start = 0
    for name, p in net.named_parameters():
        piece = a[start:start + p.numel()]
        start += p.numel()
        fan_in = net.get_submodule(name.split(".")[0]).weight[0].numel()
        assert piece.abs().max() <= fan_in ** -0.5
    conv2 = a[60:500]  # 440 draws of U(±1/√54): the extremes come close to the bound
    assert conv2.abs().max() > 0.9 * 54 ** -0.5


def test_hashing_assignment_is_balanced_signed_and_seeded():
    buckets, signs = hashing_assignment(W, 300, generator=_gen(0))
    assert buckets.shape == signs.shape == (W,)
    counts = torch.bincount(buckets, minlength=300)
    assert len(counts) == 300 and set(counts.tolist()) == {W // 300, W // 300 + 1}
    assert set(signs.tolist()) == {-1.0, 1.0}
    again = hashing_assignment(W, 300, generator=_gen(0))
    other = hashing_assignment(W, 300, generator=_gen(1))
    assert torch.equal(buckets, again[0]) and torch.equal(signs, again[1])
    assert not torch.equal(buckets, other[0])


def test_shared_weights_are_w_signed_copies_of_the_shared_values():
    buckets, signs = hashing_assignment(W, 50, generator=_gen(2))
    values = torch.randn(50, generator=_gen(3), dtype=torch.float64)
    flat = shared_weights(values, buckets, signs)
    assert flat.shape == (W,)
    assert torch.equal(flat.abs(), values.abs()[buckets])
    assert torch.equal(torch.sign(flat), torch.sign(values)[buckets] * signs)


def test_sharing_gradient_reaches_only_the_shared_values(small):
    """dL/dv_k = Σ_{j: h(j)=k} s(j) dL/dw_j; the module's own parameters get nothing."""
    net = DigitsCNN()
    buckets, signs = hashing_assignment(W, 40, generator=_gen(4))
    values = (0.2 * torch.randn(40, generator=_gen(5), dtype=torch.float64)).requires_grad_()
    flat = shared_weights(values, buckets, signs)
    flat.retain_grad()
    loss = cross_entropy(functional_forward(net, flat, small.x_train[:64]), small.y_train[:64])
    loss.backward()
    expected = torch.zeros(40, dtype=torch.float64).index_add_(0, buckets, signs * flat.grad)
    torch.testing.assert_close(values.grad, expected, rtol=1e-12, atol=1e-14)
    assert all(p.grad is None for p in net.parameters())


def test_top_magnitude_indices_picks_the_largest_absolute_values():
    w = torch.tensor([0.1, -3.0, 0.5, 2.0, -0.4, 0.0])
    assert top_magnitude_indices(w, 3).tolist() == [1, 2, 3]
    assert top_magnitude_indices(w, 6).tolist() == list(range(6))


# ---------------------------------------------------------------------------- training


def test_weight_sharing_run_trains_n_shared_values_deterministically(small):
    net = DigitsCNN()
    run = train_weight_sharing(net, small, 200, epochs=2, batch_size=64, seed=7)
    assert run.method == "weight_sharing" and run.n_trained_parameters == 200
    assert run.weights.shape == (W,) and len(run.curve_test_accuracy) == 2
    assert len(torch.unique(run.weights.abs())) == 200  # every value used, no others
    again = train_weight_sharing(net, small, 200, epochs=2, batch_size=64, seed=7)
    other = train_weight_sharing(net, small, 200, epochs=2, batch_size=64, seed=8)
    assert torch.equal(run.weights, again.weights)
    assert run.curve_test_accuracy == again.curve_test_accuracy
    assert not torch.equal(run.weights, other.weights)


def test_pruning_keeps_exactly_the_largest_dense_weights_through_finetuning(small):
    net = DigitsCNN()
    kw = dict(epochs=3, batch_size=64, seed=3)
    dense = train_classical(net, small, **kw)
    run = train_pruned(net, small, 150, finetune_epochs=2, **kw)
    assert run.method == "pruning" and run.n_trained_parameters == 150
    support = torch.nonzero(run.weights).flatten()
    assert torch.count_nonzero(run.weights) == 150
    assert torch.equal(support, top_magnitude_indices(dense.weights, 150))
    assert not torch.equal(run.weights[support], dense.weights[support])  # fine-tuned
    assert run.curve_test_accuracy[:3] == dense.curve_test_accuracy
    assert len(run.curve_test_accuracy) == 5
    assert run.info["dense_test_accuracy"] == dense.test_accuracy


def test_equal_budget_returns_the_three_baselines_at_the_count(small):
    net = DigitsCNN()
    runs = equal_budget_baselines(net, small, 120, seed=1, epochs=2, finetune_epochs=1,
                                  batch_size=64)
    assert [r.method for r in runs] == ["classical", "weight_sharing", "pruning"]
    assert [r.n_trained_parameters for r in runs] == [W, 120, 120]
    classical, _, pruned = runs
    assert pruned.info["dense_test_accuracy"] == classical.test_accuracy
    assert torch.count_nonzero(pruned.weights) == 120
    assert pruned.seconds >= classical.seconds


def test_classical_cnn_learns_digits_well_above_chance(data):
    """Linear CNN, Adam 1e-3, batch 32, 10 epochs: 0.85–0.91 over seeds 0–5 (chance 0.1)."""
    run = train_classical(DigitsCNN(), data, epochs=10, batch_size=32, seed=0)
    assert run.n_trained_parameters == n_weights(DigitsCNN()) == W
    assert run.test_accuracy > 0.8
    assert run.curve_test_accuracy[-1] > run.curve_test_accuracy[0]


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("call", "name"), [
    (lambda d: train_weight_sharing(DigitsCNN(), d, W + 1, epochs=1, seed=0), "n_shared"),
    (lambda d: train_weight_sharing(DigitsCNN(), d, 0, epochs=1, seed=0), "n_shared"),
    (lambda d: train_pruned(DigitsCNN(), d, 0, epochs=1, seed=0), "n_kept"),
    (lambda d: train_pruned(DigitsCNN(), d, W + 1, epochs=1, seed=0), "n_kept"),
    (lambda d: equal_budget_baselines(DigitsCNN(), d, 0, epochs=1, seed=0), "n_params"),
    (lambda d: train_classical(DigitsCNN(), d, epochs=0, seed=0), "epochs"),
    (lambda d: train_classical(DigitsCNN(), d, batch_size=0, seed=0), "batch_size"),
    (lambda d: train_classical(DigitsCNN(), d, lr=-1.0, seed=0), "lr"),
])
def test_bad_arguments_raise_value_error_naming_them(small, call, name):
    with pytest.raises(ValueError, match=rf"^{name}="):
        call(small)


def test_fit_config_defaults_are_the_published_ones():
    assert FitConfig() == FitConfig(epochs=50, lr=1e-3, batch_size=128)
