"""Emulators as child processes on free loopback ports, for tests, demos and benchmarks.

The CUDA-Q client holds the GIL while it submits, so an emulator must live in another
process than the client that talks to it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from types import TracebackType

from ..photonics.noise import NoiseModel
from .protocol import DeviceLimits
from .server import EmulatorConfig, FaultModel

TOKEN_VARIABLE = "QNN_EMULATOR_TOKEN"


class EmulatorProcess:
    """``qnn emulator`` in a child process; a context manager that always stops it.

    Args mirror :class:`~qnn.emulator.server.EmulatorConfig`; the token travels through the
    environment, never the command line (which other users can read with ``ps``).
    """

    def __init__(
        self,
        *,
        noise: NoiseModel | None = None,
        limits: DeviceLimits | None = None,
        faults: FaultModel | None = None,
        token: str | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 60.0,
    ) -> None:
        # settings travel as JSON on the child's stdin: data, not a command line to re-parse
        config = EmulatorConfig(host=host, port=0, noise=noise or NoiseModel(),
                                limits=limits or DeviceLimits(), faults=faults or FaultModel(),
                                seed=seed)
        settings = dataclasses.asdict(config)
        del settings["token"]  # the token goes through the environment only
        self.settings = json.dumps(settings)
        self._token, self.startup_timeout = token, startup_timeout
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __repr__(self) -> str:
        return f"EmulatorProcess(url={self.url!r}, running={self.running})"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> EmulatorProcess:
        env = {**os.environ, TOKEN_VARIABLE: self._token or ""}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "qnn.cli", "emulator", "--config", "-"],
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        self._process.stdin.write(self.settings)
        self._process.stdin.close()
        self.url = self._await_url()
        return self

    def _await_url(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.append(self._process.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(self.startup_timeout)
        if not lines or not lines[0].startswith("listening on "):
            self.stop()
            stderr = self._process.stderr.read() if self._process.stderr else ""
            raise RuntimeError(
                f"the emulator did not start within {self.startup_timeout} s: "
                f"{(lines or [''])[0]!r} {stderr[-2000:]}"
            )
        return lines[0].removeprefix("listening on ").strip()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate (then kill) the child and wait for it, so no process is left behind."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent dies, so an emulator
    never outlives a client killed without clean-up (e.g. by a native signal handler)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
