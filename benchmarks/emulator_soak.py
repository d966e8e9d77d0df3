"""Soak the QPU pool against two faulty PT emulators: many clients, thousands of jobs through
``orca_pool``, a share of every injected fault kind. Checks that no job is lost, none gets
another job's histogram, none runs twice, and that nothing polls or runs after the run.

Run as ``python benchmarks/emulator.py --soak [options]`` or ``python benchmarks/emulator_soak.py``.

Job ``k`` routes one photon from bin 0 to bin ``k % 8`` with ``20 + k // 8`` shots, so its
histogram, ``{e_(k % 8): 20 + k // 8}``, names the job: a histogram delivered to the wrong
job, merged from two jobs or short of samples is caught. Duplicates are counted at the
emulators: every job they created must be one whose id a client was given (a job created
for a submission whose answer was lost, then created again by a retry, is one too many).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass

import numpy as np

from qnn.emulator import EmulatorProcess, FaultModel
from qnn.emulator.server import FAULT_KINDS, STATS_PATH
from qnn.errors import QPUError
from qnn.photonics import Histogram, TBICircuit
from qnn.photonics.pool import Job, PoolError, QPUPool, orca_pool

SEED = 2024
N_MODES = 8
BASE_SHOTS = 20
BATCH = 16  # jobs per pool.run call of one client
STATS_TIMEOUT_S = 10.0
QUIET_S = 1.0  # how long the emulators are watched after the run


@dataclass(frozen=True)
class Settings:
    jobs: int
    clients: int
    fail_rate: float
    kinds: tuple[str, ...]
    timeout: float
    retries: int
    client: str
    latency: tuple[float, float]


@dataclass(frozen=True)
class Report:
    """What the soak found; every count but the throughput must be zero for a pass."""

    jobs: int
    wall_s: float
    jobs_per_s: float
    lost: int
    misattributed: int
    duplicated: int
    leaked_threads: int
    requests_after_run: int | None  # None: the emulators count no requests
    emulator_cpu_ms_after_run: float
    jobs_created: int
    job_ids_given: int
    deduplicated: int | None
    attempt_errors: dict[str, int]
    stats: list[dict]


# --------------------------------------------------------------------------- jobs
def routed(job: int) -> tuple[TBICircuit, int, dict[tuple[int, ...], int]]:
    """Job ``job``'s circuit, shots and the only histogram it may return."""
    mode, shots = job % N_MODES, BASE_SHOTS + job // N_MODES
    angles = [np.pi / 2] * mode + [0.0] * (N_MODES - 1 - mode)  # π/2 swaps the photon on
    circuit = TBICircuit([1] + [0] * (N_MODES - 1), [1], angles)
    return circuit, shots, {tuple(int(m == mode) for m in range(N_MODES)): shots}


class Recorder:
    """An ``orca`` backend that records the job ids it was given and the errors it saw."""

    name = "orca"

    def __init__(self, inner) -> None:
        self.inner, self.lock = inner, threading.Lock()
        self.job_ids: set[str] = set()
        self.errors: Counter[str] = Counter()

    def sample(self, *args, **kwargs) -> Histogram:
        return self.inner.sample(*args, **kwargs)

    def sample_batch(self, *args, **kwargs) -> list[Histogram]:
        return self.inner.sample_batch(*args, **kwargs)

    def sample_async(self, *args, **kwargs) -> RecordedJob:
        try:
            handle = self.inner.sample_async(*args, **kwargs)
        except QPUError as err:
            self.count("submit", err)
            raise
        with self.lock:
            self.job_ids.update(handle.job_ids)
        return RecordedJob(self, handle)

    def count(self, stage: str, err: QPUError) -> None:
        kind = type(err).__name__ if err.retryable else f"{type(err).__name__}, final"
        with self.lock:
            self.errors[f"{stage}: {kind}"] += 1


class RecordedJob:
    def __init__(self, recorder: Recorder, handle) -> None:
        self.recorder, self.handle = recorder, handle

    def get(self, timeout: float | None = None) -> Histogram:
        try:
            return self.handle.get(timeout)
        except QPUError as err:
            self.recorder.count("job", err)
            raise

    def cancel(self) -> None:
        self.handle.cancel()


def client(pool: QPUPool, indices: list[int], results: dict, failures: dict) -> None:
    """One client thread: its jobs in batches through ``pool.run``; failures are kept."""
    for start in range(0, len(indices), BATCH):
        batch = indices[start : start + BATCH]
        jobs = [Job(*routed(k)[:2]) for k in batch]
        try:
            hists = pool.run(jobs)
        except PoolError as err:
            hists = [err.results.get(i) for i in range(len(batch))]
            for i, why in err.failures.items():
                failures[batch[i]] = str(why)[:300]
        for k, hist in zip(batch, hists, strict=True):
            if hist is not None:
                results[k] = hist


