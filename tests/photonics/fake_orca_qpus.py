"""Loopback ORCA QPUs that record every request, for the orca client tests (run as a script).

``python fake_orca_qpus.py SEED...`` serves one QPU per seed on free ports, prints their
ports as a JSON list, and serves until its stdin closes. It runs in a child process:
``cudaq.orca.sample_async`` sends its POST while holding the GIL, so a server thread inside
the test process would never answer.

Protocol routes: ``POST /v1/submit``, ``GET /v1/get_job/<id>``. Control routes (never
recorded): ``POST /_reset`` with a config, ``GET /_requests`` (every recorded request),
``GET /_jobs`` (the number of jobs created). Config keys, all optional:

* ``running_polls``: polls answered ``job_status: running`` before the results (default 2;
  ``-1``: for ever, a hung job).
* ``error_message``: polls of a failed job answer it; ``failed_jobs``: the number of jobs,
  first created first, that fail (default: all of them).
* ``results``: the result strings every job returns (default: samples of the circuit).
* ``fail_submits`` / ``submit_status``: submissions with these indices (0 = the first) are
  answered with this HTTP status (default 503), and create no job.
* ``drop_submits``: submissions with these indices create their job, then the connection is
  closed without an answer.
* ``token``: refuse requests without ``Authorization: Bearer <token>`` with a 401.
* ``idempotent``: answer a resubmitted ``Idempotency-Key`` (same body) with the first job id.
"""

import json
import sys
import threading
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
        self.requests, self.jobs, self.keys = [], {}, {}
        self.config = {"running_polls": 2, **config}
        self.submits = 0

    def draw(self, body):
        ps = body["ps_angles"] or None
        circuit = TBICircuit(body["input_state"], body["loop_lengths"], body["bs_angles"], ps)
        probs = fock_probabilities(circuit.unitary(), circuit.input_state).numpy()
        basis = fock_basis(circuit.n_modes, circuit.n_photons)
        picks = self.rng.choice(len(basis), size=body["n_samples"], p=probs / probs.sum())
        return ["".join(map(str, basis[i])) for i in picks]


def make_handler(qpu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real QPU service would

        def log_message(self, *args):
            pass

        def reply(self, obj, status=200):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def record(self, raw=None):
            body = None if raw is None else json.loads(raw or b"{}")
            qpu.requests.append({
                "method": self.command, "path": self.path, "body": body,
                "raw": None if raw is None else raw.decode(),
                "authorization": self.headers.get("Authorization"),
                "idempotency_key": self.headers.get("Idempotency-Key"),
            })

        def refused(self):
            token = qpu.config.get("token")
            if token and self.headers.get("Authorization") != f"Bearer {token}":
                self.reply({"error_message": "authorization refused: wrong token"}, 401)
                return True
            return False

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with qpu.lock:
                if self.path == "/_reset":
                    qpu.reset(json.loads(raw or b"{}"))
                    return self.reply({})
                self.record(raw)
                if self.path != "/v1/submit":
                    return self.reply({"error_message": "not found"}, 404)
                if self.refused():
                    return None
                return self.submit(json.loads(raw), raw)

        def submit(self, body, raw):
            config, key = qpu.config, self.headers.get("Idempotency-Key")
            index, qpu.submits = qpu.submits, qpu.submits + 1
            if index in config.get("fail_submits", []):
                return self.reply({"error_message": "injected submit failure"},
                                  config.get("submit_status", 503))
            if config.get("idempotent") and key is not None and key in qpu.keys:
                first_raw, job_id = qpu.keys[key]
                if first_raw != raw:
                    return self.reply({"error_message": "key reused with another body"}, 422)
            else:
                job_id = f"job-{len(qpu.jobs)}"
                results = config.get("results") or qpu.draw(body)
                qpu.jobs[job_id] = {"polls": 0, "results": results, "index": len(qpu.jobs)}
                qpu.keys[key] = (raw, job_id)
            if index in config.get("drop_submits", []):
                self.close_connection = True  # the job exists; its answer is lost
                return None
            return self.reply({"job_id": job_id})

        def do_GET(self):
            with qpu.lock:
                if self.path == "/_requests":
                    return self.reply(qpu.requests)
                if self.path == "/_jobs":
                    return self.reply(len(qpu.jobs))
                self.record()
                if self.refused():
                    return None
                job = qpu.jobs.get(self.path.removeprefix("/v1/get_job/"))
                if job is None:
                    return self.reply({"error_message": "no such job"}, 404)
                failed = qpu.config.get("failed_jobs", len(qpu.jobs))
                if qpu.config.get("error_message") and job["index"] < failed:
                    return self.reply({"error_message": qpu.config["error_message"]})
                job["polls"] += 1
                running = qpu.config["running_polls"]
                if running < 0 or job["polls"] <= running:
                    return self.reply({"job_status": "running"})
                return self.reply({"results": job["results"]})

    return Handler


if __name__ == "__main__":
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), make_handler(QPU(seed)))
               for seed in map(int, sys.argv[1:])]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps([s.server_address[1] for s in servers]), flush=True)
    sys.stdin.read()  # serve until the test process closes our stdin
