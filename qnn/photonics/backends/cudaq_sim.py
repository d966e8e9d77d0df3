"""The ``cudaq-sim`` backend: TBI circuits as CUDA-Q photonics kernels on ``orca-photonics``.

The reference that proves our conventions: the circuit runs, gate by gate, through CUDA-Q's
qudit state-vector simulator, exactly as CUDA-Q's own TBI example builds it. It is slow
(a dense state of ``(N + 1)^M`` amplitudes) and meant for small circuits and tests.

CUDA-Q has one target per process. Every call here first selects ``orca-photonics`` with
``cudaq.set_target`` and leaves it selected (nothing global is restored afterwards); the
``orca`` backend does the same for its target, so the two can be mixed in any order.
Calls into CUDA-Q from either backend are serialised by :data:`cudaq_lock`.

The kernel functions below use ``qudit``, ``create``, ``beam_splitter``, ``phase_shift``
and ``mz`` without importing them: CUDA-Q's photonics handler injects these names into
this module's globals when a kernel runs, so no other object here may carry those names.
"""

from __future__ import annotations

import signal
import sys
import threading
import warnings
from collections.abc import Mapping
from functools import lru_cache
from types import ModuleType

import numpy as np
import torch
from torch import Tensor

from ...errors import BackendUnavailableError, CostLimitError
from ..circuit import TBICircuit
from ..fock import fock_basis
from ..histogram import Histogram, _check_detection
from .base import SeedLike, check_shots

TARGET = "orca-photonics"
INSTALL_HINT = "install it with `pip install -e .[cudaq]` (CUDA-Q 0.16)"
MAX_AMPLITUDES = 20_000_000

#: Serialises target selection and execution across the cudaq backends (one target per process).
cudaq_lock = threading.RLock()


# --------------------------------------------------------------------------- kernels
def _apply_tbi(input_state: list[int], loop_lengths: list[int], bs_angles: list[float],
               ps_angles: list[float]) -> list:
    """Prepare ``input_state`` in qudits of level ``N + 1`` and apply the TBI; return the qudits.

    Level ``N + 1`` is the least that holds ``N`` photons in one mode: CUDA-Q's ``create``
    saturates silently at the top level. Loop ``l`` applies ``beam_splitter(q[i], q[i + l], θ)``
    then ``phase_shift(q[i], φ)`` for ``i = 0 .. M - l - 1``; ``ps_angles = []`` omits them.
    """
    n_modes = len(input_state)
    level = sum(input_state) + 1
    qumodes = [qudit(level) for _ in range(n_modes)]  # noqa: F821  (injected by CUDA-Q)
    for i in range(n_modes):
        for _ in range(input_state[i]):
            create(qumodes[i])  # noqa: F821
    k = 0
    for length in loop_lengths:
        for i in range(n_modes - length):
            beam_splitter(qumodes[i], qumodes[i + length], bs_angles[k])  # noqa: F821
            if len(ps_angles) > 0:
                phase_shift(qumodes[i], ps_angles[k])  # noqa: F821
            k += 1
    return qumodes


def tbi_state_kernel(input_state: list[int], loop_lengths: list[int], bs_angles: list[float],
                     ps_angles: list[float]):
    """CUDA-Q photonics kernel of the TBI without measurement, for ``cudaq.get_state``.

    (A kernel that ends in ``mz`` hands ``get_state`` the collapsed post-measurement state.)
    """
    _apply_tbi(input_state, loop_lengths, bs_angles, ps_angles)


def tbi_sample_kernel(input_state: list[int], loop_lengths: list[int], bs_angles: list[float],
                      ps_angles: list[float]):
    """CUDA-Q photonics kernel of the TBI measured in every mode, for ``cudaq.sample``.

    (Without ``mz`` the photonics sampler returns no shots at all.)
    """
    mz(_apply_tbi(input_state, loop_lengths, bs_angles, ps_angles))  # noqa: F821


# --------------------------------------------------------------------------- cudaq plumbing
def import_cudaq() -> ModuleType:
    """Import ``cudaq``, or raise :class:`BackendUnavailableError` with an install hint.

    CUDA-Q's import-time notices (the ``cudaq-logical`` preview and the announced change of
    ``sample``/``observe``) concern APIs not used here and are silenced during the import.
    Importing cudaq also installs a native SIGINT handler that exits the process at once,
    skipping ``finally`` blocks (checkpoints, child processes); Python's handler is put back
    so that Ctrl-C raises ``KeyboardInterrupt`` as everywhere else.
    """
    if "cudaq" in sys.modules:
        return sys.modules["cudaq"]
    handler = signal.getsignal(signal.SIGINT)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*cudaq-logical is in preview")
        warnings.filterwarnings("ignore", message=".*algorithmic primitives will change")
        try:
            import cudaq
        except ImportError as err:
            raise BackendUnavailableError(f"the cudaq package is not installed; {INSTALL_HINT}"
                                          ) from err
    if threading.current_thread() is threading.main_thread() and handler is not None:
        signal.signal(signal.SIGINT, handler)
    return cudaq


