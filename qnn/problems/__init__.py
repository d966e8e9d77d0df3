"""Binary optimisation problems as QUBOs, with exact optima and classical baselines."""

from .qubo import QUBO

__all__ = ["QUBO"]
