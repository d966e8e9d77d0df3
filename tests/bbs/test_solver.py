"""BBSSolver end to end: Max-Cut optima, checkpoint/resume, ablations, tiling, accounting."""

import json

import numpy as np
import pytest

from qnn.bbs import BBSConfig, BBSSolver, BBSState
from qnn.photonics import get_backend
from qnn.photonics.pool import QPUPool


def test_default_solver_finds_the_optimum_of_most_random_12_node_maxcut_graphs(make_maxcut):
    """The paper's defaults (shift rule, sampled flip gradient, SGD 0.01 / 0.05, 200 updates
    of 50 shots) on G(12, 1/2), seeds 0..19, against brute force. 10,000 candidates per graph
    would let random search solve these too, so the test also demands that the solver learns:
    its expected cost must fall, which it cannot do while stuck at the p = 1/2 saddle."""
    backend, solved, drops = get_backend("exact"), 0, []
    for seed in range(20):
        qubo = make_maxcut(12, 0.5, seed)
        _, optimum = qubo.brute_force()
        solver = BBSSolver(qubo, backend, BBSConfig())
        result = solver.run(solver.init_state(np.random.default_rng(seed)))
        assert result.best_cost >= optimum - 1e-9
        assert qubo.energy(result.best_bits) == pytest.approx(result.best_cost)
        assert np.all(np.diff(result.history["best_cost"]) <= 0)
        solved += result.best_cost <= optimum + 1e-9
        cost = result.history["expected_cost"]
        drops.append((cost[:10].mean() - cost[-10:].mean()) / abs(optimum))
    assert solved >= 18
    assert np.mean(drops) > 0.03


def test_closed_form_flip_gradient_is_stuck_at_the_maxcut_saddle(make_maxcut):
    """Max-Cut is symmetric under x -> 1 - x, so p = 1/2 is stationary for exact gradients."""
    qubo = make_maxcut(8, 0.5, 1)
    cfg = BBSConfig(loop_lengths=(1, 3), shots=20, updates=5, flip_gradient="closed_form")
    solver = BBSSolver(qubo, get_backend("exact"), cfg)
    start = solver.init_state(np.random.default_rng(0))
    end = solver.run(start).state
    np.testing.assert_array_equal(end.flip_params, start.flip_params)
    np.testing.assert_allclose(end.bs_angles, start.bs_angles, atol=1e-12)


def test_shift_rule_training_lowers_the_expected_cost(make_maxcut):
    qubo = make_maxcut(8, 0.5, 3)
    cfg = BBSConfig(loop_lengths=(1, 3), shots=50, updates=30, optimizer="adam",
                    lr_angles=0.05, lr_flips=0.1)
    result = BBSSolver(qubo, get_backend("exact"), cfg).run(
        BBSSolver(qubo, get_backend("exact"), cfg).init_state(np.random.default_rng(0)))
    cost = result.history["expected_cost"]
    assert cost[-5:].mean() < cost[:5].mean() - 2.0
    assert result.best_cost == pytest.approx(qubo.brute_force()[1])


def test_checkpoint_and_resume_is_bit_identical(make_maxcut):
    qubo = make_maxcut(8, 0.5, 4)
    cfg = BBSConfig(loop_lengths=(1, 3), shots=20, updates=10, optimizer="adam",
                    lr_angles=0.05, lr_flips=0.1, entropy_penalty=0.1)
    backend = get_backend("exact")
    solver = BBSSolver(qubo, backend, cfg)
    whole = solver.run(solver.init_state(np.random.default_rng(7)))

    first = solver.run(solver.init_state(np.random.default_rng(7)), until=4)
    text = json.dumps(first.state.to_dict())
    resumed_state = BBSState.from_dict(json.loads(text))
    assert json.dumps(resumed_state.to_dict()) == text
    resumed = BBSSolver(qubo, get_backend("exact"), cfg).run(resumed_state)

    assert resumed.best_cost == whole.best_cost
    assert np.array_equal(resumed.best_bits, whole.best_bits)
    for key, values in whole.history.items():
        assert np.array_equal(resumed.history[key], values), key
    assert np.array_equal(resumed.state.bs_angles, whole.state.bs_angles)
    assert resumed.state.to_dict() == whole.state.to_dict()
    assert resumed.evaluations == whole.evaluations


def test_frozen_angles_never_move_and_skip_the_shifted_sets(make_maxcut):
    qubo = make_maxcut(8, 0.5, 5)
    cfg = BBSConfig(loop_lengths=(1, 3), shots=30, updates=5, freeze_angles=True,
                    optimizer="adam", lr_angles=0.5)
    solver = BBSSolver(qubo, get_backend("exact"), cfg)
    start = solver.init_state(np.random.default_rng(0))
    reports = []
    result = solver.run(start, on_step=lambda state, report: reports.append(report))
    assert np.array_equal(result.state.bs_angles, start.bs_angles)
    assert not np.array_equal(result.state.flip_params, start.flip_params)
    assert all(r.angle_grad is None for r in reports)
    assert all([label for label, _ in r.histograms] == ["unshifted"] for r in reports)
    # S expectations, S candidates, and a one-flip difference per bit and candidate
    assert all(r.evaluations == 2 * cfg.shots + 8 * cfg.shots for r in reports)


