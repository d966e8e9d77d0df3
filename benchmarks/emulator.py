"""Soak the ORCA PT emulator through the real CUDA-Q client: throughput and latency vs clients.

``--soak [options]`` runs :mod:`emulator_soak` instead: faults of every kind through the pool.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from importlib import metadata

import numpy as np

from qnn.emulator import EmulatorProcess, FaultModel
from qnn.emulator.server import STATS_PATH
from qnn.photonics import Histogram, TBICircuit, get_backend, random_tbi
from qnn.photonics.backends.cudaq_sim import import_cudaq
from qnn.photonics.backends.orca import OrcaBackend

SEED = 2024
CLIENTS = (1, 4, 16)
QPU_COUNTS = (1, 2)
N_MODES, LOOPS = 6, (1, 2)  # input 1, 0, 1, 0, 1, 0: three photons
DEFAULT_JOBS, QUICK_JOBS = 3000, 300  # jobs per configuration
DEFAULT_SHOTS = 500
MAX_SHOTS = 5000  # the emulator's default per-request limit: one job is one request
WARMUP_JOBS = 3  # per QPU; the first compiles (or loads) the emulator's numba kernels
STATS_TIMEOUT_S = 10.0
TICK_S = 0.2  # how often the main thread wakes while clients run (so Ctrl-C is prompt)
DRAIN_S = 5.0  # on Ctrl-C, how long clients may finish their current job before teardown


class ShotCountError(RuntimeError):
    """A returned histogram does not hold the requested number of shots (or is corrupt)."""


class CounterMismatchError(RuntimeError):
    """The emulator's own counters disagree with the jobs the clients saw finish."""


@dataclass(frozen=True)
class Settings:
    """What one run measures, from the command line."""

    jobs: int
    shots: int
    latency: tuple[float, float]
    quick: bool


@dataclass(frozen=True)
class Soak:
    """What the client threads measured: wall time and each job's submit→histogram seconds."""

    wall_s: float
    latencies_s: list[float]
    per_qpu: list[int]  # jobs each QPU was given
    client_cpu_s: float


@dataclass(frozen=True)
class Row:
    """One configuration: ``qpus`` emulators, ``clients`` threads, ``jobs`` timed jobs.

    ``completed`` and ``max_running`` are the emulators' own counters after this
    configuration, one entry per QPU; they are cumulative over the configurations run
    against the same emulators (warm-up included). The CPU columns are ms per timed job.
    """

    qpus: int
    clients: int
    jobs: int
    shots: int
    wall_s: float
    jobs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_ms: float
    emulator_cpu_ms: float
    completed: list[int]
    max_running: list[int]


