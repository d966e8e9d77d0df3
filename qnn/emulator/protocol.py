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
  message either way. (An unknown or expired job id is therefore never answered with the
  exact "Job can't be found", which would make the client poll forever.)

Emulator additions (CUDA-Q's client sends none of them and is unaffected):

* ``Idempotency-Key: <1..200 visible ASCII characters>`` on ``POST /v1/submit``: a
  resubmission with the same key and an equivalent body (see :attr:`Submission.fingerprint`)
  answers ``200 {"job_id": <the first job's id>}`` and runs nothing; the same key with another
  body answers 422. A key is forgotten when its job expires.
* Every route, ``GET /_emulator/stats`` included, needs the bearer token when one is set.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from ..errors import QnnError
from ..photonics.circuit import TBICircuit

SUBMIT_PATH = "/v1/submit"
JOB_PATH = "/v1/get_job/"
STATS_PATH = "/_emulator/stats"  # the emulator's counters; not part of ORCA's protocol
SUBMIT_KEYS = ("bs_angles", "input_state", "loop_lengths", "n_samples", "ps_angles", "target")
MAX_DIGIT = 9  # results encode one decimal digit per mode
MAX_INT_DIGITS = 30  # longer JSON integers are refused before int() parses them
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class ProtocolError(QnnError):
    """A request the emulator refuses: an HTTP status and the ``error_message`` to send."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class DeviceLimits:
    """What one PT system accepts per request (defaults after PCSS's PT-series documentation:
    at most two loops and about 5,000 samples per request).

    ``targets`` are the ``target`` names the device answers to; CUDA-Q 0.16 always sends
    ``"PT-1"``.
    """

    max_loops: int = 2
    max_samples: int = 5000
    max_modes: int = 32
    max_photons: int = MAX_DIGIT
    targets: tuple[str, ...] = ("PT-1",)

    def __post_init__(self) -> None:
        for name in ("max_loops", "max_samples", "max_modes", "max_photons"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.max_photons > MAX_DIGIT:
            raise ValueError(
                f"max_photons={self.max_photons} cannot exceed {MAX_DIGIT}: results"
                " encode one decimal digit per mode"
            )
        targets = self.targets
        if (
            not isinstance(targets, tuple)
            or not targets
            or not all(isinstance(t, str) and t for t in targets)
        ):
            raise ValueError(f"targets={targets!r} must be a non-empty tuple of non-empty names")


@dataclass(frozen=True)
class Submission:
    """A validated submit body.

    ``fingerprint`` is the SHA-256 of the body's canonical JSON (sorted keys, no spaces,
    numbers as parsed), so a retry that spells the same request differently still matches.
    """

    circuit: TBICircuit
    n_samples: int
    target: str
    fingerprint: str


def parse_submission(body: bytes, limits: DeviceLimits) -> Submission:
    """Validate a submit body; the :class:`Submission`, or a 400/413 ``ProtocolError``."""
    request = _decode(body)
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
            f"missing {missing}, unknown {_show(unknown)}",
        )
    n_samples, target = request["n_samples"], request["target"]
    if not _is_int(n_samples) or n_samples < 1:
        raise ProtocolError(400, f"n_samples={_show(n_samples)} must be a positive integer")
    if target not in limits.targets:
        raise ProtocolError(
            400, f"target={_show(target)} is not a PT system here; accepted: {list(limits.targets)}"
        )
    for key in ("input_state", "loop_lengths", "bs_angles", "ps_angles"):
        if not isinstance(request[key], list):
            raise ProtocolError(400, f"{key} must be a JSON list, got {_show(request[key])}")
    _counts("input_state", request["input_state"], low=0)
    _counts("loop_lengths", request["loop_lengths"], low=1)
    _check_limits(request, n_samples, limits)
    return Submission(_circuit(request), n_samples, target, _fingerprint(request))


def _decode(body: bytes) -> object:
    """JSON with every number finite and every integer short, or a 400 ``ProtocolError``."""
    try:
        return json.loads(
            body, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant
        )
    except RecursionError:  # the C decoder recurses once per nesting level
        raise ProtocolError(400, "request body is nested too deeply to be a submission") from None
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ProtocolError(400, f"request body is not valid JSON: {_show(str(err))}") from None


def _parse_int(text: str) -> int:
    # int() of thousands of digits is slow, then refused by Python's conversion limit.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ProtocolError(400, f"a number has {len(text)} digits; at most {MAX_INT_DIGITS}")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError(400, f"number {_show(text)} is out of the range of a double")
    return value


def _refuse_constant(name: str) -> float:
    raise ProtocolError(400, f"{name} is not a JSON number; angles must be finite")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _counts(name: str, values: list, *, low: int) -> None:
    for i, value in enumerate(values):
        if not _is_int(value) or value < low:
            raise ProtocolError(400, f"{name}[{i}]={_show(value)} must be an integer >= {low}")


def _circuit(request: dict) -> TBICircuit:
    try:
        return TBICircuit(
            request["input_state"],
            request["loop_lengths"],
            _angles("bs_angles", request["bs_angles"]),
            _angles("ps_angles", request["ps_angles"]) or None,
        )
    except ValueError as err:
        raise ProtocolError(400, f"invalid circuit: {_show(str(err))}") from None


def _angles(name: str, values: list) -> list[float]:
    for i, value in enumerate(values):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ProtocolError(400, f"{name} must hold numbers; {name}[{i}]={_show(value)}")
    return [float(v) for v in values]  # finite: the decoder refused anything else


def _fingerprint(request: dict) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _show(value: object, width: int = 80) -> str:
    """``repr`` cut to ``width`` characters: messages never echo a megabyte body back."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 3]}..."


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
    if sum(state) > limits.max_photons:
        raise ProtocolError(
            400,
            f"input_state holds {sum(state)} photons; this device accepts at "
            f"most {limits.max_photons}",
        )


def check_idempotency_key(key: str) -> str:
    """The ``Idempotency-Key`` header value, or a 400 ``ProtocolError``.

    Visible ASCII only, so a key logs and compares the same however it was sent.
    """
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise ProtocolError(
            400,
            f"{IDEMPOTENCY_HEADER}={_show(key, 40)} must be 1 to {MAX_KEY_LENGTH} visible ASCII"
            " characters",
        )
    return key


def check_digits(samples: np.ndarray) -> None:
    """Raise ``ValueError`` if a count of ``samples`` needs more than one decimal digit."""
    if samples.size and samples.max() > MAX_DIGIT:
        raise ValueError(
            f"a mode counted {samples.max()} photons; results encode at most {MAX_DIGIT} per mode"
        )


def encode_results(samples: np.ndarray) -> list[str]:
    """``(shots, M)`` counts to the protocol's strings, e.g. ``[1, 0, 2] -> "102"``."""
    check_digits(samples)
    digits = (samples.astype(np.uint8) + ord("0")).tobytes()
    width = samples.shape[1]
    return [digits[i : i + width].decode() for i in range(0, len(digits), width)]
