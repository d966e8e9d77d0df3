"""Time-bin interferometer (TBI) circuits in CUDA-Q's ORCA convention, and their unitaries."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

AngleLike = Sequence[float] | np.ndarray | Tensor


def check_loop_lengths(n_modes: int, loop_lengths: Sequence[int]) -> tuple[int, ...]:
    """``loop_lengths`` as ints, each in ``[1, n_modes - 1]``, else a ValueError naming it."""
    if len(loop_lengths) == 0:
        raise ValueError("loop_lengths is empty: a TBI needs at least one delay line")
    loops = _as_counts("loop_lengths", loop_lengths, low=1)
    for i, length in enumerate(loops):
        if length >= n_modes:
            raise ValueError(
                f"loop_lengths[{i}]={length} is outside [1, {n_modes - 1}] for {n_modes} modes"
            )
    return loops


def n_beam_splitters(n_modes: int, loop_lengths: Sequence[int]) -> int:
    """Number of beam splitters of a TBI: ``sum(n_modes - l for l in loop_lengths)``.

    Raises:
        ValueError: for a loop outside ``[1, n_modes - 1]`` (it would count negatively).
    """
    return _n_beam_splitters(n_modes, tuple(loop_lengths))


@lru_cache(maxsize=256)
def _n_beam_splitters(n_modes: int, loop_lengths: tuple[int, ...]) -> int:
    return sum(n_modes - length for length in check_loop_lengths(n_modes, loop_lengths))


def beam_splitter_pairs(n_modes: int, loop_lengths: Sequence[int]) -> list[tuple[int, int]]:
    """The ``(i, i + l)`` bin pairs in CUDA-Q's order: loop by loop, ``i`` rising."""
    loops = check_loop_lengths(n_modes, loop_lengths)
    return [(i, i + length) for length in loops for i in range(n_modes - length)]


def tbi_unitary(
    n_modes: int, loop_lengths: Sequence[int], bs_angles: Tensor, ps_angles: Tensor | None = None
) -> Tensor:
    """Return the ``(*batch, n_modes, n_modes)`` complex mode-transfer matrix ``U[out, in]``.

    Each beam splitter on bins ``(i, j)`` maps a single photon by
    ``[[cos θ, sin θ], [-sin θ, cos θ]]`` (rows = outputs, as CUDA-Q's
    ``beam_splitter``), then ``phase_shift(φ)`` multiplies bin ``i`` by ``e^{iφ}``.

    Args:
        n_modes: number of time bins ``M``.
        loop_lengths: delay-line lengths, applied in this order.
        bs_angles: ``(*batch, n_bs)`` beam-splitter angles θ in radians (real tensor).
        ps_angles: ``(*batch, n_bs)`` phase-shifter angles φ in radians, or ``None``.
    """
    batch = bs_angles.shape[:-1]
    if ps_angles is not None:
        batch = torch.broadcast_shapes(batch, ps_angles.shape[:-1])
    angles = (bs_angles,) if ps_angles is None else (bs_angles, ps_angles)
    if all(a.device.type == "cpu" and a.dtype == torch.float64 for a in angles):
        return _compiled_tbi_unitary(n_modes, tuple(loop_lengths), bs_angles, ps_angles, batch)
    return _torch_tbi_unitary(n_modes, loop_lengths, bs_angles, ps_angles, batch)


def _torch_tbi_unitary(n_modes: int, loop_lengths: Sequence[int], bs_angles: Tensor,
                       ps_angles: Tensor | None, batch: torch.Size) -> Tensor:
    """:func:`tbi_unitary` by torch operations (any device and precision)."""
    complex_dtype = torch.complex128 if bs_angles.dtype == torch.float64 else torch.complex64
    eye = torch.eye(n_modes, dtype=complex_dtype, device=bs_angles.device)
    # Rows are outputs: a beam splitter mixes two rows, so keep rows separate and stack once.
    rows = list(eye.expand(*batch, n_modes, n_modes).unbind(-2))
    cos, sin = torch.cos(bs_angles).to(complex_dtype), torch.sin(bs_angles).to(complex_dtype)
    phases = None if ps_angles is None else torch.polar(torch.ones_like(ps_angles), ps_angles)
    for k, (i, j) in enumerate(beam_splitter_pairs(n_modes, loop_lengths)):
        c, s = cos[..., k, None], sin[..., k, None]
        rows[i], rows[j] = c * rows[i] + s * rows[j], c * rows[j] - s * rows[i]
        if phases is not None:
            rows[i] = rows[i] * phases[..., k, None].to(complex_dtype)
    return torch.stack(rows, dim=-2)


