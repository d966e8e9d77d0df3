"""Fixtures for the orca client tests: loopback QPUs in a child process that record requests."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

SERVER = Path(__file__).with_name("fake_orca_qpus.py")
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeQPUs:
    """Two recording QPUs (see ``fake_orca_qpus.py``); ``urls[i]`` is QPU ``i``."""

    def __init__(self, urls):
        self.urls = urls

    def control(self, qpu, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.urls[qpu] + path, data=data,
                                         headers={"Content-Type": "application/json"})
        with _direct.open(request, timeout=10) as response:
            return json.load(response)

    def reset(self, qpu=None, **config):
        """Forget requests and jobs and apply ``config`` (on every QPU when ``qpu`` is None)."""
        for i in range(len(self.urls)) if qpu is None else [qpu]:
            self.control(i, "/_reset", config)

    def requests(self, qpu, method=None):
        return [r for r in self.control(qpu, "/_requests") if method in (None, r["method"])]

    def submits(self, qpu):
        return self.requests(qpu, "POST")

    def polls(self, qpu):
        return self.requests(qpu, "GET")

    def jobs(self, qpu):
        return self.control(qpu, "/_jobs")


@pytest.fixture(scope="session")
def fake_qpu_urls():
    """Two loopback QPUs (seeded samplers) in one child process; their base URLs."""
    proc = subprocess.Popen([sys.executable, str(SERVER), "11", "12"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(proc.stdout.readline())
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.fixture
def fake_qpus(fake_qpu_urls, monkeypatch):
    """Fresh QPU state and a clean environment (token and URL variables restored after)."""
    monkeypatch.delenv("ORCA_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ORCA_ACCESS_URL", raising=False)
    qpus = FakeQPUs(fake_qpu_urls)
    qpus.reset()
    return qpus
