"""TrainConfig.inputs: the photonic features and the four random-input ablations.

Each ablation is checked on the MPS's feature tensor ``(W, n_bits + 1)`` itself (bits first,
value last), which is what decides whether the MPS can tell the weights apart.
"""

import numpy as np
import pytest
import torch

from qnn.config import ConfigError, from_dict
from qnn.photonics import get_backend
from qnn.qtrain.data import load_digits_dataset, split_train_test
from qnn.qtrain.mapping import index_features
from qnn.qtrain.model import QPUSpec, QuantumTrain
from qnn.qtrain.study import DQNNSpec, DQNNStudy
from qnn.qtrain.target import DigitsCNN
from qnn.qtrain.train import Dataset, TrainConfig, Trainer

QPUS = [QPUSpec((1, 0, 1, 0, 1, 0), (1,)), QPUSpec((1, 0, 1, 0, 1), (1, 2))]
W = 1198  # DigitsCNN's weights: 11 index bits


def make_model(seed=0, bond_dim=3):
    return QuantumTrain(QPUS, DigitsCNN(), bond_dim=bond_dim, outcomes="pnr",
                        generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def data():
    x, y = load_digits_dataset()
    x_train, y_train, x_test, y_test = split_train_test(x, y, 200, rng=0)
    return Dataset(x_train[:600].double(), y_train[:600], x_test.double(), y_test)


def trainer(inputs, data, *, seed=0, model=None, **config):
    t = Trainer(model or make_model(), get_backend("exact"), TrainConfig(inputs=inputs, **config),
                data)
    t.rng = np.random.default_rng(seed)
    return t


def one_pass(t):
    """The features of one forward pass, as training draws them."""
    return t.features(t.vectors())


def set_angles(model, value):
    with torch.no_grad():
        for p in model.bs_angles:
            p.fill_(value)


# ----------------------------------------------------------------- photonic: unchanged
# Pinned on the code before TrainConfig.inputs existed (then: random_distribution=None,
# "each_step", "once"): per round (train loss, test accuracy), and sum |w| of the final
# weights.
PINNED = {
    ("photonic", "autograd"): ([(2.3039770659314023, 0.125), (2.3006145034372514, 0.1)],
                               54.96057778326714),
    ("photonic", "cobyla"): ([(2.3041807913733607, 0.11), (2.2988937400972285, 0.1)],
                             69.4313336167393),
    ("random_values", "frozen"): ([(2.3016254758621812, 0.11), (2.3010729525140734, 0.1)],
                                  None),
    ("fixed_random", "frozen"): ([(2.3114561649209655, 0.1), (2.2978290180181395, 0.1)],
                                 75.78600406218858),
}


@pytest.mark.parametrize(("inputs", "method"), list(PINNED))
def test_short_runs_match_the_runs_pinned_before_the_inputs_field(data, inputs, method):
    model = make_model(bond_dim=3)
    config = TrainConfig(rounds=2, mps_epochs=1, batch_size=64, lr_mps=1e-2,
                         angle_method=method, angle_batch=100, cobyla_maxiter=12,
                         inputs=inputs)
    t = Trainer(model, get_backend("exact"), config, data)
    history = t.fit(seed=5, progress=False)
    curve, weight_sum = PINNED[inputs, method]
    assert [m["test_accuracy"] for m in history] == [acc for _, acc in curve]
    assert [m["train_loss"] for m in history] == pytest.approx([loss for loss, _ in curve],
                                                               rel=1e-9)
    if weight_sum is not None:  # random_values has no fixed weights to pin
        with torch.no_grad():
            assert float(t.weights(t.vectors()).abs().sum()) == pytest.approx(weight_sum,
                                                                               rel=1e-9)


def test_photonic_features_are_the_bits_and_the_qpu_values(data):
    t = trainer("photonic", data)
    features = one_pass(t)
    assert torch.equal(features[:, :-1], index_features(W))
    torch.testing.assert_close(features[:, -1], t.model.values(t.vectors()), rtol=0, atol=0)
    set_angles(t.model, 0.3)  # the values follow the QPUs (the check below relies on it)
    assert not torch.allclose(one_pass(t)[:, -1], features[:, -1])


# ----------------------------------------------------------------- the ablations
def test_published_ablation_gives_every_weight_the_same_bits_and_fresh_normal_values(data):
    t = trainer("published_ablation", data)
    assert t.vectors() is None  # no QPU is used
    first, second = one_pass(t), one_pass(t)
    for features in (first, second):
        assert features.shape == (W, 12)
        bits = features[:, :-1]
        assert torch.equal(bits, bits[:1].expand_as(bits))  # one string for every weight
        assert set(bits.unique().tolist()) <= {-1.0, 1.0}
        values = features[:, -1]  # N(0, 1): mean within 4 sigma of 0, std near 1
        assert abs(float(values.mean())) < 4 / W ** 0.5
        assert float(values.std()) == pytest.approx(1.0, abs=0.1)
    assert not torch.equal(first[:, -1], second[:, -1])  # redrawn on every pass
    assert not torch.equal(first[:, :-1], second[:, :-1])  # the bit string too (this seed)


def test_published_ablation_weights_depend_on_nothing_but_the_value_noise(data):
    """With equal bits the MPS output of weight j is a + b * value_j: the generated weights
    are an affine function of the noise, whatever the weight's index."""
    t = trainer("published_ablation", data)
    features = one_pass(t)
    with torch.no_grad():
        weights = t.model.weights_from_features(features)
    values = features[:, -1]
    design = torch.stack([torch.ones_like(values), values], dim=1)
    fit = torch.linalg.lstsq(design, weights[:, None]).solution
    assert float((design @ fit)[:, 0].sub(weights).abs().max()) < 1e-12
    # ... whereas the photonic weights are not a function of the values alone
    p = trainer("photonic", data, model=make_model())
    photonic_values = p.model.values(p.vectors())
    with torch.no_grad():
        photonic_weights = p.model.weights(p.vectors())
    design = torch.stack([torch.ones_like(photonic_values), photonic_values], dim=1)
    fit = torch.linalg.lstsq(design, photonic_weights[:, None]).solution
    assert float((design @ fit)[:, 0].sub(photonic_weights).abs().max()) > 1e-3
    # and the trainer's weights come from exactly such a draw
    t.rng = np.random.default_rng(7)
    drawn = t.features(None)
    t.rng = np.random.default_rng(7)
    with torch.no_grad():
        torch.testing.assert_close(t.weights(None), t.model.weights_from_features(drawn),
                                   rtol=0, atol=0)


def test_bits_only_features_ignore_the_qpus_and_never_change(data):
    t = trainer("bits_only", data)
    first, second = one_pass(t), one_pass(t)
    assert torch.equal(first, second)
    assert torch.equal(first[:, :-1], index_features(W))
    assert torch.equal(first[:, -1], first[:1, -1].expand(W))  # one constant for all
    set_angles(t.model, 1.1)  # other circuit angles: other QPU outputs, same features
    assert torch.equal(one_pass(t), first)
    assert torch.equal(trainer("bits_only", data, seed=9).features(t.vectors()), first)


def test_random_values_keep_the_bits_and_redraw_the_values(data):
    t = trainer("random_values", data)
    first, second = one_pass(t), one_pass(t)
    for features in (first, second):
        assert torch.equal(features[:, :-1], index_features(W))
    assert not torch.allclose(first[:, -1], second[:, -1])
    assert float((first[:, -1] - second[:, -1]).abs().mean()) > 0.1


def test_fixed_random_is_drawn_once_from_the_seed(data):
    small = Dataset(data.x_train[:64], data.y_train[:64], data.x_test[:32], data.y_test[:32])
    with pytest.raises(RuntimeError, match="call fit"):
        trainer("fixed_random", small).vectors()

    def fitted(seed):
        t = trainer("fixed_random", small, rounds=1, mps_epochs=1, angle_method="frozen")
        t.fit(seed=seed, progress=False)
        return t

    a, b, c = fitted(3), fitted(3), fitted(4)
    first = one_pass(a)
    assert torch.equal(one_pass(a), first)  # fixed across passes ...
    assert torch.equal(first[:, :-1], index_features(W))
    assert torch.equal(one_pass(b), first)  # ... and reproducible from the seed
    assert not torch.allclose(one_pass(c)[:, -1], first[:, -1])
    assert float(first[:, -1].std()) > 0.1  # not a constant: random values


@pytest.mark.parametrize("inputs", ["random_values", "published_ablation", "bits_only",
                                    "fixed_random"])
def test_ablations_train_the_mps_and_never_the_angles(data, inputs):
    small = Dataset(data.x_train[:128], data.y_train[:128], data.x_test[:32], data.y_test[:32])
    t = trainer(inputs, small, rounds=1, mps_epochs=1, angle_method="cobyla", angle_batch=50)
    angles = [p.detach().clone() for p in t.model.bs_angles]
    cores = [c.detach().clone() for c in t.model.mps.cores]
    t.fit(seed=0, progress=False)
    for before, after in zip(angles, t.model.bs_angles, strict=True):
        assert torch.equal(before, after)
    assert not all(torch.equal(b, a) for b, a in zip(cores, t.model.mps.cores, strict=True))


# ----------------------------------------------------------------- configs and study
def test_bad_inputs_are_one_line_errors_naming_the_field():
    with pytest.raises(ValueError, match=r"^TrainConfig.inputs='random'; choose from \["):
        TrainConfig(inputs="random")
    with pytest.raises(ConfigError, match=r"config.inputs\[1\]='noise'; choose from"):
        from_dict(DQNNSpec, {"inputs": ["photonic", "noise"]}, where="config")
    with pytest.raises(ConfigError, match=r"inputs=\['bits_only'\] sweeps the input modes"):
        from_dict(DQNNSpec, {"inputs": ["bits_only"], "train": {"inputs": "bits_only"}})
    with pytest.raises(ConfigError, match="must be a string"):
        from_dict(DQNNSpec, {"train": {"inputs": 3}})
    with pytest.raises(ConfigError, match="unknown key"):  # the old field is gone
        from_dict(DQNNSpec, {"train": {"random_distribution": "once"}})


def test_the_study_runs_every_chi_and_input_mode_as_tasks():
    spec = from_dict(DQNNSpec, {"bond_dims": [1, 4], "seeds": [0],
                                "inputs": ["photonic", "published_ablation"]})
    tasks = DQNNStudy().tasks(spec)
    assert [t.key for t in tasks] == ["chi1-seed0-photonic", "chi1-seed0-published_ablation",
                                      "chi4-seed0-photonic", "chi4-seed0-published_ablation"]
    assert spec.train_config(tasks[1].inputs).inputs == "published_ablation"
    assert spec.train_config(None) == spec.train
    # without a list the keys (and so resumable checkpoints) are what they were
    assert [t.key for t in DQNNStudy().tasks(DQNNSpec())] == ["chi4-seed0"]
