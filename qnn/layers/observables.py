"""What a photonic layer outputs: linear functionals of the detection distribution."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..photonics import Histogram, fock_basis, pack_patterns
from ..photonics.cost import check

OBSERVABLES = ("mean_photons", "clicks", "correlations", "probabilities")


def check_observable(name: str) -> str:
    if name not in OBSERVABLES:
        raise ValueError(f"observable={name!r}; choose from {list(OBSERVABLES)}")
    return name


def reference_patterns(n_modes: int, n_photons: int, detection: str) -> np.ndarray:
    """The outcomes the ``probabilities`` observable reports, sorted (mode 0 most significant):
    ``fock_basis(M, N)`` for ``pnr``; every click pattern with at most ``N`` clicks for
    ``threshold``."""
    if detection == "pnr":
        return np.asarray(fock_basis(n_modes, n_photons))
    # Every one of the 2^M click patterns is listed first: held to the Fock-state limit.
    check("fock_states", 2**n_modes, f"threshold outcomes of {n_modes} modes",
          unit="click patterns")
    bits = np.array([[(k >> (n_modes - 1 - m)) & 1 for m in range(n_modes)]
                     for k in range(1 << n_modes)], dtype=np.uint8)
    return bits[bits.sum(axis=1) <= n_photons]


def observable_size(name: str, n_modes: int, n_photons: int, detection: str) -> int:
    """Width ``K`` of the layer's output."""
    check_observable(name)
    if name in ("mean_photons", "clicks"):
        return n_modes
    if name == "correlations":
        return math.comb(n_modes, 2)
    return len(reference_patterns(n_modes, n_photons, detection))


def pattern_features(name: str, patterns: np.ndarray, reference: np.ndarray | None
                     ) -> Tensor | np.ndarray:
    """Per-outcome values whose probability-weighted sum is the observable.

    Returns a float64 ``(S, K)`` tensor, except for ``probabilities``: an int64 ``(S,)``
    array of indices into ``reference`` (``-1`` for outcomes outside it, e.g. after loss).
    """
    counts = np.asarray(patterns, dtype=np.int64)
    if name == "mean_photons":
        return torch.as_tensor(counts, dtype=torch.float64)
    if name == "clicks":
        return torch.as_tensor(counts > 0, dtype=torch.float64)
    if name == "correlations":
        i, j = np.triu_indices(counts.shape[1], k=1)
        return torch.as_tensor(counts[:, i] * counts[:, j], dtype=torch.float64)
    bits = max(1, int(max(counts.max(initial=0), reference.max(initial=0))).bit_length())
    keys = pack_patterns(reference, bits)
    wanted = pack_patterns(counts, bits)
    index = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    return np.where(keys[index] == wanted, index, -1)


def measure(name: str, probs: Tensor, patterns: np.ndarray, reference: np.ndarray | None
            ) -> Tensor:
    """The observable from a distribution: ``probs`` ``(B, S)`` over ``patterns`` ``(S, M)``
    -> ``(B, K)``; differentiable in ``probs``.

    ``mean_photons`` is ``<n_i>``, ``clicks`` is ``P(n_i > 0)``, ``correlations`` is
    ``<n_i n_j>`` for ``i < j`` (row-major), ``probabilities`` the probability of each
    ``reference`` outcome. All are linear in ``probs``, so a sample-frequency estimate is
    unbiased and a shift rule applies to them exactly as to probabilities.
    """
    features = pattern_features(name, patterns, reference)
    if isinstance(features, np.ndarray):
        keep = torch.as_tensor(np.flatnonzero(features >= 0), device=probs.device)
        target = torch.as_tensor(features[features >= 0], device=probs.device)
        out = probs.new_zeros(probs.shape[0], len(reference))
        return out.index_add(1, target, probs.index_select(1, keep))
    return probs @ features.to(device=probs.device, dtype=probs.dtype)


def measure_histograms(name: str, hists: list[Histogram], reference: np.ndarray | None
                       ) -> Tensor:
    """The observable estimated from sample frequencies: one ``(K,)`` row per histogram."""
    rows = [measure(name, torch.as_tensor(h.frequencies()).unsqueeze(0), h.patterns, reference)
            for h in hists]
    return torch.cat(rows, dim=0)
