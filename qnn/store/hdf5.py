"""Histograms and probability tables in HDF5 groups: packed patterns, schema tags, exact reads.

Patterns are stored as ``keys``, ``(K,)`` uint64 from :func:`qnn.photonics.fock.pack_patterns`
with ``bits = bits_per_mode(max count)`` bits per mode (mode 0 most significant), when
``n_modes * bits <= 64``; otherwise as ``patterns``, a ``(K, M)`` uint8 matrix (``bits`` 0).
Every dataset is chunked, compressed with gzip + shuffle and checksummed (fletcher32), and
every entry carries a ``digest`` attribute (:mod:`qnn.store.integrity`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import h5py
import numpy as np
from torch import Tensor

from qnn.errors import StoreError
from qnn.photonics.fock import bits_per_mode, pack_patterns, unpack_patterns
from qnn.photonics.histogram import Histogram

from .attrs import encode_attrs, location, update_attrs
from .integrity import DIGEST, digest

HISTOGRAM_SCHEMA = "qnn.histogram/1"
PROBABILITIES_SCHEMA = "qnn.probabilities/1"
HISTOGRAM_BATCH_SCHEMA = "qnn.histogram_batch/1"
SCHEMAS = (HISTOGRAM_SCHEMA, PROBABILITIES_SCHEMA, HISTOGRAM_BATCH_SCHEMA)

# fletcher32: HDF5 checks every chunk on read, so flipped bytes fail loudly
_DATASET_OPTIONS = {"chunks": True, "compression": "gzip", "shuffle": True, "fletcher32": True}
_UINT32_MAX = int(np.iinfo(np.uint32).max)
_HISTOGRAM_ATTRS = frozenset({"schema", "n_modes", "bits", "detection", "shots", DIGEST})
_PROBABILITY_ATTRS = frozenset({"schema", "n_modes", "bits", "n_states", DIGEST})
_BATCH_ATTRS = frozenset({"schema", "n_modes", "bits", "detection", "n_histograms", DIGEST})


def write_histogram(group: h5py.Group, hist: Histogram, /, **attrs: object) -> None:
    """Store ``hist`` in an empty ``group``.

    Datasets: ``keys`` ``(K,)`` uint64 or ``patterns`` ``(K, M)`` uint8 (sorted, unique), and
    ``counts`` ``(K,)`` uint32. Attributes: ``schema`` ("qnn.histogram/1"), ``n_modes``,
    ``bits`` (0 for the matrix form), ``detection``, ``shots``, ``attrs``, then ``digest``.

    Args:
        group: an empty group to write into.
        hist: the histogram.
        **attrs: caller attributes (see :mod:`qnn.store.attrs`); secret-looking keys are refused.

    Raises:
        ValueError: a count exceeds uint32, a key is secret-looking or reserved, or
            ``group`` is not empty.
        TypeError: an attribute value of an unsupported type.
    """
    extra = encode_attrs(attrs, reserved=_HISTOGRAM_ATTRS)
    if hist.counts.size and int(hist.counts.max()) > _UINT32_MAX:
        raise ValueError(f"count {int(hist.counts.max())} exceeds the uint32 maximum "
                         f"{_UINT32_MAX}; split the shots over several histograms")
    bits, datasets = _pattern_datasets(hist.patterns)
    datasets["counts"] = hist.counts.astype(np.uint32)
    _write_entry(group, datasets, {"schema": HISTOGRAM_SCHEMA, "n_modes": hist.n_modes,
                                   "bits": bits, "detection": hist.detection,
                                   "shots": hist.shots, **extra})


def read_histogram(group: h5py.Group) -> Histogram:
    """Inverse of :func:`write_histogram`: an equal :class:`Histogram`.

    Raises:
        StoreError: wrong or missing schema, missing or inconsistent datasets, unreadable
            data; the message names the file and the group.
    """
    with _reading(group):
        _check_schema(group, HISTOGRAM_SCHEMA)
        n_modes, bits, detection, shots = _require(group, "n_modes", "bits", "detection", "shots")
        patterns = _read_patterns(group, int(n_modes), int(bits))
        counts = _read_vector(group, "counts", len(patterns)).astype(np.int64)
        if int(counts.sum()) != int(shots):
            raise StoreError(f"{location(group)}: counts sum to {int(counts.sum())}, "
                             f"but the shots attribute says {int(shots)}")
        return Histogram(patterns, counts, _as_str(detection))


def write_histograms(group: h5py.Group, hists: Sequence[Histogram], /, **attrs: object) -> None:
    """Store several histograms of one detection and width in one ``group`` (e.g. every
    parameter set of one optimiser update), far cheaper than a group each.

    Datasets: the concatenated ``keys``/``patterns`` and ``counts`` as for one histogram,
    and ``offsets`` ``(B + 1,)`` int64: histogram ``b`` is rows ``offsets[b]:offsets[b+1]``.
    """
    extra = encode_attrs(attrs, reserved=_BATCH_ATTRS)
    if not hists:
        raise ValueError("write_histograms needs at least one histogram")
    widths = {h.n_modes for h in hists}
    detections = {h.detection for h in hists}
    if len(widths) != 1 or len(detections) != 1:
        raise ValueError(f"histograms of one batch must share n_modes and detection, got "
                         f"{sorted(widths)} and {sorted(detections)}")
    counts = np.concatenate([h.counts for h in hists])
    if counts.size and int(counts.max()) > _UINT32_MAX:
        raise ValueError(f"count {int(counts.max())} exceeds the uint32 maximum {_UINT32_MAX}")
    offsets = np.concatenate([[0], np.cumsum([len(h.counts) for h in hists])]).astype(np.int64)
    bits, datasets = _pattern_datasets(np.vstack([h.patterns for h in hists]))
    datasets.update(counts=counts.astype(np.uint32), offsets=offsets)
    _write_entry(group, datasets, {"schema": HISTOGRAM_BATCH_SCHEMA, "n_modes": widths.pop(),
                                   "bits": bits, "detection": detections.pop(),
                                   "n_histograms": len(hists), **extra})


def read_histograms(group: h5py.Group) -> list[Histogram]:
    """Inverse of :func:`write_histograms`.

    Raises:
        StoreError: wrong schema, missing or inconsistent datasets, unreadable data.
    """
    with _reading(group):
        _check_schema(group, HISTOGRAM_BATCH_SCHEMA)
        n_modes, bits, detection, n_hists = _require(group, "n_modes", "bits", "detection",
                                                     "n_histograms")
        patterns = _read_patterns(group, int(n_modes), int(bits))
        counts = _read_vector(group, "counts", len(patterns)).astype(np.int64)
        offsets = _dataset(group, "offsets")[()]
        if (offsets.shape != (int(n_hists) + 1,) or offsets[0] != 0
                or offsets[-1] != len(patterns) or (np.diff(offsets) < 0).any()):
            raise StoreError(f"{location(group)}: offsets do not split {len(patterns)} rows into "
                             f"{int(n_hists)} histograms")
        return [Histogram(patterns[a:b], counts[a:b], _as_str(detection))
                for a, b in zip(offsets[:-1], offsets[1:], strict=True)]


def write_probabilities(group: h5py.Group, patterns: np.ndarray | Tensor,
                        probs: np.ndarray | Tensor, /, **attrs: object) -> None:
    """Store a probability table in an empty ``group``, in the order given.

    Args:
        group: an empty group to write into.
        patterns: ``(S, M)`` occupation patterns, integers in ``[0, 255]``.
        probs: ``(*batch, S)`` real probabilities aligned with ``patterns`` (stored float64).
        **attrs: caller attributes (see :mod:`qnn.store.attrs`); secret-looking keys are refused.

    Raises:
        ValueError: bad shapes or pattern values, or a secret-looking or reserved key.
        TypeError: non-integer patterns, non-real probabilities or an unsupported attribute.
    """
    extra = encode_attrs(attrs, reserved=_PROBABILITY_ATTRS)
    patterns = _as_patterns(patterns)
    probs = _as_probs(probs, patterns.shape[0])
    bits, datasets = _pattern_datasets(patterns)
    datasets["probs"] = probs
    _write_entry(group, datasets, {"schema": PROBABILITIES_SCHEMA, "n_modes": patterns.shape[1],
                                   "bits": bits, "n_states": patterns.shape[0], **extra})


def read_probabilities(group: h5py.Group) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`write_probabilities`.

    Returns:
        ``patterns`` ``(S, M)`` uint8 and ``probs`` ``(*batch, S)`` float64.

    Raises:
        StoreError: wrong or missing schema, missing or inconsistent datasets, unreadable data.
    """
    with _reading(group):
        _check_schema(group, PROBABILITIES_SCHEMA)
        n_modes, bits, n_states = _require(group, "n_modes", "bits", "n_states")
        patterns = _read_patterns(group, int(n_modes), int(bits))
        if len(patterns) != int(n_states):
            raise StoreError(f"{location(group)}: {len(patterns)} patterns, but n_states "
                             f"says {int(n_states)}")
        probs = _dataset(group, "probs")[()]
        if probs.ndim < 1 or probs.shape[-1] != len(patterns):
            raise StoreError(f"{location(group)}: probs has shape {probs.shape}, expected "
                             f"(*batch, {len(patterns)})")
        return patterns, probs.astype(np.float64, copy=False)


