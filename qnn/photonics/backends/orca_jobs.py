"""A job submitted to an ORCA QPU: our paced poller (back-off, deadline, cancellation) and the
merged histogram of its requests.

CUDA-Q 0.16's ``future.get()`` polls ``GET /v1/get_job/<id>`` back to back, with no pause,
no time-out and no way to stop it: a thread abandoned in it polls for ever. So neither
client calls it; both poll here, in the thread that calls :meth:`OrcaJob.get`, and only
while it runs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ...errors import QPUError, QPUTimeoutError
from ..histogram import Histogram
from .cudaq_sim import histogram_from_counts
from .orca_http import HttpSession, RequestError

JOB_NOT_FOUND = "Job can't be found"  # CUDA-Q keeps polling on this exact message; so do we
POLL_ERRORS = 5  # consecutive polls without a usable answer (no answer, 5xx) before giving up


@dataclass(frozen=True)
class Backoff:
    """Pauses between the polls of one job: ``first`` seconds, ``factor`` times longer after
    each poll, at most ``longest``.

    The defaults (5 ms growing to 0.5 s) cost a 20 ms job about four polls and a job of an
    hour two polls a second.
    """

    first: float = 0.005
    factor: float = 2.0
    longest: float = 0.5

    def __post_init__(self) -> None:
        if not self.first > 0:
            raise ValueError(f"first={self.first} must be a positive number of seconds")
        if not self.factor >= 1:
            raise ValueError(f"factor={self.factor} must be >= 1")
        if not self.longest >= self.first:
            raise ValueError(f"longest={self.longest} must be >= first={self.first}")

    def pauses(self) -> Iterator[float]:
        """The pauses in seconds, one per poll, for ever."""
        pause = self.first
        while True:
            yield pause
            pause = min(pause * self.factor, self.longest)


class OrcaJob:
    """The requests submitted for one circuit to one QPU; :meth:`get` polls and merges them.

    Polling runs only inside :meth:`get`, in its caller's thread, paced by ``backoff``; it
    stops at the deadline or as soon as :meth:`cancel` is called from any thread. One
    thread at a time may call :meth:`get`.

    Args:
        session: the QPU's :class:`HttpSession` (closed when :meth:`get` returns).
        requests: ``(job_id, n_samples)`` of each submitted request, in order.
        label: how errors name the QPU, e.g. ``"QPU 0 (http://pt1:8080)"`` (no secrets).
        redact: removes secrets from a message.

    Attributes:
        qpu_id: the QPU the requests went to.
        shots: total shots requested.
        n_modes: ``M`` of the circuit.
        detection: ``"pnr"`` or ``"threshold"``.
    """

    def __init__(self, session: HttpSession, requests: Sequence[tuple[str, int]], *,
                 qpu_id: int, shots: int, n_modes: int, detection: str, label: str,
                 redact: Callable[[str], str], backoff: Backoff) -> None:
        self._session, self._requests = session, list(requests)
        self.qpu_id, self.shots, self.n_modes, self.detection = qpu_id, shots, n_modes, detection
        self._label, self._redact, self._backoff = label, redact, backoff
        self._cancelled = threading.Event()
        self._result: Histogram | None = None

    def __repr__(self) -> str:
        return (f"OrcaJob(qpu_id={self.qpu_id}, shots={self.shots}, "
                f"requests={len(self._requests)}, detection={self.detection!r})")

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The QPU's job id of each request (for logs and support tickets)."""
        return tuple(job_id for job_id, _ in self._requests)

    def cancel(self) -> None:
        """Stop polling now (a :meth:`get` in progress raises); later calls to :meth:`get`
        raise too. The protocol has no cancel request: the QPU may still run the job."""
        self._cancelled.set()

    def get(self, timeout: float | None = None) -> Histogram:
        """Poll until every request has answered; the merged :class:`Histogram`.

        Args:
            timeout: seconds to wait for all requests, or ``None`` for no limit.

        Raises:
            QPUTimeoutError: if the requests did not finish within ``timeout`` (polling
                stops; calling :meth:`get` again resumes it).
            QPUError: if the QPU reported an error or wrong samples, refused the token, or
                the job was cancelled; ``retryable`` says whether resubmitting can help.
        """
        if self._result is None:
            deadline = None if timeout is None else time.monotonic() + timeout
            try:
                hists = [self._parse(self._poll(job_id, deadline, timeout), n_samples)
                         for job_id, n_samples in self._requests]
            finally:
                self._session.close()
            self._result = self._merge(hists)
        return self._result

    # ----------------------------------------------------------------- polling
    def _poll(self, job_id: str, deadline: float | None, timeout: float | None) -> list[str]:
        pauses, errors = self._backoff.pauses(), 0
        while True:
            remaining = self._remaining(deadline, timeout)
            try:
                reply = self._session.get_job(job_id, min(self._session.timeout, remaining))
            except RequestError as err:
                if not err.transient or errors == POLL_ERRORS:
                    raise self._error(f"polling job {job_id}: {err}", err.transient) from None
                errors += 1
            else:
                errors = 0
                if (results := self._results(job_id, reply)) is not None:
                    return results
            self._cancelled.wait(min(next(pauses), self._remaining(deadline, timeout)))

    def _remaining(self, deadline: float | None, timeout: float | None) -> float:
        """Seconds left before ``deadline``; raises once it has passed or on cancellation."""
        if self._cancelled.is_set():
            raise self._error("the job was cancelled and is no longer polled", False) from None
        if deadline is None:
            return float("inf")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QPUTimeoutError(
                f"{self._label} did not finish jobs {list(self.job_ids)} within {timeout} s;"
                " they are no longer polled", qpu_id=self.qpu_id, retryable=True)
        return remaining

    def _results(self, job_id: str, reply: object) -> list[str] | None:
        """The samples of a finished job, ``None`` while it runs; raises if it failed."""
        if not isinstance(reply, dict):
            raise self._error(f"job {job_id}: the answer {reply!r:.100} is not a JSON object",
                              retryable=True) from None
        message = reply.get("error_message")
        if message == JOB_NOT_FOUND or (message is None and "job_status" in reply):
            return None
        if message is not None:  # the job ran and failed: a new submission may succeed
            raise self._error(str(message), retryable=True) from None
        results = reply.get("results")
        if not isinstance(results, list) or not all(isinstance(r, str) for r in results):
            raise self._error(f"job {job_id}: the answer holds no list of result strings: "
                              f"{reply!r:.200}", retryable=True) from None
        return results

    # ----------------------------------------------------------------- results
    def _parse(self, results: list[str], n_samples: int) -> Histogram:
        try:
            hist = histogram_from_counts(Counter(results), self.n_modes, self.detection)
        except ValueError as err:
            raise self._error(str(err), retryable=True) from None
        if hist.shots != n_samples:
            raise self._error(f"returned {hist.shots} samples for a request of {n_samples}",
                              retryable=True) from None
        return hist

    def _merge(self, hists: list[Histogram]) -> Histogram:
        if not hists:
            return histogram_from_counts({}, self.n_modes, self.detection)
        patterns = np.vstack([h.patterns for h in hists])
        counts = np.concatenate([h.counts for h in hists])
        return Histogram(patterns, counts, self.detection)

    def _error(self, message: str, retryable: bool) -> QPUError:
        """A QPU error naming the QPU, redacted; raise it ``from None`` (a cause could hold
        the token)."""
        return QPUError(f"{self._label} failed: {self._redact(message)}", qpu_id=self.qpu_id,
                        retryable=retryable)
