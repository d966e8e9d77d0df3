"""Quantum-Train end to end on a tiny model: determinism, gradients, sampled estimates, resume."""

import numpy as np
import pytest
import torch

from qnn.photonics import get_backend
from qnn.qtrain.data import load_digits_dataset, split_train_test
from qnn.qtrain.model import QPUSpec, QuantumTrain
from qnn.qtrain.target import DigitsCNN
from qnn.qtrain.train import Dataset, TrainConfig, Trainer

QPUS = [QPUSpec((1, 0, 1, 0, 1, 0), (1,)), QPUSpec((1, 0, 1, 0, 1), (1, 2))]


def make_model(seed=0, bond_dim=3):
    return QuantumTrain(QPUS, DigitsCNN(), bond_dim=bond_dim, outcomes="pnr",
                        generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def data():
    x, y = load_digits_dataset()
    x_train, y_train, x_test, y_test = split_train_test(x, y, 200, rng=0)
    return Dataset(x_train[:600].double(), y_train[:600], x_test.double(), y_test)


def exact_vectors(model, angles=None):
    return model.distribution(angles).exact(get_backend("exact"))


def test_weights_are_a_deterministic_function_of_angles_and_mps():
    a, b = make_model(), make_model()
    torch.testing.assert_close(a.weights(exact_vectors(a)), b.weights(exact_vectors(b)),
                               rtol=0, atol=0)
    c = make_model(seed=1)
    c.load_state_dict(a.state_dict())
    torch.testing.assert_close(c.weights(exact_vectors(c)), a.weights(exact_vectors(a)),
                               rtol=0, atol=0)
    assert not torch.equal(make_model(seed=1).weights(exact_vectors(make_model(seed=1))),
                           a.weights(exact_vectors(a)))


def test_too_few_outcomes_for_the_weights_is_an_error():
    with pytest.raises(ValueError, match="joint values for 1,198 weights"):
        QuantumTrain([QPUSpec((1, 0, 0), (1,))], DigitsCNN(), bond_dim=2)


def test_exact_angle_gradients_agree_with_finite_differences(data):
    model = make_model()
    x, y = data.x_train[:32], data.y_train[:32]
    trainer = Trainer(model, get_backend("exact"), TrainConfig(angle_method="autograd"), data)
    angles = [p.detach().clone().requires_grad_(True) for p in model.bs_angles]
    loss = trainer.loss(x, y, exact_vectors(model, angles))
    grads = torch.autograd.grad(loss, angles)
    h = 1e-6
    for k, (angle, grad) in enumerate(zip(angles, grads, strict=True)):
        for j in range(angle.numel()):
            shifted = [a.detach().clone() for a in angles]
            shifted[k][j] += h
            up = float(trainer.loss(x, y, exact_vectors(model, shifted)).detach())
            shifted[k][j] -= 2 * h
            down = float(trainer.loss(x, y, exact_vectors(model, shifted)).detach())
            assert float(grad[j]) == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)


def test_sampled_gradient_estimates_converge_to_the_exact_ones(data):
    """Central differences of the loss with sampled vectors approach the exact central
    differences as shots grow (error ~ 1/sqrt(shots))."""
    model = make_model()
    x, y = data.x_train[:64], data.y_train[:64]
    theta = torch.cat([p.detach() for p in model.bs_angles]).numpy()
    errors = []
    for shots in (None, 1_000, 100_000):
        trainer = Trainer(model, get_backend("exact"),
                          TrainConfig(angle_method="central_difference", shots=shots,
                                      difference_step=0.2), data)
        trainer.rng = np.random.default_rng(0)
        loss = trainer._angle_loss
        grad = np.array([(loss(theta + 0.2 * e, x, y) - loss(theta - 0.2 * e, x, y)) / 0.4
                         for e in np.eye(theta.size)])
        if shots is None:
            exact = grad
        else:
            errors.append(np.linalg.norm(grad - exact))
    assert errors[1] < errors[0] / 3
    assert errors[1] < 0.2 * np.linalg.norm(exact)


@pytest.mark.parametrize("method", ["autograd", "cobyla"])
def test_a_killed_run_resumes_to_the_same_final_weights(data, tmp_path, method):
    config = TrainConfig(rounds=3, mps_epochs=1, angle_method=method, angle_batch=100,
                         cobyla_maxiter=12, lr_mps=1e-2)
    whole = make_model()
    Trainer(whole, get_backend("exact"), config, data).fit(seed=4)

    checkpoint = tmp_path / "checkpoint.pt"

    def die_after_first_round(metrics):
        if metrics["round"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(make_model(), get_backend("exact"), config, data).fit(
            seed=4, checkpoint=checkpoint, on_round=die_after_first_round)
    resumed = make_model(seed=9)  # a fresh process: everything comes from the checkpoint
    history = Trainer(resumed, get_backend("exact"), config, data).fit(seed=4,
                                                                       checkpoint=checkpoint)
    assert [m["round"] for m in history] == [1, 2, 3]
    assert all(m["seconds"] > 0 for m in history)  # round 1's time came with the checkpoint
    assert sorted(whole.state_dict()) == sorted(resumed.state_dict())
    assert not any(name.startswith("target") for name in whole.state_dict())
    for name, tensor in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], tensor, rtol=0, atol=0)


