"""Histograms of detected occupation patterns: pattern -> count, in a canonical sorted form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DETECTIONS = ("pnr", "threshold")


def _as_integers(name: str, values: np.ndarray) -> np.ndarray:
    """Integer view of ``values``; non-integral, non-finite or out-of-int64 values are an error."""
    values = np.asarray(values)
    if values.dtype.kind in "biu":
        if values.dtype.kind == "u" and values.size and values.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name} holds {values.max()}, beyond the int64 range")
        return values.astype(np.int64)
    if (
        values.dtype.kind != "f"
        or not np.isfinite(values).all()
        or (values != np.round(values)).any()
    ):
        raise ValueError(
            f"{name} must hold integers, got dtype {values.dtype} with non-integral values"
        )
    return values.astype(np.int64)


def _check_detection(detection: str) -> str:
    if detection not in DETECTIONS:
        raise ValueError(f"detection={detection!r}; choose from {list(DETECTIONS)}")
    return detection


@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of occupation patterns (photon numbers, or clicks under threshold detection).

    Patterns are unique and sorted lexicographically, mode 0 most significant, so two
    histograms of the same samples compare equal whatever order the samples came in.

    Attributes:
        patterns: ``(K, M)`` uint8 per-mode counts (or 0/1 clicks).
        counts: ``(K,)`` int64 positive counts.
        detection: ``"pnr"`` (photon-number resolving) or ``"threshold"``.
    """

    patterns: np.ndarray
    counts: np.ndarray
    detection: str = "pnr"

    def __post_init__(self) -> None:
        _check_detection(self.detection)
        patterns = _as_integers("patterns", self.patterns)
        counts = _as_integers("counts", self.counts)
        if patterns.ndim != 2 or patterns.shape[1] == 0:
            raise ValueError(f"patterns must be (K, M) with M >= 1, got shape {patterns.shape}")
        if counts.shape != (patterns.shape[0],):
            raise ValueError(f"counts has shape {counts.shape}, expected ({patterns.shape[0]},)")
        if patterns.size and (patterns.min() < 0 or patterns.max() > 255):
            raise ValueError("patterns must hold counts in [0, 255]")
        if counts.size and counts.min() < 0:
            raise ValueError(f"counts must be non-negative, found {counts.min()}")
        if self.detection == "threshold" and patterns.size and patterns.max() > 1:
            raise ValueError("threshold patterns must hold 0/1 clicks")
        patterns, counts = _canonical(patterns.astype(np.uint8), counts.astype(np.int64))
        for name, value in (("patterns", patterns), ("counts", counts)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def from_samples(
        cls, samples: np.ndarray, detection: str = "pnr", n_modes: int | None = None
    ) -> Histogram:
        """Tally ``(shots, M)`` samples; ``n_modes`` is needed only when there are no samples."""
        samples = np.asarray(samples)
        if samples.ndim != 2:
            raise ValueError(f"samples must be (shots, M), got shape {samples.shape}")
        if samples.shape[0] == 0:
            width = samples.shape[1] if n_modes is None else n_modes
            return cls(np.zeros((0, width), np.uint8), np.zeros(0, np.int64), detection)
        return cls(samples, np.ones(samples.shape[0], np.int64), detection)

    @classmethod
    def from_dict(
        cls, counts: Mapping[Sequence[int], int], detection: str = "pnr", n_modes: int | None = None
    ) -> Histogram:
        """Inverse of :meth:`to_dict`."""
        if not counts:
            if n_modes is None:
                raise ValueError("an empty histogram needs n_modes")
            return cls(np.zeros((0, n_modes), np.uint8), np.zeros(0, np.int64), detection)
        widths = {len(p) for p in counts}
        if len(widths) != 1:
            raise ValueError(f"patterns have different lengths {sorted(widths)}")
        if n_modes is not None and widths != {n_modes}:
            raise ValueError(f"patterns have {widths.pop()} modes, but n_modes={n_modes}")
        return cls(
            np.array(list(counts), dtype=np.int64),
            np.array(list(counts.values()), dtype=np.int64),
            detection,
        )

    def to_dict(self) -> dict[tuple[int, ...], int]:
        """``{(n_0, …, n_{M-1}): count}`` in sorted pattern order."""
        return {
            tuple(int(x) for x in row): int(c)
            for row, c in zip(self.patterns, self.counts, strict=True)
        }

    def to_pandas(self):
        """A ``pandas.DataFrame``: one row per pattern (sorted), columns ``mode_0`` …
        ``mode_{M-1}`` (counts or clicks), ``count`` and ``frequency``."""
        import pandas as pd

        table = pd.DataFrame(self.patterns.astype(np.int64),
                             columns=[f"mode_{i}" for i in range(self.n_modes)])
        table["count"] = self.counts
        table["frequency"] = self.frequencies()
        return table

    @property
    def n_modes(self) -> int:
        return self.patterns.shape[1]

    @property
    def shots(self) -> int:
        return int(self.counts.sum())

    def count(self, pattern: Sequence[int]) -> int:
        """Count of one pattern (0 if it never occurred)."""
        pattern = np.asarray(pattern)
        if pattern.shape != (self.n_modes,):
            raise ValueError(f"pattern has shape {pattern.shape}, expected ({self.n_modes},)")
        hit = (self.patterns == pattern).all(axis=1)
        return int(self.counts[hit].sum())

    def frequencies(self) -> np.ndarray:
        """``(K,)`` relative frequencies, aligned with ``patterns``."""
        return self.counts / max(self.shots, 1)

    def mean_photon_number(self) -> np.ndarray:
        """``(M,)`` mean count per mode (mean clicks under threshold detection)."""
        return self.frequencies() @ self.patterns.astype(np.float64)

    def click_probabilities(self) -> np.ndarray:
        """``(M,)`` fraction of shots in which each mode clicked (saw at least one photon)."""
        return self.frequencies() @ (self.patterns > 0).astype(np.float64)

    def to_threshold(self) -> Histogram:
        """The same shots as seen by threshold (click) detectors."""
        return Histogram(np.minimum(self.patterns, 1), self.counts, "threshold")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (
            self.detection == other.detection
            and self.patterns.shape == other.patterns.shape
            and np.array_equal(self.patterns, other.patterns)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Histogram({len(self.counts)} patterns, {self.shots} shots, "
            f"{self.n_modes} modes, detection={self.detection!r})"
        )


def _canonical(patterns: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge duplicate patterns, drop zero counts, sort lexicographically (mode 0 first)."""
    keep = counts > 0
    patterns, counts = patterns[keep], counts[keep]
    if patterns.shape[0] == 0:
        return patterns.copy(), counts.copy()
    # Sort rows (column 0 most significant), then merge runs of equal neighbours. Not
    # np.unique(axis=0): it compares rows as structured scalars, and numpy reported a Ctrl-C
    # or SIGTERM arriving there as "TypeError: Cannot compare structured arrays" (a BBS run
    # ended FAILED, not INTERRUPTED); it is also slower (benchmarks/histogram.py).
    order = np.lexsort(patterns.T[::-1])
    patterns, counts = patterns[order], counts[order]
    starts = np.ones(patterns.shape[0], dtype=bool)
    starts[1:] = (patterns[1:] != patterns[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    return patterns[first], np.add.reduceat(counts, first)
