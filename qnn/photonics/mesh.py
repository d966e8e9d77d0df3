"""General interferometers: a rectangular Clements mesh of beam splitters and phases.

A :class:`MeshCircuit` realises *any* ``M × M`` unitary (Clements, Humphreys, Metcalf,
Kolthammer, Walmsley, "Optimal design for universal multiport interferometers",
Optica 3, 1460 (2016), arXiv:1603.08788) with ``M(M-1)/2`` cells and ``M`` output phases,
``M²`` real parameters in all. It is the general mesh of the Quantum-Train paper
(arXiv:2505.08474: 9 and 8 modes, inputs ``|1,0,1,0,0,1,0,0,1⟩`` and
``|1,0,1,0,1,0,0,1⟩``, collision-free outcomes), where a :class:`TBICircuit` is the
ORCA PT-series loop architecture. Both expose ``unitary()``, ``input_state``,
``n_modes``, ``n_photons``, ``batch_shape`` and ``unbatched()``, which is all the ``exact``
backend reads, so probabilities, gradients, noise, cost guards and sampling are shared.

The published code parameterises its meshes differently (a reproduction in Perceval/MerLin,
github.com/philippeschoeb/reproduced_papers ``papers/DQNN/lib/boson_sampler.py``: ``M-1``
columns of ``BS.Rx(θ)`` each followed by a phase on both modes, 3 parameters per cell,
``3·M(M-1)/2`` = 108 + 84 = 192 allotted of which 96 + 75 = 171 are used). With ``M-1``
columns that mesh is one column short of universal, and its angles do not map one to one
onto these; :meth:`MeshCircuit.from_unitary` reproduces any unitary it makes.

:func:`clements_decomposition` gives the parameters of a given unitary
(:meth:`MeshCircuit.from_unitary`), and :func:`collision_free` keeps the no-bunching
outcomes of a distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from .circuit import _as_angles, _as_counts


def mesh_cells(n_modes: int) -> list[tuple[int, int]]:
    """``(column, k)`` of every cell, in parameter order: column by column, ``k`` rising.

    Column ``c = 0 .. M-1`` holds the cells on modes ``(k, k+1)`` with ``k ≡ c (mod 2)``:
    ``M(M-1)/2`` cells, each column acting on disjoint pairs (the rectangular layout).
    """
    return [(c, k) for c in range(n_modes) for k in range(c % 2, n_modes - 1, 2)]


def n_mesh_cells(n_modes: int) -> int:
    """``M(M-1)/2``, the number of cells of a universal ``M``-mode mesh."""
    return n_modes * (n_modes - 1) // 2


def mesh_unitary(
    n_modes: int, bs_angles: Tensor, ps_angles: Tensor, output_phases: Tensor | None = None
) -> Tensor:
    """The ``(*batch, M, M)`` complex matrix ``U[out, in] = D · T_L ⋯ T_2 · T_1``.

    Cell ``n``, ``mesh_cells(M)[n] = (column, k)``, acts on modes ``(k, k+1)`` by
    ``T(θ, φ) = [[e^{iφ} cos θ, -sin θ], [e^{iφ} sin θ, cos θ]]`` (rows = outputs):
    a phase ``φ`` on the upper mode ``k``, then a real beam splitter that keeps a photon in
    its mode with amplitude ``cos θ``. ``D = diag(e^{iα_0}, …, e^{iα_{M-1}})`` (identity
    for ``None``) follows the last column; it changes no output probability.
    """
    batch = torch.broadcast_shapes(bs_angles.shape[:-1], ps_angles.shape[:-1])
    if output_phases is not None:
        batch = torch.broadcast_shapes(batch, output_phases.shape[:-1])
    complex_dtype = torch.complex128 if bs_angles.dtype == torch.float64 else torch.complex64
    device = bs_angles.device
    u = torch.eye(n_modes, dtype=complex_dtype, device=device).expand(*batch, n_modes, n_modes)
    cos, sin = torch.cos(bs_angles).to(complex_dtype), torch.sin(bs_angles).to(complex_dtype)
    phases = torch.polar(torch.ones_like(ps_angles), ps_angles).to(complex_dtype)
    first = 0  # the cells of a column act on disjoint pairs: apply them at once
    for column in range(n_modes):
        upper = torch.arange(column % 2, n_modes - 1, 2, device=device)
        cells = slice(first, first + len(upper))
        first += len(upper)
        c, s = cos[..., cells, None], sin[..., cells, None]
        top, bottom = phases[..., cells, None] * u[..., upper, :], u[..., upper + 1, :]
        u = u.index_copy(-2, upper, c * top - s * bottom)
        u = u.index_copy(-2, upper + 1, s * top + c * bottom)
    if output_phases is not None:
        alpha = torch.polar(torch.ones_like(output_phases), output_phases).to(complex_dtype)
        u = alpha[..., :, None] * u
    return u


@dataclass(frozen=True, eq=False)
class MeshCircuit:
    """A universal ``M``-mode interferometer: rectangular Clements mesh + output phases.

    See :func:`mesh_unitary` for the convention: cell ``n`` (``mesh_cells(M)[n] = (column,
    k)``) is ``T(θ_n, φ_n)`` on modes ``(k, k+1)``, ``[[e^{iφ}cos θ, -sin θ], [e^{iφ}sin θ,
    cos θ]]``, then the output phases ``α``. Parameters may carry leading batch dimensions
    (broadcast against each other) and be torch tensors that require gradients.

    Attributes:
        input_state: photons per mode, e.g. ``(1, 0, 1, 0, 1, 0, 0, 1)``.
        bs_angles: ``(*batch, M(M-1)/2)`` beam-splitter angles θ (radians).
        ps_angles: ``(*batch, M(M-1)/2)`` cell phases φ (radians).
        output_phases: ``(*batch, M)`` output phases α, or ``None`` (all zero).
    """

    input_state: tuple[int, ...]
    bs_angles: Tensor
    ps_angles: Tensor
    output_phases: Tensor | None = field(default=None)

    def __post_init__(self) -> None:
        if len(self.input_state) == 0:
            raise ValueError("input_state is empty: give photons per mode, e.g. (1, 0, 1, 0)")
        state = _as_counts("input_state", self.input_state, low=0)
        if sum(state) == 0:
            raise ValueError(f"input_state={state} holds no photons")
        object.__setattr__(self, "input_state", state)
        cells = n_mesh_cells(len(state))
        object.__setattr__(self, "bs_angles", _as_angles("bs_angles", self.bs_angles, cells))
        object.__setattr__(self, "ps_angles", _as_angles("ps_angles", self.ps_angles, cells))
        if self.output_phases is not None:
            alpha = _as_angles("output_phases", self.output_phases, len(state))
            object.__setattr__(self, "output_phases", alpha)
        try:
            self.batch_shape  # noqa: B018  (validates that the batch shapes broadcast)
        except RuntimeError:
            shapes = [tuple(p.shape[:-1]) for p in self._params() if p is not None]
            raise ValueError(f"parameter batch shapes {shapes} do not broadcast") from None

    def _params(self) -> tuple[Tensor, Tensor, Tensor | None]:
        return self.bs_angles, self.ps_angles, self.output_phases

    @property
    def n_modes(self) -> int:
        return len(self.input_state)

    @property
    def n_photons(self) -> int:
        return sum(self.input_state)

    @property
    def n_cells(self) -> int:
        return n_mesh_cells(self.n_modes)

    @property
    def n_params(self) -> int:
        """Real parameters: ``M(M-1)`` cell angles, plus ``M`` output phases when present."""
        return 2 * self.n_cells + (0 if self.output_phases is None else self.n_modes)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading dimensions of the parameter sets (``()`` for one parameter set)."""
        shapes = [p.shape[:-1] for p in self._params() if p is not None]
        return tuple(torch.broadcast_shapes(*shapes))

    @property
    def n_fock_states(self) -> int:
        """Size of the lossless output space, ``C(M + N - 1, N)``."""
        return math.comb(self.n_modes + self.n_photons - 1, self.n_photons)

    @property
    def device(self) -> torch.device:
        """Where the parameters live (where a backend that follows its circuits simulates)."""
        return self.bs_angles.device

    def unitary(self, device: torch.device | str | None = None) -> Tensor:
        """The ``(*batch, M, M)`` complex matrix ``U[out, in]``, differentiable in the angles."""
        params = [p if p is None or device is None else p.to(device) for p in self._params()]
        return mesh_unitary(self.n_modes, *params)

    def unbatched(self) -> list[MeshCircuit]:
        """One circuit per parameter set, in row-major batch order."""
        batch = self.batch_shape
        flat = [
            None if p is None else p.expand(*batch, p.shape[-1]).reshape(-1, p.shape[-1])
            for p in self._params()
        ]
        size = math.prod(batch)
        return [
            replace(self, bs_angles=flat[0][b], ps_angles=flat[1][b],
                    output_phases=None if flat[2] is None else flat[2][b])
            for b in range(size)
        ]

    @classmethod
    def from_unitary(cls, input_state: Sequence[int], unitary: Tensor | np.ndarray) -> MeshCircuit:
        """The mesh realising ``unitary`` ``(*batch, M, M)`` exactly, by
        :func:`clements_decomposition`.

        The parameters are constants (float64); wrap them in leaves to train from there.
        """
        u = unitary.detach().cpu().numpy() if isinstance(unitary, Tensor) else np.asarray(unitary)
        if u.ndim < 2 or u.shape[-1] != u.shape[-2] or u.shape[-1] != len(input_state):
            raise ValueError(f"unitary has shape {u.shape}, expected (*batch, {len(input_state)},"
                             f" {len(input_state)})")
        flat = u.reshape(-1, *u.shape[-2:])
        parts = [clements_decomposition(x) for x in flat]
        theta, phi, alpha = (np.stack([p[i] for p in parts]).reshape(*u.shape[:-2], -1)
                             for i in range(3))
        return cls(input_state, theta, phi, alpha)

    def __repr__(self) -> str:
        batch = f", batch={self.batch_shape}" if self.batch_shape else ""
        return (f"MeshCircuit(input_state={self.input_state}, n_cells={self.n_cells}"
                f"{', with output_phases' if self.output_phases is not None else ''}{batch})")


