"""QPU pool: ordering, concurrency, retries, time-outs, failures that keep finished work."""

import threading
import time

import numpy as np
import pytest

from qnn.errors import QPUError, QPUTimeoutError
from qnn.photonics import get_backend, random_tbi
from qnn.photonics.backends import AsyncBackend
from qnn.photonics.pool import Job, PoolError, QPUPool


class Flaky:
    """An exact backend that fails its first ``failures`` calls, or hangs, and logs calls."""

    name = "flaky"

    def __init__(self, failures=0, hang=False, error=None):
        self.inner, self.failures, self.hang = get_backend("exact"), failures, hang
        self.error = error or RuntimeError("HTTP 503")
        self.calls, self.active, self.max_active = 0, 0, 0
        self.lock = threading.Lock()

    def sample(self, circuit, shots, *, seed=None, detection="pnr"):
        with self.lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            fail = self.calls <= self.failures
        try:
            if self.hang:
                time.sleep(30)
            time.sleep(0.02)
            if fail:
                raise self.error
            return self.inner.sample(circuit, shots, seed=seed, detection=detection)
        finally:
            with self.lock:
                self.active -= 1


def circuits(n):
    return [random_tbi(4, (1,), rng=i) for i in range(n)]


def test_results_come_back_in_job_order_and_match_direct_sampling():
    pool = QPUPool([get_backend("exact"), get_backend("exact")])
    jobs = [Job(c, 200, qpu_id=i % 2) for i, c in enumerate(circuits(6))]
    hists = pool.run(jobs, seed=5)
    seeds = np.random.SeedSequence(5).spawn(6)
    for job, hist, seed in zip(jobs, hists, seeds, strict=True):
        assert hist == get_backend("exact").sample(
            job.circuit, 200, seed=np.random.default_rng(seed)
        )
    assert pool.run(jobs, seed=5) == hists  # deterministic whatever the timing


def test_qpus_run_in_parallel_but_one_job_at_a_time_each():
    qpus = [Flaky(), Flaky()]
    pool = QPUPool(qpus)
    pool.run([Job(c, 10) for c in circuits(8)], seed=0)
    assert [q.calls for q in qpus] == [4, 4]  # round robin
    assert [q.max_active for q in qpus] == [1, 1]


def test_transient_errors_are_retried():
    qpu = Flaky(failures=2)
    hist = QPUPool([qpu], retries=2, backoff=0.01).sample(circuits(1)[0], 50, seed=1)
    assert hist.shots == 50 and qpu.calls == 3


def test_a_down_qpu_names_itself_and_keeps_the_other_results():
    pool = QPUPool([get_backend("exact"), Flaky(failures=99)], retries=1, backoff=0.01)
    jobs = [Job(c, 20, qpu_id=i % 2) for i, c in enumerate(circuits(4))]
    with pytest.raises(
        PoolError, match="QPU 1 failed job 1 after 2 attempts: RuntimeError: HTTP 503"
    ) as info:
        pool.run(jobs, seed=0)
    assert sorted(info.value.results) == [0, 2] and sorted(info.value.failures) == [1, 3]
    assert info.value.qpu_id == 1 and info.value.job == 1
    assert "skipped job 3" in str(info.value.failures[3])


def test_a_hung_qpu_times_out():
    pool = QPUPool([Flaky(hang=True)], retries=0, timeout=0.2)
    start = time.perf_counter()
    with pytest.raises(PoolError) as info:
        pool.sample(circuits(1)[0], 10)
    assert time.perf_counter() - start < 5
    assert isinstance(info.value.__cause__, QPUTimeoutError)
    assert "QPU 0 did not finish job 0 within 0.2 s" in str(info.value)


def test_input_errors_are_not_retried():
    qpu = Flaky(failures=1, error=ValueError("bs_angles has 2 entries, expected 3"))
    with pytest.raises(PoolError, match="bs_angles has 2 entries") as info:
        QPUPool([qpu], retries=3, backoff=0.01).sample(circuits(1)[0], 5)
    assert qpu.calls == 1 and isinstance(info.value.__cause__, ValueError)


def test_bad_jobs_and_pools():
    with pytest.raises(ValueError, match=r"jobs\[0\].qpu_id=2 is outside \[0, 1\]"):
        QPUPool([get_backend("exact")] * 2).run([Job(circuits(1)[0], 5, qpu_id=2)])
    with pytest.raises(ValueError, match="at least one backend"):
        QPUPool([])
    with pytest.raises(ValueError, match="one parameter set"):
        Job(random_tbi(4, (1,), rng=0, batch=(2,)), 5)
    assert issubclass(PoolError, QPUError)


def test_a_pool_is_a_backend_for_batches():
    """``sample_batch`` spreads parameter sets over the QPUs and returns them in batch order."""
    from qnn.photonics import Backend

    qpus = [Flaky(), Flaky()]
    pool = QPUPool(qpus)
    assert isinstance(pool, Backend)
    circuit = random_tbi(4, (1,), rng=0, batch=(5,))
    hists = pool.sample_batch(circuit, 30, seed=np.random.default_rng(1), detection="threshold")
    assert [q.calls for q in qpus] == [3, 2]
    assert all(h.shots == 30 and h.detection == "threshold" for h in hists)


