"""Malformed, invalid and unauthorized requests: each gets a 4xx with an ``error_message``,
and the server keeps serving (raw sockets against an emulator in a thread)."""

import contextlib
import json
import socket
import struct
import threading
import time

import pytest

from qnn.emulator import DeviceLimits

GOOD_TEXT = (
    '{"bs_angles":[0.785398],"input_state":[1,1],"loop_lengths":[1],'
    '"n_samples":50,"ps_angles":[],"target":"PT-1"}'
)


def body_with(old: str, new: str) -> bytes:
    assert old in GOOD_TEXT
    return GOOD_TEXT.replace(old, new).encode()


DEEP = ("[" * 100_000 + "]" * 100_000).encode()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (body_with("0.785398", "1e400"), 400, "number '1e400' is out of the range of a double"),
        (body_with("0.785398", "-1e400"), 400, "out of the range of a double"),
        (body_with("0.785398", "NaN"), 400, "NaN is not a JSON number"),
        (body_with("0.785398", "Infinity"), 400, "Infinity is not a JSON number"),
        (body_with("50", "9" * 5000), 400, "a number has 5000 digits; at most 30"),
        (body_with("0.785398", "-" + "1" * 4000), 400, "4001 digits"),
        (body_with("[0.785398]", DEEP.decode()), 400, "nested too deeply"),
        (DEEP, 400, "nested too deeply"),
        (b"\xff\xfe{}", 400, "not valid JSON"),
        (body_with('"PT-1"', '"PT-2"'), 400, "target='PT-2' is not a PT system here; accepted"),
        (body_with('"PT-1"', "[1]"), 400, "target=[1] is not a PT system"),
        (body_with("[1,1]", "[true,0,1,0]"), 400, "input_state[0]=True must be an integer >= 0"),
        (body_with("[1,1]", "[-1,2]"), 400, "input_state[0]=-1 must be an integer >= 0"),
        (body_with("[1,1]", "[1.0,1]"), 400, "input_state[0]=1.0 must be an integer"),
        (body_with("[1,1]", '[1,"1"]'), 400, "input_state[1]='1' must be an integer"),
        (body_with('"loop_lengths":[1]', '"loop_lengths":[true]'), 400, "loop_lengths[0]=True"),
        (body_with('"loop_lengths":[1]', '"loop_lengths":[0]'), 400, "loop_lengths[0]=0"),
        (body_with("[0.785398]", "[true]"), 400, "bs_angles[0]=True"),
        (body_with("50", "50.0"), 400, "n_samples=50.0 must be a positive integer"),
        (body_with("50", "true"), 400, "n_samples=True must be a positive integer"),
        (
            body_with('"ps_angles":[]', '"ps_angles":"' + "x" * 5000 + '"'),
            400,
            "ps_angles must be a JSON list, got 'xxx",
        ),
    ],
)
def test_bad_bodies_are_4xx_with_a_message_and_the_server_keeps_serving(
    client, body, status, message
):
    got, answer = client.submit(body)
    assert got == status and message in answer["error_message"]
    assert len(answer["error_message"]) < 400  # a megabyte body is never echoed back
    assert client.run()[0] == 200


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({"Content_Length": "abc"}, 400, "Content-Length='abc' is not a non-negative integer"),
        ({"Content_Length": "-5"}, 400, "Content-Length='-5' is not a non-negative integer"),
        ({"Content_Length": "\u00b2"}, 400, "is not a non-negative integer"),
        ({"Content_Length": "9" * 40}, 413, "exceeds 1048576"),
        ({"Content_Length": str(2 << 20)}, 413, "request body of 2097152 bytes exceeds"),
        ({"Content_Length": "3\r\nContent-Length: 4"}, 400, "conflicting Content-Length"),
        ({"Transfer_Encoding": "chunked"}, 411, "Transfer-Encoding is not supported"),
        ({"Idempotency_Key": "k" * 201}, 400, "must be 1 to 200 visible ASCII characters"),
        ({"Idempotency_Key": "a b"}, 400, "visible ASCII"),
    ],
)
def test_bad_headers_are_4xx_with_a_message(client, good, headers, status, message):
    got, answer = client.submit(good, **headers)
    assert got == status and message in answer["error_message"]
    assert client.run()[0] == 200


