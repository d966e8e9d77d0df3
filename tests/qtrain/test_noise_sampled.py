"""Which noise the mean scaling hides on exact vectors, and why sampled vectors still pay for it.

The default digits QPUs carry 3 photons in 6 and 5 modes (PNR outcomes): a uniform loss η
keeps an outcome with probability η³, a dark-count probability p without loss with
(1 - p)^M, the same for every outcome.
"""

import numpy as np
import pytest
import torch

from qnn.photonics import get_backend
from qnn.qtrain.study import DQNNSpec, null_on_exact_vectors

SHOTS = 1000


@pytest.fixture(scope="module")
def model():
    return DQNNSpec().model(4, 0)


def _exact(model, noise, outcomes="pnr", n_qpus=2):
    with torch.no_grad():
        distribution = model.distribution()
        distribution = type(distribution)(distribution.circuits[:n_qpus], outcomes)
        return distribution.exact(get_backend("exact", noise=noise))


def _features(model, vectors):
    with torch.no_grad():
        return model.values(vectors)


@pytest.mark.parametrize("noise, factors", [
    ({"transmission": 0.5}, (0.5 ** 3, 0.5 ** 3)),
    ({"transmission": 0.8, "detector_efficiency": 0.5}, (0.4 ** 3, 0.4 ** 3)),
    ({"dark_count_prob": 0.05}, (0.95 ** 6, 0.95 ** 5)),
])
def test_exact_vectors_under_uniform_loss_or_dark_counts_give_identical_features(model, noise,
                                                                                  factors):
    ideal, noisy = _exact(model, {}), _exact(model, noise)
    for k, (a, b) in enumerate(zip(ideal, noisy, strict=True)):
        assert torch.allclose(b, factors[k] * a, rtol=1e-12, atol=0)  # one common factor
    assert torch.allclose(_features(model, noisy), _features(model, ideal),
                          rtol=1e-12, atol=1e-12)
    assert null_on_exact_vectors(noise, "pnr", "mean")


@pytest.mark.parametrize("noise, outcomes, scaling", [
    ({"indistinguishability": 0.7}, "pnr", "mean"),
    ({"transmission": 0.7, "dark_count_prob": 0.05}, "pnr", "mean"),
    ({"detector_efficiency": (1.0, 0.5, 1.0, 1.0, 1.0, 1.0)}, "pnr", "mean"),
    ({"transmission": 0.5}, "threshold", "mean"),
    ({"transmission": 0.5}, "pnr", "qt"),
])
def test_other_noise_changes_exact_features_as_null_on_exact_vectors_says(model, noise,
                                                                          outcomes, scaling):
    assert not null_on_exact_vectors(noise, outcomes, scaling)
    # per-mode efficiencies are sized for the first QPU (6 modes) only
    n_qpus = 1 if isinstance(noise.get("detector_efficiency"), tuple) else 2
    ideal, noisy = _exact(model, {}, outcomes, n_qpus), _exact(model, noise, outcomes, n_qpus)
    if scaling == "mean":
        change = max(float((n / n.mean() - i / i.mean()).abs().max())
                     for i, n in zip(ideal, noisy, strict=True))
    else:
        model_qt = DQNNSpec(scaling="qt").model(4, 0)
        change = float((_features(model_qt, noisy) - _features(model_qt, ideal)).abs().max())
    assert change > 1e-3


def _sampled(model, noise, seed):
    with torch.no_grad():
        return model.distribution().sampled(get_backend("exact", noise=noise), SHOTS, rng=seed)


def test_sampled_vectors_at_fixed_raw_shots_keep_fewer_shots_under_loss(model):
    # every lossless shot has 3 photons, so all 1,000 land on the PNR outcome list
    lossless = _sampled(model, {}, 0)
    assert [round(float(v.sum()) * SHOTS) for v in lossless] == [SHOTS, SHOTS]
    # at η = 0.5 a shot keeps all 3 photons with probability 1/8: Binomial(1000, 1/8)
    lossy = _sampled(model, {"transmission": 0.5}, 0)
    kept = [round(float(v.sum()) * SHOTS) for v in lossy]
    sigma = (SHOTS * 0.125 * 0.875) ** 0.5
    assert all(abs(k - 125) < 5 * sigma for k in kept)
    assert not torch.allclose(_features(model, lossy), _features(model, lossless))


def test_sampled_features_get_noisier_by_the_post_selection_factor(model):
    # the mean-scaled sampled vector's squared error scales with 1 / post-selected shots:
    # about 1 / η³ = 8 times the lossless error at η = 0.5
    exact = [v / v.mean() for v in _exact(model, {})]

    def error(noise):
        return np.mean([float(sum(((v / v.mean() - e) ** 2).mean() for v, e in
                                  zip(_sampled(model, noise, seed), exact, strict=True)))
                        for seed in range(40)])

    ratio = error({"transmission": 0.5}) / error({})
    assert 5 < ratio < 12
