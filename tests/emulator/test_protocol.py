"""The emulator's HTTP protocol, in process over plain HTTP: answers, errors, limits, queueing."""

import json
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from qnn.emulator import DeviceLimits, EmulatorConfig, EmulatorServer, FaultModel
from qnn.emulator.protocol import encode_results

TOKEN = "s3cret-token"
GOOD = {
    "bs_angles": [0.785398],
    "input_state": [1, 1],
    "loop_lengths": [1],
    "n_samples": 50,
    "ps_angles": [],
    "target": "PT-1",
}


@pytest.fixture
def server(request):
    options = getattr(request, "param", {})
    config = EmulatorConfig(token=TOKEN, seed=0, poll_wait=0.01, **options)
    srv = EmulatorServer(config)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def call(server, path, body=None, token=TOKEN, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        server.url + path, data=data, method="POST" if data is not None else "GET"
    )
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def submit_and_wait(server, body=GOOD):
    status, answer = call(server, "/v1/submit", body)
    assert status == 200, answer
    job_id = answer["job_id"]
    for _ in range(2000):
        status, answer = call(server, f"/v1/get_job/{job_id}")
        if "job_status" not in answer:
            return status, answer
        assert answer["job_status"] in ("queued", "running")
    raise AssertionError("job did not finish")


def test_a_job_runs_and_returns_one_count_string_per_shot(server):
    status, answer = submit_and_wait(server)
    assert status == 200 and len(answer["results"]) == 50
    # HOM at 50:50: both photons always leave together.
    assert set(answer["results"]) <= {"20", "02"}


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "authorization missing"),
        ("wrong", "authorization refused: wrong token"),
        ("", "authorization missing"),
    ],
)
def test_bad_tokens_are_refused_without_echoing_them(server, token, message):
    status, answer = call(server, "/v1/submit", GOOD, token=token)
    assert status == 401 and message in answer["error_message"]
    assert TOKEN not in json.dumps(answer)
    status, _ = call(server, "/v1/get_job/abc", token=token)
    assert status == 401


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (
            json.dumps({**GOOD, "loop_lengths": [1, 2, 3], "bs_angles": [0.1] * 0}).encode(),
            400,
            "loop_lengths has 3 loops; this device has at most 2",
        ),
        (
            json.dumps({**GOOD, "n_samples": 10_001}).encode(),
            413,
            "n_samples=10001 exceeds this device's maximum of 5000",
        ),
        (json.dumps({**GOOD, "n_samples": 0}).encode(), 400, "n_samples=0 must be a positive"),
        (json.dumps({**GOOD, "bs_angles": [0.1, 0.2]}).encode(), 400, "bs_angles has 2 entries"),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "target"}).encode(),
            400,
            "missing ['target']",
        ),
        (json.dumps({**GOOD, "shots": 3}).encode(), 400, "unknown ['shots']"),
        (json.dumps({**GOOD, "input_state": [5, 5]}).encode(), 400, "10 photons; this device"),
        (json.dumps({**GOOD, "bs_angles": ["x"]}).encode(), 400, "bs_angles must hold numbers"),
    ],
)
def test_bad_requests_get_clear_errors_and_the_server_keeps_serving(server, body, status, message):
    got_status, answer = call(server, "/v1/submit", raw=body)
    assert got_status == status and message in answer["error_message"]
    assert submit_and_wait(server)[0] == 200


def test_unknown_jobs_and_paths(server):
    status, answer = call(server, "/v1/get_job/nope")
    # Never the exact "Job can't be found": the CUDA-Q client would poll that for ever.
    assert status == 404 and answer["error_message"] != "Job can't be found"
    assert call(server, "/v2/submit", GOOD)[0] == 404


def test_jobs_queue_one_at_a_time_first_come_first_served():
    config = EmulatorConfig(seed=0, poll_wait=0.0, faults=FaultModel(latency=(0.05, 0.05)))
    srv = EmulatorServer(config)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        ids = [call(srv, "/v1/submit", GOOD, token=None)[1]["job_id"] for _ in range(4)]
        states = [call(srv, f"/v1/get_job/{i}", token=None)[1].get("job_status") for i in ids]
        assert states[-1] == "queued"
        for job_id in ids:
            while "job_status" in call(srv, f"/v1/get_job/{job_id}", token=None)[1]:
                time.sleep(0.01)
        stats = call(srv, "/_emulator/stats", token=None)[1]
        assert stats["completed"] == 4 and stats["max_running"] == 1
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize(
    "server", [{"faults": FaultModel(fail_rate=1.0, kinds=("job",))}], indirect=True
)
def test_injected_job_faults_use_the_error_field(server):
    status, answer = submit_and_wait(server)
    assert status == 200 and "injected fault" in answer["error_message"]


@pytest.mark.parametrize(
    "server", [{"faults": FaultModel(fail_rate=1.0, kinds=("submit",))}], indirect=True
)
def test_injected_submit_faults_are_5xx(server):
    status, answer = call(server, "/v1/submit", GOOD)
    assert status == 503 and "refused" in answer["error_message"]


def test_results_encoding_and_limits_validation():
    assert encode_results(np.array([[1, 0, 2], [0, 3, 0]])) == ["102", "030"]
    with pytest.raises(ValueError, match="at most 9 per mode"):
        encode_results(np.array([[10, 0]]))
    with pytest.raises(ValueError, match="max_photons=12 cannot exceed 9"):
        DeviceLimits(max_photons=12)
    with pytest.raises(ValueError, match="fault kinds"):
        FaultModel(kinds=("boom",))
