"""An ORCA-protocol HTTP server that emulates PT-series photonic QPUs with the exact backend."""

from .process import EmulatorProcess
from .protocol import DeviceLimits, ProtocolError, Submission, encode_results, parse_submission
from .server import EmulatedQPU, EmulatorConfig, EmulatorServer, FaultModel, serve

__all__ = [
    "DeviceLimits",
    "EmulatedQPU",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorServer",
    "FaultModel",
    "ProtocolError",
    "Submission",
    "encode_results",
    "parse_submission",
    "serve",
]
