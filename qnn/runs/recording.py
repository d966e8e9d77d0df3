"""The one route from a backend to a run's HDF5 file: every histogram a task draws is stored.

:class:`RecordingBackend` wraps the run's backend. Every ``sample``/``sample_batch`` call
becomes one entry ``<task>/<tag>/draw<k>`` (``<task>/draw<k>`` without a tag) holding its
histograms with their provenance (the circuit with every parameter set's angles, the
backend's name; shots and detection are in the histograms). Studies never write
histograms themselves; they only say which task (and, where a task resumes part-way, which
step) is drawing, so that a resumed task rewrites the same names with the same content.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..photonics.backends.base import Backend, ProbabilityBackend, SeedLike
from ..photonics.circuit import TBICircuit
from ..photonics.histogram import Histogram
from ..store import RunStore, circuit_attrs


class RecordingBackend:
    """``backend`` with every drawn histogram written to ``store`` (``None``: names and counts
    kept, nothing written — for library use without a run file).

    Attributes:
        task: the entry prefix of the task now drawing (set by the launcher).
        draws: histograms-entries written under the current task and tag.
    """

    def __new__(cls, backend: Backend, store: RunStore | None) -> RecordingBackend:
        # Protocols are checked on the class from Python 3.12 on (getattr_static), so
        # __getattr__ alone would hide the wrapped backend's probabilities from
        # isinstance(..., ProbabilityBackend): a recorder of one has the method itself.
        if cls is RecordingBackend and isinstance(backend, ProbabilityBackend):
            cls = _RecordingProbabilityBackend
        return super().__new__(cls)

    def __init__(self, backend: Backend, store: RunStore | None) -> None:
        self.backend, self.store = backend, store
        self.name = backend.name
        self.task, self._tag = "unassigned", ""
        self.draws = 0

    def __getattr__(self, name: str) -> Any:  # probabilities, n_qpus, ... of the wrapped one
        return getattr(self.backend, name)

    def __repr__(self) -> str:
        return f"RecordingBackend({self.backend!r})"

    def start_task(self, key: str) -> None:
        self.task, self._tag, self.draws = key, "", 0

    def wrapping(self, backend: Backend) -> RecordingBackend:
        """A recorder of ``backend`` filing under this one's task, for a task that simulates
        on a backend of its own (one noise level of a sweep)."""
        other = RecordingBackend(backend, self.store)
        other.start_task(self.task)
        return other

    def tag(self, name: str) -> None:
        """Draws from now on are ``<task>/<name>/draw<k>``, counted from 0 (e.g. per update
        or round, where a resumed task restarts)."""
        self._tag, self.draws = name, 0

    def sample(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
               detection: str = "pnr", **options: Any) -> Histogram:
        hist = self.backend.sample(circuit, shots, seed=seed, detection=detection, **options)
        self._record(circuit, [hist])
        return hist

    def sample_batch(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
                     detection: str = "pnr", **options: Any) -> list[Histogram]:
        hists = self.backend.sample_batch(circuit, shots, seed=seed, detection=detection,
                                          **options)
        self._record(circuit, hists)
        return hists

    def entry_name(self, draw: int) -> str:
        return "/".join(filter(None, (self.task, self._tag, f"draw{draw:05d}")))

    def _record(self, circuit: TBICircuit, hists: list[Histogram]) -> None:
        # A resumed task redraws the steps after its checkpoint: same names, same content.
        # Shots and detection are in the histograms; the circuit row b made histogram b.
        if self.store is not None:
            self.store.put_histograms(self.entry_name(self.draws), hists, overwrite=True,
                                      backend=self.name, **circuit_attrs(circuit))
        self.draws += 1


class _RecordingProbabilityBackend(RecordingBackend):
    """A :class:`RecordingBackend` of a backend that gives exact probabilities (not recorded:
    nothing is drawn)."""

    def probabilities(self, circuit: TBICircuit, detection: str = "pnr") -> tuple[Tensor, Tensor]:
        return self.backend.probabilities(circuit, detection)
