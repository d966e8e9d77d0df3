"""Photonic backends behind one interface: ``exact``, ``cudaq-sim`` and ``orca``."""

from .base import (
    AsyncBackend,
    Backend,
    JobHandle,
    ProbabilityBackend,
    backend_names,
    get_backend,
)

__all__ = [
    "AsyncBackend",
    "Backend",
    "JobHandle",
    "ProbabilityBackend",
    "backend_names",
    "get_backend",
]
