"""All output amplitudes of a linear-optical network by adding photons one at a time (SLOS).

Strong simulation after Heurtel et al., "Strong simulation of linear optical processes"
(arXiv:2206.10549): the state ``prod_k (sum_i U[i, s_k] a_i^†) |0>`` is built photon by
photon over the Fock basis of each photon number, so all ``C(M+N-1, N)`` amplitudes cost
``O(M · sum_k C(M+k-1, k))`` operations instead of one permanent per output pattern.
Everything is torch, batched over leading dimensions and differentiable by autograd.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from .cost import check_slos
from .fock import check_photons, fock_basis, n_fock_states, parent_table

# Above this many gathered elements the step loops over modes instead of gathering all at once.
_GATHER_BUDGET = 1 << 24


@lru_cache(maxsize=128)
def _parents(n_modes: int, n_photons: int, device: torch.device) -> Tensor:
    return torch.as_tensor(np.array(parent_table(n_modes, n_photons)), device=device)


@lru_cache(maxsize=64)
def _sqrt_factorials(n_modes: int, n_photons: int, device: torch.device) -> Tensor:
    """``sqrt(prod_i n_i!)`` for every pattern of ``fock_basis(M, N)``."""
    log_fact = np.array([math.lgamma(n + 1) for n in range(n_photons + 1)])
    logs = log_fact[fock_basis(n_modes, n_photons)].sum(axis=1)
    return torch.as_tensor(np.exp(0.5 * logs), device=device)


@lru_cache(maxsize=128)
def step_tables(n_modes: int, n_photons: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index tables of the step to ``n_photons`` photons.

    Returns:
        ``modes`` ``(S_N, r)``: the occupied modes of each pattern, ``-1`` padded, with
        ``r = min(N, M)``; ``parents`` ``(S_N, r)``: index of ``n - e_mode`` in the basis of
        ``N - 1`` photons; ``children`` ``(S_{N-1}, M)``: index of ``p + e_i``. All int32:
        the kernels that read them are bound by memory traffic.
    """
    occupied = fock_basis(n_modes, n_photons) > 0
    parents_all = parent_table(n_modes, n_photons)
    order = np.argsort(~occupied, axis=1, kind="stable")[:, : min(n_photons, n_modes)]
    valid = np.take_along_axis(occupied, order, axis=1)
    modes = np.where(valid, order, -1)
    parents = np.where(valid, np.take_along_axis(parents_all, order, axis=1), 0)
    children = np.empty((n_fock_states(n_modes, n_photons - 1), n_modes), dtype=np.int64)
    rows, cols = np.nonzero(occupied)
    children[parents_all[rows, cols], cols] = rows
    return modes.astype(np.int32), parents.astype(np.int32), children.astype(np.int32)


@lru_cache(maxsize=128)
def children_by_mode(n_modes: int, n_photons: int) -> np.ndarray:
    """``children`` of :func:`step_tables` transposed, ``(M, S_{N-1})`` contiguous: the weight
    adjoint runs over every parent for one mode at a time."""
    return np.ascontiguousarray(step_tables(n_modes, n_photons)[2].T)


class _FusedStep(torch.autograd.Function):
    """The SLOS step on CPU by numba kernels, batch-last ``(S, B)``, with its adjoint."""

    @staticmethod
    def forward(ctx, prev: Tensor, weights: Tensor, n_modes: int, n_photons: int) -> Tensor:
        from .slos_kernels import step_forward

        modes, parents, children = step_tables(n_modes, n_photons)
        ctx.save_for_backward(prev, weights)
        ctx.children = children
        ctx.children_by_mode = children_by_mode(n_modes, n_photons)
        return torch.from_numpy(
            step_forward(prev.detach().numpy(), weights.detach().numpy(), modes, parents)
        )

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        from .slos_kernels import step_grad_prev, step_grad_weights

        prev, weights = ctx.saved_tensors
        grad = grad_out.contiguous().numpy()
        grad_prev = grad_weights = None
        if ctx.needs_input_grad[0]:
            grad_prev = torch.from_numpy(step_grad_prev(grad, weights.numpy(), ctx.children))
        if ctx.needs_input_grad[1]:
            grad_weights = torch.from_numpy(step_grad_weights(grad, prev.numpy(),
                                                              ctx.children_by_mode))
        return grad_prev, grad_weights, None, None