def test_training_lowers_the_loss_on_digits(data):
    """A short run at the published learning rate: the training loss must fall below chance
    (ln 10). Reaching the published accuracies takes hundreds of epochs: named configs."""
    model = make_model(bond_dim=4)
    config = TrainConfig(rounds=4, mps_epochs=3, batch_size=64, angle_method="autograd",
                         lr_mps=1e-3)
    history = Trainer(model, get_backend("exact"), config, data).fit(seed=0)
    assert history[-1]["train_loss"] < np.log(10) - 0.05
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_bad_configs_name_the_field():
    with pytest.raises(ValueError, match="angle_method='adam'"):
        TrainConfig(angle_method="adam")
    with pytest.raises(ValueError, match="needs exact vectors"):
        TrainConfig(angle_method="autograd", shots=100)
    with pytest.raises(ValueError, match=r"^TrainConfig.inputs='random'; choose from"):
        TrainConfig(inputs="random")


def test_sampled_training_stores_every_histogram_it_draws(data, tmp_path):
    from qnn.runs import RecordingBackend
    from qnn.store import RunStore

    config = TrainConfig(rounds=2, mps_epochs=1, angle_method="spsa", shots=300,
                         angle_batch=50)
    with RunStore(tmp_path / "run.h5", "w") as store:
        recorder = RecordingBackend(get_backend("exact"), store)
        recorder.start_task("t")
        Trainer(make_model(), recorder, config, data,
                on_round_start=lambda r: recorder.tag(f"round{r:04d}")).fit(seed=1)
        names = store.names()
        hists = [h for name in names for h in store.get_histograms(name)]
    # per round and QPU: the vectors for the MPS epochs, two SPSA evaluations, the test one
    assert len(names) == 2 * 4 * len(QPUS)
    assert names[0] == "t/round0001/draw00000" and names[-1].startswith("t/round0002/")
    assert all(h.shots == 300 for h in hists)


def test_noise_levels_are_validated_before_any_work():
    from qnn.qtrain.study import DQNNSpec

    with pytest.raises(ValueError, match=r"noise_levels\[1\]=\{'transmission': 2.0\}"):
        DQNNSpec(noise_levels=({}, {"transmission": 2.0}))


def test_float32_network_follows_the_float64_one(data):
    """The CNN's precision is an option: one round in float32 tracks float64 closely."""
    from qnn.qtrain.study import DQNNSpec

    with pytest.raises(ValueError, match="precision='float16'"):
        DQNNSpec(precision="float16")
    config = TrainConfig(rounds=1, mps_epochs=1, batch_size=64, angle_method="autograd")
    single = Dataset(data.x_train.float(), data.y_train, data.x_test.float(), data.y_test)
    losses = []
    for d in (data, single):
        model = make_model()
        losses.append(Trainer(model, get_backend("exact"), config, d).fit(seed=0)[-1])
        # the generated weights stay float64 whatever the network's precision
        assert model.weights(exact_vectors(model)).dtype == torch.float64
    assert losses[1]["train_loss"] == pytest.approx(losses[0]["train_loss"], rel=1e-4)


def test_eval_draws_averages_the_accuracy_over_fresh_draws_of_sampled_vectors(data):
    from dataclasses import replace

    config = TrainConfig(rounds=2, mps_epochs=2, angle_method="spsa", shots=50, lr_mps=1e-2)
    trainer = Trainer(make_model(), get_backend("exact"), config, data)
    trainer.fit(seed=3, progress=False)
    state = trainer.rng.bit_generator.state
    draws = [trainer.test_accuracy() for _ in range(4)]
    assert len(set(draws)) > 1  # 50-shot vectors: each draw gives another network
    trainer.rng.bit_generator.state = state
    trainer.config = replace(config, eval_draws=4)
    assert trainer.test_accuracy() == pytest.approx(np.mean(draws), abs=1e-12)
    exact = Trainer(trainer.model, get_backend("exact"), TrainConfig(eval_draws=4), data)
    exact.rng = np.random.default_rng(5)  # fixed vectors: one evaluation, nothing to average
    evaluations = []
    vectors = exact.vectors
    exact.vectors = lambda **kw: evaluations.append(kw) or vectors(**kw)
    assert exact.test_accuracy() == Trainer(trainer.model, get_backend("exact"),
                                            TrainConfig(), data).test_accuracy()
    assert len(evaluations) == 1
    with pytest.raises(ValueError, match=r"TrainConfig.eval_draws=0 must be a positive integer"):
        TrainConfig(eval_draws=0)
