"""Records of a BBS run: the resumable state, the per-update report and the final result."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..photonics.histogram import Histogram

SCHEMA = "qnn.bbs.state/1"
HISTORY_KEYS = ("expected_cost", "best_cost", "click_rate", "evaluations")


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in values]


@dataclass(frozen=True, eq=False)
class BBSState:
    """Everything a BBS run needs to continue bit-identically after any update.

    Attributes:
        step: updates done so far.
        bs_angles: ``(n_bs,)`` float64 beam-splitter angles θ (radians).
        flip_params: ``(n_bits,)`` float64 flip parameters (angles or logits, see
            ``BBSConfig.flip_param``).
        moments: optimiser state per group, ``{"angles": {...}, "flips": {...}}``; each
            ``{}`` for SGD or ``{"m": (k,), "v": (k,)}`` for Adam.
        best_bits: ``(n_bits,)`` uint8 best candidate evaluated so far, or ``None``.
        best_cost: its cost (``inf`` before the first update).
        rng_state: ``rng.bit_generator.state`` of the run's generator.
        history: per-update lists keyed by ``HISTORY_KEYS``: estimated expected cost,
            best cost so far, mean click rate of the unshifted samples, cost evaluations.
    """

    step: int
    bs_angles: np.ndarray
    flip_params: np.ndarray
    moments: dict[str, dict[str, np.ndarray]]
    best_bits: np.ndarray | None
    best_cost: float
    rng_state: dict
    history: dict[str, list] = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})

    @property
    def evaluations(self) -> int:
        """Cost evaluations spent so far (see :class:`BBSSolver`)."""
        return int(sum(self.history["evaluations"]))

    def rng(self) -> np.random.Generator:
        """A fresh generator in the stored state (the state itself is never mutated)."""
        name = self.rng_state["bit_generator"]
        bit_generator = getattr(np.random, name)()
        bit_generator.state = copy.deepcopy(self.rng_state)
        return np.random.Generator(bit_generator)

    def to_dict(self) -> dict:
        """JSON-ready values (floats as lists, ``best_cost`` ``None`` while infinite)."""
        return {
            "schema": SCHEMA,
            "step": self.step,
            "bs_angles": _floats(self.bs_angles),
            "flip_params": _floats(self.flip_params),
            "moments": {g: {k: _floats(v) for k, v in d.items()} for g, d in self.moments.items()},
            "best_bits": None if self.best_bits is None else [int(b) for b in self.best_bits],
            "best_cost": self.best_cost if math.isfinite(self.best_cost) else None,
            "rng_state": copy.deepcopy(self.rng_state),
            "history": {k: list(self.history[k]) for k in HISTORY_KEYS},
        }

    @classmethod
    def from_dict(cls, record: dict) -> BBSState:
        """Inverse of :meth:`to_dict`; a wrong schema or missing key is a ``ValueError``."""
        if record.get("schema") != SCHEMA:
            raise ValueError(f"BBS state schema {record.get('schema')!r}, expected {SCHEMA!r}")
        missing = sorted({"step", "bs_angles", "flip_params", "moments", "best_bits",
                          "best_cost", "rng_state", "history"} - set(record))
        if missing:
            raise ValueError(f"BBS state lacks field(s) {missing}")
        bits = record["best_bits"]
        return cls(
            step=int(record["step"]),
            bs_angles=np.asarray(record["bs_angles"], dtype=np.float64),
            flip_params=np.asarray(record["flip_params"], dtype=np.float64),
            moments={g: {k: np.asarray(v, dtype=np.float64) for k, v in d.items()}
                     for g, d in record["moments"].items()},
            best_bits=None if bits is None else np.asarray(bits, dtype=np.uint8),
            best_cost=math.inf if record["best_cost"] is None else float(record["best_cost"]),
            rng_state=copy.deepcopy(record["rng_state"]),
            history={k: list(record["history"][k]) for k in HISTORY_KEYS},
        )


@dataclass(frozen=True, eq=False)
class StepReport:
    """What one update did.

    Attributes:
        step: number of updates done after this one (1-based index of this update).
        expected_cost: estimate of ``E_y E_b C`` at the angles before the update (sample
            mean over the unshifted candidates, or the exact value for ``gradient="exact"``).
        best_cost: best cost evaluated so far, this update included.
        candidate_cost: best cost among this update's candidates.
        click_rate: mean over modes and shots of the unshifted boson click samples.
        evaluations: cost evaluations this update.
        angle_grad: ``(n_bs,)`` angle gradient, or ``None`` when angles are frozen.
        flip_grad: ``(n_bits,)`` gradient of the flip loss w.r.t. the flip parameters.
        histograms: ``(label, Histogram)`` of every batch sampled: ``"unshifted"``,
            ``"plus/j"``, ``"minus/j"`` from the backend and, for the ``random_clicks``
            ablation, the substituted clicks as ``"random_clicks/<label>"``.
    """

    step: int
    expected_cost: float
    best_cost: float
    candidate_cost: float
    click_rate: float
    evaluations: int
    angle_grad: np.ndarray | None
    flip_grad: np.ndarray
    histograms: list[tuple[str, Histogram]]


@dataclass(frozen=True, eq=False)
class BBSResult:
    """Outcome of :meth:`BBSSolver.run`.

    Attributes:
        best_bits: ``(n_bits,)`` uint8 best candidate ever evaluated.
        best_cost: its cost.
        history: ``(updates,)`` arrays keyed by ``HISTORY_KEYS``.
        evaluations: total cost evaluations.
        state: the final state (resume or inspect angles and flips from it).
    """

    best_bits: np.ndarray
    best_cost: float
    history: dict[str, np.ndarray]
    evaluations: int
    state: BBSState
