"""The BBS on a black-box cost: any batched function of bitstrings, scored by samples only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

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
BLACKBOX_FLIP_GRADIENTS = ("sampled", "bit_differences")


def flip_probes(candidates: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """``(n, 2, S, n)``: the ``(S, n)`` candidates ``x = y XOR b`` with bit ``i``'s flip
    ``b_i`` set to 0 (``[i, 0]``) and to 1 (``[i, 1]``), every other bit as drawn."""
    shots, n = candidates.shape
    clicks = candidates ^ flips
    probes = np.broadcast_to(candidates, (n, 2, shots, n)).copy()
    bit = np.arange(n)
    probes[bit, 0, :, bit] = clicks.T
    probes[bit, 1, :, bit] = clicks.T ^ 1
    return probes


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
        probes: with ``flip_gradient="bit_differences"``, ``(n, 2, S, n)`` uint8: the
            unshifted candidates with bit ``i``'s flip set to 0 (``[i, 0]``) and to 1
            (``[i, 1]``); else ``None``.
    """

    candidates: np.ndarray
    flips: np.ndarray
    histograms: list[tuple[str, Histogram]]
    click_rate: float
    rng_state: dict
    directions: np.ndarray | None = None
    probes: np.ndarray | None = None

    @cached_property  # the caller scores it and update() reads it: concatenated once
    def bits(self) -> np.ndarray:
        """``(B · S [+ 2n · S], n)``: what the cost function scores, candidates in set order
        (the unshifted set first), then the probes."""
        n = self.candidates.shape[-1]
        bits = self.candidates.reshape(-1, n)
        return bits if self.probes is None else np.concatenate([bits, self.probes.reshape(-1, n)])


