"""Noise of a photonic processor as a model applied to exact distributions and to samples.

Models (every one optional; the default ``NoiseModel()`` is ideal):

* **Loss / detector efficiency.** Each photon reaching detector ``i`` is registered with
  probability ``η_i = transmission · detector_efficiency[i]``, independently. Uniform loss
  commutes with a lossless linear-optical network, so any loss that is equal on every
  path can be moved to the detectors; there it is exact per mode (binomial thinning).
* **Partial distinguishability** (Renema, Menssen, Clements, Triginer, Kolthammer,
  Walmsley, PRL 120, 220502 (2018), arXiv:1707.02793; cf. Tichy, PRA 91, 022316 (2015)):
  every photon's internal state is ``√x |φ_0⟩ + √(1-x) |φ_j⟩`` with a common ``φ_0`` and
  private orthogonal ``φ_j``, so every pair overlaps by ``⟨ψ_i|ψ_j⟩ = x`` and the two-photon
  Hong–Ou–Mandel visibility is ``indistinguishability = x²``. The output distribution is
  then exactly the mixture over the subset ``T`` of photons in ``φ_0``, weight
  ``x^|T| (1-x)^(N-|T|)``: photons in ``T`` interfere, the others are distinguishable.
* **Dark counts.** Each detector fires spuriously with probability ``dark_count_prob`` per
  shot: one extra count under photon-number resolution, a click under threshold detection.

Order of application: distinguishability (in the network), loss, detection, dark counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np


def _check_probability(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{name}={value} is outside [0, 1]")
    return value


@dataclass(frozen=True)
class NoiseModel:
    """Imperfections of a photonic processor; see the module docstring for the models.

    Attributes:
        transmission: probability that a photon survives the interferometer (uniform loss).
        detector_efficiency: one efficiency for all detectors, or one per mode.
        dark_count_prob: probability per detector and shot of a spurious count.
        indistinguishability: two-photon HOM visibility ``x²`` between any pair of photons.
    """

    transmission: float = 1.0
    detector_efficiency: float | tuple[float, ...] = 1.0
    dark_count_prob: float = 0.0
    indistinguishability: float = 1.0

    def __post_init__(self) -> None:
        _check_probability("transmission", self.transmission)
        _check_probability("dark_count_prob", self.dark_count_prob)
        _check_probability("indistinguishability", self.indistinguishability)
        eff = self.detector_efficiency
        if isinstance(eff, Sequence | np.ndarray):
            eff = tuple(
                _check_probability(f"detector_efficiency[{i}]", e) for i, e in enumerate(eff)
            )
            object.__setattr__(self, "detector_efficiency", eff)
        else:
            _check_probability("detector_efficiency", eff)

    @property
    def is_ideal(self) -> bool:
        return (
            self.has_loss is False
            and self.dark_count_prob == 0.0
            and self.indistinguishability == 1.0
        )

    @property
    def has_loss(self) -> bool:
        eff = self.detector_efficiency
        effs = eff if isinstance(eff, tuple) else (eff,)
        return self.transmission < 1.0 or any(e < 1.0 for e in effs)

    def efficiencies(self, n_modes: int) -> np.ndarray:
        """``(n_modes,)`` overall detection probability ``η_i`` of a photon in each mode."""
        eff = self.detector_efficiency
        if isinstance(eff, tuple):
            if len(eff) != n_modes:
                raise ValueError(f"detector_efficiency has {len(eff)} entries for {n_modes} modes")
            return self.transmission * np.asarray(eff)
        return np.full(n_modes, self.transmission * eff)

    @property
    def overlap(self) -> float:
        """Pairwise internal-state overlap ``x = sqrt(indistinguishability)``."""
        return math.sqrt(self.indistinguishability)

    def indistinguishable_groups(self, n_photons: int) -> Iterator[tuple[tuple[int, ...], float]]:
        """The mixture over which photons interfere: ``(photon indices, weight)`` pairs.

        Subsets of fewer than two photons all behave as fully distinguishable photons, so
        they are merged into one ``()`` term; weights sum to 1. The ``2^N - N`` terms are
        generated one at a time: check their cost first
        (:func:`qnn.photonics.cost.check_mixture`).
        """
        x = self.overlap
        if x == 1.0:
            yield tuple(range(n_photons)), 1.0
            return
        yield (), (1 - x) ** n_photons + n_photons * x * (1 - x) ** (n_photons - 1)
        for size in range(2, n_photons + 1):
            weight = x**size * (1 - x) ** (n_photons - size)
            if weight > 0.0:
                for subset in combinations(range(n_photons), size):
                    yield subset, weight

    def to_dict(self) -> dict[str, float | list[float]]:
        """Plain values for records (HDF5 attributes, Sacred configs)."""
        eff = self.detector_efficiency
        return {
            "transmission": self.transmission,
            "detector_efficiency": list(eff) if isinstance(eff, tuple) else eff,
            "dark_count_prob": self.dark_count_prob,
            "indistinguishability": self.indistinguishability,
        }


def thin_samples(
    samples: np.ndarray, efficiencies: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Keep each photon of ``(shots, M)`` samples with probability ``efficiencies[mode]``."""
    return rng.binomial(samples.astype(np.int64), efficiencies[None, :])


def add_dark_counts(
    samples: np.ndarray, dark_count_prob: float, rng: np.random.Generator
) -> np.ndarray:
    """Add one spurious count per detector and shot with probability ``dark_count_prob``."""
    return samples + (rng.random(samples.shape) < dark_count_prob)
