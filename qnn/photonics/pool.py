"""A pool of QPUs: concurrent jobs, one at a time per QPU, with retries and time-outs."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import QPUError, QPUTimeoutError
from .backends.base import AsyncBackend, Backend, check_shots
from .circuit import TBICircuit
from .histogram import Histogram

# Errors that mean "this request is wrong", not "this QPU had a bad moment": never retried.
_NOT_RETRYABLE = (ValueError, TypeError)
# For errors that do not say themselves (``QPUError.retryable`` is None): a QPU's HTTP 4xx
# answer ("status code 401: ...") is the same answer on every attempt.
_CLIENT_ERROR = re.compile(r"status code 4\d\d\b")


def _retryable(err: BaseException) -> bool:
    """Whether another attempt can succeed: the error's own ``retryable`` where it has one."""
    if isinstance(err, QPUError) and err.retryable is not None:
        return err.retryable
    return not isinstance(err, _NOT_RETRYABLE) and not _CLIENT_ERROR.search(str(err))


class _SubmissionKey:
    """The ``Idempotency-Key`` of a job's next submission.

    Kept after a failed submission, whose fate is unknown (its answer may have been lost
    after the QPU created the job), so the retry is recognised as the same submission;
    renewed once a submission was accepted, so a retry after the job failed or timed out is
    a new job rather than the failed one again.
    """

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self.value = f"qnn-{uuid.uuid4().hex}"


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
    ``retries`` times with exponential back-off, but only where another attempt can
    succeed: a :class:`~qnn.errors.QPUError` says so in ``retryable`` (a wrong token, a
    refused request, or a submission that may already run are not retried); otherwise
    ``ValueError``, ``TypeError`` and HTTP 4xx answers are not. One attempt that does not
    finish within ``timeout`` seconds counts as failed (its late answer is discarded, never
    attributed to another job). When a QPU gives up on a job, its remaining jobs fail at
    once with the same cause.

    An :class:`~qnn.photonics.backends.AsyncBackend` (the ``orca`` backend) is submitted
    to and polled in the QPU's worker thread: a timed-out job is cancelled, so nothing
    polls it afterwards. Each job carries an ``idempotency_key``, reused when a submission
    failed (it may have been created: a QPU honouring the key does not run it twice) and
    renewed once a submission was accepted. Other backends run in a daemon thread that is
    abandoned on time-out.

    Args:
        backends: one backend per QPU.
        retries: extra attempts per job after the first.
        timeout: seconds one attempt may wait for its results, or ``None`` to wait forever
            (an asynchronous backend's submission is bounded by its own request time-out).
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
        key = _SubmissionKey()
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))
            try:
                backend = self.backends[qpu]
                if isinstance(backend, AsyncBackend):
                    hist = self._attempt_async(backend, qpu, index, job, key)
                else:
                    hist = self._attempt(qpu, index, job, seed)
                return self._checked(hist, qpu, index, job)
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

    def _attempt_async(
        self, backend: AsyncBackend, qpu: int, index: int, job: Job, key: _SubmissionKey
    ) -> Histogram:
        """Submit and poll in this thread; a job that outlives ``timeout`` is cancelled."""
        start = time.monotonic()
        handle = backend.sample_async(
            job.circuit, job.shots, detection=job.detection, idempotency_key=key.value
        )
        key.renew()  # accepted: from here on a retry is a new job, not this submission again
        left = None if self.timeout is None else max(0.0, start + self.timeout - time.monotonic())
        try:
            return handle.get(timeout=left)
        except QPUTimeoutError as err:
            raise self._timeout_error(qpu, index) from err
        finally:
            handle.cancel()  # whatever happened, nothing polls this job any more

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
            raise self._timeout_error(qpu, index)
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]

    def _timeout_error(self, qpu: int, index: int) -> QPUTimeoutError:
        return QPUTimeoutError(
            f"QPU {qpu} did not finish job {index} within {self.timeout} s",
            qpu_id=qpu,
            job=index,
            retryable=True,
        )

    @staticmethod
    def _checked(hist: object, qpu: int, index: int, job: Job) -> Histogram:
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
    client: str = "http",
    request_timeout: float | None = None,
    **pool_options: object,
) -> QPUPool:
    """A pool over ORCA QPUs: one ``orca`` backend per URL (``ORCA_ACCESS_URL`` by default).

    The client defaults to ``"http"``, not CUDA-Q's, because a pool retries: a submission
    whose answer is lost (the job may already run) can only be resubmitted safely with an
    ``Idempotency-Key``, which CUDA-Q's client cannot send. With ``client="cudaq"`` such
    failures are not retried and fail the job.

    Args:
        urls: QPU URLs, as for :class:`~qnn.photonics.backends.orca.OrcaBackend`.
        token: bearer token (never shown).
        max_shots_per_request: largest ``n_samples`` of one request.
        client: ``"http"`` or ``"cudaq"``, which submits (both poll through our client).
        request_timeout: seconds one HTTP request may take; ``None``: the pool's
            ``timeout``, at most 30 s.
        pool_options: go to :class:`QPUPool` (``retries``, ``timeout``, ``backoff``, ...).
    """
    from .backends.orca import OrcaBackend, parse_urls

    if request_timeout is None:
        timeout = pool_options.get("timeout")
        request_timeout = 30.0 if timeout is None else min(30.0, float(timeout))
    parsed = parse_urls(urls)
    backends = [
        OrcaBackend(parsed, qpu_id=i, max_shots_per_request=max_shots_per_request, token=token,
                    client=client, request_timeout=request_timeout)
        for i in range(len(parsed))
    ]
    return QPUPool(backends, **pool_options)
