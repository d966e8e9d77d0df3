"""Our ORCA HTTP client and poller against loopback QPUs (no cudaq needed): paced polls that
stop at a deadline or on cancel, errors that say whether a request reached the QPU."""

import pickle
import threading
import time
from itertools import islice

import pytest

from qnn.errors import QPUError, QPUTimeoutError
from qnn.photonics import TBICircuit
from qnn.photonics.backends import AsyncBackend, JobHandle, orca
from qnn.photonics.backends.orca import Backoff, OrcaBackend, request_keys
from qnn.photonics.backends.orca_http import HttpSession, RequestError, submit_body

TOKEN = "tok-Zq81-s3cr3t"
CIRCUIT = TBICircuit((1, 1), (1,), (0.3,))


@pytest.fixture
def http_backend(fake_qpus, monkeypatch):
    """An http-client backend on QPU 0, in a process where cudaq would fail to import."""

    def no_cudaq():
        raise AssertionError("client='http' must not import cudaq")

    monkeypatch.setattr(orca, "import_cudaq", no_cudaq)
    return OrcaBackend(fake_qpus.urls[0], token=TOKEN, client="http")


def test_the_http_client_samples_without_cudaq(fake_qpus, http_backend):
    job = http_backend.sample_async(CIRCUIT, 25)
    assert isinstance(http_backend, AsyncBackend) and isinstance(job, JobHandle)
    assert job.get().shots == 25 and job.job_ids == ("job-0",)
    [post] = fake_qpus.submits(0)
    assert post["raw"].encode() == submit_body(CIRCUIT.to_dict(), 25)
    assert post["authorization"] == f"Bearer {TOKEN}"


def test_polls_are_paced_and_stop_at_the_deadline(fake_qpus, http_backend):
    """A hung job over 1 s: 5 ms doubling to 0.5 s is about eight polls, not thousands; after
    the time-out nothing polls it."""
    fake_qpus.reset(0, running_polls=-1)
    job = http_backend.sample_async(CIRCUIT, 10)
    start = time.monotonic()
    with pytest.raises(QPUTimeoutError, match=r"QPU 0 .* did not finish jobs \['job-0'\] within 1"):
        job.get(timeout=1.0)
    assert 1.0 <= time.monotonic() - start < 2.5
    polls = len(fake_qpus.polls(0))
    assert 5 <= polls <= 12
    time.sleep(0.5)
    assert len(fake_qpus.polls(0)) == polls


def test_cancel_stops_a_get_in_progress_at_once(fake_qpus, http_backend):
    fake_qpus.reset(0, running_polls=-1)
    job = http_backend.sample_async(CIRCUIT, 10)
    errors = []
    waiter = threading.Thread(target=lambda: errors.append(pytest.raises(QPUError, job.get)))
    waiter.start()
    time.sleep(1.2)  # the pause between polls has grown to its 0.5 s cap
    cancelled = time.monotonic()
    job.cancel()
    waiter.join(2)
    assert not waiter.is_alive() and time.monotonic() - cancelled < 0.4  # not a 0.5 s pause
    assert "cancelled" in str(errors[0].value) and errors[0].value.retryable is False
    polls = len(fake_qpus.polls(0))
    time.sleep(0.6)
    assert len(fake_qpus.polls(0)) == polls
    with pytest.raises(QPUError, match="cancelled"):
        job.get()


def test_job_not_found_keeps_polling_like_cudaq(fake_qpus, http_backend):
    """CUDA-Q treats "Job can't be found" as "not yet visible"; so do we, up to the deadline."""
    fake_qpus.reset(0, error_message="Job can't be found")
    with pytest.raises(QPUTimeoutError):
        http_backend.sample_async(CIRCUIT, 10).get(timeout=0.3)
    fake_qpus.reset(0, error_message="detector readout failed")
    with pytest.raises(QPUError, match="failed: detector readout failed") as info:
        http_backend.sample(CIRCUIT, 10)
    assert info.value.retryable is True


def test_request_errors_say_whether_the_request_reached_the_qpu(fake_qpus):
    with pytest.raises(RequestError) as refused:
        HttpSession("http://127.0.0.1:1", None, 5.0).submit(b"{}", "k")
    assert refused.value.reached is False and refused.value.transient
    fake_qpus.reset(0, fail_submits=[0, 1], submit_status=422)
    session = HttpSession(fake_qpus.urls[0], None, 5.0)
    body = submit_body(CIRCUIT.to_dict(), 5)
    with pytest.raises(RequestError, match="HTTP status 422: injected submit failure") as info:
        session.submit(body, "k")
    assert info.value.status == 422 and not info.value.transient
    fake_qpus.reset(0, drop_submits=[0])
    with pytest.raises(RequestError, match="no answer") as dropped:
        session.submit(body, "k")
    assert dropped.value.reached and dropped.value.status is None and dropped.value.transient
    assert [RequestError("", status=s).transient for s in (429, 503, 401, 404)] == [
        True, True, False, False]


def test_wrong_token_is_final_and_never_shown(fake_qpus, http_backend):
    fake_qpus.reset(0, token="the-right-one")
    with pytest.raises(QPUError, match="HTTP status 401: authorization refused") as info:
        http_backend.sample(CIRCUIT, 10)
    assert info.value.retryable is False and TOKEN not in str(info.value)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(http_backend)


def test_keys_and_options():
    assert request_keys("k", 1) == ["k"] and request_keys("k", 3) == ["k.0", "k.1", "k.2"]
    assert len(request_keys(None, 1)[0]) == 32
    assert [round(p, 3) for p in islice(Backoff().pauses(), 9)] == [
        0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.5, 0.5]
    with pytest.raises(ValueError, match="client='curl': choose from"):
        OrcaBackend("http://pt1:8080", client="curl")
    with pytest.raises(ValueError, match="request_timeout=0 must be a positive"):
        OrcaBackend("http://pt1:8080", client="http", request_timeout=0)
    with pytest.raises(ValueError, match="longest=0.001 must be >= first=0.005"):
        Backoff(longest=0.001)
