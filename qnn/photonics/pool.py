"""A pool of QPUs: concurrent jobs, one at a time per QPU, with retries and time-outs."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import QPUError, QPUTimeoutError
from .backends.base import Backend, check_shots
from .circuit import TBICircuit
from .histogram import Histogram

# Errors that mean "this request is wrong", not "this QPU had a bad moment": never retried.
_NOT_RETRYABLE = (ValueError, TypeError)
# A QPU's HTTP 4xx answer (CUDA-Q: "HTTP POST Error - status code 401: ...") is the same
# answer on every attempt: a wrong token or a refused request is not retried.
_CLIENT_ERROR = re.compile(r"status code 4\d\d\b")


def _retryable(err: BaseException) -> bool:
    return not isinstance(err, _NOT_RETRYABLE) and not _CLIENT_ERROR.search(str(err))


@dataclass(frozen=True)
class Job:
    """One request: sample ``circuit`` (unbatched) for ``shots``, on ``qpu_id`` or any QPU."""

    circuit: TBICircuit
    shots: int
    qpu_id: int | None = None
    detection: str = "pnr"

    def __post_init__(self) -> None:
        check_shots(self.shots)
        if self.circuit.batch_shape:
            raise ValueError(f"a Job takes one parameter set, got batch {self.circuit.batch_shape}")


class PoolError(QPUError):
    """Some jobs failed; ``results`` keeps every finished histogram by job index."""

    def __init__(
        self, message: str, results: dict[int, Histogram], failures: dict[int, BaseException]
    ) -> None:
        first = min(failures)
        super().__init__(message, qpu_id=getattr(failures[first], "qpu_id", None), job=first)
        self.results, self.failures = results, failures


class QPUPool:
    """K backends addressed as QPUs ``0..K-1``.

    Every QPU runs one job at a time, first come first served, as real hardware does;
    different QPUs run in parallel threads. A job that raises is retried up to
    ``retries`` times with exponential back-off (input errors — ``ValueError``,
    ``TypeError`` and a QPU's HTTP 4xx answers, e.g. a wrong token — are not retried);
    one that does not finish within ``timeout`` seconds counts as failed (its late answer
    is discarded, never attributed to another job).
    When a QPU gives up on a job, its remaining jobs fail at once with the same cause.

    Args:
        backends: one backend per QPU.
        retries: extra attempts per job after the first.
        timeout: seconds one attempt may take, or ``None`` to wait forever.
        backoff: seconds before the first retry; doubled each time, at most ``max_backoff``.
    """

    def __init__(
        self,
        backends: Sequence[Backend],
        *,
        retries: int = 2,
        timeout: float | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        if len(backends) == 0:
            raise ValueError("a QPUPool needs at least one backend")
        if retries < 0:
            raise ValueError(f"retries={retries} must be >= 0")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout={timeout} must be positive or None")
        self.backends = list(backends)
        self.retries, self.timeout = retries, timeout
        self.backoff, self.max_backoff = backoff, max_backoff

    @property
    def n_qpus(self) -> int:
        return len(self.backends)

    def __repr__(self) -> str:
        names = ", ".join(type(b).__name__ for b in self.backends)
        return f"QPUPool([{names}], retries={self.retries}, timeout={self.timeout})"

    name = "pool"

    def sample(self, circuit: TBICircuit, shots: int, *, seed: int | None = None,
               detection: str = "pnr", qpu_id: int = 0) -> Histogram:
        """Run one job on one QPU (the :class:`~qnn.photonics.backends.Backend` interface)."""
        return self.run([Job(circuit, shots, qpu_id, detection)], seed=seed)[0]

    def sample_batch(self, circuit: TBICircuit, shots: int, *, seed: int | None = None,
                     detection: str = "pnr") -> list[Histogram]:
        """One histogram per parameter set, spread round-robin over the QPUs, in batch order."""
        jobs = [Job(c, shots, None, detection) for c in circuit.unbatched()]
        return self.run(jobs, seed=seed)

    def run(self, jobs: Sequence[Job], *,
            seed: int | np.random.Generator | None = None) -> list[Histogram]:
        """Run ``jobs`` and return their histograms in job order.

        Jobs without a ``qpu_id`` are spread round-robin. Each job's seed is derived from
        ``seed`` and its index, so results do not depend on timing.

        Raises:
            PoolError: if any job failed; it names the QPU and job and keeps the others.
        """
        queues = self._assign(jobs)
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))
        seeds = np.random.SeedSequence(seed).spawn(len(jobs))
        results: dict[int, Histogram] = {}
        failures: dict[int, BaseException] = {}
        workers = [
            threading.Thread(
                target=self._drain, args=(qpu, queue, jobs, seeds, results, failures), daemon=True
            )
            for qpu, queue in queues.items()
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if failures:
            first = min(failures)
            raise PoolError(
                f"{len(failures)} of {len(jobs)} jobs failed; first: job {first}: "
                f"{failures[first]}",
                results,
                failures,
            ) from failures[first]
        return [results[i] for i in range(len(jobs))]

    def _assign(self, jobs: Sequence[Job]) -> dict[int, list[int]]:
        queues: dict[int, list[int]] = {}
        for index, job in enumerate(jobs):
            qpu = index % self.n_qpus if job.qpu_id is None else job.qpu_id
            if not 0 <= qpu < self.n_qpus:
                raise ValueError(f"jobs[{index}].qpu_id={qpu} is outside [0, {self.n_qpus - 1}]")
            queues.setdefault(qpu, []).append(index)
        return queues

    def _drain(
        self,
        qpu: int,
        queue: list[int],
        jobs: Sequence[Job],
        seeds: list[np.random.SeedSequence],
        results: dict,
        failures: dict,
    ) -> None:
        for position, index in enumerate(queue):
            try:
                results[index] = self._run_with_retries(qpu, index, jobs[index], seeds[index])
            except BaseException as err:  # noqa: BLE001 - recorded and re-raised by run()
                failures[index] = err
                for later in queue[position + 1 :]:
                    failures[later] = QPUError(
                        f"QPU {qpu} skipped job {later}: it failed job {index} ({err})",
                        qpu_id=qpu,
                        job=later,
                    )
                return

    def _run_with_retries(
        self, qpu: int, index: int, job: Job, seed: np.random.SeedSequence
    ) -> Histogram:
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))
            try:
                return self._attempt(qpu, index, job, seed)
            except Exception as err:  # noqa: BLE001 - any QPU-side failure may be transient
                if not _retryable(err):
                    raise
                last = err
        kind = QPUTimeoutError if isinstance(last, QPUTimeoutError) else QPUError
        raise kind(
            f"QPU {qpu} failed job {index} after {self.retries + 1} attempts: "
            f"{type(last).__name__}: {last}",
            qpu_id=qpu,
            job=index,
        ) from last

    def _attempt(self, qpu: int, index: int, job: Job, seed: np.random.SeedSequence) -> Histogram:
        """One call in a daemon thread, so a hung QPU cannot hold the caller past ``timeout``."""
        box: dict[str, object] = {}

        def call() -> None:
            try:
                box["result"] = self.backends[qpu].sample(
                    job.circuit,
                    job.shots,
                    seed=np.random.default_rng(seed),
                    detection=job.detection,
                )
            except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
                box["error"] = err

        thread = threading.Thread(target=call, daemon=True, name=f"qpu{qpu}-job{index}")
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise QPUTimeoutError(
                f"QPU {qpu} did not finish job {index} within {self.timeout} s",
                qpu_id=qpu,
                job=index,
            )
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        hist = box["result"]
        if not isinstance(hist, Histogram) or hist.shots != job.shots:
            raise QPUError(
                f"QPU {qpu} answered job {index} with {hist!r}, expected a histogram "
                f"of {job.shots} shots",
                qpu_id=qpu,
                job=index,
            )
        return hist


def orca_pool(
    urls: str | Sequence[str] | None = None,
    *,
    token: str | None = None,
    max_shots_per_request: int = 5000,
    **pool_options: object,
) -> QPUPool:
    """A pool over ORCA QPUs: one ``orca`` backend per URL (``ORCA_ACCESS_URL`` by default).

    ``pool_options`` go to :class:`QPUPool` (``retries``, ``timeout``, ``backoff``, ...).
    """
    from .backends.orca import OrcaBackend, parse_urls

    parsed = parse_urls(urls)
    backends = [
        OrcaBackend(parsed, qpu_id=i, max_shots_per_request=max_shots_per_request, token=token)
        for i in range(len(parsed))
    ]
    return QPUPool(backends, **pool_options)
