"""The shift rule and SPSA of PhotonicLayer against exact autograd gradients."""

import numpy as np
import pytest
import torch

from qnn.layers import PhotonicLayer, angle_orders, shift_rule
from qnn.layers.observables import pattern_features
from qnn.photonics import TBICircuit, get_backend

STATE, LOOPS = (1, 0, 1, 0, 1), (1, 2)


def features(batch, width, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).normal(size=(batch, width)))


@pytest.mark.parametrize("degree", [1, 2, 3, 6])
def test_shift_rule_differentiates_any_trig_polynomial_of_its_degree(degree):
    rng = np.random.default_rng(degree)
    a, b = rng.normal(size=degree + 1), rng.normal(size=degree + 1)
    k = np.arange(degree + 1)

    def f(t):
        return a @ np.cos(k * t) + b @ np.sin(k * t)

    theta = 0.37
    shifts, coeffs = shift_rule(degree)
    assert len(shifts) == 2 * degree
    exact = (-a * k) @ np.sin(k * theta) + (b * k) @ np.cos(k * theta)
    assert coeffs @ np.array([f(theta + s) for s in shifts]) == pytest.approx(exact, abs=1e-12)


def gradients(layer, x, weights):
    x = x.clone().requires_grad_()
    loss = (layer(x) * weights).sum()
    params = [p for p in layer.parameters()]
    return torch.autograd.grad(loss, [x, *params])


def twin(gradient, observable="mean_photons", **options):
    return PhotonicLayer(5, STATE, LOOPS, n_features=3, observable=observable, phases=True,
                         gradient=gradient, seed=11, **options)


@pytest.mark.parametrize("observable", ["mean_photons", "correlations", "probabilities"])
def test_shift_rule_on_exact_probabilities_equals_autograd(observable):
    x = features(4, 3)
    exact, shifted = twin("autograd", observable), twin("multi_frequency_shift", observable)
    weights = features(4, exact.n_outputs, seed=1)
    for a, b in zip(gradients(exact, x, weights), gradients(shifted, x, weights), strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-8)


def test_two_term_rule_is_wrong_for_multi_photon_splitters():
    """The ±π/4 two-term rule (frequency 2 only) misses the other frequencies of 3 photons."""
    layer = twin("autograd", "probabilities")
    x = features(1, 3)
    weights = features(1, layer.n_outputs, seed=2)
    (_, grad_bs, _) = gradients(layer, x, weights)
    bs = layer.angles(x).detach()

    def f(shift):
        moved = bs.clone()
        moved[0, 6] += shift  # global splitter 6 (free angle 3), reached by 3 photons
        circuit = TBICircuit(STATE, LOOPS, moved, layer.ps_angles.detach()[None])
        return float(get_backend("exact").probabilities(circuit)[1][0] @ weights[0])

    assert abs(f(np.pi / 4) - f(-np.pi / 4) - grad_bs[3].item()) > 1e-3
    shifts, coeffs = shift_rule(6)
    assert sum(c * f(s) for s, c in zip(shifts, coeffs, strict=True)) == pytest.approx(
        grad_bs[3].item(), abs=1e-10)


def test_angle_orders_follow_photons_and_observable_body():
    assert angle_orders(STATE, LOOPS)[0].tolist() == [2, 4, 4, 6, 4, 6, 6]
    assert angle_orders(STATE, LOOPS, body=1)[0].tolist() == [2] * 7
    assert angle_orders(STATE, LOOPS, body=2)[1].tolist() == [1, 2, 2, 2, 2, 2, 2]


def test_sampled_shift_rule_agrees_with_autograd_within_shot_noise():
    shots = 20000
    exact = twin("autograd")
    sampled = twin("multi_frequency_shift", shots=shots)
    x = features(1, 3, seed=3)
    weights = features(1, 5, seed=4)
    exact_grads = gradients(exact, x, weights)
    sampled_grads = gradients(sampled, x, weights)
    # Standard error of each angle's estimate: Σ_μ c_μ² Var[v·n at θ + x_μ] / shots.
    bs, ps = exact.angles(x).detach(), exact.ps_angles.detach()[None]
    errors = []
    for angles_name, orders in (("bs", exact._bs_orders), ("ps", exact._ps_orders)):
        for j, order in enumerate(orders):
            shifts, coeffs = shift_rule(int(order))
            var = 0.0
            for s, c in zip(shifts, coeffs, strict=True):
                moved_bs, moved_ps = bs.clone(), ps.clone()
                (moved_bs if angles_name == "bs" else moved_ps)[0, j] += s
                patterns, probs = get_backend("exact").probabilities(
                    TBICircuit(STATE, LOOPS, moved_bs, moved_ps))
                value = pattern_features("mean_photons", patterns.numpy(), None) @ weights[0]
                mean = probs[0] @ value
                var += c**2 * float(probs[0] @ (value - mean) ** 2)
            errors.append(np.sqrt(var / shots))
    bs_err, ps_err = torch.tensor(errors[:7]), torch.tensor(errors[7:])
    # Angle gradients: free splitters are global 3..6, the inputs drive 0..2.
    diff_bs = (sampled_grads[1] - exact_grads[1]).abs()
    assert (diff_bs < 5 * bs_err[3:]).all(), (diff_bs, bs_err)
    assert ((sampled_grads[2] - exact_grads[2]).abs() < 5 * ps_err).all()
    assert ((sampled_grads[0] - exact_grads[0]).abs()[0] < 5 * bs_err[:3]).all()
    assert (bs_err > 0).all() and (bs_err < 0.05).all()  # the bound is tight, not vacuous


def test_a_step_costs_the_documented_number_of_evaluations():
    layer = twin("multi_frequency_shift", shots=50)
    x = features(6, 3).requires_grad_()
    layer(x).sum().backward()
    # <n_i> is one-body: R = 2 for each of 7 splitters, R = 1 for each of 7 phases.
    assert layer.evaluations == layer.evaluations_per_step(6) == 6 * (1 + 28 + 14)
    full = twin("multi_frequency_shift", "probabilities", shots=50)
    # Full distribution: R = 2·photons (2,4,4,6,4,6,6) and R = photons for the phases.
    assert full.evaluations_per_step(6) == 6 * (1 + 64 + 32)
    spsa = twin("spsa", shots=50, spsa_samples=2)
    spsa(x).sum().backward()
    assert spsa.evaluations == spsa.evaluations_per_step(6) == 6 * (1 + 4)


def test_frozen_columns_cost_nothing():
    layer = twin("multi_frequency_shift", shots=50)
    for p in layer.parameters():
        p.requires_grad_(False)
    x = features(2, 3).requires_grad_()  # only the 3 encoded splitters (R = 2 each)
    layer(x).sum().backward()
    assert layer.evaluations == 2 * (1 + 12)


def test_spsa_averages_to_the_gradient():
    exact, spsa = twin("autograd"), twin("spsa", spsa_step=0.01, spsa_samples=3000)
    x = features(1, 3, seed=5)
    weights = features(1, 5, seed=6)
    exact_grads = gradients(exact, x, weights)
    spsa_grads = gradients(spsa, x, weights)
    norm = torch.cat([g.flatten() for g in exact_grads]).norm()
    for a, b in zip(exact_grads, spsa_grads, strict=True):
        # Each component's error is Σ_{j≠i} g_j Δ_i Δ_j averaged over n draws: std ≤ |g|/√n.
        assert ((b - a).abs() < 5 * norm / np.sqrt(3000)).all()
