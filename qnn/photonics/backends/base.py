"""The backend interface every photonic simulator or QPU implements, and the registry."""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from ..circuit import TBICircuit
from ..histogram import Histogram

SeedLike = int | np.random.Generator | None

_BACKENDS = {  # name -> "module:factory", imported on demand so cudaq stays optional
    "exact": "qnn.photonics.backends.exact:ExactBackend",
    "cudaq-sim": "qnn.photonics.backends.cudaq_sim:CudaqSimBackend",
    "orca": "qnn.photonics.backends.orca:OrcaBackend",
    "pool": "qnn.photonics.pool:orca_pool",  # ORCA QPUs 0..K-1 behind a QPUPool
}


def as_device(value: str | torch.device, field: str = "device") -> torch.device:
    """``value`` as a torch device that exists here, or one clear ``ValueError`` naming
    ``field`` (e.g. ``photonics.device``): a misspelt device or a GPU this machine lacks."""
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError):
        raise ValueError(f"{field}={value!r} is not a torch device; give e.g. 'cpu', 'cuda' "
                         f"or 'cuda:1'") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{field}={value!r} but torch sees no CUDA device here (torch "
                             f"{torch.__version__}); install a CUDA build of torch or use 'cpu'")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{field}={value!r} but torch sees {count} CUDA device(s)")
    elif device.type != "cpu":
        raise ValueError(f"{field}={value!r}: only 'cpu' and 'cuda' devices are supported")
    return device


@runtime_checkable
class Backend(Protocol):
    """Samples TBI circuits. The circuit travels with every call; backends keep no circuit state."""

    name: str

    def sample(
        self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None, detection: str = "pnr"
    ) -> Histogram:
        """Histogram of ``shots`` detections for an unbatched circuit."""
        ...

    def sample_batch(
        self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None, detection: str = "pnr"
    ) -> list[Histogram]:
        """One histogram per parameter set of a batched circuit, in row-major batch order."""
        ...


@runtime_checkable
class JobHandle(Protocol):
    """A submitted job: wait for its histogram, or stop waiting for it."""

    def get(self, timeout: float | None = None) -> Histogram:
        """The histogram, waiting at most ``timeout`` seconds (``None``: no limit).

        Raises:
            QPUTimeoutError: if the job did not finish in time (nothing keeps waiting).
            QPUError: if the job failed; its ``retryable`` says whether resubmitting helps.
        """
        ...

    def cancel(self) -> None:
        """Stop waiting now, from any thread: a ``get`` in progress or later raises."""
        ...


@runtime_checkable
class AsyncBackend(Backend, Protocol):
    """A backend that submits and returns at once, e.g. a QPU behind a network."""

    def sample_async(
        self,
        circuit: TBICircuit,
        shots: int,
        qpu_id: int | None = None,
        *,
        detection: str = "pnr",
        idempotency_key: str | None = None,
    ) -> JobHandle:
        """Submit an unbatched circuit; ``idempotency_key`` names the submission, so that
        resubmitting it with the same key cannot run it twice where the backend supports it.

        Raises:
            QPUError: if the submission failed; ``retryable`` says whether to submit again
                (with the same key).
        """
        ...


@runtime_checkable
class ProbabilityBackend(Backend, Protocol):
    """A backend that also gives exact output probabilities."""

    def probabilities(self, circuit: TBICircuit, detection: str = "pnr") -> tuple[Tensor, Tensor]:
        """Return ``patterns`` (int64 ``[S, M]``, read-only: a backend may share it between
        calls) and ``probs`` (``[*batch, S]``)."""
        ...


def backend_names() -> list[str]:
    """Names accepted by :func:`get_backend`."""
    return sorted(_BACKENDS)


def get_backend(name: str, **options: object) -> Backend:
    """Build the backend registered as ``name`` with its keyword ``options``."""
    try:
        module, _, factory = _BACKENDS[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; choose from {backend_names()}") from None
    return getattr(importlib.import_module(module), factory)(**options)


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A numpy Generator from an int seed, an existing Generator, or fresh entropy for None."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def check_shots(shots: int) -> int:
    """Validate a shot count (a non-negative integer)."""
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 0:
        raise ValueError(f"shots={shots!r} must be a non-negative integer")
    return int(shots)
