"""Gradient estimators for sampled photonic layers: an exact multi-frequency shift rule, SPSA.

A beam splitter's angle θ enters every output probability of a TBI as a trigonometric
polynomial in θ whose frequencies are the integers ``0..2n``, where ``n`` is the number of
photons that can reach that beam splitter (each amplitude is a polynomial of degree ≤ n in
``cos θ, sin θ``; a probability multiplies two). A phase φ on a bin reached by ``n``
photons enters with frequencies ``0..n``. Loss, dark counts and partial distinguishability
act after the interferometer or mix such distributions, so they keep these degrees.

For a trigonometric polynomial of degree ``R`` the derivative is exactly (Wierichs, Izaac,
Wang, Lin, arXiv:2107.12390, equidistant shifts)::

    f'(θ) = Σ_{μ=1}^{2R} (-1)^{μ-1} / (4R sin²(x_μ/2)) · f(θ + x_μ),   x_μ = (2μ-1)π/(2R)

so each angle costs ``2R`` circuit evaluations. Low-order observables need fewer: every
entry of the mode-transfer matrix is of degree ≤ 1 in ``cos θ, sin θ`` (and in ``e^{iφ}``), so
a ``b``-body moment such as ``<n_i>`` (``b = 1``) or ``<n_i n_j>`` (``b = 2``) under PNR
detection has degree ≤ ``2b`` in θ and ≤ ``b`` in φ, whatever the photon number
(:func:`angle_orders` takes the smaller bound). On exact probabilities the rule reproduces
autograd to rounding; on samples it is unbiased, with the variance of a weighted sum of
``2R`` independent shot-noise estimates. ``R = 1`` is the familiar ``[f(θ+π/2) - f(θ-π/2)]/2``.
The two-term rule ``f(θ+π/4) - f(θ-π/4)`` assumes the single frequency 2; TBI outputs also
carry frequency 1 (paths that bypass the splitter) and, with several photons, 3..2n, where it
is wrong (a test shows it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..photonics import beam_splitter_pairs

Evaluate = Callable[[Tensor, Tensor | None], Tensor]  # (R, n_bs) angle sets -> (R, K) outputs


def photons_reaching(input_state: Sequence[int], loop_lengths: Sequence[int]) -> np.ndarray:
    """``(n_bs,)`` number of input photons that can reach each beam splitter (its light cone)."""
    cones = [{m} if count else set() for m, count in enumerate(input_state)]
    out = []
    for i, j in beam_splitter_pairs(len(input_state), loop_lengths):
        cones[i] = cones[j] = cones[i] | cones[j]
        out.append(sum(input_state[m] for m in cones[i]))
    return np.array(out, dtype=np.int64)


def angle_orders(input_state: Sequence[int], loop_lengths: Sequence[int],
                 body: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Trigonometric degrees ``R`` of every beam-splitter and phase angle (0: no dependence).

    ``R_θ = 2·min(n, body)`` and ``R_φ = min(n, body)`` with ``n`` the photons reaching the
    splitter; ``body=None`` for observables of the full distribution (probabilities, clicks).
    """
    reach = photons_reaching(input_state, loop_lengths)
    if body is not None:
        reach = np.minimum(reach, body)
    return 2 * reach, reach


def shift_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Shifts ``x_μ`` and coefficients of the exact ``2·order``-term derivative rule."""
    if order < 1:
        raise ValueError(f"order={order} must be >= 1")
    mu = np.arange(1, 2 * order + 1)
    shifts = (2 * mu - 1) * np.pi / (2 * order)
    coeffs = (-1.0) ** (mu - 1) / (4 * order * np.sin(shifts / 2) ** 2)
    return shifts, coeffs


@dataclass(frozen=True)
class GradientPlan:
    """What the backward pass estimates: the angle columns whose gradient is needed, the
    rule (``multi_frequency_shift`` or ``spsa``) and its settings.

    Attributes:
        bs_orders: ``(n_bs,)`` trigonometric degree per beam-splitter angle (``2n``).
        ps_orders: ``(n_bs,)`` degree per phase angle (``n``), or ``None`` without phases.
        bs_needed / ps_needed: which columns need a gradient (others are skipped: free).
        spsa_step: SPSA perturbation size ``c`` (radians); ``spsa_samples``: perturbations
            averaged per row; ``rng``: draws the SPSA perturbations.
    """

    rule: str
    bs_orders: np.ndarray
    ps_orders: np.ndarray | None
    bs_needed: np.ndarray
    ps_needed: np.ndarray | None
    spsa_step: float = 0.1
    spsa_samples: int = 1
    rng: np.random.Generator | None = None

    def evaluations_per_row(self) -> int:
        """Circuit evaluations (parameter sets, each ``shots`` shots) per batch row of one
        backward pass: ``Σ 2R`` over needed angles with ``R > 0`` (shift) or
        ``2 · spsa_samples`` (SPSA)."""
        if self.rule == "spsa":
            return 2 * self.spsa_samples
        total = 2 * int(self.bs_orders[self.bs_needed].sum())
        if self.ps_orders is not None:
            total += 2 * int(self.ps_orders[self.ps_needed].sum())
        return total


class EstimatedGradient(torch.autograd.Function):
    """Outputs of ``evaluate(bs, ps)``; the backward pass estimates their Jacobian by the
    plan's rule from more ``evaluate`` calls (all shifted sets in one batched call)."""

    @staticmethod
    def forward(ctx, bs: Tensor, ps: Tensor | None, evaluate: Evaluate,
                plan: GradientPlan) -> Tensor:
        ctx.evaluate, ctx.plan = evaluate, plan
        ctx.save_for_backward(bs, ps)
        return evaluate(bs.detach(), None if ps is None else ps.detach())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        bs, ps = ctx.saved_tensors
        estimate = _spsa if ctx.plan.rule == "spsa" else _shift
        grad_bs, grad_ps = estimate(bs.detach(), None if ps is None else ps.detach(),
                                    grad_out, ctx.evaluate, ctx.plan)
        return grad_bs, grad_ps, None, None


