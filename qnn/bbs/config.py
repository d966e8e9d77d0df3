"""Hyper-parameters of the Bosonic Binary Solver, validated on construction."""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import asdict, dataclass, fields

OPTIMIZERS = ("sgd", "adam")
GRADIENTS = ("two_term_shift", "exact")
FLIP_PARAMS = ("angle", "logit", "probability")
SAMPLERS = ("boson", "random_clicks")
FLIP_GRADIENTS = ("sampled", "closed_form", "bit_differences")
# The independent reproduction's flip rule (SGD on logits, both costs of every bit's flip),
# the one under which BBS reproduces the paper's Table I: `bbs.` updates of a run.
REPRODUCTION_FLIP_RULE = {"flip_param": "logit", "flip_gradient": "bit_differences"}


def _integer(name: str, value: object, low: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"BBSConfig.{name}={value!r} must be an integer >= {low}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"BBSConfig.{name}={value!r} must be an integer >= {low}") from None
    if number < low:
        raise ValueError(f"BBSConfig.{name}={number} must be an integer >= {low}")
    return number


def _real(name: str, value: object, *, low: float, high: float = math.inf,
          open_low: bool = False, open_high: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"BBSConfig.{name}={value!r} must be a real number")
    number = float(value)
    below = number <= low if open_low else number < low
    above = number >= high if open_high else number > high
    if not math.isfinite(number) or below or above:
        span = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise ValueError(f"BBSConfig.{name}={value!r} is outside {span}")
    return number


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"BBSConfig.{name}={value!r}; choose from {list(choices)}")
    return str(value)


