"""One emulated ORCA PT system: its configuration, injected faults, and a FIFO job queue
that draws samples from the exact backend."""

from __future__ import annotations

import math
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from ..photonics.backends.exact import ExactBackend
from ..photonics.noise import NoiseModel
from .jobs import Job, JobTable
from .protocol import DeviceLimits, ProtocolError, Submission, check_digits, encode_results

FAULT_KINDS = ("submit", "job", "malformed", "hang", "drop")


@dataclass(frozen=True)
class FaultModel:
    """Injected faults: each new submission meets one with probability ``fail_rate``.

    Kinds: ``submit`` (HTTP 503, no job created), ``job`` (the job fails with an
    ``error_message``), ``malformed`` (one sample short), ``hang`` (never finishes),
    ``drop`` (the job is created and runs, but the connection is closed without an answer
    to the submit: a lost reply, after which a naive retry runs the job twice).
    A resubmission answered from its ``Idempotency-Key`` meets no fault.
    ``latency`` is the uniform range, in seconds, that each job takes on the device.
    """

    fail_rate: float = 0.0
    kinds: tuple[str, ...] = ("submit", "job", "malformed")
    latency: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate={self.fail_rate} is outside [0, 1]")
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds {list(self.kinds)}: choose from {list(FAULT_KINDS)}")
        low, high = self.latency
        if not 0.0 <= low <= high:
            raise ValueError(f"latency={self.latency} must be 0 <= low <= high seconds")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything one emulated PT system needs; ``token`` ``None`` turns authentication off.

    Times are in seconds. ``request_timeout`` bounds each socket wait and the reading of a
    whole body (a client that sends less than its ``Content-Length`` gets 408), and closes
    idle connections. Finished jobs' results are kept ``result_ttl`` after the job ends; at
    most ``max_jobs`` jobs are held (see :mod:`qnn.emulator.jobs`).
    """

    host: str = "127.0.0.1"
    port: int = 0
    noise: NoiseModel = field(default_factory=NoiseModel)
    limits: DeviceLimits = field(default_factory=DeviceLimits)
    faults: FaultModel = field(default_factory=FaultModel)
    token: str | None = field(default=None, repr=False)
    seed: int | None = None
    poll_wait: float = 0.05  # seconds a get_job waits for completion before saying "running"
    request_timeout: float = 10.0
    result_ttl: float = 3600.0
    max_jobs: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host:
            raise ValueError(f"host={self.host!r} must be a host name or address")
        if not _is_int(self.port) or not 0 <= self.port <= 65535:
            raise ValueError(f"port={self.port!r} is outside [0, 65535] (0 picks a free port)")
        _check_seconds("poll_wait", self.poll_wait, positive=False)
        _check_seconds("request_timeout", self.request_timeout)
        _check_seconds("result_ttl", self.result_ttl)
        if not _is_int(self.max_jobs) or self.max_jobs < 1:
            raise ValueError(f"max_jobs={self.max_jobs!r} must be a positive integer")
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            raise ValueError(f"seed={self.seed!r} must be a non-negative integer or None")
        if self.token is not None and (not isinstance(self.token, str) or not self.token):
            raise ValueError("token must be a non-empty string, or None to turn authentication off")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_seconds(name: str, value: object, *, positive: bool = True) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name}={value!r} must be a finite number of seconds {bound}")


class EmulatedQPU:
    """One PT system: jobs run one at a time, first come first served, on a worker thread."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.backend = ExactBackend(noise=config.noise)
        self._seeds = np.random.SeedSequence(config.seed)
        self._fault_rng = np.random.default_rng(self._seeds.spawn(1)[0])
        self._table = JobTable(config.result_ttl, config.max_jobs)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._changed = threading.Condition()
        self._stats = dict.fromkeys(
            ("requests", "submitted", "completed", "failed", "refused", "running", "max_running",
             "deduplicated", "dropped", "busy"), 0)  # fmt: skip
        self._worker = threading.Thread(target=self._work, name="pt-worker", daemon=True)
        self._worker.start()

    @property
    def stats(self) -> dict[str, int]:
        """Counters, plus ``held`` (jobs in the table), ``expired`` and ``evicted``."""
        with self._changed:
            self._table.expire()
            table = self._table
            return {**self._stats, "held": len(table), "expired": table.expired,
                    "evicted": table.evicted}  # fmt: skip

    def count(self, name: str) -> None:
        """Add one to the counter ``name`` (e.g. ``requests``, counted by the handler)."""
        with self._changed:
            self._stats[name] += 1

    def submit(self, submission: Submission, key: str | None = None) -> tuple[str, bool]:
        """Queue a job; its id and whether the reply is to be dropped (fault ``drop``).

        A ``key`` seen before answers its first job's id (never dropped) if the submission
        is the same, and 422 otherwise. Raises 503 for an injected ``submit`` fault and when
        queued and running jobs fill the table.
        """
        with self._changed:
            self._table.expire()
            if key is not None and (first := self._table.by_key(key)) is not None:
                return self._deduplicate(first, submission, key), False
            try:
                self._table.make_room()
            except ProtocolError:
                self._stats["busy"] += 1
                raise
            fault = self._draw_fault()
            if fault == "submit":
                self._stats["refused"] += 1
                raise ProtocolError(503, "injected fault: the device refused the submission")
            job = Job(uuid.uuid4().hex, submission.circuit, submission.n_samples, fault,
                      self._seeds.spawn(1)[0], submission.fingerprint, key)  # fmt: skip
            self._table.add(job)
            self._stats["submitted"] += 1
            if fault == "drop":
                self._stats["dropped"] += 1
        self._queue.put(job)
        return job.job_id, fault == "drop"

    def _deduplicate(self, first: Job, submission: Submission, key: str) -> str:
        if first.fingerprint != submission.fingerprint:
            raise ProtocolError(
                422,
                f"Idempotency-Key {key[:40]!r} was first used for job {first.job_id} with"
                " another request body; send a new key for a new request",
            )
        self._stats["deduplicated"] += 1
        return first.job_id

    def _draw_fault(self) -> str | None:
        faults = self.config.faults
        if faults.fail_rate == 0.0 or self._fault_rng.random() >= faults.fail_rate:
            return None
        return str(self._fault_rng.choice(faults.kinds))

    def answer(self, job_id: str) -> tuple[int, dict]:
        """The ``get_job`` answer, waiting up to ``poll_wait`` for the job to finish."""
        deadline = time.monotonic() + self.config.poll_wait
        with self._changed:
            self._table.expire()
            job = self._table.get(job_id)
            if job is None:
                return 404, {"error_message": self._missing(job_id)}
            while job.live and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            if job.state == "done":
                return 200, {"results": encode_results(job.samples)}
            if job.state == "failed":
                return 200, {"error_message": job.error}
            return 200, {"job_status": job.state}

    def _missing(self, job_id: str) -> str:
        # Never the exact "Job can't be found": CUDA-Q's client polls that for ever.
        shown = job_id if len(job_id) <= 64 else f"{job_id[:61]}..."
        why = self._table.why_gone(job_id)
        if why is not None:
            return f"job {shown!r} expired: {why}; its results are no longer held"
        return f"no job with id {shown!r} on this device"

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            if job.fault == "hang":  # answers "running" for ever, like a lost job
                with self._changed:
                    job.state = "running"
                continue
            self._set_running(job)
            rng = np.random.default_rng(job.seed)
            low, high = self.config.faults.latency
            time.sleep(rng.uniform(low, high))
            try:
                samples = self._sample(job, rng)
            except Exception as err:  # noqa: BLE001 - one bad job must not stop the device
                self._finish(job, error=f"device error: {err}")
                continue
            if job.fault == "job":
                self._finish(job, error="injected fault: detector readout failed")
            else:
                self._finish(job, samples=samples[:-1] if job.fault == "malformed" else samples)

    def _sample(self, job: Job, rng: np.random.Generator) -> np.ndarray:
        hist = self.backend.sample(job.circuit, job.n_samples, seed=rng)
        samples = np.repeat(hist.patterns, hist.counts, axis=0)
        check_digits(samples)  # now, so the job fails rather than each of its polls
        return samples[rng.permutation(len(samples))].astype(np.uint8)

    def _set_running(self, job: Job) -> None:
        with self._changed:
            job.state = "running"
            self._stats["running"] += 1
            self._stats["max_running"] = max(self._stats["max_running"], self._stats["running"])
            self._changed.notify_all()

    def _finish(
        self, job: Job, *, samples: np.ndarray | None = None, error: str | None = None
    ) -> None:
        with self._changed:
            job.state, job.samples, job.error = ("failed" if error else "done"), samples, error
            self._table.ended(job)
            self._stats["running"] -= 1
            self._stats["failed" if error else "completed"] += 1
            self._changed.notify_all()

    def close(self) -> None:
        self._queue.put(None)
