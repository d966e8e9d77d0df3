"""The emulator's job table: jobs by id, finished ones forgotten after a time or when full.

Results are kept ``result_ttl`` seconds after a job ends, and at most ``max_jobs`` jobs
are held: when a new job needs room the oldest finished one is evicted. Queued and running
jobs are never dropped; when they alone fill the table, new submissions get HTTP 503. A
forgotten id is remembered (the last :data:`MAX_TOMBSTONES` of them) so that polling it
says the job expired rather than that it never existed. Idempotency keys live and die
with their job.

Not thread-safe on its own: :class:`~qnn.emulator.server.EmulatedQPU` calls it under its
lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..photonics.circuit import TBICircuit
from .protocol import ProtocolError

MAX_TOMBSTONES = 65_536  # about 10 MB of remembered ids


@dataclass
class Job:
    """One submission and, once it ends, its ``(shots, M)`` uint8 samples or its error."""

    job_id: str
    circuit: TBICircuit
    n_samples: int
    fault: str | None
    seed: np.random.SeedSequence
    fingerprint: str
    key: str | None = None
    state: str = "queued"
    samples: np.ndarray | None = None  # uint8 counts: ~16x smaller than the result strings
    error: str | None = None

    @property
    def live(self) -> bool:
        return self.state in ("queued", "running")


class JobTable:
    """Jobs by id and by idempotency key, bounded in time (``result_ttl`` seconds after a job
    ends) and in number (``max_jobs``)."""

    def __init__(self, result_ttl: float, max_jobs: int) -> None:
        self.result_ttl, self.max_jobs = result_ttl, max_jobs
        self._jobs: dict[str, Job] = {}
        self._keys: dict[str, Job] = {}
        self._ended: OrderedDict[str, float] = OrderedDict()  # id -> end time, oldest first
        self._gone: OrderedDict[str, str] = OrderedDict()  # id -> why it was forgotten
        self.expired = self.evicted = 0

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def by_key(self, key: str) -> Job | None:
        return self._keys.get(key)

    def why_gone(self, job_id: str) -> str | None:
        """Why a forgotten job's results are no longer held, or ``None`` for an unknown id."""
        return self._gone.get(job_id)

    def make_room(self) -> None:
        """Evict the oldest finished job if the table is full; 503 if only live jobs fill it."""
        if len(self._jobs) < self.max_jobs:
            return
        if not self._ended:
            raise ProtocolError(
                503,
                f"device busy: {len(self._jobs)} jobs are queued or running, the most it holds"
                f" (max_jobs={self.max_jobs}); retry later",
            )
        job_id, _ = self._ended.popitem(last=False)
        self._forget(job_id, f"evicted to keep at most max_jobs={self.max_jobs} jobs")
        self.evicted += 1

    def add(self, job: Job) -> None:
        """Hold ``job`` (call :meth:`make_room` first)."""
        self._jobs[job.job_id] = job
        if job.key is not None:
            self._keys[job.key] = job

    def ended(self, job: Job) -> None:
        """Start ``job``'s ``result_ttl`` clock."""
        self._ended[job.job_id] = time.monotonic()

    def expire(self) -> None:
        """Forget every job that ended ``result_ttl`` seconds ago or more."""
        now = time.monotonic()
        while self._ended:
            job_id, end = next(iter(self._ended.items()))
            if now - end < self.result_ttl:
                return
            del self._ended[job_id]
            self._forget(job_id, f"its results are kept result_ttl={self.result_ttl:g} s")
            self.expired += 1

    def _forget(self, job_id: str, why: str) -> None:
        job = self._jobs.pop(job_id)
        if job.key is not None:
            del self._keys[job.key]
        self._gone[job_id] = why
        if len(self._gone) > MAX_TOMBSTONES:
            self._gone.popitem(last=False)
