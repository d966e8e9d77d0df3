"""Where a library-level study sends what it produces while it runs: metrics, histograms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol

from ..photonics.histogram import Histogram
from ..store import RunStore


class RunSink(Protocol):
    """A run's streamed outputs; library code writes them only through this (result rows
    are returned by the study and saved by the experiment)."""

    def log_scalar(self, name: str, value: float, step: int) -> None: ...

    def put_histograms(self, name: str, hists: Sequence[Histogram], **attrs: object) -> None: ...


class MemorySink:
    """Keeps everything in memory: for tests and interactive use."""

    def __init__(self) -> None:
        self.scalars: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.histograms: dict[str, list[Histogram]] = {}

    def log_scalar(self, name: str, value: float, step: int) -> None:
        self.scalars[name].append((step, float(value)))

    def put_histograms(self, name: str, hists: Sequence[Histogram], **attrs: object) -> None:
        self.histograms[name] = list(hists)


class StoreSink:
    """Histograms to a :class:`RunStore` (an entry per name, rewritten on resume), scalars
    to a callback (e.g. Sacred's ``_run.log_scalar``)."""

    def __init__(self, store: RunStore, *,
                 log_scalar: Callable[[str, float, int], None] | None = None) -> None:
        self.store = store
        self._log_scalar = log_scalar

    def log_scalar(self, name: str, value: float, step: int) -> None:
        if self._log_scalar is not None:
            self._log_scalar(name, float(value), step)

    def put_histograms(self, name: str, hists: Sequence[Histogram], **attrs: object) -> None:
        # A resumed run redoes the steps after its last checkpoint: same name, same content.
        self.store.put_histograms(name, hists, overwrite=True, **attrs)