def _shifted_sets(angles: Tensor, orders: np.ndarray, needed: np.ndarray
                  ) -> tuple[list[Tensor], list[tuple[int, np.ndarray]]]:
    sets, terms = [], []
    for column in np.flatnonzero(needed & (orders > 0)):
        shifts, coeffs = shift_rule(int(orders[column]))
        for shift in shifts:
            moved = angles.clone()
            moved[:, column] += shift
            sets.append(moved)
        terms.append((int(column), coeffs))
    return sets, terms


def _shift(bs: Tensor, ps: Tensor | None, grad_out: Tensor, evaluate: Evaluate,
           plan: GradientPlan) -> tuple[Tensor, Tensor | None]:
    bs_sets, bs_terms = _shifted_sets(bs, plan.bs_orders, plan.bs_needed)
    ps_sets, ps_terms = ([], []) if ps is None else _shifted_sets(ps, plan.ps_orders,
                                                                  plan.ps_needed)
    batch = bs.shape[0]
    if not bs_sets and not ps_sets:
        return torch.zeros_like(bs), None if ps is None else torch.zeros_like(ps)
    all_bs = torch.cat(bs_sets + [bs] * len(ps_sets))
    all_ps = None if ps is None else torch.cat([ps] * len(bs_sets) + ps_sets)
    values = evaluate(all_bs, all_ps).reshape(-1, batch, grad_out.shape[-1])
    grads, start = [], 0
    for angles, terms in ((bs, bs_terms), (ps, ps_terms)):
        if angles is None:
            grads.append(None)
            continue
        grad = torch.zeros_like(angles)
        for column, coeffs in terms:
            block = values[start : start + len(coeffs)]
            start += len(coeffs)
            weights = torch.as_tensor(coeffs, dtype=block.dtype, device=block.device)
            derivative = torch.einsum("t,tbk->bk", weights, block)
            grad[:, column] = (grad_out * derivative).sum(-1)
        grads.append(grad)
    return grads[0], grads[1]


def _spsa(bs: Tensor, ps: Tensor | None, grad_out: Tensor, evaluate: Evaluate,
          plan: GradientPlan) -> tuple[Tensor, Tensor | None]:
    """Simultaneous perturbation: ``Δ ~ ±1`` on every needed angle of a row at once,
    ``g_j ≈ Δ_j · vᵀ[f(θ + cΔ) - f(θ - cΔ)] / 2c``, averaged over ``spsa_samples`` draws."""
    n, c, batch = plan.spsa_samples, plan.spsa_step, bs.shape[0]
    masks = [torch.as_tensor(plan.bs_needed, dtype=bs.dtype, device=bs.device)]
    if ps is not None:
        masks.append(torch.as_tensor(plan.ps_needed, dtype=ps.dtype, device=ps.device))
    deltas = [torch.as_tensor(plan.rng.choice([-1.0, 1.0], size=(n, batch, len(m))),
                              device=m.device) * m for m in masks]
    plus = [torch.cat([(a + c * d[s]) for s in range(n)]) for a, d in
            zip((bs, ps), deltas, strict=False)]
    minus = [torch.cat([(a - c * d[s]) for s in range(n)]) for a, d in
             zip((bs, ps), deltas, strict=False)]
    both_bs = torch.cat([plus[0], minus[0]])
    both_ps = None if ps is None else torch.cat([plus[1], minus[1]])
    values = evaluate(both_bs, both_ps).reshape(2, n, batch, grad_out.shape[-1])
    projected = (grad_out * (values[0] - values[1])).sum(-1) / (2 * c)  # (n, batch)
    grads = [(projected.unsqueeze(-1) * d).mean(0) for d in deltas]
    return grads[0], (grads[1] if ps is not None else None)