def _write_entry(group: h5py.Group, datasets: dict[str, np.ndarray],
                 attrs: dict[str, object]) -> None:
    """Write ``datasets`` and ``attrs`` into an empty ``group``, then its ``digest``.

    The digest hashes these in-memory arrays and values, not a read-back: h5py stores them
    exactly (tested), and a put is on the hot path. Datasets are chunked, compressed and
    checksummed; an empty one is stored plainly (HDF5 filters need at least one element;
    the digest still covers its shape).
    """
    if len(group) or len(group.attrs):
        raise ValueError(f"{location(group)} is not empty; entries are written into new groups")
    for name, data in datasets.items():
        group.create_dataset(name, data=data, **(_DATASET_OPTIONS if data.size else {}))
    written = update_attrs(group, attrs)
    group.attrs[DIGEST] = digest(datasets, written)


def schema_of(group: h5py.Group) -> str | None:
    """The group's schema tag, or ``None`` when it has none."""
    value = group.attrs.get("schema")
    return None if value is None else _as_str(value)


def _pattern_datasets(patterns: np.ndarray) -> tuple[int, dict[str, np.ndarray]]:
    """``(bits, {"keys": ...})`` with bits per mode or, if they do not fit,
    ``(0, {"patterns": ...})``."""
    n_modes = patterns.shape[1]
    bits = bits_per_mode(int(patterns.max(initial=0)))
    if n_modes * bits <= 64:
        return bits, {"keys": pack_patterns(patterns, bits)}
    return 0, {"patterns": patterns.astype(np.uint8)}