def random_mesh(
    input_state: Sequence[int], *, rng: np.random.Generator | int, batch: tuple[int, ...] = ()
) -> MeshCircuit:
    """A mesh with uniform random angles (θ, φ, α in [0, 2π)); not Haar-distributed
    (for that, ``MeshCircuit.from_unitary`` of a Haar unitary)."""
    rng = np.random.default_rng(rng)
    m = len(input_state)
    cells = n_mesh_cells(m)
    return MeshCircuit(input_state, *(rng.uniform(0, 2 * np.pi, (*batch, size))
                                      for size in (cells, cells, m)))


def clements_decomposition(unitary: np.ndarray, atol: float = 1e-10) -> tuple[np.ndarray, ...]:
    """``(θ, φ, α)`` with ``mesh_unitary(M, θ, φ, α) == unitary`` (Clements et al. 2016).

    Elements below the anti-diagonal are nulled alternately by cells multiplied from the
    right (``U T⁻¹``, mixing columns) and from the left (``T U``, mixing rows) until ``U`` is
    diagonal; the left cells are then moved through the diagonal, ``T⁻¹(θ, φ) D = D' T(θ,
    φ')``, and the cells are placed in the rectangular layout by their earliest column.

    Raises:
        ValueError: if ``unitary`` is not unitary to ``atol``.
    """
    u = np.array(unitary, dtype=np.complex128)
    m = u.shape[0]
    if u.shape != (m, m) or not np.allclose(u.conj().T @ u, np.eye(m), atol=atol):
        raise ValueError(f"not a unitary matrix (shape {u.shape})")
    right, left = [], []  # (k, θ, φ)
    for i in range(m - 1):
        if i % 2 == 0:
            for j in range(i + 1):  # null u[m-1-j, i-j] into column i-j+1
                r, k = m - 1 - j, i - j
                a, b = u[r, k], u[r, k + 1]
                theta, phi = np.arctan2(abs(a), abs(b)), np.angle(a) - np.angle(b)
                u = u @ _cell(m, k, theta, phi).conj().T
                right.append((k, theta, phi))
        else:
            for j in range(1, i + 2):  # null u[m+j-i-2, j-1] into row m+j-i-3
                k, col = m + j - i - 3, j - 1
                a, b = u[k, col], u[k + 1, col]
                theta, phi = np.arctan2(abs(b), abs(a)), np.angle(b) - np.angle(a) + np.pi
                u = _cell(m, k, theta, phi) @ u
                left.append((k, theta, phi))
    # unitary = L_1⁻¹ ⋯ L_p⁻¹ · D · R_q ⋯ R_1; move D left past each L⁻¹.
    d = np.diag(u).copy()
    moved = []
    for k, theta, phi in reversed(left):
        phi_new = np.angle(-d[k] / d[k + 1])
        d[k] = -np.exp(-1j * phi) * d[k + 1]
        moved.append((k, theta, phi_new))
    # unitary = D' · T'_1 ⋯ T'_p · R_q ⋯ R_1: in order of application, R_1 first, T'_1 last.
    sequence = right + moved
    return (*_place(m, sequence), np.angle(d))


