"""Photonic backends behind one interface: ``exact``, ``cudaq-sim`` and ``orca``."""

from .base import Backend, ProbabilityBackend, backend_names, get_backend

__all__ = ["Backend", "ProbabilityBackend", "backend_names", "get_backend"]
