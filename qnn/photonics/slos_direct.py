"""SLOS without autograd: a whole output distribution in one numba call.

The differentiable path (:mod:`qnn.photonics.slos`) pays torch's dispatch and autograd
bookkeeping on every beam splitter and every photon step: at the sizes the experiments run
(8 modes / 4 photons, 330 outcomes) that overhead is hundreds of microseconds against a few
microseconds of arithmetic. When no gradient is wanted, the exact backend comes here
instead: the TBI unitaries are built in one compiled loop and all photon steps run in one
compiled call over index tables precomputed per ``(M, N)``. The arithmetic is the same as
the differentiable path's, so the probabilities agree to rounding (tests).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from .fock import fock_basis
from .slos import photon_modes, step_tables
from .tbi_kernels import tbi_unitaries as compiled_tbi_unitaries


@njit(cache=True)
def _probabilities(unitaries: np.ndarray, sources: np.ndarray, modes: np.ndarray,
                   parents: np.ndarray, offsets: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(B, S_N)`` ``|<n|U|input>|²``: photon ``k`` created in input mode ``sources[k]``
    by ``out[n] = sum_i U[i, s_k] · prev[n - e_i]`` over the occupied modes ``i`` of ``n``
    (step ``k``'s rows of ``modes``/``parents`` are ``offsets[k]:offsets[k + 1]``), then
    the monomial coefficients squared times ``scale`` (``prod n_i! / prod m_j!``)."""
    n_sets = unitaries.shape[0]
    n_states = offsets[-1] - offsets[-2]
    probs = np.empty((n_sets, n_states))
    for b in range(n_sets):
        prev = np.ones(1, dtype=np.complex128)
        for k in range(sources.shape[0]):
            start, stop = offsets[k], offsets[k + 1]
            column = unitaries[b, :, sources[k]]
            cur = np.zeros(stop - start, dtype=np.complex128)
            for n in range(stop - start):
                acc = 0j
                for slot in range(modes.shape[1]):
                    mode = modes[start + n, slot]
                    if mode < 0:
                        break
                    acc += column[mode] * prev[parents[start + n, slot]]
                cur[n] = acc
            prev = cur
        for n in range(n_states):
            probs[b, n] = (prev[n].real ** 2 + prev[n].imag ** 2) * scale[n]
    return probs


@lru_cache(maxsize=64)
def _tables(n_modes: int, input_state: tuple[int, ...]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The photon steps of ``input_state`` as flat arrays: sources, modes, parents,
    offsets, and the factorial scale of each output pattern."""
    sources = np.array(photon_modes(input_state), dtype=np.int64)
    n_photons = len(sources)
    width = max(1, min(n_photons, n_modes))
    steps = [step_tables(n_modes, k)[:2] for k in range(1, n_photons + 1)]
    # int32 tables: half the memory traffic of int64 in the gather loop (16/8: 490,314 rows)
    modes = np.full((sum(len(m) for m, _ in steps), width), -1, dtype=np.int32)
    parents = np.zeros_like(modes)
    offsets, row = [0], 0
    for step_modes, step_parents in steps:
        modes[row:row + len(step_modes), :step_modes.shape[1]] = step_modes
        parents[row:row + len(step_modes), :step_parents.shape[1]] = step_parents
        row += len(step_modes)
        offsets.append(row)
    if n_photons == 0:  # the vacuum: one pattern, probability 1
        offsets = [0, 1]
    log_fact = np.array([math.lgamma(n + 1) for n in range(n_photons + 1)])
    scale = np.exp(log_fact[fock_basis(n_modes, n_photons)].sum(axis=1)
                   - sum(math.lgamma(m + 1) for m in input_state))
    return sources, modes, parents, np.array(offsets, dtype=np.int64), scale


def tbi_unitaries(n_modes: int, pairs: np.ndarray, bs_angles: np.ndarray,
                  ps_angles: np.ndarray | None) -> np.ndarray:
    """``(B, M, M)`` TBI unitaries from ``(B, n_bs)`` angles and the ``(n_bs, 2)`` bin pairs
    of :func:`qnn.photonics.circuit.beam_splitter_pairs`."""
    bs = np.ascontiguousarray(bs_angles, dtype=np.float64)
    ps = bs if ps_angles is None else np.ascontiguousarray(ps_angles, dtype=np.float64)
    return compiled_tbi_unitaries(n_modes, pairs, bs, ps, ps_angles is not None)


def fock_probabilities(unitaries: np.ndarray, input_state: tuple[int, ...]) -> np.ndarray:
    """``(B, C(M+N-1, N))`` output probabilities over ``fock_basis(M, N)`` of ``(B, M, M)``
    complex unitaries, without autograd (the cost guard is the caller's)."""
    sources, modes, parents, offsets, scale = _tables(unitaries.shape[-1], tuple(input_state))
    if len(sources) == 0:
        return np.ones((unitaries.shape[0], 1))
    unitaries = np.ascontiguousarray(unitaries, dtype=np.complex128)
    return _probabilities(unitaries, sources, modes, parents, offsets, scale)
