"""Estimators of the BBS objective ``E_y E_b C(y XOR b)`` and of its gradients.

Notation: ``y`` is an ``n``-bit candidate of click patterns (``ceil(n/m)`` tiles of an
``m``-mode circuit), ``b`` independent flips with ``P(b_i = 1) = p_i``, ``x = y XOR b``.
For a QUBO, ``E_b C(y XOR b)`` is closed form: the ``x_i`` are independent with
``P(x_i = 1) = y_i (1 − p_i) + (1 − y_i) p_i``, so :meth:`QUBO.expected_energy` gives it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..problems.qubo import QUBO


def flip_marginals(clicks: Tensor, flip_probs: Tensor) -> Tensor:
    """``P(x_i = 1)`` for ``x = y XOR b``: ``(..., n)`` from ``(..., n)`` clicks and ``(n,)`` p."""
    return clicks + flip_probs - 2 * clicks * flip_probs


def sample_costs(qubo: QUBO, clicks: Tensor, flip_probs: Tensor) -> Tensor:
    """``(...)`` expected costs ``E_b C(y XOR b)`` of ``(..., n)`` 0/1 candidates ``y``."""
    return qubo.expected_energy(flip_marginals(clicks, flip_probs))


def shifted_angle_sets(bs_angles: np.ndarray, shift: float) -> np.ndarray:
    """``(1 + 2 n_bs, n_bs)`` parameter sets: unshifted, then ``+Δ e_j``, then ``−Δ e_j``."""
    step = shift * np.eye(bs_angles.shape[0])
    return np.concatenate([bs_angles[None], bs_angles + step, bs_angles - step])


def directional_angle_sets(bs_angles: np.ndarray, shift: float, directions: np.ndarray
                           ) -> np.ndarray:
    """``(1 + 2k, n_bs)`` parameter sets: unshifted, then ``θ + Δ δ_d``, then ``θ − Δ δ_d``
    for the ``(k, n_bs)`` directions ``δ``."""
    return np.concatenate([bs_angles[None], bs_angles + shift * directions,
                           bs_angles - shift * directions])


def directional_gradient(costs: np.ndarray, directions: np.ndarray, denominator: float
                         ) -> np.ndarray:
    """``(n_bs,)`` the shift rule along ``k`` random ±1 directions (simultaneous perturbation):
    ``mean_d δ_d [f(θ + Δ δ_d) − f(θ − Δ δ_d)] / denominator``, unbiased for the gradient
    since ``E[δ δᵀ] = I``.

    Args:
        costs: ``(1 + 2k,)`` objective estimates in :func:`directional_angle_sets` order.
    """
    k = directions.shape[0]
    slopes = (costs[1 : 1 + k] - costs[1 + k :]) / denominator
    return (slopes[:, None] * directions).mean(axis=0)


def shift_gradient(costs: np.ndarray, denominator: float) -> np.ndarray:
    """``(n_bs,)`` two-term shift rule ``[f(θ + Δ e_j) − f(θ − Δ e_j)] / denominator``.

    Args:
        costs: ``(1 + 2 n_bs,)`` objective estimates in :func:`shifted_angle_sets` order.
        denominator: usually ``sin 2Δ`` (see :class:`BBSConfig`).
    """
    n_bs = (costs.shape[0] - 1) // 2
    return (costs[1 : 1 + n_bs] - costs[1 + n_bs :]) / denominator


def shuffled_samples(patterns: np.ndarray, counts: np.ndarray, rng: np.random.Generator
                     ) -> np.ndarray:
    """``(shots, m)`` uint8 samples of a histogram in a uniformly random order.

    Histograms are sorted, so samples are permuted before tiles are concatenated: a random
    order of i.i.d. draws gives independent tiles.
    """
    samples = np.repeat(patterns, counts, axis=0)
    return samples[rng.permutation(samples.shape[0])]


def random_clicks(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Independent Bernoulli clicks with the per-mode click rates of ``samples``.

    Args:
        samples: ``(R, m)`` 0/1 click samples.

    Returns:
        ``(R, m)`` uint8: mode ``j`` clicks with probability ``mean(samples[:, j])``,
        independently of every other mode and row.
    """
    rates = samples.mean(axis=0)
    return (rng.random(samples.shape) < rates).astype(np.uint8)


def tile_candidates(samples: np.ndarray, n_bits: int) -> np.ndarray:
    """``(S, n_bits)`` candidates from ``(S · T, m)`` samples: ``T`` consecutive rows each.

    ``T = ceil(n_bits / m)``; the concatenation is cut to ``n_bits``.
    """
    rows, m = samples.shape
    tiles = math.ceil(n_bits / m)
    if rows % tiles:
        raise ValueError(f"{rows} samples do not split into candidates of {tiles} tiles")
    return samples.reshape(rows // tiles, tiles * m)[:, :n_bits]


def exact_expected_cost(qubo: QUBO, patterns: Tensor, probs: Tensor, flip_probs: Tensor, *,
                        independent: bool = False) -> Tensor:
    """Exact ``E_y E_b C(y XOR b)`` from the click distribution of one ``m``-mode circuit.

    Candidates are ``T = ceil(n/m)`` independent tiles, so ``E[x_i x_j]`` is the tile's own
    second moment inside a tile and ``E[x_i] E[x_j]`` across tiles. With one tile this is
    ``sum_y P(y) · QUBO.expected_energy(P(x = 1 | y))``. Differentiable in ``probs`` and
    ``flip_probs``.

    Args:
        patterns: ``(K, m)`` 0/1 click patterns.
        probs: ``(K,)`` their probabilities.
        flip_probs: ``(n,)`` flip probabilities.
        independent: use only the per-mode click rates, as if modes clicked independently
            (the exact counterpart of ``sampler="random_clicks"``).
    """
    n, m = qubo.n_bits, patterns.shape[1]
    clicks = patterns.to(probs.dtype)
    if independent:
        rates = (probs @ clicks).repeat(math.ceil(n / m))[:n]
        return qubo.expected_energy(flip_marginals(rates, flip_probs))
    means, corrections = [], []
    for start in range(0, n, m):
        k = min(m, n - start)
        q = flip_marginals(clicks[:, :k], flip_probs[start : start + k])  # (K, k)
        mean = probs @ q
        means.append(mean)
        corrections.append(q.T @ (probs[:, None] * q) - torch.outer(mean, mean))
    mean = torch.cat(means)
    second = torch.outer(mean, mean) + torch.block_diag(*corrections)
    second = second - torch.diag(torch.diagonal(second)) + torch.diag(mean)
    matrix = torch.tensor(qubo.matrix, dtype=probs.dtype, device=probs.device)
    return (matrix * second).sum() + qubo.offset
