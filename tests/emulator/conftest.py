"""Emulators served from a thread of the test process, and raw HTTP exchanges with them.

Raw sockets (not urllib) so that tests can send what no well-behaved client would.
"""

import contextlib
import http.client
import json
import socket
import threading
from contextlib import ExitStack, contextmanager

import pytest

from qnn.emulator import EmulatorConfig, EmulatorServer

TOKEN = "s3cret-token"
GOOD = {
    "bs_angles": [0.785398],
    "input_state": [1, 1],
    "loop_lengths": [1],
    "n_samples": 50,
    "ps_angles": [],
    "target": "PT-1",
}


class Client:
    """Raw HTTP/1.1 exchanges with one emulator, one connection per request."""

    def __init__(self, server: EmulatorServer, token: str | None) -> None:
        self.server, self.token = server, token

    def exchange(self, data: bytes, timeout: float = 5.0, method: str = "GET"):
        """Send raw bytes, read one answer: ``(status, JSON body)``, or ``(None, None)`` if the
        server closed the connection without answering (the body is ``{}`` for HEAD)."""
        with socket.create_connection(self.server.server_address[:2], timeout=timeout) as sock:
            with contextlib.suppress(ConnectionError):  # refused mid-body: an answer may wait
                sock.sendall(data)
            answer = http.client.HTTPResponse(sock, method=method)
            try:
                answer.begin()
            except (http.client.RemoteDisconnected, ConnectionResetError):
                return None, None
            payload = answer.read()
            return answer.status, json.loads(payload) if payload else {}

    def request(
        self, method: str, path: str, body: bytes = b"", *, token: str | None = "", **headers: str
    ) -> bytes:
        """One request's bytes: the client's token unless ``token`` is given (``None``: no
        Authorization header) and a correct Content-Length unless ``Content_Length`` is."""
        token = self.token if token == "" else token
        lines = [f"{method} {path} HTTP/1.1", "Host: emulator"]
        if token is not None:
            lines.append(f"Authorization: Bearer {token}")
        headers.setdefault("Content_Length", str(len(body)))
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def submit(self, body: dict | bytes = GOOD, **headers: str):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.exchange(self.request("POST", "/v1/submit", raw, **headers))

    def get(self, path: str, **headers: str):
        return self.exchange(self.request("GET", path, **headers))

    def wait_for(self, job_id: str):
        """Poll ``job_id`` until the answer holds no ``job_status``: ``(status, answer)``."""
        for _ in range(2000):
            status, answer = self.get(f"/v1/get_job/{job_id}")
            if "job_status" not in answer:
                return status, answer
        raise AssertionError(f"job {job_id} did not finish")

    def run(self, body: dict = GOOD):
        """Submit and wait: the final ``(status, answer)``."""
        status, answer = self.submit(body)
        assert status == 200, answer
        return self.wait_for(answer["job_id"])

    def stats(self) -> dict:
        status, answer = self.get("/_emulator/stats")
        assert status == 200, answer
        return answer


@contextmanager
def serving(*, verbose: bool = False, **options):
    """A :class:`Client` of an :class:`EmulatorServer` on a free loopback port."""
    options = {"token": TOKEN, "seed": 0, "poll_wait": 0.01, "request_timeout": 1.0, **options}
    server = EmulatorServer(EmulatorConfig(**options), verbose=verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield Client(server, options["token"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def serve():
    """``serve(**EmulatorConfig options) -> Client``; every server stops after the test."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(serving(**options))


@pytest.fixture
def client(serve):
    """A client of an emulator with the test token and a 1 s request timeout."""
    return serve()


@pytest.fixture
def good():
    return dict(GOOD)