def add_photon(coeffs: Tensor, weights: Tensor, n_photons: int) -> Tensor:
    """One SLOS step: ``out[n] = sum_i weights[i] · coeffs[n - e_i]``.

    With complex ``weights = U[:, s]`` this creates a photon in input mode ``s``
    (monomial coefficients); with real ``weights = |U[:, s]|²`` it convolves a probability
    vector with one distinguishable photon. CPU tensors go through fused numba kernels,
    other devices through torch gathers (:class:`_GatherStep`); both are differentiable.

    Args:
        coeffs: ``(*batch, C(M+N-2, N-1))`` over ``fock_basis(M, n_photons - 1)``.
        weights: ``(*batch, M)``.
        n_photons: photon number ``N`` after the step.

    Returns:
        ``(*batch, C(M+N-1, N))`` over ``fock_basis(M, n_photons)``.
    """
    if coeffs.device.type != "cpu":
        return _gather_step(coeffs, weights, n_photons)
    n_modes = weights.shape[-1]
    batch = torch.broadcast_shapes(coeffs.shape[:-1], weights.shape[:-1])
    dtype = torch.promote_types(coeffs.dtype, weights.dtype)
    prev = coeffs.to(dtype).expand(*batch, coeffs.shape[-1]).reshape(-1, coeffs.shape[-1])
    cols = weights.to(dtype).expand(*batch, n_modes).reshape(-1, n_modes)
    out = _FusedStep.apply(prev.T.contiguous(), cols.T.contiguous(), n_modes, n_photons)
    return out.T.reshape(*batch, out.shape[0])


def add_photon_torch(coeffs: Tensor, weights: Tensor, n_photons: int) -> Tensor:
    """:func:`add_photon` by torch gathers (any device; the CPU reference for the kernels)."""
    n_modes = weights.shape[-1]
    parents = _parents(n_modes, n_photons, coeffs.device)
    padded = torch.cat([coeffs, coeffs.new_zeros(*coeffs.shape[:-1], 1)], dim=-1)
    batch = torch.broadcast_shapes(coeffs.shape[:-1], weights.shape[:-1])
    if math.prod(batch) * parents.numel() <= _GATHER_BUDGET:
        gathered = padded[..., parents]  # (*batch, S, M)
        return (gathered @ weights.to(gathered.dtype).unsqueeze(-1)).squeeze(-1)
    out = weights[..., :1] * padded[..., parents[:, 0]]
    for mode in range(1, n_modes):
        out = out + weights[..., mode : mode + 1] * padded[..., parents[:, mode]]
    return out


@lru_cache(maxsize=128)
def _children(n_modes: int, n_photons: int, device: torch.device) -> Tensor:
    """``children`` of :func:`step_tables` as an int64 ``(S_{N-1}, M)`` tensor on ``device``."""
    return torch.as_tensor(step_tables(n_modes, n_photons)[2], dtype=torch.long, device=device)


def _gather_step(coeffs: Tensor, weights: Tensor, n_photons: int) -> Tensor:
    """:func:`add_photon_torch` with a hand-written adjoint (the GPU path): autograd through
    the forward's gather would scatter-add into the parents, which on a GPU cost 140x the
    forward at 16/8; every (parent, mode) pair has exactly one child, so the adjoint is a
    gather of the output gradient through the child table instead."""
    batch = torch.broadcast_shapes(coeffs.shape[:-1], weights.shape[:-1])
    dtype = torch.promote_types(coeffs.dtype, weights.dtype)
    prev = coeffs.to(dtype).expand(*batch, coeffs.shape[-1])
    cols = weights.to(dtype).expand(*batch, weights.shape[-1])
    return _GatherStep.apply(prev, cols, n_photons)