# --------------------------------------------------------------------------- emulators
def emulator_stats(url: str, token: str) -> dict:
    request = urllib.request.Request(url + STATS_PATH, headers={"Authorization": f"Bearer {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=STATS_TIMEOUT_S) as response:
        return json.loads(response.read())


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quiet_after(emulators: Sequence[EmulatorProcess], token: str) -> tuple[int | None, float]:
    """Requests the emulators received, and CPU ms they used, over :data:`QUIET_S` of quiet.

    The second stats request is itself counted where the emulator counts requests.
    """
    before = [emulator_stats(e.url, token) for e in emulators]
    cpu = sum(cpu_seconds(e.pid) for e in emulators)
    time.sleep(QUIET_S)
    cpu = sum(cpu_seconds(e.pid) for e in emulators) - cpu
    after = [emulator_stats(e.url, token) for e in emulators]
    if not all("requests" in s for s in before):
        return None, cpu * 1e3
    heard = sum(a["requests"] - b["requests"] - 1 for a, b in zip(after, before, strict=True))
    return heard, cpu * 1e3


# --------------------------------------------------------------------------- the soak
def soak(settings: Settings) -> Report:
    token = secrets.token_hex(16)
    faults = FaultModel(settings.fail_rate, settings.kinds, settings.latency)
    with ExitStack() as stack:
        emulators = []
        for i in range(2):
            emulator = EmulatorProcess(token=token, faults=faults, seed=SEED + i)
            stack.callback(emulator.stop)
            emulators.append(emulator.start())
        threads_before = threading.active_count()
        pool = orca_pool([e.url for e in emulators], token=token, client=settings.client,
                         retries=settings.retries, timeout=settings.timeout, backoff=0.01,
                         max_backoff=0.2)
        pool.backends = recorders = [Recorder(b) for b in pool.backends]
        results: dict[int, Histogram] = {}
        failures: dict[int, str] = {}
        workers = [
            threading.Thread(target=client, name=f"client-{c}",
                             args=(pool, list(range(c, settings.jobs, settings.clients)),
                                   results, failures))
            for c in range(settings.clients)
        ]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall = time.perf_counter() - start
        leaked = threading.active_count() - threads_before
        heard, cpu_ms = quiet_after(emulators, token)
        stats = [emulator_stats(e.url, token) for e in emulators]
    return summarise(settings, wall, results, failures, recorders, stats, leaked, heard, cpu_ms)


def summarise(settings: Settings, wall: float, results: dict, failures: dict,
              recorders: list[Recorder], stats: list[dict], leaked: int, heard: int | None,
              cpu_ms: float) -> Report:
    misattributed = sum(hist.to_dict() != routed(k)[2] for k, hist in results.items())
    created = sum(s["submitted"] for s in stats)
    given = sum(len(r.job_ids) for r in recorders)
    dedup = [s.get("deduplicated") for s in stats]
    errors = sum((r.errors for r in recorders), Counter())
    if failures:
        first = min(failures)
        print(f"{len(failures)} jobs failed; first: job {first}: {failures[first]}",
              file=sys.stderr)
    return Report(
        jobs=settings.jobs, wall_s=wall, jobs_per_s=settings.jobs / wall,
        lost=settings.jobs - len(results), misattributed=misattributed,
        duplicated=created - given, leaked_threads=leaked, requests_after_run=heard,
        emulator_cpu_ms_after_run=cpu_ms, jobs_created=created, job_ids_given=given,
        deduplicated=None if None in dedup else sum(dedup), attempt_errors=dict(errors),
        stats=stats,
    )


# --------------------------------------------------------------------------- command line
def parse_args(argv: Sequence[str] | None) -> tuple[Settings, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--fail-rate", type=float, default=0.2)
    parser.add_argument("--kinds", default=",".join(FAULT_KINDS),
                        help=f"fault kinds (default: all the emulator has, {FAULT_KINDS})")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per attempt")
    parser.add_argument("--retries", type=int, default=10)
    parser.add_argument("--client", choices=("http", "cudaq"), default="http")
    parser.add_argument("--latency", default="0,0.005", help="LO,HI seconds per job")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    args = parser.parse_args(argv)
    low, high = (float(x) for x in args.latency.split(","))
    kinds = tuple(k for k in args.kinds.split(",") if k)
    settings = Settings(args.jobs, args.clients, args.fail_rate, kinds, args.timeout,
                        args.retries, args.client, (low, high))
    return settings, args.json


def main(argv: Sequence[str] | None = None) -> int:
    settings, json_path = parse_args(argv)
    print(f"soak: {settings}", flush=True)
    report = soak(settings)
    for key, value in asdict(report).items():
        if key != "stats":
            print(f"{key:>26}: {value}")
    for qpu, stats in enumerate(report.stats):
        print(f"{'emulator ' + str(qpu):>26}: {stats}")
    if json_path:
        with open(json_path, "w") as handle:
            json.dump({"settings": asdict(settings), "report": asdict(report)}, handle, indent=2)
    bad = (report.lost, report.misattributed, report.duplicated, report.leaked_threads,
           report.requests_after_run or 0)
    return 1 if any(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
