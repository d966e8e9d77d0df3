"""The ``exact`` backend: SLOS probabilities in torch (CPU or GPU), noise, exact sampling."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from .. import slos_direct
from ..circuit import Interferometer, TBICircuit, beam_splitter_table
from ..cost import (
    check,
    check_fock_space,
    check_mixture,
    check_slos,
    fock_states,
    limit_of,
    limit_settings,
    mixture_states,
    sampler_work,
)
from ..fock import bits_per_mode, check_photons, fock_basis, fock_rank, n_fock_states, pack_patterns
from ..histogram import Histogram, _check_detection
from ..noise import NoiseModel, add_dark_counts, thin_samples
from ..slos import add_photon, fock_amplitudes, photon_modes
from .base import SeedLike, as_device, as_generator, check_shots

SAMPLERS = ("auto", "distribution", "clifford")


class ExactBackend:
    """Exact simulation of TBI circuits and general meshes (any :class:`Interferometer`:
    only the input state and the unitary are read), differentiable in the angles.

    ``probabilities`` computes every output probability by SLOS (photon-by-photon
    recursion), batched over the circuit's parameter sets, with the noise model applied
    exactly (see :mod:`qnn.photonics.noise`). ``sample`` either draws from that distribution
    or runs the exact Clifford–Clifford sampler, applying the same noise shot by shot; with
    ``sampler="auto"`` it takes whichever is estimated cheaper for the shots asked (see
    :func:`sampling_costs`), never enumerating more than ``max_distribution_states``.

    Args:
        device: torch device for the simulation, e.g. ``"cpu"`` or ``"cuda"``; the
            circuit's angles are moved there and the results stay there. ``None`` (the
            default) simulates wherever each circuit's angles live, so a module moved with
            ``.to("cuda")`` takes its circuits' simulation with it.
        noise: a :class:`NoiseModel` (or its fields as a dict); ``None`` is ideal.
        max_states: largest output space ``probabilities`` will build; ``None`` leaves only
            the shared limits of :mod:`qnn.photonics.cost` (``QNN_MAX_FOCK_STATES``,
            ``QNN_MAX_MEMORY_BYTES``), which a value here can lower but not raise.
        max_distribution_states: largest space ``sample`` enumerates before switching to
            the Clifford–Clifford sampler (``sampler="auto"``).
        sampler: ``"auto"``, ``"distribution"`` or ``"clifford"``.
    """

    name = "exact"

    def __init__(
        self,
        *,
        device: str | torch.device | None = None,
        noise: NoiseModel | dict | None = None,
        max_states: int | None = None,
        max_distribution_states: int = 1 << 21,
        sampler: str = "auto",
    ) -> None:
        self.device = None if device is None else as_device(device)
        self.noise = NoiseModel(**noise) if isinstance(noise, dict) else (noise or NoiseModel())
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler={sampler!r}; choose from {list(SAMPLERS)}")
        if max_states is not None and (isinstance(max_states, bool) or int(max_states) < 1):
            raise ValueError(f"max_states={max_states!r} must be a positive integer or None")
        self.max_states = None if max_states is None else int(max_states)
        self.sampler = sampler
        self.max_distribution_states = int(max_distribution_states)

    def __repr__(self) -> str:
        return (
            f"ExactBackend(device={None if self.device is None else str(self.device)!r}, "
            f"noise={self.noise}, "
            f"sampler={self.sampler!r})"
        )

    # ----------------------------------------------------------------- distributions
    def amplitudes(self, circuit: Interferometer) -> tuple[Tensor, Tensor]:
        """Ideal output amplitudes: ``patterns`` ``[S, M]`` and complex ``[*batch, S]``."""
        self._check_size(circuit, noisy=False)
        amps = fock_amplitudes(circuit.unitary(self.device), circuit.input_state)
        return _basis_tensor(circuit.n_modes, circuit.n_photons, amps.device), amps

    def device_for(self, circuit: Interferometer) -> torch.device:
        """Where ``circuit`` is simulated: this backend's device, or the circuit's own."""
        return circuit.device if self.device is None else self.device

    def probabilities(
        self, circuit: Interferometer, detection: str = "pnr"
    ) -> tuple[Tensor, Tensor]:
        """Exact output distribution under the noise model.

        Returns:
            ``patterns``: int64 ``[S, M]`` occupations (or clicks for ``"threshold"``),
            sorted lexicographically with mode 0 most significant; shared between calls
            of the same size, so read-only (clone before writing into it); ``probs``:
            float64 ``[*batch, S]`` summing to 1, differentiable in the circuit's angles.
        """
        return self._distribution(circuit, detection, dark_counts=True)

    def _distribution(
        self, circuit: Interferometer, detection: str, *, dark_counts: bool
    ) -> tuple[Tensor, Tensor]:
        _check_detection(detection)
        m, n = circuit.n_modes, circuit.n_photons
        self._check_size(circuit, noisy=True)
        device = self.device_for(circuit)
        probs = self._direct_probabilities(circuit, device)
        if probs is None:
            unitary = circuit.unitary(device)
            probs = self._lossless_probabilities(unitary, circuit.input_state)
        dark = dark_counts and self.noise.dark_count_prob > 0
        if not (self.noise.has_loss or detection == "threshold" or dark):
            # The cached basis itself: at 16 modes / 8 photons a copy (63 MB of int64) would
            # take twice as long as the simulation.
            return _basis_tensor(m, n, device), probs
        patterns = fock_basis(m, n)
        if self.noise.has_loss:
            patterns, probs = _thin(probs, m, n, self.noise.efficiencies(m))
        if detection == "threshold":
            patterns, probs = _merge(np.minimum(patterns, 1), probs)
        if dark:
            patterns, probs = _dark_counts(
                patterns,
                probs,
                self.noise.dark_count_prob,
                detection == "threshold",
                self.max_states,
            )
        return torch.as_tensor(np.array(patterns), dtype=torch.long, device=device), probs

    def _check_size(self, circuit: Interferometer, *, noisy: bool) -> None:
        """Refuse, before allocating, what the shared cost limits or ``max_states`` refuse.

        With ``noisy``, loss adds a mode (the lost photons) and partial distinguishability
        sums a distribution per subset of photons. The verdict is cached per size and
        limit settings: at 8 modes the checks cost more than the simulation.
        """
        _check_sizes(circuit.n_modes, circuit.n_photons, math.prod(circuit.batch_shape),
                     noisy and self.noise.has_loss, noisy and self.noise.indistinguishability < 1.0,
                     self.max_states, limit_settings(*_SIZE_LIMITS))

    def _direct_probabilities(self, circuit: Interferometer, device: torch.device
                              ) -> Tensor | None:
        """Ideal-photon probabilities by :mod:`qnn.photonics.slos_direct` when no gradient
        is wanted (on the CPU, indistinguishable photons): the same numbers without torch's
        per-operation overhead, which dominates small circuits. ``None`` otherwise."""
        if device.type != "cpu" or self.noise.indistinguishability < 1.0:
            return None
        batch = circuit.batch_shape
        if isinstance(circuit, TBICircuit):
            angles = [a for a in (circuit.bs_angles, circuit.ps_angles) if a is not None]
            if torch.is_grad_enabled() and any(a.requires_grad for a in angles):
                return None
            n_bs = circuit.n_beam_splitters
            bs, ps = (None if a is None else _angle_rows(a, batch, n_bs)
                      for a in (circuit.bs_angles, circuit.ps_angles))
            unitaries = slos_direct.tbi_unitaries(
                circuit.n_modes, beam_splitter_table(circuit.n_modes, circuit.loop_lengths), bs, ps)
            dtype = circuit.bs_angles.dtype
        else:
            unitary = circuit.unitary(device)
            if unitary.requires_grad:
                return None
            unitaries = unitary.reshape(-1, circuit.n_modes, circuit.n_modes).numpy()
            dtype = unitary.real.dtype
        probs = slos_direct.fock_probabilities(unitaries, circuit.input_state)
        return torch.from_numpy(probs.reshape(*batch, -1)).to(dtype)  # on the CPU, as asked

    def _lossless_probabilities(self, unitary: Tensor, input_state: tuple[int, ...]) -> Tensor:
        modes = photon_modes(input_state)
        weights = unitary.real**2 + unitary.imag**2
        total = None
        for group, weight in self.noise.indistinguishable_groups(len(modes)):
            sub_state = tuple(np.bincount([modes[j] for j in group], minlength=len(input_state)))
            amps = fock_amplitudes(unitary, sub_state)
            probs = amps.real**2 + amps.imag**2
            for k, j in enumerate(sorted(set(range(len(modes))) - set(group)), len(group) + 1):
                probs = add_photon(probs, weights[..., :, modes[j]], k)
            total = weight * probs if total is None else total + weight * probs
        return total

    # ----------------------------------------------------------------- sampling
    def sample(
        self, circuit: Interferometer, shots: int, *, seed: SeedLike = None, detection: str = "pnr"
    ) -> Histogram:
        """``shots`` detections of an unbatched circuit as a :class:`Histogram`."""
        if circuit.batch_shape:
            raise ValueError(
                f"sample takes one parameter set, got batch {circuit.batch_shape}; use sample_batch"
            )
        return self.sample_batch(circuit, shots, seed=seed, detection=detection)[0]

    def sample_batch(
        self, circuit: Interferometer, shots: int, *, seed: SeedLike = None, detection: str = "pnr"
    ) -> list[Histogram]:
        """One histogram per parameter set, in row-major batch order."""
        _check_detection(detection)
        shots, rng = check_shots(shots), as_generator(seed)
        if self.sampling_method(circuit, shots) == "distribution":
            return self._sample_distribution(circuit, shots, rng, detection)
        return [self._sample_clifford(c, shots, rng, detection) for c in circuit.unbatched()]

    def sampling_method(self, circuit: Interferometer, shots: int) -> str:
        """``"distribution"`` or ``"clifford"``: how ``sample`` draws ``shots`` detections of
        ``circuit`` (with ``sampler="auto"``, the one :func:`sampling_costs` finds cheaper)."""
        if self.sampler != "auto":
            return self.sampler
        m, n = circuit.n_modes + self.noise.has_loss, circuit.n_photons
        if n_fock_states(m, n) > self.max_distribution_states:
            return "clifford"
        terms = 1
        if self.noise.indistinguishability < 1.0:  # a mixture the cost guard would refuse
            if mixture_states(circuit.n_modes, n) > limit_of("mixture_states"):
                return "clifford"
            terms = 2**n - n
        distribution_ns, clifford_ns = sampling_costs(m, n, shots)
        return "distribution" if terms * distribution_ns <= clifford_ns else "clifford"

    def _sample_distribution(
        self, circuit: Interferometer, shots: int, rng: np.random.Generator, detection: str
    ) -> list[Histogram]:
        # Dark counts are added per shot: their exact distribution can be far larger.
        with torch.no_grad():
            patterns, probs = self._distribution(circuit, detection, dark_counts=False)
        patterns = patterns.cpu().numpy().astype(np.uint8)
        table = probs.reshape(-1, probs.shape[-1]).cpu().numpy()
        out = []
        for row in table:
            counts = rng.multinomial(shots, row / row.sum())
            hit = counts > 0
            if self.noise.dark_count_prob > 0:
                samples = np.repeat(patterns[hit], counts[hit], axis=0)
                out.append(self._finish(samples, rng, detection, loss=False))
            else:
                out.append(Histogram(patterns[hit], counts[hit], detection))
        return out

    def _sample_clifford(
        self, circuit: Interferometer, shots: int, rng: np.random.Generator, detection: str
    ) -> Histogram:
        from ..clifford import clifford_sample

        with torch.no_grad():
            unitary = circuit.unitary().cpu().numpy()
        modes = photon_modes(circuit.input_state)
        x = self.noise.overlap
        if x == 1.0:
            samples = clifford_sample(unitary, circuit.input_state, shots, rng=rng)
            return self._finish(samples, rng, detection, loss=True)
        # Partial distinguishability: per shot, each photon is in the common internal mode
        # with probability x; the others each leave independently by |U[:, s]|².
        common = rng.random((shots, len(modes))) < x
        samples = np.zeros((shots, circuit.n_modes), dtype=np.int64)
        groups, inverse = np.unique(common, axis=0, return_inverse=True)
        for g, mask in enumerate(groups):
            rows = np.flatnonzero(inverse.ravel() == g)
            sub_state = np.bincount(np.asarray(modes)[mask], minlength=circuit.n_modes)
            if mask.sum() > 0:
                samples[rows] += clifford_sample(unitary, sub_state, len(rows), rng=rng)
        weights = np.abs(unitary) ** 2
        for j, mode in enumerate(modes):
            lone = np.flatnonzero(~common[:, j])
            outs = rng.choice(
                circuit.n_modes, size=len(lone), p=weights[:, mode] / weights[:, mode].sum()
            )
            np.add.at(samples, (lone, outs), 1)
        return self._finish(samples, rng, detection, loss=True)

    def _finish(
        self, samples: np.ndarray, rng: np.random.Generator, detection: str, *, loss: bool
    ) -> Histogram:
        """Apply loss (if not yet applied), dark counts and detection to ideal samples."""
        if loss and self.noise.has_loss:
            samples = thin_samples(samples, self.noise.efficiencies(samples.shape[1]), rng)
        if self.noise.dark_count_prob > 0:
            samples = add_dark_counts(samples, self.noise.dark_count_prob, rng)
        if detection == "threshold":
            samples = np.minimum(samples, 1)
        return Histogram.from_samples(samples, detection)


# Per-set costs of the two exact samplers on one core (numba kernels; measured at 8/4 to
# 16/8 with 1 to 10,000 shots): SLOS multiply-adds, and Clifford–Clifford operations
# (``shots · N · 2^N``) plus its per-call overhead.
DISTRIBUTION_NS_PER_OP = 3.0
CLIFFORD_NS_PER_OP = 8.0
CLIFFORD_NS_PER_SET = 450_000.0


def sampling_costs(n_modes: int, n_photons: int, shots: int) -> tuple[float, float]:
    """Estimated nanoseconds per parameter set to sample ``shots`` detections by enumerating
    the distribution, and by Clifford–Clifford. At 15 modes / 8 photons and 50 shots (a BBS
    update) the sampler is ~10x cheaper; at 16/8 and 10,000 shots the distribution ~3x."""
    slos_ops = sum(fock_states(n_modes, k) * min(k, n_modes) for k in range(1, n_photons + 1))
    return (DISTRIBUTION_NS_PER_OP * slos_ops,
            CLIFFORD_NS_PER_SET + CLIFFORD_NS_PER_OP * sampler_work(shots, n_photons))


def _angle_rows(angles: Tensor, batch: tuple[int, ...], n_bs: int) -> np.ndarray:
    """``(B, n_bs)`` numpy rows of ``angles`` broadcast to ``batch``; a numpy view when they
    already have that shape (a microsecond, against several for torch's expand)."""
    values = angles.detach().cpu().numpy()  # .cpu() is free for CPU angles
    if values.shape[:-1] != tuple(batch):
        values = np.broadcast_to(values, (*batch, n_bs))
    return values.reshape(-1, n_bs)


_SIZE_LIMITS = ("fock_states", "memory_bytes", "mixture_states")  # what _check_sizes reads


@lru_cache(maxsize=256)
def _check_sizes(n_modes: int, n_photons: int, batch: int, lossy: bool, mixture: bool,
                 max_states: int | None, limits: tuple[str | None, ...]) -> None:
    """See :meth:`ExactBackend._check_size`; ``limits`` (the limit settings) only keys the
    cache, so a changed limit is checked anew. A refusal raises and is never cached."""
    n = check_photons(n_photons)
    check_slos(n_modes + int(lossy), n, batch)
    if max_states is not None:
        check_fock_space(n_modes + int(lossy), n, max_states, "sample instead, or raise max_states")
    if mixture:
        check_mixture(n_modes, n)


@lru_cache(maxsize=32)
def _basis_tensor(n_modes: int, n_photons: int, device: torch.device) -> Tensor:
    """The patterns of ``fock_basis`` as int64, cached and shared by every call of that size
    (read-only by contract, like ``fock_basis``'s array)."""
    return torch.as_tensor(
        np.array(fock_basis(n_modes, n_photons)), dtype=torch.long, device=device
    )


@lru_cache(maxsize=16)
def _thinning_tables(n_modes: int, n_photons: int) -> tuple:
    """Index tables for losing photons: the space is ``fock_basis(M + 1, N)``, last mode lost.

    Returns ``embed`` (lossless pattern -> index) and per mode ``(src, tgt, n, d)``: pattern
    ``src`` loses ``d`` of its ``n`` photons in that mode and becomes ``tgt``.
    """
    space = fock_basis(n_modes + 1, n_photons).astype(np.int64)
    lossless = np.hstack(
        [fock_basis(n_modes, n_photons), np.zeros((n_fock_states(n_modes, n_photons), 1), np.uint8)]
    )
    embed = fock_rank(lossless)
    per_mode = []
    for mode in range(n_modes):
        counts = space[:, mode]
        src = np.repeat(np.arange(len(space)), counts + 1)
        d = _drops(counts)
        moved = space[src].copy()
        moved[:, mode] -= d
        moved[:, -1] += d
        per_mode.append((src, fock_rank(moved), counts[src], d))
    return embed, per_mode


def _drops(counts: np.ndarray) -> np.ndarray:
    """``[0..c_0, 0..c_1, ...]``: every number of lost photons for each pattern."""
    starts = np.repeat(np.cumsum(counts + 1) - (counts + 1), counts + 1)
    return np.arange(int((counts + 1).sum())) - starts


def _thin(
    probs: Tensor, n_modes: int, n_photons: int, efficiencies: np.ndarray
) -> tuple[np.ndarray, Tensor]:
    """Binomial photon loss per mode: ``[*batch, S_N]`` -> patterns with at most N photons."""
    embed, per_mode = _thinning_tables(n_modes, n_photons)
    device = probs.device
    size = n_fock_states(n_modes + 1, n_photons)
    full = probs.new_zeros(*probs.shape[:-1], size).index_add(
        -1, torch.as_tensor(embed, device=device), probs
    )
    binom = np.array(
        [[math.comb(n, d) for d in range(n_photons + 1)] for n in range(n_photons + 1)],
        dtype=np.float64,
    )
    for mode, (src, tgt, n, d) in enumerate(per_mode):
        eta = efficiencies[mode]
        if eta == 1.0:
            continue
        weight = binom[n, d] * eta ** (n - d) * (1 - eta) ** d
        weight = torch.as_tensor(weight, dtype=full.dtype, device=device)
        full = full.new_zeros(full.shape).index_add(
            -1,
            torch.as_tensor(tgt, device=device),
            full[..., torch.as_tensor(src, device=device)] * weight,
        )
    return fock_basis(n_modes + 1, n_photons)[:, :n_modes], full


def _merge(patterns: np.ndarray, probs: Tensor) -> tuple[np.ndarray, Tensor]:
    """Sum the probabilities of equal patterns; the result is sorted lexicographically."""
    bits = bits_per_mode(int(patterns.max(initial=0)))
    if patterns.shape[1] * bits <= 64:
        keys, first, inverse = np.unique(
            pack_patterns(patterns, bits), return_index=True, return_inverse=True
        )
        unique = patterns[first]
    else:
        unique, inverse = np.unique(patterns, axis=0, return_inverse=True)
    index = torch.as_tensor(inverse.ravel(), device=probs.device)
    merged = probs.new_zeros(*probs.shape[:-1], len(unique)).index_add(-1, index, probs)
    return unique, merged


def _dark_counts(
    patterns: np.ndarray, probs: Tensor, p: float, threshold: bool, max_states: int | None
) -> tuple[np.ndarray, Tensor]:
    """Each detector adds one count (or a click) with probability ``p``, independently.

    Each mode at most doubles the patterns, so the doubled count is checked before merging.
    """
    n_modes = patterns.shape[1]
    for mode in range(n_modes):
        what = f"dark counts on {n_modes} modes"
        check("fock_states", 2 * len(patterns), what)
        if max_states is not None:
            check("fock_states", 2 * len(patterns), what, limit=max_states,
                  remedy="sample instead, or raise max_states")
        bumped = patterns.copy()
        bumped[:, mode] = 1 if threshold else bumped[:, mode] + 1
        patterns, probs = _merge(
            np.vstack([patterns, bumped]), torch.cat([probs * (1 - p), probs * p], dim=-1)
        )
    return patterns, probs
