"""The QPU pool against emulator processes with injected faults, with each client: abandoned
jobs stop polling, a wrong token is sent once, a lost submit answer never runs a job twice.

Requests are counted by the emulators themselves (``GET /_emulator/stats``, which counts
itself too). Emulators run in child processes: CUDA-Q's client holds the GIL while it submits.
"""

import importlib.util
import json
import threading
import time
import urllib.request

import numpy as np
import pytest

from qnn.emulator import EmulatorProcess, FaultModel
from qnn.emulator.server import STATS_PATH
from qnn.photonics import TBICircuit
from qnn.photonics.pool import Job, PoolError, orca_pool

TOKEN = "pool-fault-token"
CLIENTS = [
    "http",
    pytest.param("cudaq", marks=pytest.mark.skipif(
        importlib.util.find_spec("cudaq") is None, reason="needs cudaq")),
]
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def stats(url):
    request = urllib.request.Request(url + STATS_PATH, headers={"Authorization": f"Bearer {TOKEN}"})
    with _direct.open(request, timeout=10) as response:
        return json.load(response)


def routed(k, n_modes=8):
    """Job ``k``: one photon to bin ``k % 8``, ``20 + k`` shots; its histogram names it."""
    mode = k % n_modes
    angles = [np.pi / 2] * mode + [0.0] * (n_modes - 1 - mode)
    circuit = TBICircuit([1] + [0] * (n_modes - 1), [1], angles)
    return Job(circuit, 20 + k), {tuple(int(m == mode) for m in range(n_modes)): 20 + k}


def emulators(faults, n=2):
    return [EmulatorProcess(token=TOKEN, faults=faults, seed=10 + i) for i in range(n)]


@pytest.mark.parametrize("orca_client", CLIENTS)
def test_abandoned_jobs_leave_the_emulators_quiet(orca_client):
    """Half the jobs hang: the pool times them out and retries. Once the run is over, the
    emulators hear nothing more (CUDA-Q's own poller would keep asking for ever) and no
    thread is left behind."""
    qpus = emulators(FaultModel(fail_rate=0.5, kinds=("hang",)))
    with qpus[0], qpus[1]:
        threads = threading.active_count()
        pool = orca_pool([q.url for q in qpus], token=TOKEN, client=orca_client, retries=8,
                         timeout=0.4, backoff=0.01)
        jobs, expected = zip(*(routed(k) for k in range(8)), strict=True)
        try:
            hists = pool.run(list(jobs))
        except PoolError as err:  # eight hangs in a row: possible, and beside the point
            hists = [err.results.get(i) for i in range(len(jobs))]
        before = [stats(q.url) for q in qpus]
        time.sleep(1.0)
        after = [stats(q.url) for q in qpus]
        assert [a["requests"] - b["requests"] for a, b in zip(after, before, strict=True)] == [1, 1]
        assert threading.active_count() == threads
        assert sum(s["submitted"] for s in after) > len(jobs)  # some jobs did hang
        assert all(h is None or h.to_dict() == e for h, e in zip(hists, expected, strict=True))


@pytest.mark.parametrize("orca_client", CLIENTS)
def test_a_wrong_token_is_one_request(orca_client):
    with EmulatorProcess(token=TOKEN) as qpu:
        before = stats(qpu.url)["requests"]
        pool = orca_pool([qpu.url], token="not-the-token", client=orca_client, retries=3,
                         backoff=0.01)
        with pytest.raises(PoolError, match="401.*wrong token") as info:
            pool.run([routed(0)[0]])
        assert stats(qpu.url)["requests"] - before == 2  # the submission, and this stats call
        assert "not-the-token" not in str(info.value)


def test_lost_submit_answers_never_run_a_job_twice_with_the_http_client():
    """Half the submit answers are lost after the job was created: the pool resubmits with
    the same Idempotency-Key, the emulator answers with the first job, each job runs once."""
    qpus = emulators(FaultModel(fail_rate=0.5, kinds=("drop",)))
    with qpus[0], qpus[1]:
        pool = orca_pool([q.url for q in qpus], token=TOKEN, retries=10, backoff=0.01)
        jobs, expected = zip(*(routed(k) for k in range(16)), strict=True)
        hists = pool.run(list(jobs))
        counters = [stats(q.url) for q in qpus]
    assert [h.to_dict() for h in hists] == list(expected)
    assert sum(s["submitted"] for s in counters) == len(jobs)
    dropped = sum(s["dropped"] for s in counters)
    assert dropped > 0 and sum(s["deduplicated"] for s in counters) == dropped


@pytest.mark.parametrize("orca_client", CLIENTS[1:])
def test_lost_submit_answers_are_not_resubmitted_by_cudaq(orca_client):
    """CUDA-Q's client cannot send a key: a lost answer fails the job instead of risking a
    second run, and the error says which client can retry it."""
    with EmulatorProcess(token=TOKEN, faults=FaultModel(fail_rate=1.0, kinds=("drop",))) as qpu:
        pool = orca_pool([qpu.url], token=TOKEN, client=orca_client, retries=3, backoff=0.01)
        with pytest.raises(PoolError, match="may have reached the QPU.*client='http'"):
            pool.run([routed(0)[0], routed(1)[0]])
        counters = stats(qpu.url)
    assert counters["submitted"] == counters["dropped"] == 1  # job 1 was skipped, not sent
