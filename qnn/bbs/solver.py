"""The Bosonic Binary Solver: a TBI's click samples, XOR trainable flips, minimise a QUBO."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..photonics.backends.base import Backend, ProbabilityBackend
from ..photonics.circuit import TBICircuit
from ..photonics.cost import check, fock_states
from ..photonics.histogram import Histogram
from ..problems.qubo import QUBO
from .config import BBSConfig
from .estimators import exact_expected_cost, sample_costs, shift_gradient
from .flips import flip_probabilities, mean_binary_entropy
from .sampler import ClickSampler
from .state import HISTORY_KEYS, BBSResult, BBSState, StepReport

MAX_EXACT_STATES = 1 << 22  # Fock states gradient="exact" may build (memory of autograd)


class BBSSolver:
    """Minimise ``qubo`` over ``x = y XOR b``: ``y`` TBI click patterns, ``b`` trainable flips.

    The circuit has ``m = min(n, config.max_modes)`` modes, input ``1, 0, 1, 0, …``,
    the configured loops shorter than ``m``, no phase shifters, and threshold detection.
    Each update (``step``):

    1. samples ``shots · ceil(n/m)`` click patterns for the current angles and, for the
       shift rule, for all ``2 n_bs`` shifted angle sets, in ONE ``backend.sample_batch``
       call (one batched SLOS call on ``exact``; spread over the QPUs of a ``QPUPool``).
       With ``gradient="exact"`` the one ``probabilities`` call that gives the gradient
       also supplies the unshifted samples (drawn from that exact distribution);
    2. estimates ``f = mean_y E_b C(y XOR b)`` per parameter set (closed form in ``b``);
    3. angle gradient by the two-term shift rule (or autograd for ``gradient="exact"``);
       flip gradient by autograd through the closed form, averaged over the unshifted
       ``y`` (plus the entropy penalty);
    4. draws ``b`` for each unshifted ``y``, evaluates the candidates ``x`` and keeps the
       best ever seen; then takes one optimiser step on angles and flip parameters.

    Cost-evaluation accounting (``StepReport.evaluations``): every closed-form
    ``E_b C(y XOR b)`` counts as one evaluation (it costs as much as one ``C(x)``), and so
    does every candidate ``x`` and every one-flip cost difference of the sampled flip
    gradient (as the simulated-annealing baseline counts its proposals). Per update that
    is ``S·(2 n_bs + 1) + S + n·S`` for the shift rule with ``flip_gradient="sampled"``
    (``S + S + n·S`` with frozen angles; ``n·S`` less with ``"closed_form"``) and
    ``ceil(n/m)·K + S`` for ``gradient="exact"`` (``K`` click patterns). The paper counts
    ``S·(2 n_bs + 2m + 1)``: both costs of each flipped pair, where one is the candidate's.

    Args:
        qubo: the cost to minimise.
        backend: any :class:`Backend` (or ``QPUPool``); ``gradient="exact"`` needs a
            :class:`ProbabilityBackend`.
        config: hyper-parameters; ``None`` means ``BBSConfig()``.
    """

    def __init__(self, qubo: QUBO, backend: Backend, config: BBSConfig | None = None) -> None:
        self.qubo, self.backend = qubo, backend
        self.config = config = BBSConfig() if config is None else config
        self.sampler = ClickSampler(qubo.n_bits, backend, config)
        sampler = self.sampler
        self.n_modes, self.n_tiles, self.n_bs = sampler.n_modes, sampler.n_tiles, sampler.n_bs
        self.loop_lengths, self.input_state = sampler.loop_lengths, sampler.input_state
        if config.flip_gradient == "bit_differences":
            raise ValueError("BBSConfig.flip_gradient='bit_differences' is the black-box form of "
                             "'sampled': on a QUBO use 'sampled' (its flip differences are free)")
        if config.gradient == "exact":
            self._check_exact()

    def _check_exact(self) -> None:
        if not isinstance(self.backend, ProbabilityBackend):
            raise TypeError(
                f"BBSConfig.gradient='exact' needs a ProbabilityBackend, got {self.backend!r}"
            )
        m, n = self.n_modes, sum(self.input_state)
        check("fock_states", fock_states(m, n),
              f"BBSConfig.gradient='exact' over {m} modes / {n} photons", limit=MAX_EXACT_STATES,
              remedy="lower max_modes or use gradient='two_term_shift'")

    @property
    def n_bits(self) -> int:
        return self.qubo.n_bits

    @property
    def paper_evaluations_per_update(self) -> int:
        """The paper's cost-evaluation budget per update, ``S·(2 n_bs + 2m + 1)``."""
        return self.config.shots * (2 * self.n_bs + 2 * self.n_modes + 1)

    def circuit(self, bs_angles: np.ndarray | torch.Tensor) -> TBICircuit:
        """The solver's TBI with ``(*batch, n_bs)`` beam-splitter angles."""
        return self.sampler.circuit(bs_angles)

    # ----------------------------------------------------------------- state
    def init_state(self, rng: np.random.Generator) -> BBSState:
        """Angles uniform on ``[0, 2π)`` and flips at ``init_flip``, drawn from ``rng``.

        The run continues on a child generator spawned from ``rng``, whose state the
        returned :class:`BBSState` carries.
        """
        return self.sampler.init_state(rng)

    # ----------------------------------------------------------------- one update
    def step(self, state: BBSState) -> tuple[BBSState, StepReport]:
        """One update; returns the new state and its report (``state`` is not modified)."""
        self.sampler.check_state(state)
        cfg, rng = self.config, state.rng()
        params = torch.tensor(state.flip_params, dtype=torch.float64, requires_grad=True)
        probs = flip_probabilities(params, cfg.flip_param)
        if cfg.gradient == "exact":
            objective, angle_grad, expectations, hists = self._exact_objective(
                state.bs_angles, probs, rng)
            labels = ["unshifted"]
        else:
            labels, hists = self.sampler.sample(state.bs_angles, rng)
        clicks, records, click_rate = self.sampler.clicks(labels, hists, rng)
        if cfg.gradient == "two_term_shift":
            objective, angle_grad, expectations = self._shift_objective(clicks, probs)
        candidates, flips, costs = self._candidates(clicks[0], probs.detach().numpy(), rng)
        flip_objective, flip_evaluations = objective, 0
        if cfg.gradient == "two_term_shift" and cfg.flip_gradient == "sampled":
            # E[C] is linear in each p_i: its slope is C(b_i = 1) - C(b_i = 0) = ±ΔC(flip i).
            slopes = ((1.0 - 2.0 * flips) * self.qubo.delta_flip(candidates)).mean(axis=0)
            flip_objective = (probs * torch.as_tensor(slopes)).sum()
            flip_evaluations = candidates.size
        loss = flip_objective
        if cfg.entropy_penalty > 0:
            loss = loss + cfg.entropy_penalty * mean_binary_entropy(probs)
        flip_grad = torch.autograd.grad(loss, params)[0].numpy()
        best = int(np.argmin(costs))
        best_bits, best_cost = state.best_bits, state.best_cost
        if costs[best] < best_cost:
            best_bits, best_cost = candidates[best].copy(), float(costs[best])
        evaluations = expectations + candidates.shape[0] + flip_evaluations
        expected_cost = float(objective.detach())
        new_state = self.sampler.advance(state, angle_grad, flip_grad, best_bits, best_cost, rng, {
            "expected_cost": expected_cost, "best_cost": best_cost,
            "click_rate": click_rate, "evaluations": evaluations,
        })
        report = StepReport(
            step=new_state.step, expected_cost=expected_cost, best_cost=best_cost,
            candidate_cost=float(costs[best]), click_rate=click_rate, evaluations=evaluations,
            angle_grad=angle_grad, flip_grad=flip_grad, histograms=records,
        )
        return new_state, report

    def _shift_objective(self, clicks: torch.Tensor, probs: torch.Tensor
                         ) -> tuple[torch.Tensor, np.ndarray | None, int]:
        """Sample estimate of ``E_y E_b C`` (autograd in the flips), the shift-rule angle
        gradient (``None`` when frozen), and the number of expectations evaluated."""
        objective = sample_costs(self.qubo, clicks[0], probs).mean()
        angle_grad = None
        if clicks.shape[0] > 1:
            costs = sample_costs(self.qubo, clicks, probs.detach()).mean(-1).numpy()
            angle_grad = shift_gradient(costs, self.config.shift_denominator)
        return objective, angle_grad, clicks.shape[0] * clicks.shape[1]

    def _exact_objective(self, bs_angles: np.ndarray, probs: torch.Tensor,
                         rng: np.random.Generator
                         ) -> tuple[torch.Tensor, np.ndarray | None, int, list[Histogram]]:
        """Exact ``E_y E_b C`` (autograd in angles and flips), its angle gradient, its cost
        in evaluations, and ``shots · n_tiles`` click samples drawn from the same exact
        distribution (one probabilities call, no second simulation)."""
        frozen = self.config.freeze_angles
        angles = torch.tensor(bs_angles, dtype=torch.float64, requires_grad=not frozen)
        patterns, click_probs = self.backend.probabilities(self.circuit(angles), "threshold")
        patterns, click_probs = patterns.cpu(), click_probs.cpu()
        value = exact_expected_cost(
            self.qubo, patterns, click_probs, probs,
            independent=self.config.sampler == "random_clicks",
        )
        angle_grad = None
        if not frozen:
            angle_grad = torch.autograd.grad(value, angles, retain_graph=True)[0].numpy()
        table = click_probs.detach().numpy()
        counts = rng.multinomial(self.config.shots * self.n_tiles, table / table.sum())
        hist = Histogram(patterns.numpy().astype(np.uint8), counts, "threshold")
        return value, angle_grad, self.n_tiles * patterns.shape[0], [hist]

    def _candidates(self, clicks: torch.Tensor, probs: np.ndarray, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(S, n)`` uint8 candidates ``y XOR b``, their fresh flips ``b``, ``(S,)`` costs."""
        candidates, flips = self.sampler.flip(clicks.numpy(), probs, rng)
        return candidates, flips, self.qubo.energy(candidates)

    # ----------------------------------------------------------------- whole runs
    def run(self, state: BBSState, *, until: int | None = None,
            on_step: Callable[[BBSState, StepReport], None] | None = None) -> BBSResult:
        """Update until ``state.step == until`` (default ``config.updates``).

        Args:
            state: where to start (from :meth:`init_state` or a checkpoint).
            until: total number of updates to reach; lets a caller stop early and resume.
            on_step: called with ``(new_state, report)`` after every update (progress,
                storing histograms, checkpointing).
        """
        target = self.config.updates if until is None else until
        if target < state.step:
            raise ValueError(f"until={target} is before the state's step {state.step}")
        while state.step < target:
            state, report = self.step(state)
            if on_step is not None:
                on_step(state, report)
        return self.result(state)

    def result(self, state: BBSState) -> BBSResult:
        """The :class:`BBSResult` of a state that has done at least one update."""
        if state.best_bits is None:
            raise ValueError("BBSState.step=0: no candidate has been evaluated yet")
        return BBSResult(
            best_bits=state.best_bits.copy(),
            best_cost=state.best_cost,
            history={k: np.asarray(state.history[k]) for k in HISTORY_KEYS},
            evaluations=state.evaluations,
            state=state,
        )