def _cell(m: int, k: int, theta: float, phi: float) -> np.ndarray:
    t = np.eye(m, dtype=np.complex128)
    c, s, e = np.cos(theta), np.sin(theta), np.exp(1j * phi)
    t[k : k + 2, k : k + 2] = [[e * c, -s], [e * s, c]]
    return t


def _place(m: int, sequence: list[tuple[int, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Angles in :func:`mesh_cells` order from cells in order of application."""
    slot = {cell: n for n, cell in enumerate(mesh_cells(m))}
    theta, phi = np.zeros(len(slot)), np.zeros(len(slot))
    depth = [0] * m  # next free column on each mode
    for k, t, p in sequence:
        column = max(depth[k], depth[k + 1])
        column += (column - k) % 2  # cells on (k, k+1) sit in columns of k's parity
        n = slot[(column, k)]  # KeyError: the sequence is not a rectangular mesh
        theta[n], phi[n] = t, p
        depth[k] = depth[k + 1] = column + 1
    return theta, phi


def collision_free(
    patterns: Tensor, probs: Tensor, *, renormalise: bool = True
) -> tuple[Tensor, Tensor]:
    """Keep the no-bunching outcomes (every ``n_i <= 1``) of ``(patterns [S, M], probs
    [*batch, S])``, renormalised to sum to 1 unless ``renormalise=False``; differentiable.

    The Quantum-Train pipeline uses the ``C(M, N)`` collision-free outcomes
    (``qnn.qtrain.mapping.qpu_vector(..., "no_bunching")`` keeps them without renormalising).
    """
    keep = (patterns <= 1).all(dim=-1)
    kept = probs[..., keep.to(probs.device)]
    if renormalise:
        kept = kept / kept.sum(dim=-1, keepdim=True)
    return patterns[keep], kept
