"""From K photonic output distributions to the per-weight features of a Quantum-Train model.

The distributed-QNN / Quantum-Train pipeline (arXiv 2505.08474; QT: arXiv 2405.11304,
2409.06992) turns the output distributions of K QPUs into one value per target weight:

1. each QPU ``k`` gives a probability vector over a fixed outcome list of ``S_k`` patterns
   (:func:`outcome_patterns`, :func:`qpu_vector`; sampled hardware histograms are put on
   the same list by :func:`histogram_vector`);
2. the K vectors are combined by an outer product, flattened with the first QPU most
   significant and truncated to the ``W`` weights (:func:`joint_distribution`);
3. the values are rescaled (:func:`scale`), and weight ``j`` gets the features
   ``[bits of j as ±1 ..., scaled value j]`` (:func:`index_features`, :func:`weight_features`)
   that a mapping model (:class:`qnn.qtrain.mps.MPSMapping`) turns into the weight.

The two published orderings of step 3:

- photonic DQNN code: ``joint_distribution([scale(v, "mean") for v in vectors], W)``
  (each QPU's vector divided by its mean, then the outer product);
- QT's qubit code: ``scale(joint_distribution(vectors, W), "qt")`` (truncate, then the
  tanh/power map and centring over the ``W`` kept values).

Probabilities of kept outcomes are NOT renormalised: a vector holds
``P(outcome)`` under the full distribution, and a histogram vector holds
``count / shots`` over all shots, its unbiased estimate. (Division by the mean makes the
``"mean"`` scaling independent of that normalisation.)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from ..photonics.backends.base import Backend, ProbabilityBackend
from ..photonics.circuit import Interferometer
from ..photonics.fock import click_patterns, fock_basis
from ..photonics.histogram import Histogram

OUTCOME_SETS = ("pnr", "no_bunching", "threshold")
SCALINGS = ("mean", "qt")

# QT's constants (arXiv 2405.11304 code): x = (BETA * tanh(GAMMA * 2**(N - 1) * p)) ** ALPHA.
QT_BETA, QT_GAMMA, QT_ALPHA = 0.8, 0.1, 0.3

PatternsLike = Tensor | np.ndarray


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name}={value!r}; choose from {list(choices)}")
    return value


def _as_patterns(patterns: PatternsLike) -> np.ndarray:
    array = patterns.detach().cpu().numpy() if isinstance(patterns, Tensor) else patterns
    array = np.asarray(array)
    if array.ndim != 2 or array.dtype.kind not in "biu":
        raise ValueError(
            f"patterns must be an integer (S, M) array, got shape {array.shape},"
            f" dtype {array.dtype}"
        )
    return array.astype(np.int64)


def qpu_vector(patterns: PatternsLike, probs: Tensor, outcomes: str) -> tuple[Tensor, Tensor]:
    """Keep the outcomes of one QPU that form its probability vector.

    Args:
        patterns: ``(S, M)`` integer occupation patterns (a backend's ``patterns``).
        probs: ``(*batch, S)`` probabilities aligned with ``patterns``.
        outcomes: ``"pnr"`` keeps every pattern; ``"no_bunching"`` keeps patterns with
            every ``n_i <= 1`` (collision-free outcomes, as the published code); and
            ``"threshold"`` maps patterns to clicks ``min(n_i, 1)`` and sums the
            probabilities of equal click patterns.

    Returns:
        ``patterns_kept``: int64 ``(S', M)`` (input order for ``"pnr"``/``"no_bunching"``;
        sorted lexicographically, mode 0 most significant, for ``"threshold"``), and
        ``probs_kept``: ``(*batch, S')``, differentiable in ``probs``, not renormalised.
    """
    _check_choice("outcomes", outcomes, OUTCOME_SETS)
    array = _as_patterns(patterns)
    if probs.shape[-1] != array.shape[0]:
        raise ValueError(f"probs has {probs.shape[-1]} entries, patterns {array.shape[0]} rows")
    if outcomes == "pnr":
        keep = np.arange(array.shape[0])
    elif outcomes == "no_bunching":
        keep = np.flatnonzero((array <= 1).all(axis=1))
    else:
        clicks, inverse = np.unique(click_patterns(array), axis=0, return_inverse=True)
        index = torch.as_tensor(inverse.ravel(), device=probs.device)
        merged = probs.new_zeros(*probs.shape[:-1], len(clicks)).index_add(-1, index, probs)
        return torch.as_tensor(clicks, dtype=torch.long), merged
    index = torch.as_tensor(keep, device=probs.device)
    return torch.as_tensor(array[keep], dtype=torch.long), probs.index_select(-1, index)


@lru_cache(maxsize=64)
def outcome_patterns(n_modes: int, n_photons: int, outcomes: str) -> Tensor:
    """The fixed outcome list of a QPU: :func:`qpu_vector` applied to the lossless basis.

    Cached (it is rebuilt by every training step otherwise); treat the result as read-only.

    ``"pnr"``: all ``C(M+N-1, N)`` patterns of ``fock_basis(M, N)``; ``"no_bunching"``: its
    ``C(M, N)`` collision-free patterns; ``"threshold"``: its distinct click patterns. Events
    outside the list (fewer photons after loss, extra dark counts) are discarded.

    Returns:
        int64 ``(S, M)`` patterns.
    """
    basis = fock_basis(n_modes, n_photons)
    patterns, _ = qpu_vector(basis, torch.zeros(basis.shape[0], dtype=torch.float64), outcomes)
    return patterns


def _column_index(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Row of ``source`` equal to each row of ``target`` (``-1`` where absent)."""
    if source.shape[1] != target.shape[1]:
        raise ValueError(f"patterns have {source.shape[1]} modes, outcome list {target.shape[1]}")
    rows = {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(source))}
    return np.array(
        [rows.get(row.tobytes(), -1) for row in np.ascontiguousarray(target)], dtype=np.int64
    )


def align(patterns: PatternsLike, values: Tensor, outcome_list: PatternsLike) -> Tensor:
    """``values`` ``(*batch, S)`` over ``patterns`` re-indexed onto ``outcome_list`` ``(S', M)``.

    Patterns of ``outcome_list`` missing from ``patterns`` get 0; patterns not in the list
    are dropped. Differentiable in ``values``.
    """
    source, target = _as_patterns(patterns), _as_patterns(outcome_list)
    if values.shape[-1] != source.shape[0]:
        raise ValueError(f"values has {values.shape[-1]} entries, patterns {source.shape[0]} rows")
    index = _column_index(source, target)
    padded = torch.cat([values, values.new_zeros(*values.shape[:-1], 1)], dim=-1)
    index[index < 0] = source.shape[0]  # the appended zero column
    return padded.index_select(-1, torch.as_tensor(index, device=values.device))


def histogram_vector(hist: Histogram, patterns_kept: PatternsLike) -> Tensor:
    """Relative frequencies of a sampled :class:`Histogram` on a fixed outcome list.

    Entry ``s`` is ``hist.count(patterns_kept[s]) / hist.shots`` (0 for unseen patterns, and
    all zeros for an empty histogram): the same quantity as :func:`qpu_vector`'s
    unrenormalised probabilities. The histogram must use the outcome list's detection
    (click patterns for ``"threshold"``; see :meth:`Histogram.to_threshold`).

    Returns:
        float64 ``(S,)`` tensor.
    """
    freqs = torch.as_tensor(hist.frequencies(), dtype=torch.float64)
    return align(hist.patterns.astype(np.int64), freqs, patterns_kept)


def joint_distribution(vectors: Sequence[Tensor], n_weights: int) -> Tensor:
    """Outer product of K QPU vectors, flattened and truncated to the first ``n_weights``.

    Entry ``j`` of the flat product is ``prod_k v_k[i_k]`` with
    ``j = ((i_1 * S_2 + i_2) * S_3 + i_3) ...``: the first QPU is the most significant
    digit (``torch.outer(v1, v2).flatten()`` for K = 2).

    Args:
        vectors: K tensors ``(*batch_k, S_k)`` whose batch shapes broadcast.
        n_weights: ``W``, number of target weights, ``1 <= W <= prod_k S_k``.

    Returns:
        ``(*batch, W)``, differentiable in every vector.
    """
    if len(vectors) == 0:
        raise ValueError("vectors is empty: give one probability vector per QPU")
    sizes = [int(v.shape[-1]) for v in vectors]
    total = math.prod(sizes)
    if not 1 <= n_weights <= total:
        raise ValueError(
            f"n_weights={n_weights} is outside [1, {total}]: the outer product of QPU vectors"
            f" of sizes {sizes} has {total} entries"
        )
    joint = vectors[0]
    for vector in vectors[1:]:
        joint = (joint[..., :, None] * vector[..., None, :]).flatten(-2)
    return joint[..., :n_weights]


def n_index_bits(n_weights: int) -> int:
    """``ceil(log2(n_weights))``: bits that index ``n_weights`` weights (0 for one weight)."""
    try:
        count = operator.index(n_weights)
    except TypeError:
        count = 0
    if isinstance(n_weights, bool) or count < 1:
        raise ValueError(f"n_weights={n_weights!r} must be a positive integer")
    return (count - 1).bit_length()


def scale(probs: Tensor, method: str, *, n_bits: int | None = None) -> Tensor:
    """Rescale probability values along the last dimension (differentiable).

    Args:
        probs: ``(*batch, S)`` probabilities (or frequencies).
        method: ``"mean"``: ``p / mean(p)`` (the published photonic code, per QPU vector);
            ``"qt"``: QT's original map ``x = (0.8 * tanh(0.1 * 2**(N - 1) * p)) ** 0.3``
            followed by centring ``x - mean(x)`` (as QT's code, on the truncated vector).
        n_bits: ``N`` for ``"qt"``; default ``ceil(log2(S))``, the number of index bits
            when ``probs`` is the truncated vector of ``S = W`` values. Ignored by ``"mean"``.

    The ``"qt"`` map has an infinite derivative at ``p = 0`` (the 0.3 power): exactly
    vanishing probabilities give non-finite gradients.
    """
    _check_choice("method", method, SCALINGS)
    if method == "mean":
        mean = probs.mean(dim=-1, keepdim=True)
        if bool((mean.detach() == 0).any()):
            raise ValueError("scale('mean') got a vector with zero mean; nothing to divide by")
        return probs / mean
    n = n_index_bits(probs.shape[-1]) if n_bits is None else n_bits
    x = (QT_BETA * torch.tanh(QT_GAMMA * 2.0 ** (n - 1) * probs)) ** QT_ALPHA
    return x - x.mean(dim=-1, keepdim=True)


def index_features(n_weights: int, *, dtype: torch.dtype = torch.float64) -> Tensor:
    """Bits of each weight index ``j`` as ±1, most significant bit first.

    Bit ``b`` maps to ``2b - 1`` (0 -> -1, 1 -> +1), as ``torch.cartesian_prod`` of
    ``[-1, 1]`` in QT's code. ``n_bits = ceil(log2(n_weights))``.

    Returns:
        ``(n_weights, n_bits)`` tensor of ±1.
    """
    n_bits = n_index_bits(n_weights)
    j = torch.arange(n_weights)[:, None]
    shifts = torch.arange(n_bits - 1, -1, -1)[None, :]
    return (2 * ((j >> shifts) & 1) - 1).to(dtype)


def weight_features(scaled: Tensor) -> Tensor:
    """Mapping-model inputs: ``(*batch, W)`` scaled values -> ``(*batch, W, n_bits + 1)``.

    Row ``j`` is ``[index_features(W)[j], scaled[..., j]]`` (index bits first, value last).
    """
    bits = index_features(scaled.shape[-1], dtype=scaled.dtype).to(scaled.device)
    bits = bits.expand(*scaled.shape[:-1], *bits.shape)
    return torch.cat([bits, scaled[..., None]], dim=-1)


def _pattern_key(patterns: PatternsLike) -> tuple[tuple[int, ...], bytes]:
    array = _as_patterns(patterns)
    return array.shape, np.ascontiguousarray(array).tobytes()


@lru_cache(maxsize=64)
def _outcome_index(source: tuple[tuple[int, ...], bytes], target: tuple[tuple[int, ...], bytes],
                   device: torch.device) -> tuple[Tensor, bool]:
    """For "pnr" / "no_bunching": the row of the ``source`` patterns (a backend's) that each
    ``target`` outcome reads, ``qpu_vector`` and ``align`` composed; ``S`` (one past the
    last row) where the outcome is absent. Every outcome of a no-bunching list is
    collision-free, so a matching row is one that ``qpu_vector`` keeps. Also: whether no
    outcome is absent. Keys are :func:`_pattern_key` s (shape, int64 bytes); the index is
    kept on ``device``, so a GPU step copies nothing from the host."""
    (source_shape, source_bytes), (target_shape, target_bytes) = source, target
    rows = np.frombuffer(source_bytes, dtype=np.int64).reshape(source_shape)
    index = _column_index(rows, np.frombuffer(target_bytes, dtype=np.int64).reshape(target_shape))
    complete = bool((index >= 0).all())
    index[index < 0] = source_shape[0]
    return torch.as_tensor(index, device=device), complete


@dataclass(frozen=True, eq=False)
class PhotonicDistribution:
    """K TBI circuits (one per QPU) and the outcome set that turns each into a vector.

    Circuit ``k`` gives a vector over ``outcome_patterns(M_k, N_k, outcomes)``, the same list
    for exact probabilities and for sampled histograms. Circuits may carry batched angles
    (vectors then have shape ``(*batch, S_k)``) and torch angles that require gradients.

    Attributes:
        circuits: the K circuits, first QPU first (most significant in
            :func:`joint_distribution`).
        outcomes: ``"pnr"``, ``"no_bunching"`` or ``"threshold"``.
    """

    circuits: tuple[Interferometer, ...]
    outcomes: str = "no_bunching"

    def __post_init__(self) -> None:
        circuits = tuple(self.circuits)
        if not circuits:
            raise ValueError("circuits is empty: give one circuit per QPU")
        for k, circuit in enumerate(circuits):
            if not isinstance(circuit, Interferometer):
                raise TypeError(f"circuits[{k}] is {type(circuit).__name__}, not a circuit")
        object.__setattr__(self, "circuits", circuits)
        _check_choice("outcomes", self.outcomes, OUTCOME_SETS)
        for k, size in enumerate(self.sizes):
            if size == 0:
                raise ValueError(f"circuits[{k}] has no {self.outcomes!r} outcomes")

    @property
    def detection(self) -> str:
        """Detector model the outcome set needs: ``"threshold"`` or ``"pnr"``."""
        return "threshold" if self.outcomes == "threshold" else "pnr"

    def outcome_lists(self) -> list[Tensor]:
        """Per QPU, the int64 ``(S_k, M_k)`` outcome patterns its vector is indexed by."""
        return [outcome_patterns(c.n_modes, c.n_photons, self.outcomes) for c in self.circuits]

    @property
    def sizes(self) -> tuple[int, ...]:
        """``(S_1, ..., S_K)``: the length of each QPU vector."""
        return tuple(int(p.shape[0]) for p in self.outcome_lists())

    def exact(self, backend: ProbabilityBackend) -> list[Tensor]:
        """K probability vectors ``(*batch_k, S_k)``, differentiable in each circuit's angles."""
        out = []
        for circuit, kept in zip(self.circuits, self.outcome_lists(), strict=True):
            patterns, probs = backend.probabilities(circuit, self.detection)
            out.append(self._on_outcome_list(patterns, probs, kept))
        return out

    def _on_outcome_list(self, patterns: Tensor, probs: Tensor, kept: Tensor) -> Tensor:
        """``align(*qpu_vector(patterns, probs, outcomes), kept)``: for "pnr" and
        "no_bunching" one gather whose index is cached per (backend patterns, outcome list),
        since a joint training step calls this every step with the same patterns and the two
        look-ups cost more than SLOS's forward pass at the published sizes. The same values
        and gradients."""
        if self.outcomes == "threshold":  # merges outcomes: a sum, not a gather
            return align(*qpu_vector(patterns, probs, self.outcomes), kept)
        index, complete = _outcome_index(_pattern_key(patterns), _pattern_key(kept),
                                         probs.device)
        if not complete:  # outcomes the backend did not report get 0, as align gives them
            probs = torch.cat([probs, probs.new_zeros(*probs.shape[:-1], 1)], dim=-1)
        return probs.index_select(-1, index)

    def sampled(
        self, backend: Backend, shots: int, *, rng: int | np.random.Generator,
        record: Callable[[int, list[Histogram]], None] | None = None,
    ) -> list[Tensor]:
        """K float64 frequency vectors ``(*batch_k, S_k)`` from ``shots`` samples per circuit.

        One numpy Generator built from ``rng`` feeds the K circuits in order; ``record(k,
        histograms)`` receives every QPU's histograms (e.g. to store them).
        """
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        out = []
        for circuit, kept in zip(self.circuits, self.outcome_lists(), strict=True):
            if circuit.batch_shape:
                hists = backend.sample_batch(circuit, shots, seed=rng, detection=self.detection)
            else:
                hists = [backend.sample(circuit, shots, seed=rng, detection=self.detection)]
            if record is not None:
                record(len(out), hists)
            rows = torch.stack([histogram_vector(h, kept) for h in hists])
            out.append(rows.reshape(*circuit.batch_shape, kept.shape[0]).to(circuit.device))
        return out


class _ReferenceDistribution(PhotonicDistribution):
    """:class:`PhotonicDistribution` that keeps and re-indexes the outcomes anew on every call
    (the plain reference path; :attr:`QuantumTrain.reference_path` and the benchmark use it)."""

    def _on_outcome_list(self, patterns: Tensor, probs: Tensor, kept: Tensor) -> Tensor:
        return align(*qpu_vector(patterns, probs, self.outcomes), kept)
