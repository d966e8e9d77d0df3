"""The ``orca`` backend: ORCA PT-series hardware through CUDA-Q's ``orca`` target.

One URL per QPU: ``cudaq.set_target("orca", url="http://a,http://b")`` makes QPUs 0 and 1,
addressed by ``qpu_id``. Requests go out through ``cudaq.orca.sample_async``; a run of more
shots than ``max_shots_per_request`` is split into several requests whose histograms are
merged. Hardware sampling is not seedable: ``seed`` is accepted and ignored.

Credentials: CUDA-Q reads the bearer token from the ``ORCA_AUTH_TOKEN`` environment
variable, afresh for every HTTP request. A ``token=`` given to :class:`OrcaBackend` is
written into that variable of this process (and nowhere else) before each submission
and each wait.
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
  another process), and this backend always submits with ``sample_async``. ``str(future)``
  is JSON holding the URL and job id (and ``"shots": "100"`` whatever was asked). Futures
  stay valid after the target is switched.
* ``qpu_id`` outside ``[0, n_qpus)`` raises ``ValueError("Invalid QPU ID: 5. Number of
  QPUs: 2")``; with another target selected, ``RuntimeError("Orca sampling is not supported
  by this execution manager.")``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import ModuleType
from urllib.parse import urlsplit

import numpy as np

from ...errors import BackendUnavailableError, QPUError
from ...secrets import redact
from ..circuit import TBICircuit
from ..histogram import Histogram, _check_detection
from .base import SeedLike, check_shots
from .cudaq_sim import cudaq_lock, histogram_from_counts, import_cudaq

TARGET = "orca"
URL_VARIABLE = "ORCA_ACCESS_URL"
TOKEN_VARIABLE = "ORCA_AUTH_TOKEN"


class _Secret:
    """A string that shows as ``***`` and refuses to be pickled or copied into records."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a secret cannot be pickled")


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


def split_shots(shots: int, max_per_request: int) -> list[int]:
    """Request sizes for ``shots``: full requests of ``max_per_request`` then the remainder."""
    full, rest = divmod(shots, max_per_request)
    return [max_per_request] * full + ([rest] if rest else [])


class OrcaJob:
    """Requests submitted for one circuit to one QPU; :meth:`get` merges their samples.

    Attributes:
        qpu_id: the QPU the requests went to.
        shots: total shots requested.
        n_modes: ``M`` of the circuit.
        detection: ``"pnr"`` or ``"threshold"``.
    """

    def __init__(self, backend: OrcaBackend, qpu_id: int, shots: int, n_modes: int,
                 detection: str, futures: list[tuple[int, object]]) -> None:
        self._backend, self._futures = backend, futures
        self.qpu_id, self.shots, self.n_modes, self.detection = qpu_id, shots, n_modes, detection

    def __repr__(self) -> str:
        return (f"OrcaJob(qpu_id={self.qpu_id}, shots={self.shots}, "
                f"requests={len(self._futures)}, detection={self.detection!r})")

    def get(self) -> Histogram:
        """Block until every request has answered; the merged :class:`Histogram`.

        Raises:
            QPUError: if the QPU reported an error, or returned the wrong number or shape
                of samples (the message names the QPU, never the token).
        """
        patterns, counts = [], []
        self._backend._export_token()  # CUDA-Q reads it again for every poll
        for n_samples, future in self._futures:
            try:
                result = dict(future.get().items())
            except (RuntimeError, ValueError) as err:
                raise self._backend._qpu_error(self.qpu_id, err) from None
            hist = self._parse(result, n_samples)
            patterns.append(hist.patterns)
            counts.append(hist.counts)
        if not patterns:
            return histogram_from_counts({}, self.n_modes, self.detection)
        return Histogram(np.vstack(patterns), np.concatenate(counts), self.detection)

    def _parse(self, result: dict[str, int], n_samples: int) -> Histogram:
        try:
            hist = histogram_from_counts(result, self.n_modes, self.detection)
        except ValueError as err:
            raise self._backend._qpu_error(self.qpu_id, err) from None
        if hist.shots != n_samples:
            raise self._backend._qpu_error(
                self.qpu_id, f"returned {hist.shots} samples for a request of {n_samples}")
        return hist


