"""The orca backend, with either client, against loopback ORCA-protocol servers.

The servers (``fake_orca_qpus.py``, through the ``fake_qpus`` fixture of ``conftest.py``) run
in a child process: ``cudaq.orca.sample_async`` sends its POST while holding the GIL, so a
server thread inside the test process would never answer. Each server is one "QPU"; it
records every request and answers with samples drawn from our exact distribution.
"""

import json
import math
import threading
import time
import urllib.request

import numpy as np
import pytest

cudaq = pytest.importorskip("cudaq")

from qnn.errors import BackendUnavailableError, QPUError  # noqa: E402
from qnn.photonics import TBICircuit, fock_basis, get_backend  # noqa: E402
from qnn.photonics.backends.orca import OrcaBackend, OrcaJob, split_shots  # noqa: E402
from qnn.photonics.pool import PoolError, orca_pool  # noqa: E402
from qnn.photonics.slos import fock_probabilities  # noqa: E402

pytestmark = pytest.mark.cudaq

TOKEN = "tok-7Hq2-s3cr3t"

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def control(url, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url + path, data=data,
                                     headers={"Content-Type": "application/json"})
    with _direct.open(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def qpus(fake_qpus):
    """The two recording QPUs' URLs, reset, with a clean environment."""
    return fake_qpus.urls


@pytest.fixture(params=["cudaq", "http"])
def client(request):
    """Both clients must speak the same protocol."""
    return request.param


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
def test_sends_the_circuit_and_the_token(qpus, client):
    circuit = circuit_for((1, 0, 1, 0), (1, 2))
    backend = OrcaBackend(qpus[0], token=TOKEN, client=client)
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


def test_both_clients_send_the_same_bytes(qpus):
    """Our client speaks CUDA-Q's protocol exactly, plus an Idempotency-Key; the job id that
    CUDA-Q's future holds is the one the QPU gave."""
    circuit = circuit_for((1, 0, 1, 0), (1, 2), seed=7)
    jobs = [OrcaBackend(qpus[0], token=TOKEN, client=c).sample_async(circuit, 30)
            for c in ("cudaq", "http")]
    assert [job.job_ids for job in jobs] == [("job-0",), ("job-1",)]
    assert [job.get().shots for job in jobs] == [30, 30]
    cudaq_post, http_post = submits(qpus[0])
    assert http_post["raw"] == cudaq_post["raw"]
    assert http_post["authorization"] == cudaq_post["authorization"] == f"Bearer {TOKEN}"
    assert cudaq_post["idempotency_key"] is None and len(http_post["idempotency_key"]) == 32


def test_no_phase_shifters_send_an_empty_list(qpus, client):
    backend = OrcaBackend(qpus[0], client=client)
    backend.sample(circuit_for((1, 1, 0), (1,), phases=False), 10)
    [post] = submits(qpus[0])
    assert post["body"]["ps_angles"] == []
    assert post["authorization"] == "Bearer "  # ORCA_AUTH_TOKEN unset


def test_shots_are_split_into_requests(qpus, client):
    backend = OrcaBackend(qpus[0], max_shots_per_request=400, client=client)
    hist = backend.sample(circuit_for((1, 0, 1, 0), (1,)), 1000)
    assert [r["body"]["n_samples"] for r in submits(qpus[0])] == [400, 400, 200]
    assert hist.shots == 1000
    assert split_shots(800, 400) == [400, 400] and split_shots(0, 400) == []


def test_histogram_follows_the_exact_distribution(qpus, client):
    circuit = circuit_for((1, 0, 1, 0, 1), (1, 2), seed=4)
    shots = 4000
    hist = OrcaBackend(qpus[0], max_shots_per_request=1500, client=client).sample(circuit, shots)
    assert hist.shots == shots and hist.detection == "pnr"
    expected = fock_probabilities(circuit.unitary(), circuit.input_state).numpy()
    index = {tuple(r): i for i, r in enumerate(fock_basis(5, 3).tolist())}
    observed = np.zeros_like(expected)
    for pattern, count in hist.to_dict().items():
        observed[index[pattern]] += count / shots
    assert 0.5 * np.abs(observed - expected).sum() < tvd_bound(expected, shots)


def test_threshold_detection_reports_clicks(qpus, client):
    backend = OrcaBackend(qpus[0], client=client)
    hist = backend.sample(circuit_for((2, 0, 1), (1,)), 500, detection="threshold")
    assert hist.detection == "threshold" and hist.shots == 500
    assert hist.patterns.max() <= 1


def test_two_qpus_receive_their_jobs_through_sample_async(qpus, client):
    backend = OrcaBackend(",".join(qpus), max_shots_per_request=250, client=client)
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


def test_sample_batch_submits_every_parameter_set(qpus, client):
    circuit = circuit_for((1, 1, 0), (1,)).with_angles(np.zeros((3, 2)))
    hists = OrcaBackend(qpus[1], client=client).sample_batch(circuit, 20)
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
def test_a_failing_qpu_gives_an_error_naming_it(qpus, client):
    control(qpus[1], "/_reset", {"error_message": "boom"})
    backend = OrcaBackend(",".join(qpus), client=client)
    job = backend.sample_async(circuit_for((1, 1), (1,)), 10, qpu_id=1)
    with pytest.raises(QPUError, match=r"QPU 1 \(http://127\.0\.0\.1:\d+\) failed: boom") as err:
        job.get()
    assert err.value.qpu_id == 1
    assert backend.sample(circuit_for((1, 1), (1,)), 10, seed=3).shots == 10  # QPU 0 is fine


def test_malformed_results_are_an_error(qpus, client):
    control(qpus[0], "/_reset", {"results": ["12", "0101"]})
    with pytest.raises(QPUError, match=r"QPU 0 .*'12' is not 4 decimal digits"):
        OrcaBackend(qpus[0], client=client).sample(circuit_for((1, 0, 1, 0), (1,)), 2)
    control(qpus[0], "/_reset", {"results": ["0101"]})
    with pytest.raises(QPUError, match="returned 1 samples for a request of 2"):
        OrcaBackend(qpus[0], client=client).sample(circuit_for((1, 0, 1, 0), (1,)), 2)


def test_the_token_never_shows(qpus, client):
    control(qpus[0], "/_reset", {"error_message": f"invalid token {TOKEN}"})
    backend = OrcaBackend(qpus[0], token=TOKEN, client=client)
    job = backend.sample_async(circuit_for((1, 1), (1,)), 10)
    with pytest.raises(QPUError) as err:
        job.get()
    shown = [repr(backend), str(backend), repr(job), str(err.value), repr(err.value)]
    assert "invalid token ***" in str(err.value)
    assert all(TOKEN not in text for text in shown)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert TOKEN not in repr(vars(backend))


def test_url_credentials_are_redacted(qpus, client):
    url = "http://alice:pw-123@127.0.0.1:1/?api_key=k-456"
    backend = OrcaBackend(url, token=TOKEN, client=client)
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


# --------------------------------------------------------------------------- the pool's retries
def requests_to(url):
    return control(url, "/_requests")


def test_a_timed_out_job_is_never_polled_again(qpus, client):
    """Hung jobs: each attempt polls at a growing pace until the pool's time-out, then
    stops; once the run ends the QPU hears nothing more and no thread is left behind."""
    control(qpus[0], "/_reset", {"running_polls": -1})
    pool = orca_pool([qpus[0]], client=client, retries=1, timeout=0.3, backoff=0.01)
    threads = threading.active_count()
    with pytest.raises(PoolError, match=r"QPU 0 did not finish job 0 within 0\.3 s"):
        pool.sample(circuit_for((1, 1), (1,)), 10)
    heard = len(requests_to(qpus[0]))
    time.sleep(1.0)
    assert len(requests_to(qpus[0])) == heard
    assert threading.active_count() == threads
    assert 2 <= heard - 2 <= 2 * 12  # two submissions; paced polls (5 ms doubling), not thousands


def test_a_wrong_token_is_sent_once(qpus, client):
    control(qpus[0], "/_reset", {"token": TOKEN})
    pool = orca_pool([qpus[0]], token="not-the-token", client=client, retries=3, backoff=0.01)
    with pytest.raises(PoolError, match="status.* 401.*wrong token") as info:
        pool.sample(circuit_for((1, 1), (1,)), 10)
    assert len(requests_to(qpus[0])) == 1
    assert info.value.__cause__.retryable is False
    assert "not-the-token" not in str(info.value)


def test_a_refused_submission_is_retried(qpus, client):
    """A 503 answer or a refused connection created no job: both clients retry it."""
    control(qpus[0], "/_reset", {"fail_submits": [0], "submit_status": 503})
    pool = orca_pool([qpus[0]], client=client, retries=1, backoff=0.01)
    assert pool.sample(circuit_for((1, 1), (1,)), 10).shots == 10
    assert len(submits(qpus[0])) == 2 and control(qpus[0], "/_jobs") == 1
    with pytest.raises(QPUError, match="connect") as info:
        OrcaBackend("http://127.0.0.1:1", client=client).sample(circuit_for((1, 1), (1,)), 10)
    assert info.value.retryable is True


def test_a_lost_submit_answer_is_resubmitted_only_with_a_key(qpus):
    """The QPU created the job but its answer was lost. Our client resubmits with the same
    key and the QPU answers with the first job: one job, one result. CUDA-Q's client cannot
    send a key, so the pool does not resubmit (that could run the job twice) and says so."""
    control(qpus[0], "/_reset", {"drop_submits": [0], "idempotent": True})
    pool = orca_pool([qpus[0]], client="http", retries=2, backoff=0.01)
    assert pool.sample(circuit_for((1, 1), (1,)), 10).shots == 10
    first, second = submits(qpus[0])
    assert first["idempotency_key"] == second["idempotency_key"] and first["raw"] == second["raw"]
    assert control(qpus[0], "/_jobs") == 1

    control(qpus[0], "/_reset", {"drop_submits": [0], "idempotent": True})
    pool = orca_pool([qpus[0]], client="cudaq", retries=2, backoff=0.01)
    with pytest.raises(PoolError, match="may have reached the QPU.*client='http'") as info:
        pool.sample(circuit_for((1, 1), (1,)), 10)
    assert info.value.__cause__.retryable is False
    assert len(submits(qpus[0])) == 1 and control(qpus[0], "/_jobs") == 1


def test_a_failed_job_is_resubmitted_as_a_new_job(qpus):
    """Once the QPU accepted a submission, a retry is a new job: a fresh key, or the QPU
    would answer with the failed job again."""
    control(qpus[0], "/_reset", {"error_message": "detector readout failed", "failed_jobs": 1,
                                 "idempotent": True})
    pool = orca_pool([qpus[0]], client="http", retries=1, backoff=0.01)
    assert pool.sample(circuit_for((1, 1), (1,)), 10).shots == 10
    first, second = submits(qpus[0])
    assert first["idempotency_key"] != second["idempotency_key"]
    assert control(qpus[0], "/_jobs") == 2


def test_each_request_of_a_split_job_has_its_own_key(qpus):
    """A job split into requests: one key per request (each has its own body), the same
    ones again when the submission is retried, so accepted requests are not run twice."""
    control(qpus[0], "/_reset", {"fail_submits": [2], "idempotent": True})
    pool = orca_pool([qpus[0]], client="http", max_shots_per_request=4, retries=1, backoff=0.01)
    assert pool.sample(circuit_for((1, 1), (1,)), 10).shots == 10
    keys = [r["idempotency_key"] for r in submits(qpus[0])]
    assert [k.rsplit(".", 1)[1] for k in keys] == ["0", "1", "2", "0", "1", "2"]
    assert keys[:3] == keys[3:] and len({k.rsplit(".", 1)[0] for k in keys}) == 1
    assert control(qpus[0], "/_jobs") == 3


def test_cudaq_does_not_resubmit_a_partly_accepted_job(qpus):
    control(qpus[0], "/_reset", {"fail_submits": [1]})
    pool = orca_pool([qpus[0]], client="cudaq", max_shots_per_request=4, retries=2,
                     backoff=0.01)
    with pytest.raises(PoolError, match="1 earlier request.*would run again"):
        pool.sample(circuit_for((1, 1), (1,)), 10)
    assert len(submits(qpus[0])) == 2