def test_a_submission_without_content_length_is_411(client):
    raw = b"POST /v1/submit HTTP/1.1\r\nAuthorization: Bearer " + client.token.encode()
    status, answer = client.exchange(raw + b"\r\n\r\n" + GOOD_TEXT.encode())
    assert status == 411 and "needs a Content-Length" in answer["error_message"]


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"BREW /v1/submit HTTP/1.1\r\n\r\n", 405, "method 'BREW' is not allowed; use GET or POST"),
        (b"DELETE /v1/get_job/x HTTP/1.1\r\n\r\n", 405, "method 'DELETE' is not allowed"),
        (b"GET /v1/submit HTTP/2.0\r\n\r\n", 400, "Invalid HTTP version"),
        (b"GET /v1/submit HTTP/x\r\n\r\n", 400, "Bad request version"),
        (b"hello\r\n\r\n", 400, "Bad request syntax"),
        (b"\x80\x81 \xfe\r\n\r\n", 400, "Bad HTTP/0.9 request type"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "URI Too Long"),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431, "Too many headers"),
    ],
)
def test_requests_http_server_refuses_are_4xx_json_too(client, raw, status, message):
    got, answer = client.exchange(raw)
    assert got == status and message in answer["error_message"]


def test_every_route_needs_the_token(client):
    for path in ("/_emulator/stats", "/v1/get_job/x", "/nowhere"):
        for token in (None, "wrong"):
            status, answer = client.get(path, token=token)
            assert status == 401 and "authorization" in answer["error_message"]
    assert client.get("/_emulator/stats")[0] == 200


def test_the_accepted_targets_are_a_device_limit(serve):
    client = serve(limits=DeviceLimits(targets=("PT-1", "PT-2")))
    good = json.loads(GOOD_TEXT)
    assert client.run({**good, "target": "PT-2"})[0] == 200
    status, answer = client.submit({**good, "target": "PT-3"})
    assert status == 400 and "accepted: ['PT-1', 'PT-2']" in answer["error_message"]


def test_a_body_shorter_than_its_content_length_gets_408_within_the_timeout(serve):
    client = serve(request_timeout=0.3)
    start = time.monotonic()
    status, answer = client.submit(b'{"bs_angles": [0.7', Content_Length="100")
    assert status == 408 and "18 of Content-Length=100 bytes" in answer["error_message"]
    assert time.monotonic() - start < 2.0
    assert client.run()[0] == 200


def test_a_trickled_body_is_cut_off_at_the_timeout_not_at_each_byte(serve):
    """One byte every 0.1 s never trips a per-read timeout of 0.4 s: the deadline is for the
    whole body."""
    client = serve(request_timeout=0.4)
    with socket.create_connection(client.server.server_address[:2], timeout=5) as sock:
        sock.sendall(client.request("POST", "/v1/submit", Content_Length="100"))
        start, answer = time.monotonic(), b""
        while time.monotonic() - start < 3 and not answer:
            sock.sendall(b" ")
            sock.settimeout(0.1)
            with contextlib.suppress(TimeoutError):
                answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408 ") and time.monotonic() - start < 1.5


def test_a_silent_connection_is_closed_after_the_timeout(serve):
    client = serve(request_timeout=0.3)
    with socket.create_connection(client.server.server_address[:2], timeout=5) as sock:
        start = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - start < 2.0


def reset_mid_body(client):
    """Send half a submission, then abort the connection with a TCP reset."""
    sock = socket.create_connection(client.server.server_address[:2], timeout=5)
    sock.sendall(client.request("POST", "/v1/submit", b'{"bs', Content_Length="100"))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.05)  # let the handler start reading the body
    sock.close()


def handlers_done(timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any("process_request" in t.name for t in threading.enumerate()):
            return
        time.sleep(0.02)
    raise AssertionError("a request handler is still running")


@pytest.mark.parametrize("verbose", [False, True])
def test_client_resets_are_quiet(serve, capsys, verbose):
    client = serve(verbose=verbose, request_timeout=2.0)
    reset_mid_body(client)
    handlers_done()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if verbose:
        assert len(err.splitlines()) == 1 and "connection lost (ConnectionResetError)" in err
    else:
        assert err == ""
    assert client.run()[0] == 200
