"""A study as every family implements it, and the one loop that runs, checkpoints and resumes it.

A family says *what* to run — a validated spec (:func:`qnn.config.from_dict` of its config),
its list of tasks, and how one task turns into a result row — and :func:`run_tasks` does
the rest the same way for every family: skipping tasks a checkpoint already holds,
checkpointing after every task (and whenever a task saves its own state part-way), routing
every drawn histogram to the run's HDF5 file, the progress bar, and the summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tqdm.auto import tqdm

from ..photonics.backends.base import Backend
from ..store import RunStore
from .checkpoint import Checkpoint
from .recording import RecordingBackend

S = TypeVar("S")
# Config keys every family has that are not part of its study: Sacred's seed, the label of
# the named config, and the shared ingredients.
RUN_KEYS = ("seed", "label", "photonics", "store")


class Task(Protocol):
    @property
    def key(self) -> str:
        """Unique within the study; names the task's result row and its HDF5 entries."""
        ...


class Study(Protocol[S]):
    """What a family implements (one small class per family, stateless).

    Attributes:
        family: the family's name (``qnn run <family>``).
        spec_type: the frozen dataclass its config section becomes.
        summary_by: result-row keys that group the summary table.
        summary_metrics: numeric row keys summarised as mean, sample std and n.
        headline: the metric the run catalogue shows, and the rows it is averaged over
            (``("success", {"method": "bbs"})``; all rows when none matches).
    """

    family: str
    spec_type: type[S]
    summary_by: tuple[str, ...]
    summary_metrics: tuple[str, ...]
    headline: tuple[str, dict[str, Any]]

    def tasks(self, spec: S) -> Sequence[Task]: ...

    def run_task(self, spec: S, task: Any, context: TaskContext) -> dict[str, Any]: ...


@dataclass
class TaskContext:
    """What a task may use: the run's seed, backend, folder, the rows before it, and its
    saved state when it is resumed part-way.

    Attributes:
        state: the state a task last saved with :meth:`save_state` (in this run or in the
            run it resumes), else ``None``. It stays after the task ends, so a family can
            carry something from task to task (the NAS fitness cache).
        rows: result rows of the tasks finished so far, in order.
        memo: an in-memory cache shared by the tasks of one run (data sets, instances).
    """

    seed: int
    backend: RecordingBackend | None
    folder: Path
    rows: list[dict[str, Any]]
    state: Any = None
    log_scalar: Callable[[str, float, int], None] = lambda name, value, step: None  # noqa: E731
    memo: dict[Any, Any] = field(default_factory=dict)
    _checkpoint: Checkpoint | None = None
    _task: str = ""

    def save_state(self, state: Any) -> None:
        """Checkpoint the finished rows and ``state`` now (JSON-ready values)."""
        self.state = state
        if self._checkpoint is not None:
            self._checkpoint.save(self._record())

    def tag(self, name: str) -> None:
        """Histograms drawn from now on go to ``<task>/<name>/draw<k>`` (see RecordingBackend)."""
        if self.backend is not None:
            self.backend.tag(name)

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def _record(self) -> dict[str, Any]:
        return {"rows": self.rows, "state": self.state, "task": self._task}


def run_tasks(study: Study[S], spec: S, context: TaskContext, *,
              checkpoint: Checkpoint | None = None, progress: bool = True) -> list[dict]:
    """Run every task of ``spec`` not already in ``checkpoint``; the rows, in task order.

    After every task the rows (and the context's state) are checkpointed, so an interrupted
    run, resumed with the same spec and seed, ends with the rows of an uninterrupted one
    (``seconds`` aside).
    """
    saved = checkpoint.load() if checkpoint is not None else None
    context.rows = list(saved["rows"]) if saved else []
    context.state = saved.get("state") if saved else None
    context._checkpoint = checkpoint
    done = {row["task"] for row in context.rows}
    tasks = study.tasks(spec)
    bar = tqdm(total=len(tasks), initial=len(done), disable=not progress,
               desc=f"{study.family} study", unit="task")
    for task in tasks:
        if task.key in done:
            continue
        context._task = task.key
        if context.backend is not None:
            context.backend.start_task(task.key)
        start = time.perf_counter()
        row = study.run_task(spec, task, context)
        context.rows.append({"task": task.key, **row,
                             "seconds": row.get("seconds", time.perf_counter() - start)})
        if checkpoint is not None:
            checkpoint.save(context._record())
        bar.set_postfix_str(task.key)
        bar.update()
    bar.close()
    return context.rows


def run_study(study: Study[S], spec: S, *, seed: int, backend: Backend | str | None = "exact",
              store: RunStore | None = None, folder: str | Path = ".",
              checkpoint: Checkpoint | None = None,
              log_scalar: Callable[[str, float, int], None] | None = None,
              progress: bool = False) -> list[dict]:
    """Run a study from Python, without Sacred: the same loop ``qnn run`` uses.

    Args:
        backend: a backend or a registered backend name (``None``: the study needs none).
        store: the HDF5 file that receives every drawn histogram (``None``: not stored).
        folder: where tasks write their own files (Quantum-Train checkpoints, networks).
    """
    from ..photonics import get_backend

    if isinstance(backend, str):
        backend = get_backend(backend)
    recorder = None if backend is None else RecordingBackend(backend, store)
    context = TaskContext(seed=seed, backend=recorder, folder=Path(folder), rows=[],
                          log_scalar=log_scalar or (lambda name, value, step: None))
    return run_tasks(study, spec, context, checkpoint=checkpoint, progress=progress)
