"""PhotonicLayer against the backend it wraps: outputs, autograd, torch-module behaviour."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from qnn.layers import Encoding, PhotonicLayer, photons_reaching, reference_patterns
from qnn.layers.baselines import MatchedLinear
from qnn.photonics import NoiseModel, TBICircuit, fock_basis, get_backend

STATE, LOOPS = (1, 0, 1, 0, 1), (1, 2)  # 5 bins, 3 photons, 7 beam splitters


def features(batch, width, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).normal(size=(batch, width)))


def backend_distribution(layer, bs, ps=None, backend=None):
    circuit = TBICircuit(layer.input_state, layer.loop_lengths, bs, ps)
    patterns, probs = (backend or get_backend("exact")).probabilities(circuit, layer.detection)
    return patterns.numpy().astype(np.int64), probs.detach()


@pytest.mark.parametrize("observable", ["mean_photons", "clicks", "correlations",
                                        "probabilities"])
def test_outputs_are_the_backend_marginals_of_the_encoded_angles(observable):
    layer = PhotonicLayer(5, STATE, LOOPS, n_features=3, observable=observable, seed=3)
    x = features(4, 3)
    bs = torch.cat([x, layer.bs_angles.detach().expand(4, -1)], dim=1)  # direct: θ_0..2 = x
    patterns, probs = backend_distribution(layer, bs)
    expected = {
        "mean_photons": probs @ torch.as_tensor(patterns, dtype=torch.float64),
        "clicks": probs @ torch.as_tensor(patterns > 0, dtype=torch.float64),
        "correlations": torch.stack([probs @ torch.as_tensor(
            patterns[:, i] * patterns[:, j], dtype=torch.float64)
            for i in range(5) for j in range(i + 1, 5)], dim=1),
        "probabilities": probs,
    }[observable]
    out = layer(x)
    assert out.shape == (4, layer.n_outputs) == expected.shape
    torch.testing.assert_close(out.detach(), expected, rtol=0, atol=1e-12)
    if observable == "mean_photons":
        torch.testing.assert_close(out.sum(-1).detach(), torch.full((4,), 3.0, dtype=out.dtype))


def test_threshold_probabilities_cover_every_click_pattern_with_at_most_n_clicks():
    layer = PhotonicLayer(5, STATE, LOOPS, n_features=2, observable="probabilities",
                          detection="threshold", seed=1)
    reference = reference_patterns(5, 3, "threshold")
    assert len(reference) == sum(math.comb(5, k) for k in range(4)) == layer.n_outputs
    x = features(2, 2)
    out = layer(x).detach()
    bs = torch.cat([x, layer.bs_angles.detach().expand(2, -1)], dim=1)
    patterns, probs = backend_distribution(layer, bs)
    rows = {tuple(p): i for i, p in enumerate(reference.tolist())}
    for k, pattern in enumerate(patterns.tolist()):
        assert out[:, rows[tuple(pattern)]] == pytest.approx(probs[:, k].numpy(), abs=1e-12)
    assert out.sum(-1).numpy() == pytest.approx([1.0, 1.0], abs=1e-12)


def test_uniform_loss_scales_the_mean_photon_number_by_the_transmission():
    ideal = PhotonicLayer(5, STATE, LOOPS, n_features=2, seed=4)
    lossy = PhotonicLayer(5, STATE, LOOPS, n_features=2, seed=4,
                          backend=get_backend("exact", noise=NoiseModel(transmission=0.7)))
    x = features(3, 2)
    torch.testing.assert_close(lossy(x), 0.7 * ideal(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("encoding", [Encoding("arctan", 2.0), Encoding("reupload", 0.5)])
def test_arctan_and_reupload_put_the_features_where_documented(encoding):
    layer = PhotonicLayer(5, STATE, LOOPS, n_features=2, encoding=encoding,
                          observable="probabilities", phases=True, seed=2)
    x = features(3, 2)
    free = layer.bs_angles.detach()
    if encoding.kind == "arctan":
        bs = torch.cat([torch.arctan(2.0 * x), free.expand(3, -1)], dim=1)
    else:  # loop 1 holds splitters 0..3, loop 2 holds 4..6: features on 0, 1 and 4, 5
        bs = free.expand(3, -1).clone()
        bs[:, [0, 1]] += 0.5 * x
        bs[:, [4, 5]] += 0.5 * x
    _, probs = backend_distribution(layer, bs, layer.ps_angles.detach().expand(3, -1))
    torch.testing.assert_close(layer(x).detach(), probs, rtol=0, atol=1e-12)
    assert layer.n_trainable == (7 + 7 + 4 if encoding.kind == "reupload" else 5 + 7)


def test_gradcheck_on_the_exact_path():
    layer = PhotonicLayer(4, (1, 0, 1, 0), (1, 2), n_features=2, observable="correlations",
                          encoding=Encoding("reupload", 0.8), phases=True, seed=5)
    names = [name for name, _ in layer.named_parameters()]

    def f(x, *params):
        return torch.func.functional_call(layer, dict(zip(names, params, strict=True)), (x,))

    x = features(3, 2).requires_grad_()
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-7)


def test_the_layer_works_inside_sequential_on_batches_and_under_no_grad():
    torch.manual_seed(0)  # only for nn.Linear's default initialisation in this test
    layer = PhotonicLayer(5, STATE, LOOPS, n_features=3, seed=7)
    model = nn.Sequential(nn.Linear(6, 3), layer, nn.Linear(5, 2))
    x = torch.randn(2, 4, 6)  # float32, two leading batch dimensions
    out = model(x)
    assert out.shape == (2, 4, 2) and out.dtype == torch.float32
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    with torch.no_grad():
        quiet = model(x)
    assert quiet.grad_fn is None
    torch.testing.assert_close(quiet, out.detach())
    # Row b of a batch equals the same row evaluated alone: one call serves the batch.
    torch.testing.assert_close(model(x[1, 2:3]).detach(), out[1, 2:3].detach())


def test_state_dict_round_trips():
    a = PhotonicLayer(5, STATE, LOOPS, n_features=2, encoding="reupload", phases=True, seed=1)
    b = PhotonicLayer(5, STATE, LOOPS, n_features=2, encoding="reupload", phases=True, seed=2)
    x = features(4, 2)
    assert not torch.allclose(a(x), b(x))
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(b(x), a(x), rtol=0, atol=0)
    assert sorted(a.state_dict()) == ["bs_angles", "ps_angles", "upload_weights"]


def test_photons_reaching_follows_the_light_cones():
    # Loop 1 on 1,0,1,0: BS(0,1) sees the photon of bin 0; BS(1,2) both; BS(2,3) both.
    assert photons_reaching((1, 0, 1, 0), (1,)).tolist() == [1, 2, 2]
    assert photons_reaching((0, 1, 0, 0), (2,)).tolist() == [0, 1]
    # Loop 2's BS(0, 2) meets bin 0 (photon 0 only) and bin 2 (photons 0 and 2).
    assert photons_reaching(STATE, LOOPS).tolist() == [1, 2, 2, 3, 2, 3, 3]


def test_matched_linear_has_the_photonic_layer_widths_and_trainable_count():
    layer = PhotonicLayer(5, STATE, LOOPS, n_features=3, observable="correlations", seed=0)
    twin = MatchedLinear(3, layer.n_outputs, layer.n_trainable, seed=0)
    assert sum(p.numel() for p in twin.parameters()) == layer.n_trainable == 4
    assert twin(features(6, 3).float()).shape == (6, 10)
    with pytest.raises(ValueError, match="n_trainable=41 is outside"):
        MatchedLinear(3, 10, 41)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"encoding": "angle"}, "encoding kind='angle'"),
    ({"observable": "photons"}, "observable='photons'"),
    ({"gradient": "adjoint"}, "gradient='adjoint'"),
    ({"n_features": 8}, "n_features=8 is outside"),
    ({"gradient": "autograd", "shots": 100}, "needs exact probabilities"),
    ({"encoding": {"kind": "reupload", "scale": 0.0}}, "scale=0.0"),
    ({"encoding": {"kind": "reupload", "offset": 1}}, "unknown key"),
    ({"spsa_step": 4.0}, "spsa_step=4.0"),
    ({"shots": -1}, "shots=-1"),
])
def test_bad_options_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PhotonicLayer(5, STATE, LOOPS, **({"n_features": 2} | kwargs))


def test_bad_inputs_name_the_problem():
    layer = PhotonicLayer(5, STATE, LOOPS, n_features=2)
    with pytest.raises(ValueError, match=r"expected \(..., n_features=2\)"):
        layer(features(3, 3))
    with pytest.raises(ValueError, match="non-finite"):
        layer(torch.tensor([[0.1, float("nan")]]))
    with pytest.raises(ValueError, match="input_state has 4 bins but n_modes=5"):
        PhotonicLayer(5, (1, 0, 1, 0), LOOPS, n_features=2)
    assert len(fock_basis(5, 3)) == PhotonicLayer(5, STATE, LOOPS, n_features=2,
                                                  observable="probabilities").n_outputs
