"""The TBI unitary on CPU in one compiled loop, forward and adjoint.

Built in torch, a TBI's unitary costs a handful of tensor operations per beam splitter,
and autograd records each of them: at the Quantum-Train QPUs' size (9 modes, 15 beam
splitters) building and differentiating the two unitaries took ~2 ms of a 3.4 ms
photonic step, against microseconds of arithmetic. Here the forward pass is one numba
loop, and the backward pass walks the beam splitters in reverse, undoing each one on the
finished unitary (every step is unitary, so nothing is stored) while pulling the gradient
back through it.

Convention (as :func:`qnn.photonics.circuit.tbi_unitary`): beam splitter ``k`` on rows
``(i, j)`` maps ``r_i, r_j -> c r_i + s r_j, c r_j - s r_i`` (``c, s = cos θ_k, sin θ_k``),
then row ``i`` takes the phase ``e^{iφ_k}``. Gradients follow torch's convention for complex
tensors, ``G = ∂L/∂Re U + i ∂L/∂Im U``, so ``∂L/∂θ = Re Σ conj(G) ∂U/∂θ``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit
from torch import Tensor


@njit(cache=True)
def tbi_unitaries(n_modes: int, pairs: np.ndarray, bs: np.ndarray, ps: np.ndarray,
                  has_phases: bool) -> np.ndarray:
    """``(B, M, M)`` complex128 ``U[out, in]`` from ``(B, n_bs)`` angles."""
    n_sets, n_bs = bs.shape
    out = np.zeros((n_sets, n_modes, n_modes), dtype=np.complex128)
    for b in range(n_sets):
        u = out[b]
        for i in range(n_modes):
            u[i, i] = 1.0
        for k in range(n_bs):
            i, j = pairs[k, 0], pairs[k, 1]
            c, s = math.cos(bs[b, k]), math.sin(bs[b, k])
            for col in range(n_modes):
                ri, rj = u[i, col], u[j, col]
                u[i, col] = c * ri + s * rj
                u[j, col] = c * rj - s * ri
            if has_phases:
                phase = complex(math.cos(ps[b, k]), math.sin(ps[b, k]))
                for col in range(n_modes):
                    u[i, col] *= phase
    return out


@njit(cache=True)
def tbi_unitaries_adjoint(unitaries: np.ndarray, grad: np.ndarray, pairs: np.ndarray,
                          bs: np.ndarray, ps: np.ndarray, has_phases: bool
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(∂L/∂θ, ∂L/∂φ)``, each ``(B, n_bs)``, from the finished ``unitaries`` and ``grad``
    (both ``(B, M, M)``, not modified)."""
    n_sets, n_bs = bs.shape
    n_modes = unitaries.shape[1]
    d_bs = np.zeros((n_sets, n_bs))
    d_ps = np.zeros((n_sets, n_bs))
    for b in range(n_sets):
        u = unitaries[b].copy()
        g = grad[b].copy()
        for k in range(n_bs - 1, -1, -1):
            i, j = pairs[k, 0], pairs[k, 1]
            if has_phases:
                # d(e^{iφ} r)/dφ = i · (the finished row): Re conj(g) i u = -Im(conj(g) u)
                acc = 0.0
                phase_conj = complex(math.cos(ps[b, k]), -math.sin(ps[b, k]))
                for col in range(n_modes):
                    acc -= (g[i, col].conjugate() * u[i, col]).imag
                    u[i, col] *= phase_conj  # undo the phase
                    g[i, col] *= phase_conj  # the adjoint of a phase is its conjugate
                d_ps[b, k] = acc
            c, s = math.cos(bs[b, k]), math.sin(bs[b, k])
            acc = 0.0
            for col in range(n_modes):
                ni, nj = u[i, col], u[j, col]
                # d new_i / dθ = new_j and d new_j / dθ = -new_i
                acc += (g[i, col].conjugate() * nj - g[j, col].conjugate() * ni).real
                u[i, col] = c * ni - s * nj  # undo the rotation (its transpose)
                u[j, col] = s * ni + c * nj
                gi, gj = g[i, col], g[j, col]
                g[i, col] = c * gi - s * gj
                g[j, col] = s * gi + c * gj
            d_bs[b, k] = acc
    return d_bs, d_ps


class TBIUnitary(torch.autograd.Function):
    """``(B, M, M)`` complex128 unitaries from float64 ``(B, n_bs)`` angles, differentiable.

    ``ps`` is ignored (and gets no gradient) unless ``has_phases``.
    """

    @staticmethod
    def forward(ctx, bs: Tensor, ps: Tensor, n_modes: int, pairs: np.ndarray,
                has_phases: bool) -> Tensor:
        bs_np = np.ascontiguousarray(bs.detach().numpy())
        ps_np = np.ascontiguousarray(ps.detach().numpy())
        unitaries = torch.from_numpy(tbi_unitaries(n_modes, pairs, bs_np, ps_np, has_phases))
        ctx.save_for_backward(bs, ps, unitaries)
        ctx.pairs, ctx.has_phases = pairs, has_phases
        return unitaries

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None, None]:
        bs, ps, unitaries = ctx.saved_tensors
        d_bs, d_ps = tbi_unitaries_adjoint(
            unitaries.numpy(), grad.resolve_conj().contiguous().numpy(), ctx.pairs,
            np.ascontiguousarray(bs.detach().numpy()), np.ascontiguousarray(ps.detach().numpy()),
            ctx.has_phases)
        return (torch.from_numpy(d_bs) if ctx.needs_input_grad[0] else None,
                torch.from_numpy(d_ps) if ctx.needs_input_grad[1] and ctx.has_phases else None,
                None, None, None)
