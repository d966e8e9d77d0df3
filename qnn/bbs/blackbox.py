"""The BBS on a black-box cost: any batched function of bitstrings, scored by samples only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..photonics.backends.base import Backend
from ..photonics.histogram import Histogram
from .config import BBSConfig
from .estimators import directional_gradient, shift_gradient
from .flips import flip_probabilities, mean_binary_entropy
from .sampler import ClickSampler
from .state import HISTORY_KEYS, BBSResult, BBSState, StepReport

BatchCost = Callable[[np.ndarray], np.ndarray]  # (B, n) uint8 bits -> (B,) costs


@dataclass(frozen=True, eq=False)
class Proposal:
    """One update's candidates, before they are scored (see :meth:`BlackBoxSolver.propose`).

    Attributes:
        candidates: ``(B, S, n)`` uint8 ``x = y XOR b``; set 0 is the unshifted angles, then
            ``+Δ e_j`` and ``−Δ e_j`` (``B = 1`` with frozen angles).
        flips: ``(B, S, n)`` uint8 flips ``b``, drawn independently for every candidate.
        histograms: ``(label, Histogram)`` of every batch sampled.
        click_rate: mean click rate of the unshifted boson samples.
        rng_state: the run generator's state after drawing all of this.
        directions: ``(k, n_bs)`` ±1 directions of the shifted sets, or ``None`` when they
            shift one beam splitter each.
    """

    candidates: np.ndarray
    flips: np.ndarray
    histograms: list[tuple[str, Histogram]]
    click_rate: float
    rng_state: dict
    directions: np.ndarray | None = None

    @property
    def bits(self) -> np.ndarray:
        """``(B · S, n)`` candidates in set order: what the cost function scores."""
        return self.candidates.reshape(-1, self.candidates.shape[-1])


class BlackBoxSolver:
    """Minimise a batched black-box cost over ``x = y XOR b`` with the BBS's sampler.

    Where :class:`BBSSolver` uses the closed form of ``E_b C`` that a QUBO allows, here the
    cost is only ever evaluated on sampled candidates, so every estimate is a sample mean:

    * objective of a parameter set: ``mean_s C(y_s XOR b_s)`` with one independent flip
      draw ``b_s`` per click candidate ``y_s``;
    * angle gradient: the two-term shift rule on those means (as ``BBSSolver``);
    * flip gradient: the score-function estimator
      ``∇ E[C] ≈ mean_c (C_c − C̄_{−c}) ∇ log P(b_c | p)`` over every candidate ``c`` of the
      update, with the leave-one-out mean ``C̄_{−c}`` of the others as baseline, plus the
      entropy penalty. Pooling the shifted sets with the unshifted one uses every
      evaluation; their clicks come from ``P_{θ±Δe_j}``, whose mixture with ``P_θ`` differs
      from ``P_θ`` only at ``O(Δ²)`` (the ``±`` terms cancel at first order). Unlike the
      QUBO's one-flip differences it costs no extra evaluation, which matters when one
      evaluation trains a network.

    Each update evaluates ``S · (2 n_bs + 1)`` candidates (``S`` with frozen angles), all
    of them eligible as the best. ``propose`` / ``update`` split a step for callers that
    score candidates themselves (caching, budgets); ``step`` does both.

    With ``directions = k``, the angles are shifted together along ``k`` random ±1
    directions per update instead of one beam splitter at a time (simultaneous perturbation,
    :func:`~qnn.bbs.estimators.directional_gradient`): ``S · (2k + 1)`` candidates whatever
    the circuit's size, so a budget of expensive evaluations (trained networks) buys many
    more updates, each gradient noisier.

    Args:
        n_bits: length of a bitstring.
        backend: any :class:`Backend` (or ``QPUPool``).
        config: hyper-parameters; ``gradient`` must be ``"two_term_shift"`` and ``flip_gradient``
            ``"sampled"`` (no closed form exists for a black box). ``None``: ``BBSConfig()``.
        directions: ``None`` (the shift rule per beam splitter) or ``k >= 1``.
    """

    def __init__(self, n_bits: int, backend: Backend, config: BBSConfig | None = None,
                 directions: int | None = None) -> None:
        if directions is not None and (isinstance(directions, bool)
                                       or not isinstance(directions, int) or directions < 1):
            raise ValueError(f"directions={directions!r} must be None or an integer >= 1")
        self.directions = directions
        self.config = config = BBSConfig() if config is None else config
        if config.gradient != "two_term_shift":
            raise ValueError(f"BBSConfig.gradient={config.gradient!r}: a black-box cost has no "
                             "exact gradient; use gradient='two_term_shift'")
        if config.flip_gradient != "sampled":
            raise ValueError(f"BBSConfig.flip_gradient={config.flip_gradient!r}: a black-box "
                             "cost has no closed form; use flip_gradient='sampled'")
        self.sampler = ClickSampler(n_bits, backend, config)
        self.n_bits = n_bits

    def init_state(self, rng: np.random.Generator) -> BBSState:
        """See :meth:`ClickSampler.init_state`."""
        return self.sampler.init_state(rng)

    def propose(self, state: BBSState) -> Proposal:
        """Sample this update's candidates (``state`` is not modified)."""
        self.sampler.check_state(state)
        rng = state.rng()
        directions = None
        if self.directions is not None and not self.config.freeze_angles:
            directions = rng.choice((-1.0, 1.0), size=(self.directions, self.sampler.n_bs))
        labels, hists = self.sampler.sample(state.bs_angles, rng, directions)
        clicks, records, click_rate = self.sampler.clicks(labels, hists, rng)
        probs = flip_probabilities(torch.as_tensor(state.flip_params), self.config.flip_param)
        candidates, flips = self.sampler.flip(clicks.numpy(), probs.numpy(), rng)
        return Proposal(candidates, flips, records, click_rate, rng.bit_generator.state,
                        directions)

    def update(self, state: BBSState, proposal: Proposal, costs: np.ndarray
               ) -> tuple[BBSState, StepReport]:
        """The next state from the proposal's ``(B · S,)`` or ``(B, S)`` costs."""
        cfg, candidates = self.config, proposal.candidates
        costs = np.asarray(costs, dtype=np.float64)
        if costs.size != candidates.shape[0] * candidates.shape[1]:
            raise ValueError(f"costs has {costs.size} values for "
                             f"{candidates.shape[0] * candidates.shape[1]} candidates")
        costs = costs.reshape(candidates.shape[:2])
        means = costs.mean(axis=1)
        angle_grad = None
        if proposal.directions is not None:
            angle_grad = directional_gradient(means, proposal.directions, cfg.shift_denominator)
        elif candidates.shape[0] > 1:
            angle_grad = shift_gradient(means, cfg.shift_denominator)
        flip_grad = self._flip_gradient(state.flip_params, proposal.flips.reshape(costs.size, -1),
                                        costs.ravel())
        best_bits, best_cost = state.best_bits, state.best_cost
        set_, shot = np.unravel_index(int(np.argmin(costs)), costs.shape)
        if costs[set_, shot] < best_cost:
            best_bits, best_cost = candidates[set_, shot].copy(), float(costs[set_, shot])
        rng = state.rng()
        rng.bit_generator.state = proposal.rng_state
        evaluations = int(costs.size)
        new_state = self.sampler.advance(state, angle_grad, flip_grad, best_bits, best_cost, rng, {
            "expected_cost": float(means[0]), "best_cost": best_cost,
            "click_rate": proposal.click_rate, "evaluations": evaluations,
        })
        report = StepReport(
            step=new_state.step, expected_cost=float(means[0]), best_cost=best_cost,
            candidate_cost=float(costs.min()), click_rate=proposal.click_rate,
            evaluations=evaluations, angle_grad=angle_grad, flip_grad=flip_grad,
            histograms=proposal.histograms,
        )
        return new_state, report

    def _flip_gradient(self, flip_params: np.ndarray, flips: np.ndarray, costs: np.ndarray
                       ) -> np.ndarray:
        cfg = self.config
        params = torch.tensor(flip_params, dtype=torch.float64, requires_grad=True)
        probs = flip_probabilities(params, cfg.flip_param)
        shots = costs.shape[0]
        baseline = (costs.sum() - costs) / (shots - 1) if shots > 1 else np.zeros_like(costs)
        advantage = torch.as_tensor(costs - baseline)
        b = torch.as_tensor(flips, dtype=torch.float64)
        p = probs.clamp(1e-12, 1 - 1e-12)  # a converged flip keeps a finite log-likelihood
        log_likelihood = (b * torch.log(p) + (1 - b) * torch.log1p(-p)).sum(dim=1)
        loss = (advantage * log_likelihood).mean()
        if cfg.entropy_penalty > 0:
            loss = loss + cfg.entropy_penalty * mean_binary_entropy(probs)
        return torch.autograd.grad(loss, params)[0].numpy()

    def step(self, state: BBSState, cost: BatchCost) -> tuple[BBSState, StepReport]:
        """One update: propose, score every candidate with one ``cost`` call, update."""
        proposal = self.propose(state)
        return self.update(state, proposal, np.asarray(cost(proposal.bits)))

    def run(self, state: BBSState, cost: BatchCost, *, until: int | None = None,
            on_step: Callable[[BBSState, StepReport], None] | None = None) -> BBSResult:
        """Update until ``state.step == until`` (default ``config.updates``)."""
        target = self.config.updates if until is None else until
        if target < state.step:
            raise ValueError(f"until={target} is before the state's step {state.step}")
        while state.step < target:
            state, report = self.step(state, cost)
            if on_step is not None:
                on_step(state, report)
        if state.best_bits is None:
            raise ValueError("BBSState.step=0: no candidate has been evaluated yet")
        return BBSResult(best_bits=state.best_bits.copy(), best_cost=state.best_cost,
                         history={k: np.asarray(state.history[k]) for k in HISTORY_KEYS},
                         evaluations=state.evaluations, state=state)
