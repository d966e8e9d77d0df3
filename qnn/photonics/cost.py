"""One cost guard for everything that enumerates a Fock space or schedules work.

Every such place estimates its work first — Fock states, bytes, mixture terms, sampler
operations, tasks — and checks it here before allocating anything, so an impossible request
(40 modes with 20 photons, ten billion instances) is refused at once with one line naming
the request, its estimate, the limit and how to raise it, instead of filling memory or
running for ever. Every refusal is a :class:`CostLimitError` (a ``ValueError``).

Limits (defaults generous enough for every shipped experiment, test and benchmark) are
raised by setting the environment variable to a number, e.g. ``QNN_MAX_FOCK_STATES=2e8``;
they are read at every check, so a running process can change them. A caller's own limit
(``ExactBackend(max_states=)``) is checked as well, so it can only lower the shared one:

* ``QNN_MAX_FOCK_STATES`` (default 2**26 ≈ 6.7e7): patterns one Fock basis may hold,
  ``C(M + N - 1, N)`` (16 modes / 8 photons: 4.9e5; 20 / 10: 2.0e7).
* ``QNN_MAX_MEMORY_BYTES`` (default 16 GiB): what an exact (SLOS) simulation holds: the
  index tables of every photon number and, per parameter set, every intermediate vector
  autograd keeps (16 modes / 8 photons x 64 sets: 1.9 GiB; 20 / 10 x 1: 15 GiB).
* ``QNN_MAX_MIXTURE_STATES`` (default 2**28 ≈ 2.7e8): partial distinguishability sums one
  distribution per subset of interfering photons: ``(2^N - N) x C(M + N - 1, N)``.
* ``QNN_MAX_SAMPLER_WORK`` (default 1e12): Clifford–Clifford sampling costs about
  ``shots · N · 2^N`` operations (10,000 samples of 15 photons: 4.9e9, about 2 s).
* ``QNN_MAX_TASKS`` (default 1e6): tasks one study may schedule.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import CostLimitError

__all__ = [
    "LIMITS", "CostLimitError", "Limit", "check", "check_fock_space", "check_mixture",
    "check_sampler", "check_slos", "check_tasks", "fock_states", "limit_of", "mixture_states",
    "sampler_work", "slos_bytes",
]


@dataclass(frozen=True)
class Limit:
    """One guarded quantity: its unit in words, environment variable and default."""

    unit: str
    variable: str
    default: float


LIMITS = {
    "fock_states": Limit("Fock states", "QNN_MAX_FOCK_STATES", 2**26),
    "memory_bytes": Limit("bytes", "QNN_MAX_MEMORY_BYTES", 16 * 2**30),
    "mixture_states": Limit("mixture terms x Fock states", "QNN_MAX_MIXTURE_STATES", 2**28),
    "sampler_work": Limit("sampler operations", "QNN_MAX_SAMPLER_WORK", 1e12),
    "tasks": Limit("tasks", "QNN_MAX_TASKS", 1e6),
}


def limit_of(name: str) -> float:
    """The limit ``name`` (a key of :data:`LIMITS`): its environment variable, else the default."""
    spec = LIMITS[name]
    text = os.environ.get(spec.variable, "").strip()
    if not text:
        return spec.default
    try:
        value = float(text)
    except ValueError:
        raise CostLimitError(f"{spec.variable}={text!r} is not a number") from None
    if not value > 0:  # also refuses nan
        raise CostLimitError(f"{spec.variable}={text!r} must be a positive number")
    return value


def limit_settings(*names: str) -> tuple[str | None, ...]:
    """The environment variables of the limits ``names`` (default: all) as set now: a key for
    caching a verdict that depends on them."""
    return tuple(os.environ.get(LIMITS[name].variable) for name in names or LIMITS)


def check(name: str, estimate: float, what: str, *, limit: float | None = None,
          remedy: str | None = None, note: str = "", unit: str | None = None) -> float:
    """``estimate`` if it is within the limit ``name``, else a one-line CostLimitError.

    Args:
        name: a key of :data:`LIMITS` (gives the unit and the environment variable).
        estimate: the cost of the request, in that limit's unit.
        what: the request in words, e.g. ``"40 modes / 20 photons"``.
        limit: a caller's own limit (e.g. a backend's ``max_states``) instead of the
            environment/default one.
        remedy: what to do about ``limit``, for the message (e.g. ``"raise max_states"``);
            the shared limits name their environment variable.
        note: extra context for the message, e.g. the memory the states would need.
        unit: what ``estimate`` counts, if not the limit's own unit (e.g. click patterns
            held against the Fock-state limit).
    """
    spec = LIMITS[name]
    bound = limit_of(name) if limit is None else limit
    if estimate <= bound:
        return estimate
    if limit is None:
        remedy = f"set {spec.variable} >= {estimate:.3g} to allow it"
    amount = _bytes(estimate) if name == "memory_bytes" else f"{estimate:.3g} {unit or spec.unit}"
    cap = _bytes(bound) if name == "memory_bytes" else f"{bound:.3g}"
    raise CostLimitError(f"{what}: {amount}{note} exceed the limit {cap} ({remedy})")


# --------------------------------------------------------------------------- estimates
def fock_states(n_modes: int, n_photons: int) -> int:
    """``C(M + N - 1, N)``: the output patterns of ``N`` photons in ``M`` modes."""
    return math.comb(n_modes + n_photons - 1, n_photons)


def slos_bytes(n_modes: int, n_photons: int, batch: int = 1, itemsize: int = 16) -> int:
    """Bytes an exact SLOS simulation holds (see :mod:`qnn.photonics.slos`), as an estimate.

    Per photon number ``k``: the cached basis (uint8 ``S_k x M``), parent and child tables
    (int64 ``S_k x M`` each) and the step's slot tables (int64 ``2 x S_k x min(k, M)``);
    per parameter set, every step's vector (kept for autograd) plus two of the last size.

    Args:
        batch: parameter sets computed together.
        itemsize: bytes per amplitude (16 for complex128).
    """
    sizes = [fock_states(n_modes, k) for k in range(1, n_photons + 1)]
    tables = sum(s * (17 * n_modes + 16 * min(k, n_modes)) for k, s in enumerate(sizes, 1))
    vectors = batch * itemsize * (sum(sizes) + 2 * sizes[-1]) if sizes else 0
    return tables + vectors


def mixture_states(n_modes: int, n_photons: int) -> int:
    """Partial distinguishability: ``(2^N - N)`` mixture terms, each a full distribution."""
    return (2**n_photons - n_photons) * fock_states(n_modes, n_photons)


def sampler_work(shots: int, n_photons: int) -> float:
    """Clifford–Clifford operations, ``shots · N · 2^N`` (Algorithm B's worst case)."""
    return shots * n_photons * 2.0**n_photons


# --------------------------------------------------------------------------- checks
def check_fock_space(n_modes: int, n_photons: int, limit: float | None = None,
                     remedy: str | None = None) -> int:
    """The number of Fock states, refused above ``QNN_MAX_FOCK_STATES`` (or ``limit``, whose
    ``remedy`` the message gives)."""
    states = fock_states(n_modes, n_photons)
    check("fock_states", states, f"{n_modes} modes / {n_photons} photons", limit=limit,
          remedy=remedy, note=f" ({_bytes(states * n_modes)} as uint8 patterns)")
    return states


def check_slos(n_modes: int, n_photons: int, batch: int = 1, itemsize: int = 16) -> int:
    """The Fock states of an exact simulation, refused above ``QNN_MAX_FOCK_STATES`` or
    when :func:`slos_bytes` exceeds ``QNN_MAX_MEMORY_BYTES``."""
    states = check_fock_space(n_modes, n_photons)
    sets = f" x {batch:,} parameter sets" if batch != 1 else ""
    check("memory_bytes", slos_bytes(n_modes, n_photons, batch, itemsize),
          f"exact simulation of {n_modes} modes / {n_photons} photons{sets}")
    return states


def check_mixture(n_modes: int, n_photons: int) -> int:
    """Partial distinguishability's terms x states, refused above ``QNN_MAX_MIXTURE_STATES``."""
    return check("mixture_states", mixture_states(n_modes, n_photons),
                 f"partial distinguishability of {n_photons} photons in {n_modes} modes")


def check_sampler(shots: int, n_photons: int) -> float:
    """Clifford–Clifford operations, refused above ``QNN_MAX_SAMPLER_WORK``."""
    return check("sampler_work", sampler_work(shots, n_photons),
                 f"Clifford–Clifford sampling of {shots:,} shots of {n_photons} photons")


def check_tasks(count: int, what: str) -> int:
    """A study's task count, refused above ``QNN_MAX_TASKS``; ``what`` names the factors."""
    return check("tasks", count, what)


def _bytes(n: float) -> str:
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20),
                       ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"
