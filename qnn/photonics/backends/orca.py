"""The ``orca`` backend: ORCA PT-series hardware, submitted through CUDA-Q's ``orca`` target or
our own HTTP client of the same protocol.

One URL per QPU: ``urls="http://a,http://b"`` makes QPUs 0 and 1, addressed by ``qpu_id``.
A run of more shots than ``max_shots_per_request`` is split into several requests whose
histograms are merged. Hardware sampling is not seedable: ``seed`` is accepted and ignored.

Two clients submit (``client=``); both poll through :mod:`.orca_jobs`, paced and stoppable:

* ``"cudaq"`` (the default): ``cudaq.orca.sample_async`` submits; the job id is read from
  ``str(future)`` and ``future.get()`` is never called (it polls without pause and cannot
  be stopped). CUDA-Q sends no custom header, so a submission whose answer was lost may
  have created a job, and resubmitting it could run it twice: such a failure is marked not
  retryable (``QPUError.retryable`` ``False``); one that surely created nothing
  (connection refused, a 5xx answer) is retryable.
* ``"http"``: :mod:`.orca_http` sends the same request plus an ``Idempotency-Key``
  header (the caller's ``idempotency_key``, e.g. the pool's, reused on a retry): a QPU that
  honours it answers a resubmission with the first job's id, so every transient failure is
  safely retryable. It does not need ``cudaq``.

Credentials: CUDA-Q reads the bearer token from the ``ORCA_AUTH_TOKEN`` environment
variable, afresh for every HTTP request. A ``token=`` given to :class:`OrcaBackend` is
sent by our client directly, and (client ``"cudaq"`` only) written into that variable of
this process before each submission. Without ``token=`` both clients send the variable.
The token never appears in ``repr``, error messages or returned records, and URLs are shown
with their user info and secret query parameters redacted.

Protocol, as observed from the CUDA-Q 0.16 client (libcurl, ``User-Agent: curl/…``):

* Every request carries ``Authorization: Bearer <ORCA_AUTH_TOKEN>`` (``"Bearer "`` with an
  empty token when the variable is unset), ``Content-Type: application/json`` and an empty
  ``Cookie:`` header. The variable is read per request, so changing it between calls works.
* ``POST {url}/v1/submit`` with the JSON body (keys sorted, no spaces)
  ``{"bs_angles":[…],"input_state":[…],"loop_lengths":[…],"n_samples":n,"ps_angles":[…],
  "target":"PT-1"}``; ``ps_angles`` is ``[]`` when there are no phase shifters and
  ``target`` is always ``"PT-1"``. Angles are sent as shortest round-trip decimals (they
  arrive bit-identical). The client checks no lengths. The reply must hold ``"job_id"``
  (else ``RuntimeError("ServerMessage doesn't contain 'job_id' key.")``); a non-2xx reply
  gives ``RuntimeError("HTTP POST Error - status code 500: : <body>")``; an unreachable
  server ``"HTTP POST Error - status code 0: Failed to connect to …"``.
* Then ``GET {url}/v1/get_job/{job_id}``, polled back to back with no pause and (over
  the seconds observed) no time-out, for as long as the reply holds ``"job_status"`` or
  ``"error_message": "Job can't be found"``. Any other ``"error_message"`` is raised as
  ``RuntimeError(<message>)``; a non-2xx reply as ``"HTTP GET Error - status code …"``;
  otherwise the reply must hold ``"results"``: one string per shot of per-mode photon
  counts, mode 0 first (``["1010", "0200", …]``), which become the keys of a
  ``SampleResult``. The client checks neither the number of strings nor their length.
* ``sample_async`` performs the POST synchronously while holding the GIL and returns a
  future; polling starts only when ``future.get()`` is called, and runs with the GIL
  released. ``cudaq.orca.sample`` holds the GIL for the whole job. So an HTTP server in a
  thread of the same Python process deadlocks the client (test servers must run in
  another process). ``str(future)`` is JSON: ``{"config": {"url": "<url>/", "shots": "100",
  …}, "jobs": [["<job_id>", "orca_launch"]], …}`` (``shots`` is 100 whatever was asked).
  Futures stay valid after the target is switched. CUDA-Q sets no time-out on the POST.
* Submission errors read ``HTTP POST Error - status code 0: Failed to connect to …`` (or
  ``Could not resolve host``) when nothing was sent, ``status code 0: Empty reply from
  server`` when the connection closed after sending, ``status code N: …`` for an answer,
  and a JSON parse error or ``ServerMessage doesn't contain 'job_id' key.`` for a 2xx
  answer without a job.
* ``qpu_id`` outside ``[0, n_qpus)`` raises ``ValueError("Invalid QPU ID: 5. Number of
  QPUs: 2")``; with another target selected, ``RuntimeError("Orca sampling is not supported
  by this execution manager.")``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Sequence
from types import ModuleType
from urllib.parse import urlsplit

import numpy as np

from ...errors import BackendUnavailableError, QPUError
from ...secrets import redact
from ..circuit import TBICircuit
from ..histogram import Histogram, _check_detection
from .base import SeedLike, check_shots
from .cudaq_sim import cudaq_lock, import_cudaq
from .orca_http import TOKEN_VARIABLE, HttpSession, RequestError, _Secret, submit_body
from .orca_jobs import Backoff, OrcaJob

__all__ = ["CLIENTS", "Backoff", "OrcaBackend", "OrcaJob", "parse_urls", "split_shots"]

TARGET = "orca"
URL_VARIABLE = "ORCA_ACCESS_URL"
CLIENTS = ("cudaq", "http")
DEFAULT_BACKOFF = Backoff()  # 5 ms growing to 0.5 s
# CUDA-Q's submit errors that prove nothing was sent (curl never connected).
_NOT_SENT = re.compile(r"status code 0: (?:Failed to connect|Could not connect|Couldn't connect"
                       r"|Could not resolve|Couldn't resolve)")
_STATUS = re.compile(r"status code (\d+)")


def parse_urls(urls: str | Sequence[str] | None) -> tuple[str, ...]:
    """QPU URLs from a comma-separated string or a sequence, else from ``ORCA_ACCESS_URL``.

    Raises:
        BackendUnavailableError: if no URL is given and ``ORCA_ACCESS_URL`` is unset or empty.
        ValueError: if a URL is not ``http(s)://host…`` (the message shows it redacted).
    """
    if urls is None:
        urls = os.environ.get(URL_VARIABLE, "")
    parts = urls.split(",") if isinstance(urls, str) else [p for u in urls for p in u.split(",")]
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        raise BackendUnavailableError(
            f"no ORCA QPU URL: pass urls= or set {URL_VARIABLE} (comma-separated for several"
            " QPUs, e.g. http://pt1:8080,http://pt2:8080)")
    for i, url in enumerate(parts):
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"urls[{i}]={redact(url)!r} is not an http(s)://host URL")
    return tuple(parts)


def _check_qpu_id(qpu_id: int, n_qpus: int) -> int:
    if isinstance(qpu_id, bool) or not isinstance(qpu_id, int | np.integer) or not (
            0 <= qpu_id < n_qpus):
        raise ValueError(f"qpu_id={qpu_id!r} is outside [0, {n_qpus - 1}] ({n_qpus} QPU URLs)")
    return int(qpu_id)


def _check_max_shots(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"max_shots_per_request={value!r} must be a positive integer")
    return int(value)


def _check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name}={value!r} must be a positive number of seconds")
    return float(value)


def split_shots(shots: int, max_per_request: int) -> list[int]:
    """Request sizes for ``shots``: full requests of ``max_per_request`` then the remainder."""
    full, rest = divmod(shots, max_per_request)
    return [max_per_request] * full + ([rest] if rest else [])


def request_keys(idempotency_key: str | None, n_requests: int) -> list[str]:
    """One ``Idempotency-Key`` per request: the key itself for one request, ``key.i`` for
    several (each request has its own body); a fresh random key when none is given."""
    key = idempotency_key or uuid.uuid4().hex
    return [key] if n_requests == 1 else [f"{key}.{i}" for i in range(n_requests)]


def cudaq_submit_retryable(message: str) -> bool:
    """Whether a CUDA-Q submit error proves that no job was created and a retry can help:
    no connection was made, or the QPU answered 5xx, 408 or 429. A 4xx refusal is the same
    on every attempt; a lost or unreadable answer may hide a job that already runs."""
    if _NOT_SENT.search(message):
        return True
    match = _STATUS.search(message)
    status = int(match[1]) if match else 0
    return status != 0 and RequestError("", status=status).transient


class OrcaBackend:
    """ORCA PT-series QPUs over the ORCA HTTP protocol (one URL per QPU).

    With ``client="cudaq"``, constructing it imports ``cudaq`` and selects the process-wide
    CUDA-Q target ``orca`` with these URLs; every submission selects it again, so other
    cudaq backends may be used in between.

    Args:
        urls: QPU URLs, a comma-separated string or a sequence; ``None`` reads the
            ``ORCA_ACCESS_URL`` environment variable.
        qpu_id: default QPU for :meth:`sample` and :meth:`sample_async`.
        max_shots_per_request: largest ``n_samples`` of one request; larger runs are split.
        token: bearer token. Our client sends it; for ``client="cudaq"`` it is also written
            into ``os.environ["ORCA_AUTH_TOKEN"]`` of this process before each submission
            (CUDA-Q reads only that variable, so two cudaq-client backends with different
            tokens must not submit at the same time). ``None`` sends the variable as it is.
            Never shown in ``repr`` or errors.
        client: ``"cudaq"`` (CUDA-Q submits) or ``"http"`` (our client submits, with an
            ``Idempotency-Key``); see the module docstring.
        request_timeout: seconds one HTTP request of ours (a poll; with ``"http"`` also a
            submission) may take. CUDA-Q's own submission has no time-out.
        poll_backoff: pauses between the polls of a job.

    Raises:
        BackendUnavailableError: if ``client="cudaq"`` and ``cudaq`` is missing or refuses
            the target, or if no URL is known.
    """

    name = "orca"

    def __init__(self, urls: str | Sequence[str] | None = None, qpu_id: int = 0,
                 max_shots_per_request: int = 5000, *, token: str | None = None,
                 client: str = "cudaq", request_timeout: float = 30.0,
                 poll_backoff: Backoff = DEFAULT_BACKOFF) -> None:
        self.urls = parse_urls(urls)
        self.qpu_id = _check_qpu_id(qpu_id, len(self.urls))
        self.max_shots_per_request = _check_max_shots(max_shots_per_request)
        if client not in CLIENTS:
            raise ValueError(f"client={client!r}: choose from {list(CLIENTS)}")
        self.client = client
        self.request_timeout = _check_seconds("request_timeout", request_timeout)
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string (or None to use ORCA_AUTH_TOKEN)")
        self.poll_backoff = poll_backoff
        self._token = None if token is None else _Secret(token)
        self._cudaq: ModuleType | None = None
        if client == "cudaq":
            self._cudaq = import_cudaq()
            with cudaq_lock:
                self._select_target()

    @property
    def n_qpus(self) -> int:
        return len(self.urls)

    def __repr__(self) -> str:
        urls = [redact(u) for u in self.urls]
        return (f"OrcaBackend(urls={urls}, qpu_id={self.qpu_id}, "
                f"max_shots_per_request={self.max_shots_per_request}, client={self.client!r})")

    # ----------------------------------------------------------------- target and errors
    def _export_token(self) -> None:
        if self._token is not None:
            os.environ[TOKEN_VARIABLE] = self._token.reveal()

    def _select_target(self) -> None:
        self._export_token()
        try:
            self._cudaq.set_target(TARGET, url=",".join(self.urls))
        except RuntimeError as err:
            raise BackendUnavailableError(
                f"CUDA-Q refused the orca target: {self._redact(str(err))}") from None

    def _redact(self, text: str) -> str:
        if self._token is not None:
            text = text.replace(self._token.reveal(), "***")
        for url in self.urls:
            text = text.replace(url, redact(url))
        return redact(text)

    def _label(self, qpu_id: int) -> str:
        return f"QPU {qpu_id} ({redact(self.urls[qpu_id])})"

    def _qpu_error(self, qpu_id: int, err: BaseException | str,
                   retryable: bool | None = None) -> QPUError:
        """A :class:`QPUError` naming the QPU and its redacted URL (never the token)."""
        return QPUError(f"{self._label(qpu_id)} failed: {self._redact(str(err))}",
                        qpu_id=qpu_id, retryable=retryable)

    # ----------------------------------------------------------------- sampling
    def sample(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
               detection: str = "pnr") -> Histogram:
        """``shots`` detections of an unbatched circuit on QPU ``self.qpu_id``.

        ``seed`` is ignored: hardware samples are not reproducible. The requests are
        submitted together, then polled.

        Raises:
            ValueError: for a batched circuit (use :meth:`sample_batch`).
            QPUError: if the QPU fails a request (the message names the QPU).
        """
        return self.sample_async(circuit, shots, detection=detection).get()

    def sample_batch(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
                     detection: str = "pnr") -> list[Histogram]:
        """One histogram per parameter set, in row-major batch order (all submitted first).

        ``seed`` is ignored, as in :meth:`sample`.
        """
        jobs = [self.sample_async(c, shots, detection=detection) for c in circuit.unbatched()]
        return [job.get() for job in jobs]

    def sample_async(self, circuit: TBICircuit, shots: int, qpu_id: int | None = None, *,
                     detection: str = "pnr", idempotency_key: str | None = None) -> OrcaJob:
        """Submit ``shots`` of an unbatched circuit and return at once; ``.get()`` polls.

        Args:
            circuit: an unbatched :class:`TBICircuit`.
            shots: total samples, split into requests of at most ``max_shots_per_request``.
            qpu_id: QPU index into ``urls``; ``None`` uses ``self.qpu_id``.
            detection: ``"pnr"`` counts, or ``"threshold"`` clicks (``min(n_i, 1)``).
            idempotency_key: names this submission so that resubmitting it (same key, same
                circuit and shots) cannot run it twice; sent by ``client="http"`` only (a
                fresh one when ``None``), ignored by ``"cudaq"``, which cannot send it.

        Raises:
            ValueError: for a batched circuit, bad shots, detection or qpu_id.
            QPUError: if a submission fails (e.g. the QPU is unreachable); ``retryable``
                says whether submitting again can succeed without running anything twice.
        """
        _check_detection(detection)
        shots = check_shots(shots)
        qpu_id = self.qpu_id if qpu_id is None else _check_qpu_id(qpu_id, self.n_qpus)
        if circuit.batch_shape:
            raise ValueError(f"sample takes one parameter set, got batch {circuit.batch_shape};"
                             " use sample_batch")
        sizes = split_shots(shots, self.max_shots_per_request)
        session = HttpSession(self.urls[qpu_id], self._token, self.request_timeout)
        if self.client == "http":
            job_ids = self._submit_http(session, circuit, sizes, idempotency_key, qpu_id)
        else:
            job_ids = self._submit_cudaq(circuit, sizes, qpu_id)
        return OrcaJob(session, list(zip(job_ids, sizes, strict=True)), qpu_id=qpu_id,
                       shots=shots, n_modes=circuit.n_modes, detection=detection,
                       label=self._label(qpu_id), redact=self._redact, backoff=self.poll_backoff)

    def _submit_http(self, session: HttpSession, circuit: TBICircuit, sizes: list[int],
                     idempotency_key: str | None, qpu_id: int) -> list[str]:
        args, job_ids = circuit.to_dict(), []
        for n_samples, key in zip(sizes, request_keys(idempotency_key, len(sizes)), strict=True):
            try:
                job_ids.append(session.submit(submit_body(args, n_samples), key))
            except RequestError as err:
                session.close()
                raise self._qpu_error(qpu_id, f"submission failed: {err}", err.transient) from None
        return job_ids

    def _submit_cudaq(self, circuit: TBICircuit, sizes: list[int], qpu_id: int) -> list[str]:
        args, job_ids = circuit.to_dict(), []
        with cudaq_lock:
            self._select_target()
            for n_samples in sizes:
                try:
                    future = self._cudaq.orca.sample_async(
                        args["input_state"], args["loop_lengths"], args["bs_angles"],
                        args["ps_angles"], n_samples=n_samples, qpu_id=qpu_id)
                except (RuntimeError, ValueError) as err:
                    raise self._cudaq_submit_error(qpu_id, str(err), len(job_ids)) from None
                job_ids.append(self._job_id(future, qpu_id))
        return job_ids

    def _cudaq_submit_error(self, qpu_id: int, message: str, accepted: int) -> QPUError:
        if accepted:
            why = (f"{accepted} earlier request(s) of this job were accepted and would run again"
                   " if it were resubmitted")
        elif not cudaq_submit_retryable(message):
            why = "the submission may have reached the QPU and resubmitting could run it twice"
        else:
            return self._qpu_error(qpu_id, message, retryable=True)
        return self._qpu_error(
            qpu_id, f"{message} (not retried: {why}; CUDA-Q's client cannot send an"
            " Idempotency-Key, client='http' can)", retryable=False)

    def _job_id(self, future: object, qpu_id: int) -> str:
        """The job id in ``str(future)``, checked to belong to ``urls[qpu_id]``."""
        try:
            record = json.loads(str(future))
            url, job_id = record["config"]["url"], record["jobs"][0][0]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise self._qpu_error(qpu_id, f"CUDA-Q's future holds no job id ({err!r})",
                                  retryable=False) from None
        if url.rstrip("/") != self.urls[qpu_id].rstrip("/") or not isinstance(job_id, str):
            raise self._qpu_error(qpu_id, f"CUDA-Q's future names job {job_id!r} at {url},"
                                  f" not at {self.urls[qpu_id]}", retryable=False)
        return job_id
