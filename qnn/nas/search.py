"""Search loops over the bitstring space at a fixed budget of unique architectures trained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from ..bbs import BBSConfig, BlackBoxSolver, StepReport
from ..photonics.backends.base import Backend
from .ensemble import top_k

METHODS = ("photonic", "bernoulli", "evolution", "random")
# The BBS settings NAS uses unless told otherwise: a 4-mode TBI (4 tiles for 16 bits), one
# loop, one shot per parameter set, Adam with large steps (a budget allows only tens of
# updates), logit flips (the score-function gradient stays bounded as p -> 0 or 1).
# Too small to learn in 100 architectures (3 angles, 7 per update, 14 updates: see
# qnn.nas.capacity); kept so the `digits`/`smoke` runs stay as they were. The `capacity`
# study uses qnn.nas.capacity.CAPACITY_SEARCH.
NAS_BBS = {"loop_lengths": (1,), "max_modes": 4, "shots": 1, "optimizer": "adam",
           "lr_angles": 0.3, "lr_flips": 0.5, "flip_param": "logit", "init_flip": 0.5}


@dataclass(frozen=True)
class SearchConfig:
    """How a search spends its budget.

    Attributes:
        budget: fitness evaluations = distinct architectures trained by one search. Every
            method gets the same; proposals of architectures it has already evaluated are
            free (cached) and do not count.
        ensemble_size: the population: the ``K`` best architectures evaluated so far (by
            validation accuracy) form the ensemble, which predicts by averaging their
            softmax outputs.
        batch: proposals per generation of ``random`` and ``evolution``.
        mutation_rate: per-bit flip probability of ``evolution``'s children; ``None``
            means ``1 / n_bits``. A child that no bit flip hit gets one at a random bit.
        crossover: probability that a child is a uniform crossover of two parents.
        tournament: parents are the best of this many population members drawn at random.
        bbs: :class:`BBSConfig` fields of ``photonic`` and ``bernoulli`` over
            :data:`NAS_BBS` (``bernoulli`` forces ``sampler="random_clicks"``).
        max_stale: generations in a row without a new architecture after which a search
            stops short of its budget (a converged sampler proposes only cached ones).
        directions: how the samplers estimate the angle gradient. ``None``: the two-term
            shift rule on every beam splitter (:class:`~qnn.bbs.BlackBoxSolver`, ``1 + 2
            n_bs`` parameter sets per update); ``k``: the rule along ``k`` random ±1
            directions of all angles at once (``BlackBoxSolver(directions=k)``, ``1 + 2k``
            sets), which a budget of trained architectures can afford at 8 modes
            and 10 shots (see :func:`~qnn.nas.capacity.proposer_capacity`).
    """

    budget: int = 100
    ensemble_size: int = 5
    batch: int = 8
    mutation_rate: float | None = None
    crossover: float = 0.5
    tournament: int = 2
    bbs: dict = field(default_factory=dict)
    max_stale: int = 200
    directions: int | None = None

    def __post_init__(self) -> None:
        k = self.directions
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"SearchConfig.directions={k!r} must be None or an integer >= 1")
        for name, low in (("budget", 1), ("ensemble_size", 1), ("batch", 1), ("tournament", 1),
                          ("max_stale", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"SearchConfig.{name}={value!r} must be an integer >= {low}")
        rate = self.mutation_rate
        if rate is not None and not 0 < rate <= 1:
            raise ValueError(f"SearchConfig.mutation_rate={rate!r} is outside (0, 1]")
        if not 0 <= self.crossover <= 1:
            raise ValueError(f"SearchConfig.crossover={self.crossover!r} is outside [0, 1]")
        self.bbs_config("photonic")  # validates the BBS fields now

    def bbs_config(self, method: str) -> BBSConfig:
        """The sampler's hyper-parameters for ``photonic`` or ``bernoulli``."""
        allowed = set(BBSConfig.__dataclass_fields__)
        unknown = sorted(set(self.bbs) - allowed)
        if unknown:
            raise ValueError(f"SearchConfig.bbs has unknown key(s) {unknown}; "
                             f"allowed: {sorted(allowed)}")
        config = BBSConfig.from_dict({**NAS_BBS, **self.bbs})
        return replace(config, sampler="random_clicks") if method == "bernoulli" else config


@dataclass(frozen=True, eq=False)
class SearchResult:
    """One search: what it evaluated, in order, and its curves.

    Attributes:
        method: from :data:`METHODS`.
        keys: architectures in the order the search first evaluated them (``len`` is the
            evaluations spent, ``budget`` unless it stalled).
        fitness: their fitness (validation accuracies).
        population: keys of the final top-``K``, best first.
        proposals: proposals made, repeats included.
        updates: sampler updates (``photonic``/``bernoulli``) or generations.
        click_rate: per update, the mean click rate of the unshifted boson samples
            (samplers only).
    """

    method: str
    keys: list[str]
    fitness: list[float]
    population: list[str]
    proposals: int
    updates: int
    click_rate: list[float]


class _Proposer(Protocol):
    """Generates batches of bitstrings and learns from their fitness."""

    def propose(self) -> np.ndarray: ...

    def tell(self, batch: np.ndarray, fitness: np.ndarray) -> None: ...


class _Random(_Proposer):
    def __init__(self, n_bits: int, batch: int, rng: np.random.Generator) -> None:
        self.n_bits, self.batch, self.rng = n_bits, batch, rng

    def propose(self) -> np.ndarray:
        return self.rng.integers(0, 2, (self.batch, self.n_bits), dtype=np.uint8)

    def tell(self, batch: np.ndarray, fitness: np.ndarray) -> None:
        pass