@dataclass(frozen=True)
class BBSConfig:
    """Hyper-parameters of one BBS run; defaults are the paper's (arXiv 2510.08274).

    Attributes:
        loop_lengths: delay lines of the TBI; lengths ``>= n_modes`` are dropped per problem.
        max_modes: tile size ``m``. A problem of ``n`` bits uses one circuit of
            ``m = min(n, max_modes)`` modes (input ``1, 0, 1, 0, …``); a candidate is
            ``ceil(n / m)`` independent samples of it concatenated and cut to ``n`` bits.
        shots: candidates ``S`` per parameter set and update (each needs ``ceil(n/m)``
            circuit samples).
        updates: number of updates ``run`` performs.
        optimizer: ``"sgd"`` or ``"adam"`` (β = 0.9, 0.999, ε = 1e-8), applied to both
            the beam-splitter angles and the flip parameters.
        lr_angles: learning rate of the beam-splitter angles.
        lr_flips: learning rate of the flip parameters (see ``flip_param``).
        gradient: ``"two_term_shift"`` — the two-term shift rule on sample estimates (what runs on
            hardware); ``"exact"`` — autograd through the exact click distribution of a
            ``ProbabilityBackend`` (small circuits only; a simulation diagnostic).
        shift: shift ``Δ`` of the two-term rule, radians in ``(0, π/2)``.
        denominator: divisor of ``f(θ+Δ) − f(θ−Δ)``; ``None`` means ``sin 2Δ``. A
            beam-splitter angle enters every probability as a trigonometric polynomial in
            ``2θ, 4θ, …, 2Nθ``; ``sin 2Δ`` makes the rule exact for the ``2θ`` harmonic
            (hence for one photon), as ORCA's released variant does. Harmonic ``2k`` is
            weighted by ``sin(2kΔ) / (k sin 2Δ)`` (0.5 for ``k = 2`` and 0 for ``k = 3`` at
            Δ = π/6), so with several photons the rule is biased. ``2 sin Δ`` would be
            exact for a first harmonic, which a TBI never produces; it only rescales every
            gradient by ``cos Δ``.
        flip_param: parametrisation of the flip probabilities ``p``. ``"angle"`` (ORCA's):
            ``p = (1 − cos α) / 2``, i.e. keep-probability ``(1 + cos α) / 2``.
            ``"logit"``: ``p = sigmoid(z)``. Both keep ``p`` in ``[0, 1]`` without clipping.
            ``"probability"`` (the update as the paper writes it): SGD on ``p`` itself,
            clipped to ``[0, 1]`` after every step (needs ``flip_gradient="bit_differences"``
            on a black box). Its step on ``p`` does not shrink near 0 and 1, so a
            flip the gradient has driven to a bound comes back as soon as the slope turns,
            where the angle's step ``∝ sin α`` all but stops there.
        init_flip: initial flip probability of every bit, in ``(0, 1)`` (``1/2`` gives
            ``α₀ = π/2``).
        entropy_penalty: ``λ``; the flip loss is ``E[C] + λ · mean_i H₂(p_i)`` (binary
            entropy in bits, in ``[0, 1]``), which pushes flips towards 0 or 1. ORCA's
            variant uses ``λ = 0.1`` with a one-sided ``−p ln p`` term instead.
        flip_gradient: how the flip gradient is estimated with ``gradient="two_term_shift"``.
            ``"sampled"``: on a QUBO (``BBSSolver``) the paper's
            ``∂E/∂p_i = E[C(x | b_i = 1) − C(x | b_i = 0)]`` averaged over the update's
            candidates ``x = y XOR b`` with their sampled flips, one extra cost difference
            per bit and candidate, read off the QUBO; on a black box (``BlackBoxSolver``),
            where no difference is free, the score-function estimator over the scored
            candidates, which costs no extra evaluation. ``"bit_differences"``: the paper's
            estimator on a black box, paid for: both costs ``C(x | b_i = 1)`` and
            ``C(x | b_i = 0)`` of every bit and unshifted candidate are evaluated, the
            ``2m S`` strings per update that the paper's budget ``N S (2K + 2m + 1)``
            counts (a QUBO's ``"sampled"`` is the same estimator). ``"closed_form"``: autograd
            through ``E_b C`` in closed form (no flip noise). Beware: for costs symmetric
            under ``x -> 1 − x`` (Max-Cut) ``p = 1/2`` is a stationary point of the exact
            objective, so ``"closed_form"`` (and ``gradient="exact"``) never leave the
            initial ``init_flip = 1/2`` and the solver degenerates into random search; the
            sampled estimate's noise breaks that symmetry.
        sampler: ``"boson"``, or the ablation ``"random_clicks"``: every parameter set's
            ``S · ceil(n/m)`` boson click samples are replaced by independent Bernoulli
            clicks whose per-mode probabilities are that set's empirical click rates
            (so the candidates use the rates of the unshifted samples of the same update).
            Matched: the per-mode marginal click rates (up to sampling error). Not matched:
            every correlation between modes (photon-number conservation, bunching).
        freeze_angles: ablation: the beam-splitter angles are never updated (and the
            shifted parameter sets are not sampled).
    """

    loop_lengths: tuple[int, ...] = (1, 3, 9)
    max_modes: int = 30
    shots: int = 50
    updates: int = 200
    optimizer: str = "sgd"
    lr_angles: float = 0.01
    lr_flips: float = 0.05
    gradient: str = "two_term_shift"
    shift: float = math.pi / 6
    denominator: float | None = None
    flip_param: str = "angle"
    init_flip: float = 0.5
    entropy_penalty: float = 0.0
    flip_gradient: str = "sampled"
    sampler: str = "boson"
    freeze_angles: bool = False

    def __post_init__(self) -> None:
        loops = self.loop_lengths
        if isinstance(loops, str | bytes) or not hasattr(loops, "__len__") or len(loops) == 0:
            raise ValueError(f"BBSConfig.loop_lengths={loops!r} must be a non-empty sequence")
        set_ = object.__setattr__
        set_(self, "loop_lengths",
             tuple(_integer(f"loop_lengths[{i}]", v, 1) for i, v in enumerate(loops)))
        set_(self, "max_modes", _integer("max_modes", self.max_modes, 2))
        set_(self, "shots", _integer("shots", self.shots, 1))
        set_(self, "updates", _integer("updates", self.updates, 1))
        set_(self, "optimizer", _choice("optimizer", self.optimizer, OPTIMIZERS))
        set_(self, "lr_angles", _real("lr_angles", self.lr_angles, low=0.0))
        set_(self, "lr_flips", _real("lr_flips", self.lr_flips, low=0.0))
        set_(self, "gradient", _choice("gradient", self.gradient, GRADIENTS))
        set_(self, "shift", _real("shift", self.shift, low=0.0, high=math.pi / 2,
                                  open_low=True, open_high=True))
        if self.denominator is not None:
            set_(self, "denominator",
                 _real("denominator", self.denominator, low=0.0, open_low=True))
        set_(self, "flip_param", _choice("flip_param", self.flip_param, FLIP_PARAMS))
        set_(self, "init_flip", _real("init_flip", self.init_flip, low=0.0, high=1.0,
                                      open_low=True, open_high=True))
        set_(self, "entropy_penalty", _real("entropy_penalty", self.entropy_penalty, low=0.0))
        set_(self, "flip_gradient", _choice("flip_gradient", self.flip_gradient,
                                            FLIP_GRADIENTS))
        set_(self, "sampler", _choice("sampler", self.sampler, SAMPLERS))
        if not isinstance(self.freeze_angles, bool):
            raise ValueError(f"BBSConfig.freeze_angles={self.freeze_angles!r} must be a bool")

    @property
    def shift_denominator(self) -> float:
        """The divisor actually used: ``denominator`` or ``sin(2 · shift)``."""
        return math.sin(2 * self.shift) if self.denominator is None else self.denominator

    def to_dict(self) -> dict:
        """Plain JSON-ready values (``loop_lengths`` as a list)."""
        record = asdict(self)
        record["loop_lengths"] = list(self.loop_lengths)
        return record

    @classmethod
    def from_dict(cls, record: dict) -> BBSConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(record) - allowed)
        if unknown:
            raise ValueError(f"unknown BBSConfig field(s) {unknown}; allowed: {sorted(allowed)}")
        return cls(**record)
