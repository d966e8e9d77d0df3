"""Decoded networks build and train; fitness is seeded, cached and persisted."""

import numpy as np
import pytest
import torch

from qnn.nas import (
    CHOICES,
    N_BITS,
    Architecture,
    Evaluation,
    FitnessCache,
    TrainBudget,
    build_model,
    decode,
    encode,
    load_nas_data,
    make_trainer,
    train_and_score,
)
from qnn.nas.fitness import NASData


@pytest.fixture(scope="module")
def tiny():
    """200 / 100 / 100 digits images: enough to see learning, fast to train."""
    return load_nas_data("digits", 0, n_train=200, n_val=100, n_test=100)


def covering_architectures(count: int, seed: int) -> list[Architecture]:
    """``count`` random architectures in which every value of every field occurs."""
    rng = np.random.default_rng(seed)
    archs = [decode(b) for b in rng.integers(0, 2, (count, N_BITS))]
    largest = Architecture(conv_layers=3, channels=16, kernel_size=5, pool=True,
                           dense_layers=3, width=128, skip=True, norm=True)
    archs += [largest, Architecture()]
    for name, values in CHOICES.items():
        assert {getattr(a, name) for a in archs} == set(values), name
    return archs


@pytest.mark.parametrize("image_shape", [(1, 8, 8), (1, 28, 28)])
def test_every_decoded_architecture_builds_and_backpropagates(image_shape):
    for arch in covering_architectures(40, seed=image_shape[1]):
        model = build_model(arch, image_shape, 10)
        x = torch.rand(4, *image_shape)
        out = model(x)
        assert out.shape == (4, 10) and torch.isfinite(out).all()
        out.logsumexp(dim=1).sum().backward()
        assert all(p.grad is not None for p in model.parameters())
        n_dense = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
        n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
        assert (n_conv, n_dense) == (arch.conv_layers, arch.dense_layers + 1)


def test_decoded_architectures_train_and_a_sensible_one_learns_digits(tiny):
    """Four architectures that together take every value of every field (the i-th takes
    each field's i-th value, or its last); the last is the largest network."""
    budget = TrainBudget(epochs=1, batch_size=32)
    archs = [Architecture(**{name: values[min(i, len(values) - 1)]
                             for name, values in CHOICES.items()}) for i in range(4)]
    for arch in archs:
        result = train_and_score(arch, tiny, budget, seed=1)
        assert 0.0 <= result.val_accuracy <= 1.0 and 0.0 <= result.test_accuracy <= 1.0
        assert result.val_probs.shape == (100, 10) and result.n_params > 0
    good = Architecture(dense_layers=1, width=64, lr=1e-2)
    assert train_and_score(good, tiny, TrainBudget(epochs=3), seed=1).val_accuracy > 0.8


def test_training_is_deterministic_for_a_seed_and_leaves_the_global_generator(tiny):
    arch = Architecture(conv_layers=1, dense_layers=1, norm=True)
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    first = train_and_score(arch, tiny, TrainBudget(epochs=1), seed=5)
    assert torch.equal(torch.rand(3), expected_draw)
    again = train_and_score(arch, tiny, TrainBudget(epochs=1), seed=5)
    other = train_and_score(arch, tiny, TrainBudget(epochs=1), seed=6)
    np.testing.assert_array_equal(first.val_probs, again.val_probs)
    assert not np.array_equal(first.val_probs, other.val_probs)


def test_cache_trains_each_architecture_once_and_restores_without_training():
    calls = []

    def train(key):
        calls.append(key)
        return Evaluation(key.count("1") / N_BITS, 0.5, np.full((3, 2), 0.25, np.float16),
                          np.eye(2, dtype=np.float16), 7, 0.1)

    cache = FitnessCache(train)
    rng = np.random.default_rng(0)
    asked = [rng.integers(0, 2, N_BITS) for _ in range(5)] * 3
    values = [cache(bits).val_accuracy for bits in asked]
    assert cache.trainings == len(calls) == len(cache) == 5
    assert values == [np.count_nonzero(b) / N_BITS for b in asked]
    restored = FitnessCache.from_dict(train, cache.to_dict())
    for bits in asked:
        got, want = restored(bits), cache(bits)
        assert got.val_accuracy == want.val_accuracy
        np.testing.assert_array_equal(got.val_probs, want.val_probs)
        np.testing.assert_array_equal(got.test_probs, want.test_probs)
    assert restored.trainings == 0 and len(calls) == 5
    assert encode(decode(asked[0])) in cache


def test_trainer_seeds_each_architecture_from_run_seed_and_bits(tiny):
    budget = TrainBudget(epochs=1)
    key = "0000010100000110"
    a, b = make_trainer(tiny, budget, 0)(key), make_trainer(tiny, budget, 0)(key)
    c = make_trainer(tiny, budget, 1)(key)
    np.testing.assert_array_equal(a.test_probs, b.test_probs)
    assert not np.array_equal(a.test_probs, c.test_probs)


def test_data_split_is_disjoint_and_seeded():
    a = load_nas_data("digits", 3, n_train=500, n_val=200, n_test=300)
    b = load_nas_data("digits", 3, n_train=500, n_val=200, n_test=300)
    assert isinstance(a, NASData) and a.image_shape == (1, 8, 8)
    assert torch.equal(a.x_val, b.x_val)
    rows = torch.cat([a.x_train, a.x_val, a.x_test]).flatten(1)
    assert len(rows) == 1000 and len(torch.unique(rows, dim=0)) >= 995  # digits has duplicates
    assert not torch.equal(load_nas_data("digits", 4, n_train=500, n_val=200,
                                         n_test=300).x_val, a.x_val)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "cifar"}, "dataset='cifar'"),
    ({"name": "digits", "n_train": 1700}, "exceeds the 1797 digits images")])
def test_bad_data_requests_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_nas_data(seed=0, **kwargs)


@pytest.mark.parametrize("field", ["epochs", "batch_size"])
def test_bad_budget_names_the_field(field):
    with pytest.raises(ValueError, match=f"TrainBudget.{field}=0"):
        TrainBudget(**{field: 0})
