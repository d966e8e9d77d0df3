"""The HTTP front of an emulated ORCA PT system, and ``serve`` for ``qnn emulator``.

The device itself is in :mod:`qnn.emulator.device`, requests are handled in
:mod:`qnn.emulator.handler`; their public names are re-exported here.
"""

from __future__ import annotations

import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from .device import FAULT_KINDS, EmulatedQPU, EmulatorConfig, FaultModel
from .handler import MAX_BODY_BYTES, Handler
from .protocol import STATS_PATH

__all__ = ["FAULT_KINDS", "MAX_BODY_BYTES", "STATS_PATH", "EmulatedQPU", "EmulatorConfig",
           "EmulatorServer", "FaultModel", "serve"]  # fmt: skip


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP front of one :class:`EmulatedQPU`; many clients are served at once."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config: EmulatorConfig, *, verbose: bool = False) -> None:
        self.qpu = EmulatedQPU(config)
        self.verbose = verbose
        super().__init__((config.host, config.port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: object, client_address: tuple) -> None:
        """A client that vanished (reset, broken pipe, time-out) is routine: one line when
        verbose, else nothing; anything else is a bug and keeps its traceback."""
        err = sys.exc_info()[1]
        if not isinstance(err, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)
        elif self.verbose:
            host, port = client_address[:2]
            sys.stderr.write(f"{host}:{port} connection lost ({type(err).__name__})\n")

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