class _Evolution(_Proposer):
    """(μ + λ) evolution: a random first generation, then tournament selection from the
    population of the best ``μ = ensemble_size`` so far, uniform crossover, bit-flip
    mutation."""

    def __init__(self, n_bits: int, config: SearchConfig, rng: np.random.Generator,
                 archive: Callable[[], list[tuple[np.ndarray, float]]]) -> None:
        self.n_bits, self.config, self.rng, self.archive = n_bits, config, rng, archive
        self.rate = config.mutation_rate or 1.0 / n_bits

    def propose(self) -> np.ndarray:
        cfg, rng = self.config, self.rng
        population = self.archive()
        if len(population) < cfg.ensemble_size:
            return rng.integers(0, 2, (cfg.batch, self.n_bits), dtype=np.uint8)
        children = []
        for _ in range(cfg.batch):
            parent = self._select(population)
            child = parent.copy()
            if rng.random() < cfg.crossover:
                other = self._select(population)
                child = np.where(rng.random(self.n_bits) < 0.5, parent, other).astype(np.uint8)
            mask = (rng.random(self.n_bits) < self.rate).astype(np.uint8)
            if not mask.any():  # every child is mutated: one uniformly chosen bit
                mask[rng.integers(self.n_bits)] = 1
            children.append(child ^ mask)
        return np.stack(children)

    def _select(self, population: list[tuple[np.ndarray, float]]) -> np.ndarray:
        picks = self.rng.integers(0, len(population), self.config.tournament)
        return population[min(picks)][0]  # the population is sorted best first

    def tell(self, batch: np.ndarray, fitness: np.ndarray) -> None:
        pass  # selection reads the shared archive


class _Sampler(_Proposer):
    """The BBS sampler on cost ``1 − fitness``: one update per batch of proposals."""

    def __init__(self, n_bits: int, backend: Backend, config: BBSConfig,
                 directions: int | None, rng: np.random.Generator,
                 on_update: Callable[[StepReport], None] | None) -> None:
        self.solver = BlackBoxSolver(n_bits, backend, config, directions)
        self.state = self.solver.init_state(rng)
        self.proposal = None
        self.click_rates: list[float] = []
        self.on_update = on_update

    def propose(self) -> np.ndarray:
        self.proposal = self.solver.propose(self.state)
        return self.proposal.bits

    def tell(self, batch: np.ndarray, fitness: np.ndarray) -> None:
        self.state, report = self.solver.update(self.state, self.proposal, 1.0 - fitness)
        self.click_rates.append(report.click_rate)
        if self.on_update is not None:
            self.on_update(report)


def search(method: str, evaluate: Callable[[str], float], n_bits: int,
           config: SearchConfig, rng: np.random.Generator, *, backend: Backend | None = None,
           on_evaluation: Callable[[int], None] | None = None,
           on_update: Callable[[StepReport], None] | None = None) -> SearchResult:
    """Run one search until ``config.budget`` distinct architectures are evaluated.

    Every method proposes in batches and sees the fitness of a whole batch before the next
    (a sampler update needs them all); the batch that reaches the budget is cut there and
    not learned from. The population/ensemble is the top ``ensemble_size`` of everything
    the search evaluated, for every method alike.

    Args:
        method: ``photonic`` (the BBS sampler: boson click samples XOR trainable flips,
            updated from ``1 − fitness``), ``bernoulli`` (the same loop with independent
            clicks at the sampler's per-mode rates), ``evolution`` or ``random``.
        evaluate: ``key -> fitness`` (higher is better), normally the validation accuracy
            from a :class:`FitnessCache`; keys are ``"0101…"`` strings. Called once per
            distinct key.
        rng: the only source of randomness of the search (training is seeded per key).
        backend: the photonic backend (samplers only).
        on_evaluation: called with the evaluation count after every new architecture.
        on_update: samplers only: called with the BBS report of every update (its
            histograms are the photonic samples of that update).
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}; choose from {list(METHODS)}")
    keys: list[str] = []
    results: dict[str, float] = {}

    def archive() -> list[tuple[np.ndarray, float]]:
        best = top_k(keys, [results[k] for k in keys], config.ensemble_size)
        return [(np.frombuffer(k.encode(), np.uint8) - ord("0"), results[k]) for k in best]

    if method in ("photonic", "bernoulli"):
        if backend is None:
            raise ValueError(f"method={method!r} needs a photonic backend")
        proposer: _Proposer = _Sampler(n_bits, backend, config.bbs_config(method),
                                       config.directions, rng, on_update)
    elif method == "evolution":
        proposer = _Evolution(n_bits, config, rng, archive)
    else:
        proposer = _Random(n_bits, config.batch, rng)
    proposals = updates = stale = 0
    while len(keys) < config.budget and stale < config.max_stale:
        batch = proposer.propose()
        fitness = np.empty(len(batch))
        fresh = False
        for i, bits in enumerate(batch):
            key = "".join(map(str, bits))
            if key not in results:
                if len(keys) == config.budget:
                    break
                results[key] = float(evaluate(key))
                keys.append(key)
                fresh = True
                if on_evaluation is not None:
                    on_evaluation(len(keys))
            fitness[i] = results[key]
            proposals += 1
        else:
            proposer.tell(batch, fitness)
            updates += 1
        stale = 0 if fresh else stale + 1
    fitness_list = [results[k] for k in keys]
    click_rate = proposer.click_rates if isinstance(proposer, _Sampler) else []
    return SearchResult(method, keys, fitness_list,
                        top_k(keys, fitness_list, config.ensemble_size), proposals, updates,
                        click_rate)