@lru_cache(maxsize=1)
def _kernels(cudaq: ModuleType) -> tuple:
    """The two kernels, decorated once (the ``orca-photonics`` target must be selected)."""
    return cudaq.kernel(tbi_state_kernel), cudaq.kernel(tbi_sample_kernel)


def histogram_from_counts(counts: Mapping[str, int], n_modes: int,
                          detection: str = "pnr") -> Histogram:
    """Convert CUDA-Q's ORCA sample counts to a :class:`Histogram`.

    Both ORCA targets key their results by one decimal digit of photon count per mode, mode 0
    first (``"1010"``, ``"0200"``). Threshold detection keeps only clicks (``min(n_i, 1)``).

    Args:
        counts: ``{pattern string: count}``, e.g. ``dict(cudaq_result.items())``.
        n_modes: ``M``, the length every pattern string must have.
        detection: ``"pnr"`` or ``"threshold"``.

    Raises:
        ValueError: if a key is not ``n_modes`` decimal digits or a count is negative.
    """
    _check_detection(detection)
    if not counts:
        return Histogram(np.zeros((0, n_modes), np.uint8), np.zeros(0, np.int64), detection)
    patterns = np.zeros((len(counts), n_modes), dtype=np.uint8)
    values = np.zeros(len(counts), dtype=np.int64)
    for row, (key, count) in enumerate(counts.items()):
        if len(key) != n_modes or not (key.isascii() and key.isdigit()):
            raise ValueError(f"sample key {key!r} is not {n_modes} decimal digits (one per mode)")
        patterns[row] = [int(c) for c in key]
        values[row] = count
    if detection == "threshold":
        patterns = np.minimum(patterns, 1)
    return Histogram(patterns, values, detection)


def _merge_clicks(patterns: np.ndarray, probs: Tensor) -> tuple[np.ndarray, Tensor]:
    """Sum probabilities over patterns with equal clicks; clicks sorted lexicographically."""
    clicks, inverse = np.unique(np.minimum(patterns, 1), axis=0, return_inverse=True)
    index = torch.as_tensor(inverse.ravel(), device=probs.device)
    merged = probs.new_zeros(*probs.shape[:-1], len(clicks)).index_add(-1, index, probs)
    return clicks, merged


def state_indices(patterns: np.ndarray, level: int) -> np.ndarray:
    """Index of each ``(S, M)`` pattern in CUDA-Q's qudit state vector.

    The state has ``level^M`` entries in mixed radix with qudit (mode) 0 most significant:
    ``index = sum_i n_i · level^(M - 1 - i)``.
    """
    n_modes = patterns.shape[-1]
    weights = level ** np.arange(n_modes - 1, -1, -1, dtype=np.int64)
    return patterns.astype(np.int64) @ weights


def _warn_if_seeded(seed: SeedLike) -> None:
    if seed is not None:
        warnings.warn("cudaq-sim ignores seed: CUDA-Q's photonics sampler is not seedable,"
                      " so its samples are not reproducible", UserWarning, stacklevel=3)