def _compiled_tbi_unitary(n_modes: int, loop_lengths: tuple[int, ...], bs_angles: Tensor,
                          ps_angles: Tensor | None, batch: torch.Size) -> Tensor:
    """:func:`tbi_unitary` in float64 on the CPU by :mod:`.tbi_kernels`: one compiled loop
    forward and one backward instead of autograd over every beam splitter's operations."""
    from .tbi_kernels import TBIUnitary

    n_bs = bs_angles.shape[-1]
    bs = bs_angles.expand(*batch, n_bs).reshape(-1, n_bs)
    ps = bs.detach() if ps_angles is None else ps_angles.expand(*batch, n_bs).reshape(-1, n_bs)
    unitaries = TBIUnitary.apply(bs, ps, n_modes, beam_splitter_table(n_modes, loop_lengths),
                                 ps_angles is not None)
    return unitaries.reshape(*batch, n_modes, n_modes)


@lru_cache(maxsize=256)
def beam_splitter_table(n_modes: int, loop_lengths: tuple[int, ...]) -> np.ndarray:
    """:func:`beam_splitter_pairs` as a cached ``(n_bs, 2)`` int64 array (read by numba)."""
    return np.array(beam_splitter_pairs(n_modes, loop_lengths), dtype=np.int64).reshape(-1, 2)


def _as_angles(name: str, values: AngleLike, n_bs: int) -> Tensor:
    if not isinstance(values, Tensor):
        array = np.asarray(values)
        if array.dtype.kind == "c":
            raise ValueError(f"{name} holds complex numbers; angles are real (radians)")
        if array.dtype.kind not in "iuf":  # bools, strings and objects are no angles
            raise ValueError(f"{name} must hold real numbers (radians), got dtype {array.dtype}")
        values = torch.as_tensor(array.astype(np.float64))
    angles = values
    if angles.is_complex():
        raise ValueError(f"{name} is a complex tensor; angles are real (radians)")
    if angles.dtype == torch.bool:
        raise ValueError(f"{name} is a bool tensor; angles are real (radians)")
    if not angles.is_floating_point():
        angles = angles.to(torch.float64)
    if angles.ndim == 0 or angles.shape[-1] != n_bs:
        got = "a scalar" if angles.ndim == 0 else f"{angles.shape[-1]} entries"
        raise ValueError(f"{name} has {got}, expected {n_bs} (one per beam splitter)")
    if not bool(torch.isfinite(angles.detach()).all()):
        bad = angles.detach()[~torch.isfinite(angles.detach())][0].item()
        raise ValueError(f"{name} holds a non-finite angle ({bad})")
    return angles


def _as_counts(name: str, values: Sequence[int], *, low: int) -> tuple[int, ...]:
    if getattr(values, "dtype", None) in (torch.bool, np.dtype(bool)):
        raise ValueError(f"{name} is a bool array; give integer counts")
    out = []
    for i, value in enumerate(values):
        if isinstance(value, bool | np.bool_):  # operator.index(True) is 1: a mistake, not a count
            raise ValueError(f"{name}[{i}]={value!r} is not an integer")
        try:
            count = operator.index(value)
        except TypeError:
            raise ValueError(f"{name}[{i}]={value!r} is not an integer") from None
        if count < low:
            raise ValueError(f"{name}[{i}]={count} is below {low}")
        out.append(count)
    return tuple(out)