# --------------------------------------------------------------------------- environment
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process from ``/proc`` (NaN where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def environment() -> dict[str, object]:
    """Versions and the machine, for the header and the JSON record."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "cudaq": metadata.version("cudaq"),
        "numpy": np.__version__,
    }


def print_header(env: dict[str, object], settings: Settings) -> None:
    print("ORCA PT emulator soak through the CUDA-Q orca client")
    print(
        f"python {env['python']} | {env['platform']} | cpus {env['cpu_count']} "
        f"(usable {env['cpus_usable']}, load {env['load_avg_1m']}) | cudaq {env['cudaq']} "
        f"| numpy {env['numpy']}"
    )
    low, high = settings.latency
    print(
        f"circuit: {N_MODES} modes, loops {list(LOOPS)}, {(N_MODES + 1) // 2} photons | "
        f"{settings.jobs} jobs of {settings.shots} shots per configuration | injected "
        f"latency {low * 1e3:g}-{high * 1e3:g} ms | warm-up {WARMUP_JOBS} jobs per QPU"
    )
    print()


# --------------------------------------------------------------------------- emulators
def own_signals() -> None:
    """Make Ctrl-C and SIGTERM unwind through Python, so every emulator gets stopped.

    Importing ``cudaq`` installs a C-level SIGINT handler that prints "CTRL-C caught in
    cudaq runtime." and exits the process at once: no ``finally``, no context manager, and
    the emulator processes are orphaned. Python's record of the handler is unchanged by
    that, so it is installed again (after importing cudaq, so it cannot come after); a
    default SIGTERM becomes ``SystemExit``. Ignored signals (``nohup``, ``&``) stay ignored.
    """
    import_cudaq()
    signal.signal(signal.SIGINT, signal.getsignal(signal.SIGINT))
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def emulator_stats(url: str, token: str) -> dict[str, int]:
    """The emulator's own counters (``GET <url>/_emulator/stats``, with the bearer token)."""
    request = urllib.request.Request(url + STATS_PATH, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=STATS_TIMEOUT_S) as response:
        return json.loads(response.read())


def start_emulators(
    stack: ExitStack, n_qpus: int, token: str, settings: Settings
) -> list[EmulatorProcess]:
    """``n_qpus`` emulator processes, each stopped when ``stack`` closes.

    The stop is registered before the start, so a Ctrl-C while an emulator is still
    starting (``__enter__`` not yet returned) cannot orphan its process.
    """
    faults = FaultModel(latency=settings.latency)
    emulators = []
    for i in range(n_qpus):
        emulator = EmulatorProcess(token=token, faults=faults, seed=SEED + i)
        stack.callback(emulator.stop)
        emulators.append(emulator.start())
    return emulators


# --------------------------------------------------------------------------- jobs
def check_histogram(hist: Histogram, shots: int, n_photons: int, job: int, qpu: int) -> None:
    """Fail loudly unless ``hist`` holds ``shots`` samples of ``n_photons`` in ``N_MODES``."""
    total = int(np.sum(hist.counts))
    if hist.shots != shots or total != shots:
        raise ShotCountError(
            f"job {job} on QPU {qpu}: asked for {shots} shots, histogram has "
            f"shots={hist.shots}, counts sum to {total}"
        )
    photons = np.asarray(hist.patterns).sum(axis=1)
    if hist.patterns.shape[1] != N_MODES or np.any(photons != n_photons):
        raise ShotCountError(
            f"job {job} on QPU {qpu}: patterns of shape {hist.patterns.shape} with photon "
            f"numbers {sorted(set(photons.tolist()))}; expected {N_MODES} modes, {n_photons}"
        )


def run_job(backend: OrcaBackend, circuit: TBICircuit, shots: int, job: int, qpu: int) -> float:
    """Submit one job to ``qpu`` and wait for its histogram; the seconds it took."""
    start = time.perf_counter()
    hist = backend.sample_async(circuit, shots, qpu_id=qpu).get()
    elapsed = time.perf_counter() - start
    check_histogram(hist, shots, sum(circuit.input_state), job, qpu)
    return elapsed


def warm_up(backend: OrcaBackend, circuit: TBICircuit, n_qpus: int, shots: int) -> None:
    for qpu in range(n_qpus):
        for job in range(WARMUP_JOBS):
            run_job(backend, circuit, shots, -1 - job, qpu)


class JobCounter:
    """Hands out job indices ``0..jobs-1`` to client threads; job ``k`` goes to QPU ``k % K``."""

    def __init__(self, jobs: int) -> None:
        self.jobs, self._next, self._lock = jobs, 0, threading.Lock()
        self.stop = threading.Event()

    def take(self) -> int | None:
        with self._lock:
            if self.stop.is_set() or self._next >= self.jobs:
                return None
            self._next += 1
            return self._next - 1


def client(
    backend: OrcaBackend,
    circuit: TBICircuit,
    shots: int,
    n_qpus: int,
    counter: JobCounter,
    latencies: list[float],
    errors: list[BaseException],
) -> None:
    """One client thread: jobs back to back until the counter runs out or a job fails."""
    try:
        while (job := counter.take()) is not None:
            latencies.append(run_job(backend, circuit, shots, job, job % n_qpus))
    except BaseException as err:  # noqa: BLE001 - re-raised by the main thread
        errors.append(err)
        counter.stop.set()


def join_all(threads: Sequence[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def soak(
    backend: OrcaBackend, circuit: TBICircuit, settings: Settings, clients: int, n_qpus: int
) -> Soak:
    """``settings.jobs`` jobs from ``clients`` threads; raises the first client error."""
    counter = JobCounter(settings.jobs)
    latencies: list[float] = []
    errors: list[BaseException] = []
    args = (backend, circuit, settings.shots, n_qpus, counter, latencies, errors)
    threads = [
        threading.Thread(target=client, args=args, name=f"client-{i}", daemon=True)
        for i in range(clients)
    ]
    cpu, start = time.process_time(), time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(TICK_S)
    finally:
        counter.stop.set()  # on Ctrl-C, no client takes another job ...
        join_all(threads, DRAIN_S)  # ... and the one in flight ends before the emulators stop
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if errors:
        raise errors[0]
    per_qpu = [len(range(q, settings.jobs, n_qpus)) for q in range(n_qpus)]
    return Soak(wall, latencies, per_qpu, cpu)


# --------------------------------------------------------------------------- one configuration
def check_counters(before: list[dict], after: list[dict], per_qpu: list[int]) -> None:
    """Each emulator completed exactly the jobs it was given and failed none."""
    for qpu, (old, new, given) in enumerate(zip(before, after, per_qpu, strict=True)):
        done = new["completed"] - old["completed"]
        failed = new["failed"] - old["failed"] + new["refused"] - old["refused"]
        if done != given or failed or new["running"]:
            raise CounterMismatchError(
                f"QPU {qpu} was given {given} jobs; its counters say {done} completed, "
                f"{failed} failed or refused, {new['running']} still running ({new})"
            )


def make_row(
    n_qpus: int,
    clients: int,
    settings: Settings,
    run: Soak,
    stats: list[dict],
    emulator_cpu_s: float,
) -> Row:
    latencies_ms = np.asarray(run.latencies_s) * 1e3
    p50, p99 = np.percentile(latencies_ms, [50, 99])
    return Row(
        qpus=n_qpus,
        clients=clients,
        jobs=len(latencies_ms),
        shots=settings.shots,
        wall_s=run.wall_s,
        jobs_per_s=len(latencies_ms) / run.wall_s,
        p50_ms=float(p50),
        p99_ms=float(p99),
        max_ms=float(latencies_ms.max()),
        client_cpu_ms=run.client_cpu_s / len(latencies_ms) * 1e3,
        emulator_cpu_ms=emulator_cpu_s / len(latencies_ms) * 1e3,
        completed=[s["completed"] for s in stats],
        max_running=[s["max_running"] for s in stats],
    )


def run_configuration(
    emulators: Sequence[EmulatorProcess],
    token: str,
    backend: OrcaBackend,
    clients: int,
    settings: Settings,
    circuit: TBICircuit,
) -> Row:
    """One timed soak against running, warmed-up emulators, checked against their counters."""
    urls = [e.url for e in emulators]
    before = [emulator_stats(url, token) for url in urls]
    cpu_before = sum(cpu_seconds(e.pid) for e in emulators)
    run = soak(backend, circuit, settings, clients, len(emulators))
    cpu_after = sum(cpu_seconds(e.pid) for e in emulators)
    after = [emulator_stats(url, token) for url in urls]
    check_counters(before, after, run.per_qpu)
    return make_row(len(emulators), clients, settings, run, after, cpu_after - cpu_before)


def run_qpu_count(n_qpus: int, settings: Settings, circuit: TBICircuit) -> list[Row]:
    """Start ``n_qpus`` emulators, warm them up, soak at each client count, stop them all."""
    token = secrets.token_hex(16)
    with ExitStack() as stack:
        emulators = start_emulators(stack, n_qpus, token, settings)
        backend = get_backend("orca", urls=[e.url for e in emulators], token=token)
        own_signals()
        warm_up(backend, circuit, n_qpus, settings.shots)
        rows = []
        for clients in CLIENTS:
            rows.append(run_configuration(emulators, token, backend, clients, settings, circuit))
            print(
                f"  {n_qpus} QPU(s), {clients:2d} clients: {rows[-1].jobs_per_s:7.1f} jobs/s",
                file=sys.stderr,
                flush=True,
            )
    return rows


# --------------------------------------------------------------------------- report
COLUMNS = (
    ("QPUs", 4, "qpus", "d"),
    ("clients", 7, "clients", "d"),
    ("jobs", 6, "jobs", "d"),
    ("wall s", 7, "wall_s", ".2f"),
    ("jobs/s", 8, "jobs_per_s", ".1f"),
    ("p50 ms", 8, "p50_ms", ".2f"),
    ("p99 ms", 8, "p99_ms", ".2f"),
    ("max ms", 8, "max_ms", ".1f"),
    ("cli cpu ms/job", 14, "client_cpu_ms", ".2f"),
    ("emu cpu ms/job", 14, "emulator_cpu_ms", ".2f"),
)


def format_row(row: Row) -> str:
    cells = [f"{getattr(row, key):>{width}{spec}}" for _, width, key, spec in COLUMNS]
    counters = "/".join(map(str, row.completed)), "/".join(map(str, row.max_running))
    return "  ".join(cells) + f"  {counters[0]:>11}  {counters[1]:>11}"


def print_table(rows: Sequence[Row]) -> None:
    head = "  ".join(f"{title:>{width}}" for title, width, _, _ in COLUMNS)
    print(head + f"  {'completed':>11}  {'max_running':>11}")
    for row in rows:
        print(format_row(row))
    print(
        "completed / max_running: the emulators' own counters per QPU, cumulative per QPU count "
        "(warm-up included); "
        "cpu: CPU ms per timed job of this client process and of all emulators together"
    )


def scaling(rows: Sequence[Row]) -> list[dict[str, float]]:
    """Two-QPU over one-QPU throughput at each client count measured with both."""
    by_key = {(r.qpus, r.clients): r.jobs_per_s for r in rows}
    return [
        {
            "clients": c,
            "one_qpu": by_key[1, c],
            "two_qpus": by_key[2, c],
            "ratio": by_key[2, c] / by_key[1, c],
        }
        for c in CLIENTS
        if (1, c) in by_key and (2, c) in by_key
    ]


def print_scaling(ratios: Sequence[dict[str, float]]) -> None:
    print()
    print(f"{'clients':>7}  {'1 QPU jobs/s':>12}  {'2 QPUs jobs/s':>13}  {'2/1':>5}")
    for r in ratios:
        print(
            f"{r['clients']:>7d}  {r['one_qpu']:>12.1f}  {r['two_qpus']:>13.1f}  {r['ratio']:>5.2f}"
        )


# --------------------------------------------------------------------------- command line
def latency_pair(text: str) -> tuple[float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 0.0 <= parts[0] <= parts[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: want LO,HI seconds with 0 <= LO <= HI")
    return parts[0], parts[1]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, str | None]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_JOBS} jobs per config")
    parser.add_argument("--jobs", type=positive_int, help=f"jobs per config ({DEFAULT_JOBS})")
    parser.add_argument(
        "--shots",
        type=positive_int,
        default=DEFAULT_SHOTS,
        help=f"shots per job (default {DEFAULT_SHOTS}, at most {MAX_SHOTS})",
    )
    parser.add_argument(
        "--latency",
        type=latency_pair,
        default=(0.0, 0.0),
        help="injected device time per job, LO,HI seconds (default 0)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.shots > MAX_SHOTS:
        parser.error(f"--shots {args.shots}: at most {MAX_SHOTS}, so that one job is one request")
    jobs = args.jobs or (QUICK_JOBS if args.quick else DEFAULT_JOBS)
    return Settings(jobs, args.shots, args.latency, args.quick), args.json


def run_all(settings: Settings, circuit: TBICircuit) -> list[Row]:
    return [row for n_qpus in QPU_COUNTS for row in run_qpu_count(n_qpus, settings, circuit)]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--soak"]:  # faults, retries and leaks through the pool: its own script
        from emulator_soak import main as soak_main

        return soak_main(argv[1:])
    settings, json_path = parse_args(argv)
    own_signals()
    env = environment()
    print_header(env, settings)
    circuit = random_tbi(N_MODES, LOOPS, rng=SEED)
    try:
        rows = run_all(settings, circuit)
    except KeyboardInterrupt:
        print("interrupted: every emulator has been stopped", file=sys.stderr)
        return 130
    print_table(rows)
    ratios = scaling(rows)
    print_scaling(ratios)
    if json_path:
        record = {
            "environment": env,
            "settings": asdict(settings),
            "rows": [asdict(r) for r in rows],
            "scaling": ratios,
        }
        with open(json_path, "w") as handle:
            json.dump(record, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
