"""One cost guard for everything that enumerates a Fock space or schedules work.

Every such place estimates its work first — Fock states, mixture terms, sampler operations,
tasks — and calls :func:`check` before allocating anything, so an impossible request (40
modes with 20 photons, ten billion instances) is refused at once with one line naming the
quantity, its size and the limit, instead of filling memory or running for ever.

Limits (defaults generous enough for every shipped experiment and benchmark), each raisable
through an environment variable or, per call site, an explicit ``limit``:

* ``QNN_MAX_FOCK_STATES`` (default 2**26 ≈ 6.7e7): states one enumeration may hold
  (``C(M + N - 1, N)``; 16 modes / 8 photons is 4.9e5, 20 / 10 is 2.0e7).
* ``QNN_MAX_MIXTURE_STATES`` (default 2**28 ≈ 2.7e8): partial distinguishability sums the
  distribution over every subset of interfering photons: subsets × states.
* ``QNN_MAX_SAMPLER_WORK`` (default 1e12): Clifford–Clifford sampling costs about
  ``shots · N · 2^N`` operations (10,000 samples at 15 photons: 4.9e9, about 2 s).
* ``QNN_MAX_TASKS`` (default 1e6): tasks one study may schedule.
"""

from __future__ import annotations

import math
import os

from ..errors import QnnError

LIMITS = {  # name -> (environment variable, default)
    "fock_states": ("QNN_MAX_FOCK_STATES", 2**26),
    "mixture_states": ("QNN_MAX_MIXTURE_STATES", 2**28),
    "sampler_work": ("QNN_MAX_SAMPLER_WORK", 10**12),
    "tasks": ("QNN_MAX_TASKS", 10**6),
}


class CostLimitError(QnnError, ValueError):
    """A request whose estimated cost exceeds a limit; nothing was allocated."""


def limit_of(name: str) -> float:
    """The limit ``name`` (see :data:`LIMITS`): its environment variable, else the default."""
    variable, default = LIMITS[name]
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise CostLimitError(f"{variable}={text!r} is not a number") from None
    if not value > 0:
        raise CostLimitError(f"{variable}={text!r} must be positive")
    return value


def check(name: str, estimate: float, what: str, limit: float | None = None,
          raise_with: str | None = None) -> float:
    """``estimate`` if it is within the limit ``name``, else a one-line CostLimitError.

    Args:
        name: a key of :data:`LIMITS`.
        estimate: the cost of the request, in that limit's unit.
        what: the request in words, e.g. ``"40 modes / 20 photons"``.
        limit: overrides the environment/default (a backend's own ``max_states``).
        raise_with: how to raise that limit, for the message (default: its variable).
    """
    bound = limit_of(name) if limit is None else limit
    if estimate > bound:
        how = raise_with or f"set {LIMITS[name][0]}"
        raise CostLimitError(f"{what}: {_words(name)} {estimate:.3g} exceed the limit "
                             f"{bound:.3g} ({how} to raise it)")
    return estimate


def fock_states(n_modes: int, n_photons: int) -> int:
    """``C(M + N - 1, N)``: the output patterns of ``N`` photons in ``M`` modes."""
    return math.comb(n_modes + n_photons - 1, n_photons)


def check_fock_space(n_modes: int, n_photons: int, limit: float | None = None) -> int:
    """The number of Fock states, refused above ``QNN_MAX_FOCK_STATES`` (or ``limit``)."""
    states = fock_states(n_modes, n_photons)
    check("fock_states", states, f"{n_modes} modes / {n_photons} photons", limit,
          None if limit is None else "sample instead, or raise the backend's max_states")
    return states


def _words(name: str) -> str:
    return {"fock_states": "Fock states", "mixture_states": "mixture terms x states",
            "sampler_work": "sampler operations", "tasks": "tasks"}[name]
