"""Where a library-level study sends what it produces: metrics, histograms, result rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol

from ..photonics.histogram import Histogram
from ..store import RunStore


class RunSink(Protocol):
    """The three kinds of output of a run; library code writes only through this."""

    def log_scalar(self, name: str, value: float, step: int) -> None: ...

    def put_histograms(self, name: str, hists: Sequence[Histogram], **attrs: object) -> None: ...

    def put_row(self, table: str, row: dict[str, object]) -> None: ...


class MemorySink:
    """Keeps everything in memory: for tests and interactive use."""

    def __init__(self) -> None:
        self.scalars: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.histograms: dict[str, list[Histogram]] = {}
        self.rows: dict[str, list[dict[str, object]]] = defaultdict(list)

    def log_scalar(self, name: str, value: float, step: int) -> None:
        self.scalars[name].append((step, float(value)))

    def put_histograms(self, name: str, hists: Sequence[Histogram], **attrs: object) -> None:
        self.histograms[name] = list(hists)

    def put_row(self, table: str, row: dict[str, object]) -> None:
        self.rows[table].append(dict(row))


class StoreSink:
    """Histograms to a :class:`RunStore` (an entry per name, rewritten on resume), scalars
    to a callback (e.g. Sacred's ``_run.log_scalar``), rows to a callback too."""

    def __init__(self, store: RunStore, *,
                 log_scalar: Callable[[str, float, int], None] | None = None,
                 put_row: Callable[[str, dict[str, object]], None] | None = None) -> None:
        self.store = store
        self._log_scalar, self._put_row = log_scalar, put_row

    def log_scalar(self, name: str, value: float, step: int) -> None:
        if self._log_scalar is not None:
            self._log_scalar(name, float(value), step)

    def put_histograms(self, name: str, hists: Sequence[Histogram], **attrs: object) -> None:
        # A resumed run redoes the steps after its last checkpoint: same name, same content.
        self.store.put_histograms(name, hists, overwrite=True, **attrs)

    def put_row(self, table: str, row: dict[str, object]) -> None:
        if self._put_row is not None:
            self._put_row(table, row)
