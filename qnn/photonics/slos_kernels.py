"""Numba kernels of one SLOS step and its adjoint, fused so CPU memory traffic stays minimal.

Arrays are batch-last: coefficients ``(S, B)``, weights ``(M, B)``. The step is
``out[n, b] = sum_i w[i, b] · prev[n - e_i, b]`` over the occupied modes ``i`` of ``n``.
Each kernel is compiled twice: serial, and threaded for work large enough to pay for
waking threads (``PARALLEL_MIN_WORK`` multiply-adds).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

PARALLEL_MIN_WORK = 1 << 18


def _step_forward(
    prev: np.ndarray, weights: np.ndarray, modes: np.ndarray, parents: np.ndarray
) -> np.ndarray:
    """``out[n] = sum_j weights[modes[n, j]] · prev[parents[n, j]]`` (``modes < 0`` is padding)."""
    n_states, slots = modes.shape
    batch = prev.shape[1]
    out = np.zeros((n_states, batch), dtype=prev.dtype)
    for n in prange(n_states):
        for j in range(slots):
            mode = modes[n, j]
            if mode < 0:
                break
            parent = parents[n, j]
            for b in range(batch):
                out[n, b] += weights[mode, b] * prev[parent, b]
    return out


def _step_grad_prev(grad_out: np.ndarray, weights: np.ndarray, children: np.ndarray) -> np.ndarray:
    """Adjoint in ``prev``: ``g[p] = sum_i conj(weights[i]) · grad_out[p + e_i]``."""
    n_prev, n_modes = children.shape
    batch = grad_out.shape[1]
    grad = np.zeros((n_prev, batch), dtype=grad_out.dtype)
    for p in prange(n_prev):
        for i in range(n_modes):
            child = children[p, i]
            for b in range(batch):
                grad[p, b] += np.conj(weights[i, b]) * grad_out[child, b]
    return grad


def _step_grad_weights(grad_out: np.ndarray, prev: np.ndarray, children: np.ndarray) -> np.ndarray:
    """Adjoint in ``weights``: ``g[i] = sum_p conj(prev[p]) · grad_out[p + e_i]``."""
    n_prev, n_modes = children.shape
    batch = grad_out.shape[1]
    grad = np.zeros((n_modes, batch), dtype=grad_out.dtype)
    for i in prange(n_modes):
        for p in range(n_prev):
            child = children[p, i]
            for b in range(batch):
                grad[i, b] += np.conj(prev[p, b]) * grad_out[child, b]
    return grad


_KERNELS = {
    name: (njit(cache=True)(func), njit(parallel=True, cache=True)(func))
    for name, func in (
        ("forward", _step_forward),
        ("grad_prev", _step_grad_prev),
        ("grad_weights", _step_grad_weights),
    )
}


def _pick(name: str, work: int):
    serial, parallel = _KERNELS[name]
    return parallel if work >= PARALLEL_MIN_WORK else serial


def step_forward(
    prev: np.ndarray, weights: np.ndarray, modes: np.ndarray, parents: np.ndarray
) -> np.ndarray:
    """See :func:`_step_forward`."""
    return _pick("forward", modes.size * prev.shape[1])(prev, weights, modes, parents)


def step_grad_prev(grad_out: np.ndarray, weights: np.ndarray, children: np.ndarray) -> np.ndarray:
    """See :func:`_step_grad_prev`."""
    return _pick("grad_prev", children.size * grad_out.shape[1])(grad_out, weights, children)


def step_grad_weights(grad_out: np.ndarray, prev: np.ndarray, children: np.ndarray) -> np.ndarray:
    """See :func:`_step_grad_weights`."""
    return _pick("grad_weights", children.size * grad_out.shape[1])(grad_out, prev, children)
