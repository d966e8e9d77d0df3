"""Our stdlib HTTP client of the ORCA PT protocol: the requests CUDA-Q's ``orca`` client sends,
plus an ``Idempotency-Key`` on every submission.

CUDA-Q 0.16 sends only ``Authorization`` and a fixed body, so it cannot ask a QPU to
recognise a resubmitted job. This client sends byte for byte the same body (keys sorted,
no spaces, ``target`` ``"PT-1"``, ``ps_angles`` ``[]`` when absent) and the same
``Authorization: Bearer <token>`` header, and adds the key. It also polls jobs for both
clients (:mod:`.orca_jobs`), since CUDA-Q's own poller cannot be paced or stopped.

Every failure is a :class:`RequestError` that says whether the request may have reached
the server (``reached``), which decides whether resubmitting can run a job twice.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

SUBMIT_PATH = "/v1/submit"
JOB_PATH = "/v1/get_job/"
TARGET_NAME = "PT-1"  # what CUDA-Q sends whatever machine= says
TOKEN_VARIABLE = "ORCA_AUTH_TOKEN"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_TRANSIENT_4XX = (408, 429)  # request time-out, too many requests: the same request can succeed


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


class RequestError(Exception):
    """One HTTP request failed.

    Attributes:
        status: the HTTP status of the answer, or ``None`` when none arrived.
        reached: ``False`` only when the request surely never reached the server (no
            connection was made); ``True`` when it may have been acted on.
    """

    def __init__(self, message: str, *, status: int | None = None, reached: bool = True) -> None:
        super().__init__(message)
        self.status, self.reached = status, reached

    @property
    def transient(self) -> bool:
        """Whether the same request can succeed later: every failure but a 4xx refusal
        (408 and 429 excepted), which is the same answer on every attempt."""
        status = self.status
        return status is None or not 400 <= status < 500 or status in _TRANSIENT_4XX


def submit_body(circuit: Mapping[str, list], n_samples: int) -> bytes:
    """The submit body CUDA-Q sends, from ``TBICircuit.to_dict()`` and ``n_samples``.

    Floats are written as shortest round-trip decimals, as CUDA-Q does, so angles arrive
    bit-identical.
    """
    body = {
        "bs_angles": list(circuit["bs_angles"]),
        "input_state": list(circuit["input_state"]),
        "loop_lengths": list(circuit["loop_lengths"]),
        "n_samples": int(n_samples),
        "ps_angles": list(circuit["ps_angles"] or []),
        "target": TARGET_NAME,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def bearer(token: _Secret | None) -> str:
    """The ``Authorization`` value: the given token, else ``ORCA_AUTH_TOKEN`` read now (as
    CUDA-Q does, ``"Bearer "`` with nothing after it when neither is set)."""
    value = token.reveal() if token is not None else os.environ.get(TOKEN_VARIABLE, "")
    return f"Bearer {value}"


class HttpSession:
    """HTTP requests to one QPU base URL.

    A submission has a connection of its own, so a failure to connect proves the request
    never left (and a batch of submitted jobs holds no connections open); the polls of a
    job share one, reconnecting when the server has closed it. Not thread-safe: one
    session per job handle. User info in the URL is not sent.

    Args:
        url: the QPU's base URL, ``http(s)://host[:port][/prefix][?query]``.
        token: bearer token, or ``None`` to read ``ORCA_AUTH_TOKEN`` per request.
        timeout: seconds one request may take (connect, send and answer).
    """

    def __init__(self, url: str, token: _Secret | None, timeout: float) -> None:
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"url scheme {split.scheme!r} is not http(s)")
        self._scheme, self._host, self._port = split.scheme, split.hostname, split.port
        self._prefix = split.path.rstrip("/")
        self._query = f"?{split.query}" if split.query else ""
        self._token, self.timeout = token, timeout
        self._connection: http.client.HTTPConnection | None = None

    def submit(self, body: bytes, idempotency_key: str) -> str:
        """``POST /v1/submit``; the ``job_id`` the QPU gave the job.

        Raises:
            RequestError: ``reached=False`` if no connection could be made, else with the
                answer's status (or ``None`` if the connection broke before an answer).
        """
        self.close()  # fresh connection: "could not connect" must mean "never sent"
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key}
        try:
            reply = self._request("POST", SUBMIT_PATH, body, headers, self.timeout)
        finally:
            self.close()
        job_id = reply.get("job_id") if isinstance(reply, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise RequestError(f"POST {SUBMIT_PATH}: the answer holds no job_id: {reply!r:.200}",
                               status=200)
        return job_id

    def get_job(self, job_id: str, timeout: float | None = None) -> object:
        """``GET /v1/get_job/<job_id>``: the decoded JSON answer of a 2xx reply.

        Args:
            timeout: seconds this request may take; ``None`` uses the session's.
        """
        timeout = self.timeout if timeout is None else timeout
        return self._request("GET", JOB_PATH + quote(job_id, safe=""), None, {}, timeout)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        https = self._scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=timeout)
        try:
            connection.connect()
        except OSError as err:
            connection.close()
            raise RequestError(f"could not connect: {type(err).__name__}: {err}",
                               reached=False) from None
        return connection

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str],
                 timeout: float) -> object:
        if self._connection is None:
            self._connection = self._connect(timeout)
        connection = self._connection
        connection.sock.settimeout(timeout)
        try:
            connection.request(method, self._prefix + path + self._query, body,
                               {**headers, "Authorization": bearer(self._token)})
            response = connection.getresponse()
            status, data = response.status, response.read()
        except (OSError, http.client.HTTPException) as err:
            self.close()  # its state is unknown: the next request reconnects
            raise RequestError(f"{method} {path}: no answer: {type(err).__name__}: {err}") from None
        if response.will_close:
            self.close()
        return _decode(method, path, status, data)


def _decode(method: str, path: str, status: int, data: bytes) -> object:
    """The JSON of a 2xx answer; a :class:`RequestError` quoting ``error_message`` otherwise."""
    try:
        reply = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        reply = None
    if 200 <= status < 300 and reply is not None:
        return reply
    detail = reply.get("error_message") if isinstance(reply, dict) else None
    shown = detail if isinstance(detail, str) else data[:200].decode("utf-8", "replace")
    what = "answer is not JSON" if 200 <= status < 300 else f"HTTP status {status}"
    raise RequestError(f"{method} {path}: {what}: {shown}", status=status)
