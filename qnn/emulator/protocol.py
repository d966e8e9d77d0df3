"""The ORCA PT HTTP protocol as CUDA-Q 0.16's ``orca`` target speaks it, and PT device limits.

Observed from the CUDA-Q 0.16 client (see :mod:`qnn.photonics.backends.orca` for the full
account, pinned by ``tests/emulator``):

* ``POST /v1/submit``, header ``Authorization: Bearer <ORCA_AUTH_TOKEN>``, JSON body with
  the keys ``bs_angles, input_state, loop_lengths, n_samples, ps_angles, target`` (sorted;
  ``target`` is ``"PT-1"``; ``ps_angles`` may be ``[]``). The answer must hold ``job_id``.
* ``GET /v1/get_job/<job_id>``, polled with no pause. The client keeps polling while the
  answer holds ``job_status`` — and, with no time-out, while ``error_message`` is exactly
  ``"Job can't be found"`` — raises any other ``error_message`` as an error, and takes
  ``{"results": ["1010", "0200", ...]}`` (one string of per-mode counts per shot) as done.
* A non-2xx status makes the client raise ``HTTP POST/GET Error - status code N: <body>``,
  so errors are sent as a non-2xx status with an ``error_message`` body: the user sees the
  message either way. (An unknown job id is therefore never answered with the exact
  "Job can't be found", which would make the client poll forever.)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from ..errors import QnnError
from ..photonics.circuit import TBICircuit

SUBMIT_PATH = "/v1/submit"
JOB_PATH = "/v1/get_job/"
SUBMIT_KEYS = ("bs_angles", "input_state", "loop_lengths", "n_samples", "ps_angles", "target")
MAX_DIGIT = 9  # results encode one decimal digit per mode


class ProtocolError(QnnError):
    """A request the emulator refuses: an HTTP status and the ``error_message`` to send."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class DeviceLimits:
    """What one PT system accepts per request (defaults after PCSS's PT-series documentation:
    at most two loops and about 5,000 samples per request)."""

    max_loops: int = 2
    max_samples: int = 5000
    max_modes: int = 32
    max_photons: int = MAX_DIGIT

    def __post_init__(self) -> None:
        for name in ("max_loops", "max_samples", "max_modes", "max_photons"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.max_photons > MAX_DIGIT:
            raise ValueError(
                f"max_photons={self.max_photons} cannot exceed {MAX_DIGIT}: results"
                " encode one decimal digit per mode"
            )


def parse_submission(body: bytes, limits: DeviceLimits) -> tuple[TBICircuit, int]:
    """Validate a submit body; the circuit and ``n_samples``, or a 400/413 ``ProtocolError``."""
    try:
        request = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ProtocolError(400, f"request body is not valid JSON: {err}") from None
    if not isinstance(request, dict):
        raise ProtocolError(
            400, f"request body must be a JSON object, got {type(request).__name__}"
        )
    missing = [key for key in SUBMIT_KEYS if key not in request]
    unknown = sorted(set(request) - set(SUBMIT_KEYS))
    if missing or unknown:
        raise ProtocolError(
            400,
            f"submit body needs exactly the keys {list(SUBMIT_KEYS)}; "
            f"missing {missing}, unknown {unknown}",
        )
    n_samples = request["n_samples"]
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ProtocolError(400, f"n_samples={n_samples!r} must be a positive integer")
    for key in ("input_state", "loop_lengths", "bs_angles", "ps_angles"):
        if not isinstance(request[key], list):
            raise ProtocolError(400, f"{key} must be a JSON list, got {request[key]!r}")
    _check_limits(request, n_samples, limits)
    try:
        circuit = TBICircuit(
            request["input_state"],
            request["loop_lengths"],
            _angles("bs_angles", request["bs_angles"]),
            _angles("ps_angles", request["ps_angles"]) or None,
        )
    except ValueError as err:
        raise ProtocolError(400, f"invalid circuit: {err}") from None
    return circuit, n_samples


def _angles(name: str, values: list) -> list[float]:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise ProtocolError(400, f"{name} must hold numbers")
    if not all(math.isfinite(v) for v in values):
        raise ProtocolError(400, f"{name} holds a non-finite angle")
    return [float(v) for v in values]


def _check_limits(request: dict, n_samples: int, limits: DeviceLimits) -> None:
    loops, state = request["loop_lengths"], request["input_state"]
    if len(loops) > limits.max_loops:
        raise ProtocolError(
            400, f"loop_lengths has {len(loops)} loops; this device has at most {limits.max_loops}"
        )
    if n_samples > limits.max_samples:
        raise ProtocolError(
            413,
            f"n_samples={n_samples} exceeds this device's maximum of "
            f"{limits.max_samples} per request",
        )
    if len(state) > limits.max_modes:
        raise ProtocolError(
            400,
            f"input_state has {len(state)} time bins; this device has at most {limits.max_modes}",
        )
    photons = sum(v for v in state if isinstance(v, int) and not isinstance(v, bool))
    if photons > limits.max_photons:
        raise ProtocolError(
            400,
            f"input_state holds {photons} photons; this device accepts at "
            f"most {limits.max_photons}",
        )


def encode_results(samples: np.ndarray) -> list[str]:
    """``(shots, M)`` counts to the protocol's strings, e.g. ``[1, 0, 2] -> "102"``."""
    if samples.size and samples.max() > MAX_DIGIT:
        raise ValueError(
            f"a mode counted {samples.max()} photons; results encode at most {MAX_DIGIT} per mode"
        )
    digits = (samples.astype(np.uint8) + ord("0")).tobytes()
    width = samples.shape[1]
    return [digits[i : i + width].decode() for i in range(0, len(digits), width)]
