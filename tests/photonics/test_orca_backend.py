"""The orca backend through the real CUDA-Q client against loopback ORCA-protocol servers.

The servers run in a child process: ``cudaq.orca.sample_async`` sends its POST while holding
the GIL, so a server thread inside the test process would never answer. Each server is one
"QPU"; it records every request and answers with samples drawn from our exact distribution.
"""

import json
import math
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

cudaq = pytest.importorskip("cudaq")

from qnn.errors import BackendUnavailableError, QPUError  # noqa: E402
from qnn.photonics import TBICircuit, fock_basis, get_backend  # noqa: E402
from qnn.photonics.backends.orca import OrcaBackend, OrcaJob, split_shots  # noqa: E402
from qnn.photonics.slos import fock_probabilities  # noqa: E402

pytestmark = pytest.mark.cudaq

TOKEN = "tok-7Hq2-s3cr3t"

SERVER = r'''
"""Loopback ORCA QPUs: POST /v1/submit, GET /v1/get_job/<id>; /_reset and /_requests control."""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from qnn.photonics.circuit import TBICircuit
from qnn.photonics.fock import fock_basis
from qnn.photonics.slos import fock_probabilities


class QPU:
    def __init__(self, seed):
        self.rng, self.lock = np.random.default_rng(seed), threading.Lock()
        self.reset({})

    def reset(self, config):
        self.requests, self.jobs = [], {}
        self.running_polls = config.get("running_polls", 2)
        self.error_message = config.get("error_message")
        self.results = config.get("results")

    def draw(self, body):
        ps = body["ps_angles"] or None
        circuit = TBICircuit(body["input_state"], body["loop_lengths"], body["bs_angles"], ps)
        probs = fock_probabilities(circuit.unitary(), circuit.input_state).numpy()
        basis = fock_basis(circuit.n_modes, circuit.n_photons)
        picks = self.rng.choice(len(basis), size=body["n_samples"], p=probs / probs.sum())
        return ["".join(map(str, basis[i])) for i in picks]


def make_handler(qpu):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, obj, status=200):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def record(self, body=None):
            qpu.requests.append({"method": self.command, "path": self.path, "body": body,
                                 "authorization": self.headers.get("Authorization")})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            with qpu.lock:
                if self.path == "/_reset":
                    qpu.reset(body)
                    return self.reply({})
                self.record(body)
                if self.path != "/v1/submit":
                    return self.reply({"error": "not found"}, 404)
                job_id = f"job-{len(qpu.jobs)}"
                qpu.jobs[job_id] = {"polls": 0, "results": qpu.results or qpu.draw(body)}
            self.reply({"job_id": job_id})

        def do_GET(self):
            with qpu.lock:
                if self.path == "/_requests":
                    return self.reply(qpu.requests)
                self.record()
                job = qpu.jobs.get(self.path.removeprefix("/v1/get_job/"))
                if job is None:
                    return self.reply({"error": "no such job"}, 404)
                if qpu.error_message:
                    return self.reply({"error_message": qpu.error_message})
                job["polls"] += 1
                if job["polls"] <= qpu.running_polls:
                    return self.reply({"job_status": "running"})
                self.reply({"results": job["results"]})

    return Handler


servers = [ThreadingHTTPServer(("127.0.0.1", 0), make_handler(QPU(seed)))
           for seed in map(int, sys.argv[1:])]
for server in servers:
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps([s.server_address[1] for s in servers]), flush=True)
sys.stdin.read()  # serve until the test process closes our stdin
'''


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def qpu_urls():
    """Two loopback QPUs (seeded samplers) in one child process; their base URLs."""
    proc = subprocess.Popen([sys.executable, "-c", SERVER, "11", "12"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(proc.stdout.readline())
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def control(url, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url + path, data=data,
                                     headers={"Content-Type": "application/json"})
    with _direct.open(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def qpus(qpu_urls, monkeypatch):
    """Fresh server state and a clean environment (token and URL variables restored after)."""
    monkeypatch.delenv("ORCA_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ORCA_ACCESS_URL", raising=False)
    for url in qpu_urls:
        control(url, "/_reset", {})
    return qpu_urls


def submits(url):
    return [r for r in control(url, "/_requests") if r["method"] == "POST"]


def circuit_for(input_state, loops, phases=True, seed=0):
    rng = np.random.default_rng(seed)
    n_bs = sum(len(input_state) - length for length in loops)
    ps = rng.uniform(-np.pi, np.pi, n_bs) if phases else None
    return TBICircuit(input_state, loops, rng.uniform(0, 2 * np.pi, n_bs), ps)


def tvd_bound(probs, shots, delta=1e-6):
    """``½ Σ sqrt(p(1-p)/n) + sqrt(ln(1/δ)/2n)``: exceeded with probability below ``δ``."""
    mean = 0.5 * np.sum(np.sqrt(probs * (1 - probs) / shots))
    return mean + math.sqrt(math.log(1 / delta) / (2 * shots))


# --------------------------------------------------------------------------- protocol
def test_sends_the_circuit_and_the_token(qpus):
    circuit = circuit_for((1, 0, 1, 0), (1, 2))
    backend = OrcaBackend(qpus[0], token=TOKEN)
    hist = backend.sample(circuit, 300)
    assert hist.shots == 300
    [post] = submits(qpus[0])
    assert post["path"] == "/v1/submit"
    assert post["body"] == {**circuit.to_dict(), "n_samples": 300, "target": "PT-1"}
    assert post["body"]["bs_angles"] == circuit.bs_angles.tolist()  # bit-identical floats
    polls = [r for r in control(qpus[0], "/_requests") if r["method"] == "GET"]
    assert [r["path"] for r in polls] == ["/v1/get_job/job-0"] * 3  # 2 x running, results
    assert {r["authorization"] for r in [post, *polls]} == {f"Bearer {TOKEN}"}
    assert submits(qpus[1]) == []


def test_no_phase_shifters_send_an_empty_list(qpus):
    backend = OrcaBackend(qpus[0])
    backend.sample(circuit_for((1, 1, 0), (1,), phases=False), 10)
    [post] = submits(qpus[0])
    assert post["body"]["ps_angles"] == []
    assert post["authorization"] == "Bearer "  # ORCA_AUTH_TOKEN unset


def test_shots_are_split_into_requests(qpus):
    backend = OrcaBackend(qpus[0], max_shots_per_request=400)
    hist = backend.sample(circuit_for((1, 0, 1, 0), (1,)), 1000)
    assert [r["body"]["n_samples"] for r in submits(qpus[0])] == [400, 400, 200]
    assert hist.shots == 1000
    assert split_shots(800, 400) == [400, 400] and split_shots(0, 400) == []


def test_histogram_follows_the_exact_distribution(qpus):
    circuit = circuit_for((1, 0, 1, 0, 1), (1, 2), seed=4)
    shots = 4000
    hist = OrcaBackend(qpus[0], max_shots_per_request=1500).sample(circuit, shots)
    assert hist.shots == shots and hist.detection == "pnr"
    expected = fock_probabilities(circuit.unitary(), circuit.input_state).numpy()
    index = {tuple(r): i for i, r in enumerate(fock_basis(5, 3).tolist())}
    observed = np.zeros_like(expected)
    for pattern, count in hist.to_dict().items():
        observed[index[pattern]] += count / shots
    assert 0.5 * np.abs(observed - expected).sum() < tvd_bound(expected, shots)


def test_threshold_detection_reports_clicks(qpus):
    hist = OrcaBackend(qpus[0]).sample(circuit_for((2, 0, 1), (1,)), 500, detection="threshold")
    assert hist.detection == "threshold" and hist.shots == 500
    assert hist.patterns.max() <= 1


def test_two_qpus_receive_their_jobs_through_sample_async(qpus):
    backend = OrcaBackend(",".join(qpus), max_shots_per_request=250)
    assert backend.n_qpus == 2
    first, second = circuit_for((1, 1, 0), (1,), seed=1), circuit_for((0, 1, 1, 0), (1,), seed=2)
    job0 = backend.sample_async(first, 200, qpu_id=0)
    job1 = backend.sample_async(second, 300, qpu_id=1)
    assert isinstance(job1, OrcaJob) and job1.qpu_id == 1
    hist1, hist0 = job1.get(), job0.get()
    assert (hist0.shots, hist0.n_modes, hist1.shots, hist1.n_modes) == (200, 3, 300, 4)
    assert [r["body"]["n_samples"] for r in submits(qpus[0])] == [200]
    assert [r["body"]["n_samples"] for r in submits(qpus[1])] == [250, 50]
    assert submits(qpus[1])[0]["body"]["input_state"] == [0, 1, 1, 0]


def test_sample_batch_submits_every_parameter_set(qpus):
    circuit = circuit_for((1, 1, 0), (1,)).with_angles(np.zeros((3, 2)))
    hists = OrcaBackend(qpus[1]).sample_batch(circuit, 20)
    assert [h.to_dict() for h in hists] == [{(1, 1, 0): 20}] * 3  # zero angles: identity
    assert len(submits(qpus[1])) == 3


def test_default_urls_come_from_the_environment(qpus, monkeypatch):
    monkeypatch.setenv("ORCA_ACCESS_URL", f"{qpus[0]}, {qpus[1]}")
    backend = get_backend("orca", qpu_id=1)
    assert backend.urls == tuple(qpus) and backend.qpu_id == 1
    backend.sample(circuit_for((1, 1), (1,)), 10)
    assert len(submits(qpus[1])) == 1
    monkeypatch.delenv("ORCA_ACCESS_URL")
    with pytest.raises(BackendUnavailableError, match="set ORCA_ACCESS_URL"):
        OrcaBackend()


def test_each_call_selects_the_orca_target(qpus):
    backend = OrcaBackend(qpus[0])
    cudaq.set_target("orca-photonics")  # e.g. the cudaq-sim backend ran in between
    assert backend.sample(circuit_for((1, 1), (1,)), 10).shots == 10
    assert cudaq.get_target().name == "orca"


# --------------------------------------------------------------------------- errors and secrets
def test_a_failing_qpu_gives_an_error_naming_it(qpus):
    control(qpus[1], "/_reset", {"error_message": "boom"})
    backend = OrcaBackend(",".join(qpus))
    job = backend.sample_async(circuit_for((1, 1), (1,)), 10, qpu_id=1)
    with pytest.raises(QPUError, match=r"QPU 1 \(http://127\.0\.0\.1:\d+\) failed: boom") as err:
        job.get()
    assert err.value.qpu_id == 1
    assert backend.sample(circuit_for((1, 1), (1,)), 10, seed=3).shots == 10  # QPU 0 is fine


def test_malformed_results_are_an_error(qpus):
    control(qpus[0], "/_reset", {"results": ["12", "0101"]})
    with pytest.raises(QPUError, match=r"QPU 0 .*'12' is not 4 decimal digits"):
        OrcaBackend(qpus[0]).sample(circuit_for((1, 0, 1, 0), (1,)), 2)
    control(qpus[0], "/_reset", {"results": ["0101"]})
    with pytest.raises(QPUError, match="returned 1 samples for a request of 2"):
        OrcaBackend(qpus[0]).sample(circuit_for((1, 0, 1, 0), (1,)), 2)


def test_the_token_never_shows(qpus):
    control(qpus[0], "/_reset", {"error_message": f"invalid token {TOKEN}"})
    backend = OrcaBackend(qpus[0], token=TOKEN)
    job = backend.sample_async(circuit_for((1, 1), (1,)), 10)
    with pytest.raises(QPUError) as err:
        job.get()
    shown = [repr(backend), str(backend), repr(job), str(err.value), repr(err.value)]
    assert "invalid token ***" in str(err.value)
    assert all(TOKEN not in text for text in shown)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert TOKEN not in repr(vars(backend))


def test_url_credentials_are_redacted(qpus):
    backend = OrcaBackend("http://alice:pw-123@127.0.0.1:1/?api_key=k-456", token=TOKEN)
    assert "pw-123" not in repr(backend) and "k-456" not in repr(backend)
    assert "127.0.0.1:1" in repr(backend)
    with pytest.raises(QPUError, match=r"QPU 0 \(http://\*\*\*@127\.0\.0\.1:1") as err:
        backend.sample(circuit_for((1, 1), (1,)), 10)  # nothing listens on port 1
    assert "pw-123" not in str(err.value) and "k-456" not in str(err.value)


def test_bad_arguments_are_refused(qpus):
    with pytest.raises(ValueError, match=r"qpu_id=2 is outside \[0, 1\]"):
        OrcaBackend(",".join(qpus), qpu_id=2)
    with pytest.raises(ValueError, match="max_shots_per_request=0"):
        OrcaBackend(qpus[0], max_shots_per_request=0)
    with pytest.raises(ValueError, match=r"urls\[1\]='ftp://x' is not an http"):
        OrcaBackend([qpus[0], "ftp://x"])
    backend = OrcaBackend(qpus[0])
    with pytest.raises(ValueError, match="use sample_batch"):
        backend.sample(TBICircuit((1, 1), (1,), np.zeros((2, 1))), 10)
    with pytest.raises(ValueError, match=r"qpu_id=1 is outside \[0, 0\]"):
        backend.sample_async(circuit_for((1, 1), (1,)), 10, qpu_id=1)
    assert backend.sample(circuit_for((1, 1), (1,)), 0).shots == 0
    assert submits(qpus[0]) == []