class _GatherStep(torch.autograd.Function):
    """``out[n] = Σ_i w_i · prev[n - e_i]`` by torch gathers, any device, equal batch shapes.

    Adjoint (``conj`` for complex amplitudes, torch's convention): with ``c(p, i) = p + e_i``,
    ``grad_prev[p] = Σ_i conj(w_i) · g[c(p, i)]`` and ``grad_w[i] = Σ_p conj(prev[p]) ·
    g[c(p, i)]``: one gather of ``g`` serves both."""

    @staticmethod
    def forward(ctx, prev: Tensor, weights: Tensor, n_photons: int) -> Tensor:
        ctx.save_for_backward(prev, weights)
        ctx.n_photons = n_photons
        return add_photon_torch(prev.detach(), weights.detach(), n_photons)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        prev, weights = ctx.saved_tensors
        n_modes = weights.shape[-1]
        children = _children(n_modes, ctx.n_photons, grad_out.device)
        grad_prev = grad_weights = None
        if math.prod(grad_out.shape[:-1]) * children.numel() <= _GATHER_BUDGET:
            gathered = grad_out[..., children]  # (*batch, S_{N-1}, M)
            if ctx.needs_input_grad[0]:
                grad_prev = (gathered @ weights.conj().unsqueeze(-1)).squeeze(-1)
            if ctx.needs_input_grad[1]:
                grad_weights = (prev.conj().unsqueeze(-2) @ gathered).squeeze(-2)
            return grad_prev, grad_weights, None
        # one mode at a time: no (*batch, S, M) intermediate
        if ctx.needs_input_grad[0]:
            grad_prev = torch.zeros_like(prev)
        if ctx.needs_input_grad[1]:
            grad_weights = torch.empty_like(weights)
        for i in range(n_modes):
            column = grad_out[..., children[:, i]]
            if grad_prev is not None:
                grad_prev += weights[..., i:i + 1].conj() * column
            if grad_weights is not None:
                grad_weights[..., i] = (prev.conj() * column).sum(-1)
        return grad_prev, grad_weights, None


def photon_modes(input_state: tuple[int, ...]) -> list[int]:
    """Input mode of each photon, e.g. ``(1, 0, 2) -> [0, 2, 2]``."""
    return [mode for mode, count in enumerate(input_state) for _ in range(count)]


def fock_amplitudes(unitary: Tensor, input_state: tuple[int, ...]) -> Tensor:
    """Output amplitudes ``<n| U |input_state>`` over ``fock_basis(M, N)``.

    Args:
        unitary: ``(*batch, M, M)`` complex ``U[out, in]``.
        input_state: photons per input mode.

    Returns:
        ``(*batch, C(M+N-1, N))`` complex amplitudes; ``|amp|²`` sums to 1.
    """
    n_modes = unitary.shape[-1]
    modes = photon_modes(input_state)
    check_simulation(unitary, len(modes))
    coeffs = torch.ones(*unitary.shape[:-2], 1, dtype=unitary.dtype, device=unitary.device)
    for k, mode in enumerate(modes, start=1):
        coeffs = add_photon(coeffs, unitary[..., :, mode], k)
    # Monomial coefficients to normalised Fock amplitudes: sqrt(prod n_i!) / sqrt(prod m_j!).
    input_norm = math.sqrt(math.prod(math.factorial(m) for m in input_state))
    scale = _sqrt_factorials(n_modes, len(modes), unitary.device) / input_norm
    return coeffs * scale.to(unitary.dtype)


def fock_probabilities(unitary: Tensor, input_state: tuple[int, ...]) -> Tensor:
    """``|fock_amplitudes|²``: ``(*batch, C(M+N-1, N))`` real probabilities."""
    amplitudes = fock_amplitudes(unitary, input_state)
    return amplitudes.real**2 + amplitudes.imag**2


def distinguishable_probabilities(unitary: Tensor, input_state: tuple[int, ...]) -> Tensor:
    """Output distribution when every photon is distinguishable from every other one.

    Each photon goes to mode ``i`` independently with probability ``|U[i, s]|²``; the
    distribution of the summed pattern is built with the same photon-by-photon step.
    """
    check_simulation(unitary, sum(input_state))
    weights = unitary.real**2 + unitary.imag**2
    probs = torch.ones(*unitary.shape[:-2], 1, dtype=weights.dtype, device=unitary.device)
    for k, mode in enumerate(photon_modes(input_state), start=1):
        probs = add_photon(probs, weights[..., :, mode], k)
    return probs


def check_simulation(unitary: Tensor, n_photons: int) -> int:
    """Fock states of a SLOS run on ``unitary`` ``(*batch, M, M)``, refused by the cost guard
    (:func:`qnn.photonics.cost.check_slos`) before any step allocates."""
    check_photons(n_photons)
    batch = math.prod(unitary.shape[:-2])
    itemsize = torch.empty((), dtype=unitary.dtype).element_size()
    return check_slos(unitary.shape[-1], n_photons, batch, itemsize)