# --------------------------------------------------------------------------- backend
class CudaqSimBackend:
    """TBI circuits simulated by CUDA-Q's ``orca-photonics`` qudit state vector.

    Constructing it imports ``cudaq`` and selects the process-wide CUDA-Q target
    ``orca-photonics``; every later call selects it again (see the module docstring).

    Args:
        max_amplitudes: largest dense state, ``(N + 1)^M`` amplitudes, that a call may build
            (8 modes / 4 photons need 390,625; 10 / 5 need 6.0e7 and take minutes).

    Raises:
        BackendUnavailableError: if ``cudaq`` is not installed.
    """

    name = "cudaq-sim"

    def __init__(self, *, max_amplitudes: int = MAX_AMPLITUDES) -> None:
        if isinstance(max_amplitudes, bool) or int(max_amplitudes) < 1:
            raise ValueError(f"max_amplitudes={max_amplitudes!r} must be a positive integer")
        self.max_amplitudes = int(max_amplitudes)
        self._cudaq = import_cudaq()
        with cudaq_lock:
            self._select_target()

    def __repr__(self) -> str:
        return f"CudaqSimBackend(max_amplitudes={self.max_amplitudes:,})"

    def _select_target(self) -> tuple:
        self._cudaq.set_target(TARGET)
        return _kernels(self._cudaq)

    def _check_size(self, circuit: TBICircuit) -> int:
        level, m = circuit.n_photons + 1, circuit.n_modes
        size = level ** m
        if size > self.max_amplitudes:
            raise CostLimitError(
                f"cudaq-sim needs (n_photons + 1)^n_modes = {level}^{m} = {size:,} amplitudes"
                f" for {circuit.n_photons} photons in {m} modes, above max_amplitudes="
                f"{self.max_amplitudes:,}; use the exact backend")
        return level

    # ----------------------------------------------------------------- distributions
    def amplitudes(self, circuit: TBICircuit) -> tuple[Tensor, Tensor]:
        """Output amplitudes from ``cudaq.get_state``, in our Fock-basis order.

        Returns:
            ``patterns``: int64 ``[S, M]`` = ``fock_basis(M, N)``; ``amplitudes``: complex128
            ``[*batch, S]`` (one state-vector simulation per parameter set; no gradients).
        """
        self._check_size(circuit)  # before the basis: the dense state is the larger
        basis = fock_basis(circuit.n_modes, circuit.n_photons)
        rows = [self._amplitudes_one(c, basis) for c in circuit.unbatched()]
        amps = torch.stack(rows).reshape(*circuit.batch_shape, len(basis))
        return torch.as_tensor(np.array(basis), dtype=torch.long), amps

    def _amplitudes_one(self, circuit: TBICircuit, basis: np.ndarray) -> Tensor:
        level = self._check_size(circuit)
        args = circuit.to_dict()
        with cudaq_lock:
            state_kernel, _ = self._select_target()
            state = self._cudaq.get_state(state_kernel, args["input_state"],
                                          args["loop_lengths"], args["bs_angles"],
                                          args["ps_angles"])
            vector = np.array(state, dtype=np.complex128)
        amps = vector[state_indices(basis, level)]
        outside = 1.0 - float(np.vdot(amps, amps).real)
        if abs(outside) > 1e-9:
            raise RuntimeError(f"cudaq state holds {outside:.3g} probability outside the"
                               f" {circuit.n_photons}-photon subspace")
        return torch.as_tensor(amps)

    def probabilities(self, circuit: TBICircuit, detection: str = "pnr") -> tuple[Tensor, Tensor]:
        """Exact output distribution, same contract as the ``exact`` backend's.

        Returns:
            ``patterns``: int64 ``[S, M]`` occupations (or clicks for ``"threshold"``), sorted
            lexicographically with mode 0 most significant; ``probs``: float64
            ``[*batch, S]`` summing to 1 (no gradients).
        """
        _check_detection(detection)
        patterns, amps = self.amplitudes(circuit)
        probs = amps.real ** 2 + amps.imag ** 2
        if detection == "threshold":
            clicks, probs = _merge_clicks(patterns.numpy(), probs)
            patterns = torch.as_tensor(clicks, dtype=torch.long)
        return patterns, probs

    # ----------------------------------------------------------------- sampling
    def sample(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
               detection: str = "pnr") -> Histogram:
        """``shots`` detections of an unbatched circuit, drawn by ``cudaq.sample``.

        ``seed`` cannot make this reproducible: CUDA-Q's photonics sampler ignores
        ``cudaq.set_random_seed``. It is accepted so that generic code can pass one, and a
        non-``None`` seed issues a ``UserWarning`` saying it was ignored. Use the ``exact``
        backend for reproducible samples.

        Raises:
            ValueError: for a batched circuit (use :meth:`sample_batch`), for more than 9
                photons (CUDA-Q writes counts as undelimited digits), or a state too large.
        """
        if circuit.batch_shape:
            raise ValueError(f"sample takes one parameter set, got batch {circuit.batch_shape};"
                             " use sample_batch")
        _warn_if_seeded(seed)
        return self._sample_all(circuit, shots, detection)[0]

    def sample_batch(self, circuit: TBICircuit, shots: int, *, seed: SeedLike = None,
                     detection: str = "pnr") -> list[Histogram]:
        """One ``cudaq.sample`` histogram per parameter set, in row-major batch order.

        ``seed`` is ignored as in :meth:`sample`.
        """
        _warn_if_seeded(seed)
        return self._sample_all(circuit, shots, detection)

    def _sample_all(self, circuit: TBICircuit, shots: int, detection: str) -> list[Histogram]:
        _check_detection(detection)
        shots = check_shots(shots)
        if circuit.n_photons > 9:
            raise ValueError(f"cudaq-sim samples at most 9 photons, got n_photons="
                             f"{circuit.n_photons}: CUDA-Q writes counts as undelimited digits")
        return [self._sample_one(c, shots, detection) for c in circuit.unbatched()]

    def _sample_one(self, circuit: TBICircuit, shots: int, detection: str) -> Histogram:
        self._check_size(circuit)
        if shots == 0:
            return histogram_from_counts({}, circuit.n_modes, detection)
        args = circuit.to_dict()
        with cudaq_lock:
            _, sample_kernel = self._select_target()
            result = self._cudaq.sample(sample_kernel, args["input_state"], args["loop_lengths"],
                                        args["bs_angles"], args["ps_angles"], shots_count=shots)
            counts = dict(result.items())
        return histogram_from_counts(counts, circuit.n_modes, detection)