class OrcaBackend:
    """ORCA PT-series QPUs through CUDA-Q's ``orca`` target (one URL per QPU).

    Constructing it imports ``cudaq`` and selects the process-wide CUDA-Q target ``orca``
    with these URLs; every submission selects it again, so other cudaq backends may be used
    in between.

    Args:
        urls: QPU URLs, a comma-separated string or a sequence; ``None`` reads the
            ``ORCA_ACCESS_URL`` environment variable.
        qpu_id: default QPU for :meth:`sample` and :meth:`sample_async`.
        max_shots_per_request: largest ``n_samples`` of one request; larger runs are split.
        token: bearer token; written into ``os.environ["ORCA_AUTH_TOKEN"]`` of this process
            before each submission and each wait (CUDA-Q reads only that variable, per
            request, so two backends with different tokens must not wait at the same time).
            ``None`` leaves the environment as it is. Never shown in ``repr`` or errors.

    Raises:
        BackendUnavailableError: if ``cudaq`` is missing, no URL is known, or CUDA-Q
            refuses the target.
    """

    name = "orca"

    def __init__(self, urls: str | Sequence[str] | None = None, qpu_id: int = 0,
                 max_shots_per_request: int = 5000, *, token: str | None = None) -> None:
        self.urls = parse_urls(urls)
        self.qpu_id = _check_qpu_id(qpu_id, len(self.urls))
        if isinstance(max_shots_per_request, bool) or not isinstance(
                max_shots_per_request, int | np.integer) or max_shots_per_request < 1:
            raise ValueError(f"max_shots_per_request={max_shots_per_request!r} must be a"
                             " positive integer")
        self.max_shots_per_request = int(max_shots_per_request)
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string (or None to use ORCA_AUTH_TOKEN)")
        self._token = None if token is None else _Secret(token)
        self._cudaq: ModuleType = import_cudaq()
        with cudaq_lock:
            self._select_target()

    @property
    def n_qpus(self) -> int:
        return len(self.urls)

    def __repr__(self) -> str:
        urls = [redact(u) for u in self.urls]
        return (f"OrcaBackend(urls={urls}, qpu_id={self.qpu_id}, "
                f"max_shots_per_request={self.max_shots_per_request})")

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

    def _qpu_error(self, qpu_id: int, err: BaseException | str) -> QPUError:
        """A :class:`QPUError` naming the QPU and its redacted URL (never the token)."""
        message = self._redact(str(err))
        return QPUError(f"QPU {qpu_id} ({redact(self.urls[qpu_id])}) failed: {message}",
                        qpu_id=qpu_id)

    # ----------------------------------------------------------------- sampling
    def sample(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
               detection: str = "pnr") -> Histogram:
        """``shots`` detections of an unbatched circuit on QPU ``self.qpu_id``.

        ``seed`` is ignored: hardware samples are not reproducible. The requests are
        submitted together and awaited with the GIL released.

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
                     detection: str = "pnr") -> OrcaJob:
        """Submit ``shots`` of an unbatched circuit and return at once; ``.get()`` waits.

        Args:
            circuit: an unbatched :class:`TBICircuit`.
            shots: total samples, split into requests of at most ``max_shots_per_request``.
            qpu_id: QPU index into ``urls``; ``None`` uses ``self.qpu_id``.
            detection: ``"pnr"`` counts, or ``"threshold"`` clicks (``min(n_i, 1)``).

        Raises:
            ValueError: for a batched circuit, bad shots, detection or qpu_id.
            QPUError: if a submission fails (e.g. the QPU is unreachable).
        """
        _check_detection(detection)
        shots = check_shots(shots)
        qpu_id = self.qpu_id if qpu_id is None else _check_qpu_id(qpu_id, self.n_qpus)
        if circuit.batch_shape:
            raise ValueError(f"sample takes one parameter set, got batch {circuit.batch_shape};"
                             " use sample_batch")
        args = circuit.to_dict()
        futures = []
        with cudaq_lock:
            self._select_target()
            for n_samples in split_shots(shots, self.max_shots_per_request):
                futures.append((n_samples, self._submit(args, n_samples, qpu_id)))
        return OrcaJob(self, qpu_id, shots, circuit.n_modes, detection, futures)

    def _submit(self, args: dict[str, list], n_samples: int, qpu_id: int) -> object:
        try:
            return self._cudaq.orca.sample_async(
                args["input_state"], args["loop_lengths"], args["bs_angles"],
                args["ps_angles"], n_samples=n_samples, qpu_id=qpu_id)
        except (RuntimeError, ValueError) as err:
            raise self._qpu_error(qpu_id, err) from None
