"""Numba kernels of one SLOS step and its adjoint, fused so CPU memory traffic stays minimal.

Arrays are batch-last: coefficients ``(S, B)``, weights ``(M, B)``. The step is
``out[n, b] = sum_i w[i, b] · prev[n - e_i, b]`` over the occupied modes ``i`` of ``n``.
Each kernel is compiled twice: serial, and threaded for work large enough to pay for
waking threads (``PARALLEL_MIN_WORK`` multiply-adds).

Numba code never checks for signals, so the wrappers call a kernel on row ranges of at most
``CALL_WORK`` multiply-adds (tens of milliseconds): Python handles Ctrl-C between calls.
Every output element is summed in the same order as in one call, so results are identical.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

PARALLEL_MIN_WORK = 1 << 18
CALL_WORK = 1 << 24


def _step_forward(
    prev: np.ndarray, weights: np.ndarray, modes: np.ndarray, parents: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[n] += sum_j weights[modes[n, j]] · prev[parents[n, j]]`` (``modes < 0`` pads)."""
    n_states, slots = modes.shape
    batch = prev.shape[1]
    for n in prange(n_states):
        for j in range(slots):
            mode = modes[n, j]
            if mode < 0:
                break
            parent = parents[n, j]
            for b in range(batch):
                out[n, b] += weights[mode, b] * prev[parent, b]


def _step_grad_prev(
    grad_out: np.ndarray, weights: np.ndarray, children: np.ndarray, grad: np.ndarray
) -> None:
    """Adjoint in ``prev``: ``grad[p] += sum_i conj(weights[i]) · grad_out[p + e_i]``."""
    n_prev, n_modes = children.shape
    batch = grad_out.shape[1]
    for p in prange(n_prev):
        for i in range(n_modes):
            child = children[p, i]
            for b in range(batch):
                grad[p, b] += np.conj(weights[i, b]) * grad_out[child, b]


def _step_grad_weights(
    grad_out: np.ndarray, prev: np.ndarray, children_by_mode: np.ndarray, grad: np.ndarray
) -> None:
    """Adjoint in ``weights``: ``grad[i] += sum_p conj(prev[p]) · grad_out[p + e_i]`` over the
    rows ``p`` given (successive calls continue each sum in order). ``children_by_mode`` is
    ``(M, S_{N-1})``, so each mode's pass reads its children contiguously."""
    n_modes, n_prev = children_by_mode.shape
    batch = grad_out.shape[1]
    for i in prange(n_modes):
        for p in range(n_prev):
            child = children_by_mode[i, p]
            for b in range(batch):
                grad[i, b] += np.conj(prev[p, b]) * grad_out[child, b]


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


def _row_ranges(n_rows: int, row_work: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of at most ``CALL_WORK`` multiply-adds each."""
    step = max(1, CALL_WORK // max(row_work, 1))
    return [(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def step_forward(
    prev: np.ndarray, weights: np.ndarray, modes: np.ndarray, parents: np.ndarray
) -> np.ndarray:
    """See :func:`_step_forward`; returns ``out`` ``(S_N, B)``."""
    out = np.zeros((modes.shape[0], prev.shape[1]), dtype=prev.dtype)
    row_work = modes.shape[1] * prev.shape[1]
    for start, stop in _row_ranges(modes.shape[0], row_work):
        kernel = _pick("forward", (stop - start) * row_work)
        kernel(prev, weights, modes[start:stop], parents[start:stop], out[start:stop])
    return out


def step_grad_prev(grad_out: np.ndarray, weights: np.ndarray, children: np.ndarray) -> np.ndarray:
    """See :func:`_step_grad_prev`; returns ``(S_{N-1}, B)``."""
    grad = np.zeros((children.shape[0], grad_out.shape[1]), dtype=grad_out.dtype)
    row_work = children.shape[1] * grad_out.shape[1]
    for start, stop in _row_ranges(children.shape[0], row_work):
        kernel = _pick("grad_prev", (stop - start) * row_work)
        kernel(grad_out, weights, children[start:stop], grad[start:stop])
    return grad


def step_grad_weights(grad_out: np.ndarray, prev: np.ndarray, children_by_mode: np.ndarray
                      ) -> np.ndarray:
    """See :func:`_step_grad_weights`; returns ``(M, B)``."""
    n_modes, n_prev = children_by_mode.shape
    grad = np.zeros((n_modes, grad_out.shape[1]), dtype=grad_out.dtype)
    row_work = n_modes * grad_out.shape[1]
    for start, stop in _row_ranges(n_prev, row_work):
        kernel = _pick("grad_weights", (stop - start) * row_work)
        kernel(grad_out, prev[start:stop], children_by_mode[:, start:stop], grad)
    return grad