def test_random_clicks_match_the_circuits_per_mode_rates(make_maxcut):
    """Each set's substituted clicks have that set's boson click rates (which match the
    exact marginals of the circuit) but no correlation between modes."""
    qubo, shots = make_maxcut(6, 0.5, 6), 5_000
    cfg = BBSConfig(loop_lengths=(1, 3), shots=shots, sampler="random_clicks")
    backend = get_backend("exact")
    solver = BBSSolver(qubo, backend, cfg)
    state = solver.init_state(np.random.default_rng(1))
    _, report = solver.step(state)
    hists = dict(report.histograms)
    assert len(hists) == 2 * (2 * solver.n_bs + 1)
    patterns, probs = backend.probabilities(solver.circuit(state.bs_angles), "threshold")
    marginals = (probs @ patterns.double()).numpy()
    boson = hists["unshifted"].click_probabilities()
    fake_hist = hists["random_clicks/unshifted"]
    fake = fake_hist.click_probabilities()
    sigma = np.sqrt(marginals * (1 - marginals) / shots) + 1e-12
    assert np.all(np.abs(boson - marginals) < 5 * sigma)
    assert np.all(np.abs(fake - boson) < 5 * sigma)
    for label in ("plus/0", "minus/3"):
        rates = hists[label].click_probabilities()
        got = hists[f"random_clicks/{label}"].click_probabilities()
        assert np.all(np.abs(got - rates) < 5 * np.sqrt(rates * (1 - rates) / shots) + 1e-12)

    def correlations(hist):
        samples = np.repeat(hist.patterns, hist.counts, axis=0).astype(float)
        return np.corrcoef(samples.T)[~np.eye(6, dtype=bool)]

    assert np.all(np.abs(correlations(fake_hist)) < 5 / np.sqrt(shots))
    assert np.max(np.abs(correlations(hists["unshifted"]))) > 10 / np.sqrt(shots)


def test_a_40_bit_problem_on_16_modes_gives_40_bit_candidates(make_maxcut):
    qubo = make_maxcut(40, 0.1, 8)
    cfg = BBSConfig(max_modes=16, shots=10, updates=2, freeze_angles=True)
    solver = BBSSolver(qubo, get_backend("exact"), cfg)
    assert (solver.n_modes, solver.n_tiles, solver.loop_lengths) == (16, 3, (1, 3, 9))
    reports = []
    result = solver.run(solver.init_state(np.random.default_rng(2)),
                        on_step=lambda state, report: reports.append(report))
    assert result.best_bits.shape == (40,) and result.state.flip_params.shape == (40,)
    assert qubo.energy(result.best_bits) == pytest.approx(result.best_cost)
    hist = dict(reports[0].histograms)["unshifted"]
    assert (hist.n_modes, hist.shots) == (16, 30)


def test_one_batched_call_per_update_and_the_evaluation_count(make_maxcut):
    class Counting:
        name = "counting"

        def __init__(self):
            self.inner, self.batches = get_backend("exact"), []

        def sample(self, circuit, shots, *, seed=None, detection="pnr"):
            return self.inner.sample(circuit, shots, seed=seed, detection=detection)

        def sample_batch(self, circuit, shots, *, seed=None, detection="pnr"):
            self.batches.append((circuit.batch_shape, shots, detection))
            return self.inner.sample_batch(circuit, shots, seed=seed, detection=detection)

    qubo, backend = make_maxcut(7, 0.5, 9), Counting()
    cfg = BBSConfig(shots=12, updates=3)
    solver = BBSSolver(qubo, backend, cfg)
    reports = []
    result = solver.run(solver.init_state(np.random.default_rng(0)),
                        on_step=lambda state, report: reports.append(report))
    n_bs = solver.n_bs
    assert solver.loop_lengths == (1, 3) and n_bs == 6 + 4
    assert backend.batches == [((2 * n_bs + 1,), 12, "threshold")] * 3
    n = qubo.n_bits
    assert [r.evaluations for r in reports] == [12 * (2 * n_bs + 1) + 12 + n * 12] * 3
    assert result.evaluations == 3 * (12 * (2 * n_bs + 2 + n))
    assert solver.paper_evaluations_per_update == 12 * (2 * n_bs + 2 * 7 + 1)


def test_a_pool_of_qpus_is_a_backend_too(make_maxcut):
    qubo = make_maxcut(6, 0.5, 10)
    pool = QPUPool([get_backend("exact"), get_backend("exact")])
    solver = BBSSolver(qubo, pool, BBSConfig(loop_lengths=(1, 3), shots=8, updates=2))
    result = solver.run(solver.init_state(np.random.default_rng(0)))
    assert result.best_bits.shape == (6,) and len(result.history["best_cost"]) == 2