@pytest.mark.parametrize(("status", "attempts"), [(401, 1), (403, 1), (422, 1), (503, 3)])
def test_only_answers_that_can_change_are_retried(status, attempts):
    """A wrong token (401) is the same answer on every attempt; a busy QPU (503) is not."""
    qpu = Flaky(failures=5, error=QPUError(
        f"QPU 0 (http://pt1:8080) failed: HTTP POST Error - status code {status}: refused",
        qpu_id=0))
    with pytest.raises(PoolError, match=f"status code {status}"):
        QPUPool([qpu], retries=2, backoff=0.01).sample(circuits(1)[0], 5)
    assert qpu.calls == attempts


def test_the_pool_is_a_registered_backend(monkeypatch):
    from qnn.errors import BackendUnavailableError, QnnError
    from qnn.photonics import backend_names

    assert "pool" in backend_names()
    monkeypatch.delenv("ORCA_ACCESS_URL", raising=False)
    with pytest.raises(BackendUnavailableError, match="ORCA_ACCESS_URL"):
        get_backend("pool", retries=1)
    from qnn.emulator import ProtocolError
    assert issubclass(ProtocolError, QnnError) and issubclass(PoolError, QnnError)


class Handle:
    """A submitted job of :class:`Remote`: ``"ok"``, ``"hang"`` (until cancelled) or
    ``"fail"`` (the job ran and failed)."""

    def __init__(self, outcome, hist):
        self.outcome, self.hist = outcome, hist
        self.cancelled = threading.Event()
        self.polling = False

    def get(self, timeout=None):
        if self.outcome == "fail":
            raise QPUError("detector readout failed", qpu_id=0, retryable=True)
        if self.outcome == "hang":
            self.polling = True
            self.cancelled.wait(timeout)
            self.polling = False
            raise QPUTimeoutError("not finished", qpu_id=0, retryable=True)
        return self.hist

    def cancel(self):
        self.cancelled.set()


class Remote:
    """An asynchronous backend double: one scripted outcome per submission, in order.

    Submission outcomes: ``"lost"`` (its answer was lost: retryable), ``"final"`` (not
    retryable); job outcomes as :class:`Handle`. Records every key and handle.
    """

    name = "remote"

    def __init__(self, *script):
        self.script, self.keys, self.handles = list(script), [], []
        self.inner = get_backend("exact")

    def sample(self, circuit, shots, *, seed=None, detection="pnr"):
        raise AssertionError("the pool must submit asynchronously")

    def sample_batch(self, circuit, shots, *, seed=None, detection="pnr"):
        raise AssertionError("the pool must submit asynchronously")

    def sample_async(self, circuit, shots, qpu_id=None, *, detection="pnr",
                     idempotency_key=None):
        self.keys.append(idempotency_key)
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome in ("lost", "final"):
            raise QPUError(f"submission {outcome}", qpu_id=0, retryable=outcome == "lost")
        handle = Handle(outcome, self.inner.sample(circuit, shots, seed=0, detection=detection))
        self.handles.append(handle)
        return handle


def test_a_timed_out_async_job_is_cancelled_and_resubmitted_as_a_new_job():
    qpu = Remote("hang", "ok")
    assert isinstance(qpu, AsyncBackend)
    threads = threading.active_count()
    hist = QPUPool([qpu], retries=1, timeout=0.2, backoff=0.01).sample(circuits(1)[0], 20)
    assert hist.shots == 20
    hung, done = qpu.handles
    assert hung.cancelled.is_set() and not hung.polling and done.cancelled.is_set()
    assert qpu.keys[0] != qpu.keys[1]  # the first was accepted: a retry is another job
    assert threading.active_count() == threads  # nothing left waiting on the hung job


def test_a_lost_submission_is_retried_with_the_same_key():
    qpu = Remote("lost", "lost", "ok")
    assert QPUPool([qpu], retries=2, backoff=0.01).sample(circuits(1)[0], 20).shots == 20
    assert len(set(qpu.keys)) == 1 and len(qpu.keys) == 3
    assert qpu.keys[0].startswith("qnn-")


def test_a_failed_job_gets_a_new_key_and_keys_differ_between_jobs():
    qpu = Remote("fail", "ok", "ok")
    QPUPool([qpu], retries=1, backoff=0.01).run([Job(c, 5) for c in circuits(2)])
    assert len(set(qpu.keys)) == 3


def test_an_error_that_says_it_is_final_is_not_retried():
    """``retryable=False`` wins over the type-based rules (which would retry a QPUError)."""
    qpu = Remote("final", "ok")
    with pytest.raises(PoolError, match="submission final") as info:
        QPUPool([qpu], retries=3, backoff=0.01).sample(circuits(1)[0], 5)
    assert len(qpu.keys) == 1 and info.value.__cause__.retryable is False