def _read_patterns(group: h5py.Group, n_modes: int, bits: int) -> np.ndarray:
    """``(K, M)`` uint8 patterns from ``keys`` (``bits`` > 0) or ``patterns`` (``bits`` 0)."""
    if not 0 <= bits <= 8 or n_modes < 0 or n_modes * bits > 64:
        raise StoreError(f"{location(group)}: invalid bits={bits} for n_modes={n_modes}")
    if bits == 0:
        patterns = _dataset(group, "patterns")[()]
        if patterns.ndim != 2 or patterns.shape[1] != n_modes or patterns.dtype != np.uint8:
            raise StoreError(f"{location(group)}: patterns is {patterns.dtype} "
                             f"{patterns.shape}, expected uint8 (K, {n_modes})")
        return patterns
    keys = _dataset(group, "keys")[()]
    if keys.ndim != 1 or keys.dtype != np.uint64:
        raise StoreError(f"{location(group)}: keys is {keys.dtype} {keys.shape}, "
                         "expected uint64 (K,)")
    if n_modes * bits < 64 and (keys >> np.uint64(n_modes * bits)).any():
        raise StoreError(f"{location(group)}: keys use more than {n_modes} x {bits} bits")
    return unpack_patterns(keys, n_modes, bits)


def _read_vector(group: h5py.Group, name: str, length: int) -> np.ndarray:
    values = _dataset(group, name)[()]
    if values.shape != (length,) or values.dtype.kind != "u":
        raise StoreError(f"{location(group)}: {name} is {values.dtype} {values.shape}, "
                         f"expected unsigned ({length},)")
    return values


def _dataset(group: h5py.Group, name: str) -> h5py.Dataset:
    obj = group.get(name)
    if not isinstance(obj, h5py.Dataset):
        raise StoreError(f"{location(group)}: missing dataset {name!r}")
    return obj


def _check_schema(group: h5py.Group, expected: str) -> None:
    found = schema_of(group)
    if found != expected:
        raise StoreError(f"{location(group)}: schema {found!r}, expected {expected!r}")


def _require(group: h5py.Group, *names: str) -> list[object]:
    missing = [name for name in names if name not in group.attrs]
    if missing:
        raise StoreError(f"{location(group)}: missing attribute(s) {missing}")
    return [group.attrs[name] for name in names]


def _as_str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@contextmanager
def _reading(group: h5py.Group) -> Iterator[None]:
    """Turn h5py's OSError/KeyError and invalid contents into a StoreError naming the group."""
    try:
        yield
    except StoreError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise StoreError(f"{location(group)}: unreadable or invalid entry: {err}") from err


def _as_patterns(patterns: np.ndarray | Tensor) -> np.ndarray:
    """Check ``(S, M)`` integer patterns in ``[0, 255]`` and return them as uint8."""
    array = patterns.detach().cpu().numpy() if isinstance(patterns, Tensor) else np.asarray(
        patterns)
    if array.ndim != 2:
        raise ValueError(f"patterns must be (S, M), got shape {array.shape}")
    if array.dtype.kind not in "biu":
        raise TypeError(f"patterns must hold integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(f"patterns must lie in [0, 255], found [{array.min()}, {array.max()}]")
    return array.astype(np.uint8)


def _as_probs(probs: np.ndarray | Tensor, n_states: int) -> np.ndarray:
    """Check ``(*batch, S)`` real probabilities and return them as float64."""
    array = probs.detach().cpu().numpy() if isinstance(probs, Tensor) else np.asarray(probs)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"probs must be real numbers, got dtype {array.dtype}")
    if array.ndim < 1 or array.shape[-1] != n_states:
        raise ValueError(f"probs has shape {array.shape}, expected (*batch, {n_states})")
    return array.astype(np.float64)