class BlackBoxSolver:
    """Minimise a batched black-box cost over ``x = y XOR b`` with the BBS's sampler.

    Where :class:`BBSSolver` uses the closed form of ``E_b C`` that a QUBO allows, here the
    cost is only ever evaluated on sampled candidates, so every estimate is a sample mean:

    * objective of a parameter set: ``mean_s C(y_s XOR b_s)`` with one independent flip
      draw ``b_s`` per click candidate ``y_s``;
    * angle gradient: the two-term shift rule on those means (as ``BBSSolver``);
    * flip gradient (``flip_gradient="sampled"``): the score-function estimator
      ``∇ E[C] ≈ mean_c (C_c − C̄_{−c}) ∇ log P(b_c | p)`` over every candidate ``c`` of the
      update, with the leave-one-out mean ``C̄_{−c}`` of the others as baseline, plus the
      entropy penalty. Pooling the shifted sets with the unshifted one uses every
      evaluation; their clicks come from ``P_{θ±Δe_j}``, whose mixture with ``P_θ`` differs
      from ``P_θ`` only at ``O(Δ²)`` (the ``±`` terms cancel at first order). Unlike the
      QUBO's one-flip differences it costs no extra evaluation, which matters when one
      evaluation trains a network.
    * or (``flip_gradient="bit_differences"``, the paper's): ``E[C]`` is linear in each
      ``p_i``, with slope ``E[C(x | b_i = 1) − C(x | b_i = 0)]``; both costs are evaluated
      for every bit and unshifted candidate (the :attr:`Proposal.probes`), ``2n · S`` more
      strings per update, and the slopes' sample means are the gradient on ``p``.

    Each update evaluates ``S · (2 n_bs + 1)`` candidates (``S`` with frozen angles), plus
    ``2n · S`` probes with ``"bit_differences"``, all of them eligible as the best.
    ``propose`` / ``update`` split a step for callers that
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
            ``"sampled"`` or ``"bit_differences"`` (no closed form exists for a black box).
            ``None``: ``BBSConfig()``.
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
        if config.flip_gradient not in BLACKBOX_FLIP_GRADIENTS:
            raise ValueError(f"BBSConfig.flip_gradient={config.flip_gradient!r}: a black-box "
                             f"cost has no closed form; use one of {BLACKBOX_FLIP_GRADIENTS}")
        if config.flip_param == "probability" and config.flip_gradient == "sampled":
            # A flip at p = 0 or 1 is never (or always) drawn, so the score function cannot
            # see what flipping it would do: it would stay at the bound for good.
            raise ValueError("BBSConfig.flip_param='probability' on a black box needs "
                             "flip_gradient='bit_differences' (the score function has no "
                             "gradient at p = 0 or 1)")
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
        probes = None
        if self.config.flip_gradient == "bit_differences":
            probes = flip_probes(candidates[0], flips[0])
        return Proposal(candidates, flips, records, click_rate, rng.bit_generator.state,
                        directions, probes)

    def update(self, state: BBSState, proposal: Proposal, costs: np.ndarray
               ) -> tuple[BBSState, StepReport]:
        """The next state from the costs of ``proposal.bits``, in its order."""
        cfg, candidates, bits = self.config, proposal.candidates, proposal.bits
        scored = np.asarray(costs, dtype=np.float64).ravel()
        if scored.size != len(bits):
            raise ValueError(f"costs has {scored.size} values for {len(bits)} scored strings")
        costs = scored[: candidates.shape[0] * candidates.shape[1]].reshape(candidates.shape[:2])
        means = costs.mean(axis=1)
        angle_grad = None
        if proposal.directions is not None:
            angle_grad = directional_gradient(means, proposal.directions, cfg.shift_denominator)
        elif candidates.shape[0] > 1:
            angle_grad = shift_gradient(means, cfg.shift_denominator)
        if proposal.probes is None:
            flip_grad = self._score_function_gradient(
                state.flip_params, proposal.flips.reshape(costs.size, -1), costs.ravel())
        else:
            probe_costs = scored[costs.size:].reshape(proposal.probes.shape[:3])
            flip_grad = self._bit_difference_gradient(
                state.flip_params, (probe_costs[:, 1] - probe_costs[:, 0]).mean(axis=1))
        best_bits, best_cost = state.best_bits, state.best_cost
        best = int(np.argmin(scored))
        if scored[best] < best_cost:
            best_bits, best_cost = bits[best].copy(), float(scored[best])
        rng = state.rng()
        rng.bit_generator.state = proposal.rng_state
        evaluations = int(scored.size)
        new_state = self.sampler.advance(state, angle_grad, flip_grad, best_bits, best_cost, rng, {
            "expected_cost": float(means[0]), "best_cost": best_cost,
            "click_rate": proposal.click_rate, "evaluations": evaluations,
        })
        report = StepReport(
            step=new_state.step, expected_cost=float(means[0]), best_cost=best_cost,
            candidate_cost=float(scored.min()), click_rate=proposal.click_rate,
            evaluations=evaluations, angle_grad=angle_grad, flip_grad=flip_grad,
            histograms=proposal.histograms,
        )
        return new_state, report

    def _score_function_gradient(self, flip_params: np.ndarray, flips: np.ndarray,
                                 costs: np.ndarray) -> np.ndarray:
        def surrogate(probs: torch.Tensor) -> torch.Tensor:
            shots = costs.shape[0]
            baseline = (costs.sum() - costs) / (shots - 1) if shots > 1 else np.zeros_like(costs)
            advantage = torch.as_tensor(costs - baseline)
            b = torch.as_tensor(flips, dtype=torch.float64)
            p = probs.clamp(1e-12, 1 - 1e-12)  # a converged flip keeps a finite log-likelihood
            log_likelihood = (b * torch.log(p) + (1 - b) * torch.log1p(-p)).sum(dim=1)
            return (advantage * log_likelihood).mean()
        return self._flip_param_gradient(flip_params, surrogate)

    def _bit_difference_gradient(self, flip_params: np.ndarray, slopes: np.ndarray
                                 ) -> np.ndarray:
        # E[C] is linear in each p_i with the measured slope: p · slope has E[C]'s gradient.
        return self._flip_param_gradient(
            flip_params, lambda probs: (probs * torch.as_tensor(slopes)).sum())

    def _flip_param_gradient(self, flip_params: np.ndarray,
                             surrogate: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
        """The gradient on the flip parameters of ``surrogate(p)`` plus the entropy penalty."""
        cfg = self.config
        params = torch.tensor(flip_params, dtype=torch.float64, requires_grad=True)
        probs = flip_probabilities(params, cfg.flip_param)
        loss = surrogate(probs)
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