def check_interferometer(
    input_state: Sequence[int], loop_lengths: Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(input_state, loop_lengths)`` of a TBI as int tuples, or a ValueError naming the field.

    Photon counts are integers >= 0 (not bools) with at least one photon; every loop lies
    in ``[1, n_modes - 1]``.
    """
    if len(input_state) == 0:
        raise ValueError("input_state is empty: give photons per time bin, e.g. (1, 0, 1, 0)")
    state = _as_counts("input_state", input_state, low=0)
    if sum(state) == 0:
        raise ValueError(f"input_state={state} holds no photons")
    return state, check_loop_lengths(len(state), loop_lengths)


def _check_broadcast(bs_batch: tuple[int, ...], ps_batch: tuple[int, ...]) -> None:
    """NumPy broadcasting of the two batch shapes, checked by hand so that the error is ours."""
    for a, b in zip(reversed(bs_batch), reversed(ps_batch), strict=False):
        if a != b and 1 not in (a, b):
            raise ValueError(f"ps_angles batch shape {ps_batch} does not broadcast with"
                             f" bs_angles batch shape {bs_batch}")


@dataclass(frozen=True, eq=False)
class TBICircuit:
    """Time-bin interferometer in CUDA-Q's ORCA convention (``cudaq.orca.sample`` arguments).

    Loop ``l`` couples bins ``i, i + l`` for ``i = 0 .. n_modes - l - 1``:
    ``beam_splitter(θ)`` then ``phase_shift(φ)`` on bin ``i``; ``|t| = cos θ``, so
    θ = π/4 is 50:50. Angles may carry leading batch dimensions (one circuit, many
    parameter sets) and may be torch tensors that require gradients.

    Attributes:
        input_state: photons per time bin, e.g. ``(1, 0, 1, 0)``.
        loop_lengths: delay-line lengths, e.g. ``(1,)`` or ``(1, 2)``.
        bs_angles: ``(*batch, n_bs)`` float tensor of beam-splitter angles (radians).
        ps_angles: ``(*batch, n_bs)`` float tensor of phase-shifter angles, or ``None``.
    """

    input_state: tuple[int, ...]
    loop_lengths: tuple[int, ...]
    bs_angles: Tensor
    ps_angles: Tensor | None = field(default=None)

    def __post_init__(self) -> None:
        state, loops = check_interferometer(self.input_state, self.loop_lengths)
        object.__setattr__(self, "input_state", state)
        object.__setattr__(self, "loop_lengths", loops)
        n_bs = self.n_beam_splitters
        object.__setattr__(self, "bs_angles", _as_angles("bs_angles", self.bs_angles, n_bs))
        if self.ps_angles is not None:
            ps = _as_angles("ps_angles", self.ps_angles, n_bs)
            _check_broadcast(tuple(self.bs_angles.shape[:-1]), tuple(ps.shape[:-1]))
            object.__setattr__(self, "ps_angles", ps)

    @property
    def n_modes(self) -> int:
        return len(self.input_state)

    @property
    def n_photons(self) -> int:
        return sum(self.input_state)

    @property
    def n_beam_splitters(self) -> int:
        return n_beam_splitters(self.n_modes, self.loop_lengths)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading dimensions of the angle sets (``()`` for one parameter set)."""
        shape = tuple(self.bs_angles.shape[:-1])
        if self.ps_angles is not None:  # numpy's rule is torch's, and ~10x cheaper to ask
            shape = np.broadcast_shapes(shape, tuple(self.ps_angles.shape[:-1]))
        return shape

    @property
    def n_fock_states(self) -> int:
        """Size of the lossless output space, ``C(M + N - 1, N)``."""
        return math.comb(self.n_modes + self.n_photons - 1, self.n_photons)

    @property
    def device(self) -> torch.device:
        """Where the angles live (where a backend that follows its circuits simulates)."""
        return self.bs_angles.device

    def unitary(self, device: torch.device | str | None = None) -> Tensor:
        """The ``(*batch, M, M)`` complex matrix ``U[out, in]``, differentiable in the angles."""
        bs = self.bs_angles if device is None else self.bs_angles.to(device)
        ps = self.ps_angles
        if ps is not None and device is not None:
            ps = ps.to(device)
        return tbi_unitary(self.n_modes, self.loop_lengths, bs, ps)

    def with_angles(self, bs_angles: AngleLike, ps_angles: AngleLike | None = None) -> TBICircuit:
        """The same interferometer with other angles (e.g. a batch of parameter sets)."""
        return replace(self, bs_angles=bs_angles, ps_angles=ps_angles)

    def unbatched(self) -> list[TBICircuit]:
        """One circuit per parameter set, in row-major batch order."""
        n_bs = self.n_beam_splitters
        bs = self.bs_angles.expand(*self.batch_shape, n_bs).reshape(-1, n_bs)
        ps = None
        if self.ps_angles is not None:
            ps = self.ps_angles.expand(*self.batch_shape, n_bs).reshape(-1, n_bs)
        return [
            replace(self, bs_angles=bs[b], ps_angles=None if ps is None else ps[b])
            for b in range(bs.shape[0])
        ]

    def to_dict(self) -> dict[str, list]:
        """Plain lists for JSON, HDF5 attributes and ``cudaq.orca.sample`` (``ps_angles`` ``[]``
        when absent)."""
        return {
            "input_state": list(self.input_state),
            "loop_lengths": list(self.loop_lengths),
            "bs_angles": self.bs_angles.detach().cpu().tolist(),
            "ps_angles": [] if self.ps_angles is None else self.ps_angles.detach().cpu().tolist(),
        }

    @classmethod
    def from_dict(cls, record: dict) -> TBICircuit:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        allowed = {"input_state", "loop_lengths", "bs_angles", "ps_angles"}
        unknown = sorted(set(record) - allowed)
        if unknown:
            raise ValueError(f"unknown circuit field(s) {unknown}; allowed: {sorted(allowed)}")
        ps = record.get("ps_angles")
        return cls(
            record["input_state"],
            record["loop_lengths"],
            record["bs_angles"],
            ps if ps is not None and len(ps) > 0 else None,
        )

    def __repr__(self) -> str:
        batch = f", batch={self.batch_shape}" if self.batch_shape else ""
        ps = "" if self.ps_angles is None else ", with ps_angles"
        return (
            f"TBICircuit(input_state={self.input_state}, loop_lengths={self.loop_lengths}, "
            f"n_bs={self.n_beam_splitters}{ps}{batch})"
        )


def random_tbi(
    n_modes: int,
    loop_lengths: Sequence[int],
    *,
    rng: np.random.Generator | int,
    phases: bool = True,
    batch: tuple[int, ...] = (),
) -> TBICircuit:
    """A TBI with input ``1, 0, 1, 0, …`` and uniform random angles (θ in [0, 2π), φ in [-π, π)).

    The standard test and benchmark circuit: ``ceil(n_modes / 2)`` photons.
    """
    rng = np.random.default_rng(rng)
    input_state = [(i + 1) % 2 for i in range(n_modes)]
    n_bs = n_beam_splitters(n_modes, loop_lengths)
    TBICircuit(input_state, loop_lengths, np.zeros(n_bs))  # validates before drawing angles
    bs = rng.uniform(0, 2 * np.pi, (*batch, n_bs))
    ps = rng.uniform(-np.pi, np.pi, (*batch, n_bs)) if phases else None
    return TBICircuit(input_state, loop_lengths, bs, ps)


@runtime_checkable
class Interferometer(Protocol):
    """What the ``exact`` backend reads from a linear-optical circuit: its input state and
    its ``(*batch, M, M)`` unitary. :class:`TBICircuit` and
    :class:`~qnn.photonics.mesh.MeshCircuit` are both ``Interferometer``s."""

    input_state: tuple[int, ...]

    @property
    def n_modes(self) -> int: ...

    @property
    def n_photons(self) -> int: ...

    @property
    def batch_shape(self) -> tuple[int, ...]: ...

    @property
    def device(self) -> torch.device: ...

    def unitary(self, device: torch.device | str | None = None) -> Tensor:
        """``U[out, in]``, ``(*batch, M, M)`` complex, differentiable in the parameters."""
        ...

    def unbatched(self) -> list[Interferometer]:
        """One circuit per parameter set, in row-major batch order."""
        ...
