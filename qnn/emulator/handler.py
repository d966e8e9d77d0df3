"""The emulator's HTTP request handler: routing, authorization, bodies, JSON answers.

Every refusal is a 4xx JSON answer with an ``error_message``, including those that
``http.server`` makes itself (a bad request line, too many headers, an unknown method),
and every error answer closes the connection, since the request body may be unread.
"""

from __future__ import annotations

import hmac
import json
import sys
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler
from typing import Protocol

from .device import EmulatedQPU
from .protocol import (
    IDEMPOTENCY_HEADER,
    JOB_PATH,
    STATS_PATH,
    SUBMIT_PATH,
    ProtocolError,
    check_idempotency_key,
    parse_submission,
)

MAX_BODY_BYTES = 1 << 20
Answer = tuple[int, dict] | None  # None: close the connection without answering


class Front(Protocol):
    """What the handler needs of its server (:class:`~qnn.emulator.server.EmulatorServer`)."""

    qpu: EmulatedQPU
    verbose: bool


class Handler(BaseHTTPRequestHandler):
    """One connection; requests are answered by :class:`~qnn.emulator.device.EmulatedQPU`."""

    server: Front
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # so even a garbled request line gets a status line
    server_version = "qnn-pt-emulator/1"

    def parse_request(self) -> bool:
        self.server.qpu.count("requests")
        return super().parse_request()

    def setup(self) -> None:
        self.timeout = self.server.qpu.config.request_timeout  # applied to the socket by setup
        super().setup()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._respond(self._submit)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(self._get)

    def _submit(self) -> Answer:
        self._authorize()
        if self.path != SUBMIT_PATH:
            raise ProtocolError(404, f"unknown path {_cut(self.path)!r}; submit to {SUBMIT_PATH}")
        key = self.headers.get(IDEMPOTENCY_HEADER)
        key = None if key is None else check_idempotency_key(key)
        qpu = self.server.qpu
        submission = parse_submission(self._read_body(), qpu.config.limits)
        job_id, drop = qpu.submit(submission, key)
        return None if drop else (200, {"job_id": job_id})

    def _get(self) -> Answer:
        if self.headers.get("Content-Length", "0").strip() != "0" or "Transfer-Encoding" in (
            self.headers
        ):
            self.close_connection = True  # a GET's body is never read, so it cannot be skipped
        self._authorize()
        if self.path == STATS_PATH:
            return 200, self.server.qpu.stats
        if not self.path.startswith(JOB_PATH):
            raise ProtocolError(404, f"unknown path {_cut(self.path)!r}; poll {JOB_PATH}<job_id>")
        return self.server.qpu.answer(self.path[len(JOB_PATH) :])

    def _authorize(self) -> None:
        token = self.server.qpu.config.token
        if token is None:
            return
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme != "Bearer" or not given:
            raise ProtocolError(
                401,
                "authorization missing: no token in the Authorization"
                " header (CUDA-Q sends ORCA_AUTH_TOKEN)",
            )
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ProtocolError(401, "authorization refused: wrong token")

    def _read_body(self) -> bytes:
        """The ``Content-Length`` bytes of the body, all within ``request_timeout`` seconds."""
        length = _content_length(self.headers)
        timeout = self.server.qpu.config.request_timeout
        deadline, chunks, got = time.monotonic() + timeout, [], 0
        while got < length:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                self.connection.settimeout(remaining)
                chunk = self.rfile.read1(length - got)
            except TimeoutError:
                raise ProtocolError(
                    408,
                    f"request body incomplete: {got} of Content-Length={length} bytes arrived"
                    f" within request_timeout={timeout:g} s",
                ) from None
            if not chunk:
                raise ProtocolError(400, f"request body ended after {got} of {length} bytes")
            chunks.append(chunk)
            got += len(chunk)
        self.connection.settimeout(timeout)
        return b"".join(chunks)

    def _respond(self, handler: Callable[[], Answer]) -> None:
        try:
            answer = handler()
        except ProtocolError as err:
            answer = err.status, {"error_message": err.message}
        except ConnectionError:
            raise  # the client left: EmulatorServer.handle_error keeps that quiet
        except Exception as err:  # noqa: BLE001 - a bad request must never kill the server
            traceback.print_exc()  # a bug in the emulator: it should be seen
            answer = 500, {"error_message": f"emulator error: {type(err).__name__}: {err}"}
        if answer is None:  # the injected fault "drop": a submit reply lost on the way
            self.close_connection = True
            return
        self._send_json(*answer)

    def _send_json(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status >= 400:  # a refused request's body may be unread: it cannot be skipped
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """``http.server``'s own refusals, as JSON. Its 5xx ones (501 for an unknown method,
        505 for HTTP/2 or later) are the client's doing here, so they become 405 and 400."""
        if code == HTTPStatus.NOT_IMPLEMENTED:
            code = HTTPStatus.METHOD_NOT_ALLOWED
            message = f"method {_cut(self.command or '')!r} is not allowed; use GET or POST"
        elif code >= 500:
            code = HTTPStatus.BAD_REQUEST
        message = message or HTTPStatus(code).phrase
        self.log_error("code %d, message %s", code, message)
        self._send_json(code, {"error_message": message})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.verbose:  # the request line only: headers (and the token) never
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def _content_length(headers: HTTPMessage) -> int:
    """The body's length from its one ``Content-Length`` header, or a 4xx ``ProtocolError``."""
    if "Transfer-Encoding" in headers:
        raise ProtocolError(411, "Transfer-Encoding is not supported; send a Content-Length")
    values = set(headers.get_all("Content-Length") or ())
    if not values:
        raise ProtocolError(411, "a submission needs a Content-Length header")
    if len(values) > 1:
        raise ProtocolError(400, f"conflicting Content-Length headers {sorted(map(_cut, values))}")
    text = values.pop().strip()
    if not (text.isascii() and text.isdigit()):
        raise ProtocolError(400, f"Content-Length={_cut(text)!r} is not a non-negative integer")
    if len(text) > 10 or int(text) > MAX_BODY_BYTES:
        raise ProtocolError(413, f"request body of {_cut(text)} bytes exceeds {MAX_BODY_BYTES}")
    return int(text)


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else f"{text[: width - 3]}..."
