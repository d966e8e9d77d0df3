"""A bounded, seeded fuzz of the emulator over raw sockets: 300 random requests, each
answered with a status below 500 (a 4xx holding an ``error_message`` unless the request
happened to be valid), none left hanging past the socket time-out, and a valid submission
still served afterwards."""

import json
import random

from qnn.emulator import FaultModel

N_REQUESTS = 300
REQUEST_TIMEOUT = 0.2  # the server's; truncated bodies cost this much each
GOOD = {
    "bs_angles": [0.785398],
    "input_state": [1, 1],
    "loop_lengths": [1],
    "n_samples": 50,
    "ps_angles": [],
    "target": "PT-1",
}
WEIRD_VALUES = [
    True, None, -1, 0, 1.5, "1", "", [], {}, [True, 0], [-2, 3], [[1]], [1e308, -1e308],
    10**25, -(10**25), "PT-1", "x" * 3000, [0.1] * 500,
]  # fmt: skip
RAW_NUMBERS = ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "9" * 5000, "1" * 31, "-0",
               "1e-400", "0x10", "01", ".5", "1."]  # fmt: skip


def random_body(rng: random.Random) -> bytes:
    choice = rng.randrange(9)
    if choice == 0:  # a valid body, perhaps respelled
        return json.dumps(GOOD, indent=rng.choice([None, 1])).encode()
    if choice == 1:  # one field of the wrong type or range
        return json.dumps({**GOOD, rng.choice(list(GOOD)): rng.choice(WEIRD_VALUES)}).encode()
    if choice == 2:  # a number JSON may parse as inf, or an int past Python's digit limit
        text = json.dumps(GOOD)
        return text.replace(rng.choice(["0.785398", "50", "[1, 1]"]), rng.choice(RAW_NUMBERS),
                            1).encode()  # fmt: skip
    if choice == 3:  # deep nesting
        depth = rng.choice([50, 1000, 5000, 100_000])
        return (rng.choice("[{") * depth).encode() if depth > 1000 else b"[" * depth + b"]" * depth
    if choice == 4:  # a truncated body
        text = json.dumps(GOOD).encode()
        return text[: rng.randrange(len(text))]
    if choice == 5:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if choice == 6:  # keys missing or extra
        body = {k: v for k, v in GOOD.items() if rng.random() < 0.8}
        return json.dumps({**body, **({"shots": 3} if rng.random() < 0.5 else {})}).encode()
    if choice == 7:  # not an object
        return json.dumps(rng.choice([[GOOD], "GOOD", 5, None, True])).encode()
    return b""


def random_request(rng: random.Random, token: str) -> tuple[bytes, str, bool]:
    """A valid submission with one or two random parts spoiled: raw bytes, the method, and
    whether the body is shorter than its Content-Length."""
    method, path, version = "POST", "/v1/submit", "HTTP/1.1"
    auth, body, length, extra = f"Bearer {token}", json.dumps(GOOD).encode(), None, []
    spoil = ["body"] * 6 + ["length"] * 2 + ["header"] * 2 + ["method", "path", "version", "auth"]
    for part in rng.sample(spoil, rng.choice([1, 1, 1, 2])):
        if part == "body":
            body = random_body(rng)
        elif part == "length":
            length = rng.choice([None, "abc", "-5", "1e3", " 7", str(10**30), "+1",
                                 str(len(body) + rng.randrange(1, 50)), f"{len(body)}, 1",
                                 str(max(len(body) - 3, 0))])  # fmt: skip
        elif part == "header":
            extra.append(rng.choice(["Transfer-Encoding: chunked", "Expect: 100-continue",
                                     "Idempotency-Key: " + "k" * rng.choice([1, 8, 201]),
                                     "Idempotency-Key:", "Connection: keep-alive",
                                     "NoColonHeader", "X-Junk: \xe9\xff", "Content-Length: 1",
                                     "Content-Type: text/plain"]))  # fmt: skip
        elif part == "method":
            method = rng.choice(["GET", "HEAD", "PUT", "DELETE", "get", "BREW", "POST\x7f"])
        elif part == "path":
            path = rng.choice(["/v1/get_job/" + "ab" * rng.randrange(40), "/_emulator/stats",
                               "/", "//v1/submit", "/v1/submit?x=1", "*", "/v1/get_job/%00",
                               "/" + "p" * rng.randrange(5000)])  # fmt: skip
        elif part == "version":
            version = rng.choice(["HTTP/1.0", "HTTP/2.0", "HTTP/1", "FTP/1.1", ""])
        else:
            auth = rng.choice(["Bearer", "Bearer wrong", "Basic x", None])
    length = str(len(body)) if length is None and rng.random() < 0.95 else length
    lines = [" ".join(filter(None, [method, path, version]))]
    lines += [f"Authorization: {auth}"] if auth is not None else []
    lines += [f"Content-Length: {length}"] if length is not None else []
    raw = ("\r\n".join(lines + extra) + "\r\n\r\n").encode("latin-1") + body
    short = length is not None and length.isdigit() and int(length) > len(body)
    return raw, method, short


def test_random_requests_get_4xx_answers_and_the_server_survives(serve):
    client = serve(request_timeout=REQUEST_TIMEOUT, faults=FaultModel(latency=(0.0, 0.0)))
    rng = random.Random(12)
    statuses = []
    for index in range(N_REQUESTS):
        raw, method, short = random_request(rng, client.token)
        status, answer = client.exchange(raw, timeout=REQUEST_TIMEOUT + 5, method=method)
        context = f"request {index}: {raw[:300]!r} -> {status} {answer}"
        assert status is not None and status < 500, context
        if status >= 400 and method != "HEAD":
            assert isinstance(answer.get("error_message"), str), context
        if short and status == 408:
            assert "request body incomplete" in answer["error_message"], context
        statuses.append(status)
    assert len(set(statuses)) >= 8  # the fuzz reached many different refusals
    status, answer = client.run(GOOD)
    assert status == 200 and len(answer["results"]) == 50
