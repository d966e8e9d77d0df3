"""Job lifetime (expiry, the job cap), idempotency keys and the ``drop`` fault."""

import json
import threading
import time

import pytest

from qnn.emulator import FaultModel
from qnn.emulator.server import FAULT_KINDS

HANG = FaultModel(fail_rate=1.0, kinds=("hang",))
DROP = FaultModel(fail_rate=1.0, kinds=("drop",))


def test_finished_results_expire_after_result_ttl(serve):
    client = serve(result_ttl=0.3)
    status, answer = client.submit()
    job_id = answer["job_id"]
    assert client.wait_for(job_id)[0] == 200
    time.sleep(0.4)
    status, answer = client.get(f"/v1/get_job/{job_id}")
    # Never the exact "Job can't be found": the CUDA-Q client would poll that for ever.
    assert status == 404 and answer["error_message"] != "Job can't be found"
    assert f"job '{job_id}' expired" in answer["error_message"]
    assert "result_ttl=0.3 s" in answer["error_message"]
    stats = client.stats()
    assert stats["held"] == 0 and stats["expired"] == 1


def test_the_oldest_finished_job_is_evicted_beyond_max_jobs(serve):
    client = serve(max_jobs=2)
    ids = []
    for _ in range(3):
        ids.append(client.submit()[1]["job_id"])
        assert client.wait_for(ids[-1])[0] == 200
    status, answer = client.get(f"/v1/get_job/{ids[0]}")
    assert status == 404
    assert "expired: evicted to keep at most max_jobs=2" in answer["error_message"]
    assert [client.wait_for(i)[0] for i in ids[1:]] == [200, 200]
    stats = client.stats()
    assert stats["held"] == 2 and stats["evicted"] == 1


def test_live_jobs_are_never_evicted_and_a_full_device_answers_503(serve):
    client = serve(max_jobs=2, faults=HANG, result_ttl=0.1)
    ids = [client.submit()[1]["job_id"] for _ in range(2)]
    status, answer = client.submit()
    assert status == 503 and "device busy: 2 jobs are queued or running" in answer["error_message"]
    time.sleep(0.2)  # longer than result_ttl: live jobs do not expire either
    for job_id in ids:
        assert client.get(f"/v1/get_job/{job_id}")[1] == {"job_status": "running"}
    stats = client.stats()
    assert stats["busy"] == 1 and stats["submitted"] == 2 and stats["held"] == 2


def test_an_unknown_id_is_not_said_to_have_expired(client):
    status, answer = client.get("/v1/get_job/" + "f" * 500)
    assert status == 404 and answer["error_message"].startswith("no job with id 'fff")
    assert "expired" not in answer["error_message"] and len(answer["error_message"]) < 120


def test_a_resubmission_with_the_same_key_runs_nothing_new(client, good):
    first = client.submit(good, Idempotency_Key="run-7/job-3")
    # The same request spelled differently (key order, spacing) is the same request.
    respelled = json.dumps(dict(reversed(good.items())), indent=2).encode()
    again = client.submit(respelled, Idempotency_Key="run-7/job-3")
    assert first[0] == again[0] == 200 and first[1]["job_id"] == again[1]["job_id"]
    assert client.wait_for(first[1]["job_id"])[0] == 200
    stats = client.stats()
    assert stats["submitted"] == 1 and stats["completed"] == 1 and stats["deduplicated"] == 1


def test_the_same_key_with_another_body_is_422(client, good):
    job_id = client.submit(good, Idempotency_Key="k1")[1]["job_id"]
    status, answer = client.submit({**good, "n_samples": 51}, Idempotency_Key="k1")
    assert status == 422
    assert f"Idempotency-Key 'k1' was first used for job {job_id}" in answer["error_message"]
    assert client.stats()["submitted"] == 1


def test_submissions_without_a_key_are_never_deduplicated(client, good):
    ids = {client.submit(good)[1]["job_id"] for _ in range(2)}
    assert len(ids) == 2 and client.stats()["deduplicated"] == 0


def test_concurrent_resubmissions_make_one_job(client, good):
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(client.submit(good, Idempotency_Key="c")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len({answer["job_id"] for _, answer in answers}) == 1 and len(answers) == 8
    assert client.stats()["submitted"] == 1


def test_a_key_expires_with_its_job(serve, good):
    client = serve(result_ttl=0.2)
    first = client.submit(good, Idempotency_Key="k")[1]["job_id"]
    client.wait_for(first)
    time.sleep(0.3)
    second = client.submit(good, Idempotency_Key="k")[1]["job_id"]
    assert second != first and client.stats()["submitted"] == 2


def test_drop_runs_the_job_but_loses_the_reply_and_a_keyed_retry_recovers_it(serve, good):
    assert "drop" in FAULT_KINDS
    client = serve(faults=DROP)
    assert client.submit(good, Idempotency_Key="lost") == (None, None)
    status, answer = client.submit(good, Idempotency_Key="lost")  # no fault on a known key
    assert status == 200
    status, answer = client.wait_for(answer["job_id"])
    assert status == 200 and len(answer["results"]) == good["n_samples"]
    stats = client.stats()
    assert stats["submitted"] == 1 and stats["dropped"] == 1 and stats["deduplicated"] == 1
    assert stats["completed"] == 1


def test_a_naive_retry_after_a_drop_runs_the_job_twice(serve, good):
    client = serve(faults=DROP)
    assert client.submit(good) == client.submit(good) == (None, None)
    deadline = time.monotonic() + 5
    while client.stats()["completed"] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.stats()["submitted"] == client.stats()["completed"] == 2


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_fault_kind_is_accepted(kind):
    assert FaultModel(fail_rate=0.5, kinds=(kind,)).kinds == (kind,)
