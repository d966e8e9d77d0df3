"""An emulated ORCA PT system: an HTTP server, one FIFO job queue, exact-backend samples."""

from __future__ import annotations

import hmac
import json
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from ..photonics.backends.exact import ExactBackend
from ..photonics.circuit import TBICircuit
from ..photonics.noise import NoiseModel
from .protocol import (
    JOB_PATH,
    SUBMIT_PATH,
    DeviceLimits,
    ProtocolError,
    encode_results,
    parse_submission,
)

FAULT_KINDS = ("submit", "job", "malformed", "hang")
MAX_BODY_BYTES = 1 << 20
STATS_PATH = "/_emulator/stats"


@dataclass(frozen=True)
class FaultModel:
    """Injected faults: each submission meets one with probability ``fail_rate``.

    Kinds: ``submit`` (HTTP 503, no job created), ``job`` (the job fails with an
    ``error_message``), ``malformed`` (one sample short), ``hang`` (never finishes).
    ``latency`` is the uniform range, in seconds, that each job takes on the device.
    """

    fail_rate: float = 0.0
    kinds: tuple[str, ...] = ("submit", "job", "malformed")
    latency: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate={self.fail_rate} is outside [0, 1]")
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds {list(self.kinds)}: choose from {list(FAULT_KINDS)}")
        low, high = self.latency
        if not 0.0 <= low <= high:
            raise ValueError(f"latency={self.latency} must be 0 <= low <= high seconds")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything one emulated PT system needs; ``token`` ``None`` turns authentication off."""

    host: str = "127.0.0.1"
    port: int = 0
    noise: NoiseModel = field(default_factory=NoiseModel)
    limits: DeviceLimits = field(default_factory=DeviceLimits)
    faults: FaultModel = field(default_factory=FaultModel)
    token: str | None = field(default=None, repr=False)
    seed: int | None = None
    poll_wait: float = 0.05  # seconds a get_job waits for completion before saying "running"


@dataclass
class _Job:
    job_id: str
    circuit: TBICircuit
    n_samples: int
    fault: str | None
    seed: np.random.SeedSequence
    state: str = "queued"
    results: list[str] | None = None
    error: str | None = None


class EmulatedQPU:
    """One PT system: jobs run one at a time, first come first served, on a worker thread."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.backend = ExactBackend(noise=config.noise)
        self._seeds = np.random.SeedSequence(config.seed)
        self._fault_rng = np.random.default_rng(self._seeds.spawn(1)[0])
        self._jobs: dict[str, _Job] = {}
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._changed = threading.Condition()
        self.stats = {
            "submitted": 0,
            "completed": 0,
            "failed": 0,
            "refused": 0,
            "running": 0,
            "max_running": 0,
        }
        self._worker = threading.Thread(target=self._work, name="pt-worker", daemon=True)
        self._worker.start()

    def submit(self, circuit: TBICircuit, n_samples: int) -> str:
        """Queue a job and return its id (or raise the injected ``submit`` fault)."""
        with self._changed:
            fault = self._draw_fault()
            if fault == "submit":
                self.stats["refused"] += 1
                raise ProtocolError(503, "injected fault: the device refused the submission")
            job = _Job(uuid.uuid4().hex, circuit, n_samples, fault, self._seeds.spawn(1)[0])
            self._jobs[job.job_id] = job
            self.stats["submitted"] += 1
        self._queue.put(job)
        return job.job_id

    def _draw_fault(self) -> str | None:
        faults = self.config.faults
        if faults.fail_rate == 0.0 or self._fault_rng.random() >= faults.fail_rate:
            return None
        return str(self._fault_rng.choice(faults.kinds))

    def answer(self, job_id: str) -> tuple[int, dict]:
        """The ``get_job`` answer, waiting up to ``poll_wait`` for the job to finish."""
        deadline = time.monotonic() + self.config.poll_wait
        with self._changed:
            job = self._jobs.get(job_id)
            if job is None:
                return 404, {"error_message": f"no job with id {job_id!r} on this device"}
            while job.state in ("queued", "running") and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            if job.state == "done":
                return 200, {"results": job.results}
            if job.state == "failed":
                return 200, {"error_message": job.error}
            return 200, {"job_status": job.state}

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            if job.fault == "hang":  # answers "running" for ever, like a lost job
                with self._changed:
                    job.state = "running"
                continue
            self._set_state(job, "running")
            rng = np.random.default_rng(job.seed)
            low, high = self.config.faults.latency
            time.sleep(rng.uniform(low, high))
            try:
                results = self._sample(job, rng)
            except ValueError as err:
                self._finish(job, error=f"device error: {err}")
                continue
            if job.fault == "job":
                self._finish(job, error="injected fault: detector readout failed")
            else:
                self._finish(job, results=results[:-1] if job.fault == "malformed" else results)

    def _sample(self, job: _Job, rng: np.random.Generator) -> list[str]:
        hist = self.backend.sample(job.circuit, job.n_samples, seed=rng)
        samples = np.repeat(hist.patterns, hist.counts, axis=0)
        return encode_results(samples[rng.permutation(len(samples))])

    def _set_state(self, job: _Job, state: str) -> None:
        with self._changed:
            job.state = state
            self.stats["running"] += 1
            self.stats["max_running"] = max(self.stats["max_running"], self.stats["running"])
            self._changed.notify_all()

    def _finish(
        self, job: _Job, *, results: list[str] | None = None, error: str | None = None
    ) -> None:
        with self._changed:
            job.state, job.results, job.error = ("failed" if error else "done"), results, error
            self.stats["running"] -= 1
            self.stats["failed" if error else "completed"] += 1
            self._changed.notify_all()

    def close(self) -> None:
        self._queue.put(None)


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "qnn-pt-emulator/1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._respond(self._submit)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(self._get)

    def _submit(self) -> tuple[int, dict]:
        if self.path != SUBMIT_PATH:
            raise ProtocolError(404, f"unknown path {self.path!r}; submit to {SUBMIT_PATH}")
        self._authorize()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ProtocolError(413, f"request body of {length} bytes exceeds {MAX_BODY_BYTES}")
        circuit, n_samples = parse_submission(
            self.rfile.read(length), self.server.qpu.config.limits
        )
        return 200, {"job_id": self.server.qpu.submit(circuit, n_samples)}

    def _get(self) -> tuple[int, dict]:
        if self.path == STATS_PATH:
            return 200, dict(self.server.qpu.stats)
        if not self.path.startswith(JOB_PATH):
            raise ProtocolError(404, f"unknown path {self.path!r}; poll {JOB_PATH}<job_id>")
        self._authorize()
        return self.server.qpu.answer(self.path[len(JOB_PATH) :])

    def _authorize(self) -> None:
        token = self.server.qpu.config.token
        if token is None:
            return
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme != "Bearer" or not given:
            raise ProtocolError(
                401,
                "authorization missing: no token in the Authorization"
                " header (CUDA-Q sends ORCA_AUTH_TOKEN)",
            )
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ProtocolError(401, "authorization refused: wrong token")

    def _respond(self, handler: Callable[[], tuple[int, dict]]) -> None:
        try:
            status, body = handler()
        except ProtocolError as err:
            status, body = err.status, {"error_message": err.message}
        except Exception as err:  # noqa: BLE001 - a bad request must never kill the server
            status, body = 500, {"error_message": f"emulator error: {type(err).__name__}: {err}"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.verbose:  # the request line only: headers (and the token) never
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP front of one :class:`EmulatedQPU`; many clients are served at once."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config: EmulatorConfig, *, verbose: bool = False) -> None:
        self.qpu = EmulatedQPU(config)
        self.verbose = verbose
        super().__init__((config.host, config.port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def server_close(self) -> None:
        self.qpu.close()
        super().server_close()


def serve(config: EmulatorConfig, *, verbose: bool = False) -> None:
    """Serve until SIGINT/SIGTERM; the first stdout line is ``listening on <url>``."""
    server = EmulatorServer(config, verbose=verbose)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    auth = "bearer token required" if config.token else "NO authentication (no token set)"
    print(f"listening on {server.url}", flush=True)
    print(
        f"qnn emulator: one PT system, {config.limits}, noise {config.noise.to_dict()}, {auth}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
