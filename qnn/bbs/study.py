"""The BBS study: problem families x sizes x instances x methods, resumable, one row per task.

Two kinds of problem family:

* QUBO families (``maxcut``, ``knapsack`` with slack bits, ``jssp``; our own extensions):
  solved by :class:`BBSSolver` (closed form in the flips) and the QUBO baselines of
  :mod:`qnn.problems.baselines`; every method gets what ``bbs`` spent in ``updates`` updates.
* black-box families (``knapsack_value``: one bit per item, an overweight selection scores 0;
  ``knapsack_penalty``: the same items with a linear penalty on the overweight;
  ``tsp``: a binary tour index), as arXiv 2510.08274 (Table I) defines them: solved by
  :class:`BlackBoxSolver` and :mod:`qnn.problems.blackbox_baselines`, which only ever see
  costs of sampled strings. Every method spends exactly the paper's budget
  ``N · S · (2K + 2m + 1)`` evaluations (see :func:`paper_budget`).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..photonics.backends.base import Backend
from ..photonics.cost import check_tasks
from ..problems import (
    QUBO,
    blackbox_baselines,
    cpsat_optimum,
    decode_knapsack,
    decode_schedule,
    erdos_renyi_graph,
    goemans_williamson,
    hill_climbing,
    jssp_qubo,
    knapsack_qubo,
    maxcut_qubo,
    optimum,
    random_jobshop,
    random_knapsack,
    random_search,
    simulated_annealing,
)
from ..problems.knapsack import penalty_cost, penalty_optimum, slack_coefficients, value_cost
from ..problems.tsp import cities_for_bits, held_karp, random_tsp
from ..runs.study import TaskContext
from .blackbox import BLACKBOX_FLIP_GRADIENTS, BatchCost, BlackBoxSolver, Proposal
from .config import BBSConfig
from .sampler import ClickSampler
from .solver import BBSSolver
from .state import HISTORY_KEYS, BBSState

QUBO_PROBLEMS = ("maxcut", "knapsack", "jssp")
BLACKBOX_PROBLEMS = ("knapsack_value", "knapsack_penalty", "tsp")
PROBLEMS = (*QUBO_PROBLEMS, *BLACKBOX_PROBLEMS)
BBS_METHODS = {"bbs": {}, "bbs_frozen": {"freeze_angles": True},
               "bbs_random_clicks": {"sampler": "random_clicks"}}
METHODS = (*BBS_METHODS, "sa", "random", "hill_climbing", "gw")
BLACKBOX_KNAPSACK_RANGE = 20  # values and weights of black-box knapsack items: uniform 1..20
JSSP_SIZE_TOLERANCE = 2  # JSSP QUBO sizes come in steps; accept n_bits in [size - 2, size]


@dataclass(frozen=True)
class StudySpec:
    """What to run. Every field is validated before any work starts.

    Attributes:
        problems: problem families, from :data:`PROBLEMS`.
        sizes: bits per instance: one list for every family, or a mapping from family to its
            own list (``{"knapsack_penalty": [10, 20], "tsp": [10, 19]}``; families not in
            ``problems`` are ignored). QUBO sizes: JSSP within 2 bits below. ``tsp`` sizes are
            tour-index lengths ``ceil(log2((n − 1)!))`` of ``n`` cities: 5, 7, 10, 13, 16, 19,
            22, 26, 29, … (10, 19, 29 are 7, 10, 13 cities).
        instances: random instances per (family, size).
        methods: from :data:`METHODS`. QUBO families: every method gets the cost-evaluation
            budget that ``bbs`` spent on the same instance (``bbs_frozen`` and
            ``bbs_random_clicks`` run updates until they have spent it; ``gw`` is Max-Cut only
            and unbudgeted). Black-box families: every method spends exactly
            :func:`paper_budget`, the BBS variants included (``bbs_frozen`` scoring as many
            strings an update as ``bbs``, from the fixed circuit).
        bbs: the solver's hyper-parameters (ablation methods override one field each).
        checkpoint_every: BBS updates between checkpoints.
        optimum_time_limit: seconds CP-SAT may take to prove an optimum beyond brute force.
        budget_fraction: black-box families: the share of :func:`paper_budget` every method
            spends (``1``: the paper's budget). Smaller shares show how much of the budget a
            method needs, e.g. where a baseline reaches a published success rate.
    """

    problems: tuple[str, ...] = ("maxcut",)
    sizes: tuple[int, ...] | dict[str, tuple[int, ...]] = (12,)
    instances: int = 5
    methods: tuple[str, ...] = ("bbs", "sa", "random")
    bbs: BBSConfig = field(default_factory=BBSConfig)
    checkpoint_every: int = 10
    optimum_time_limit: float = 30.0
    budget_fraction: float = 1.0

    def __post_init__(self) -> None:
        for name, allowed in (("problems", PROBLEMS), ("methods", METHODS)):
            values = tuple(getattr(self, name))
            bad = [v for v in values if v not in allowed]
            if bad or not values:
                raise ValueError(f"{name}={list(values)}: choose from {list(allowed)}")
            object.__setattr__(self, name, values)
        object.__setattr__(self, "sizes", _check_sizes(self.sizes, self.problems))
        if isinstance(self.instances, bool) or not isinstance(self.instances, int) \
                or self.instances < 1:
            raise ValueError(f"instances={self.instances!r} must be a positive integer")
        n_sizes = sum(len(self.sizes_of(p)) for p in self.problems)
        # Before tasks() lists them: ten billion instances would fill memory first.
        check_tasks(n_sizes * self.instances * len(self.methods),
                    f"bbs study of instances={self.instances:,} x {n_sizes} (problem, size) "
                    f"pairs x {len(self.methods)} methods")
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every={self.checkpoint_every!r} must be >= 1")
        if not (isinstance(self.optimum_time_limit, int | float)
                and math.isfinite(self.optimum_time_limit) and self.optimum_time_limit > 0):
            raise ValueError(f"optimum_time_limit={self.optimum_time_limit!r} must be a "
                             "positive number of seconds")
        if isinstance(self.bbs, dict):
            object.__setattr__(self, "bbs", BBSConfig.from_dict(self.bbs))
        blackbox = [p for p in self.problems if p in BLACKBOX_PROBLEMS]
        qubos = [p for p in self.problems if p not in BLACKBOX_PROBLEMS]
        fraction = self.budget_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) \
                or not math.isfinite(fraction) or fraction <= 0:
            raise ValueError(f"budget_fraction={fraction!r} must be a positive number")
        if qubos and fraction != 1:
            raise ValueError(f"budget_fraction={fraction!r}: the QUBO families {qubos} spend "
                             "what bbs spent; a share of the paper's budget applies only to "
                             f"the black-box families {list(BLACKBOX_PROBLEMS)}")
        for name, allowed in (("gradient", ("two_term_shift",)),
                              ("flip_gradient", BLACKBOX_FLIP_GRADIENTS)):
            if blackbox and getattr(self.bbs, name) not in allowed:
                raise ValueError(f"bbs.{name}={getattr(self.bbs, name)!r}: the black-box "
                                 f"families {blackbox} need one of {allowed}")
        if qubos and self.bbs.flip_gradient == "bit_differences":
            raise ValueError(f"bbs.flip_gradient='bit_differences': the QUBO families {qubos} "
                             "read flip differences off the QUBO; use 'sampled'")

    def sizes_of(self, problem: str) -> tuple[int, ...]:
        """The sizes (bits) run for ``problem``."""
        return self.sizes[problem] if isinstance(self.sizes, dict) else self.sizes

    def tasks(self) -> list[Task]:
        """Every task in run order: instances in turn, ``bbs`` first (it sets the budget)."""
        order = sorted(self.methods, key=lambda m: (m not in BBS_METHODS, METHODS.index(m)))
        return [Task(p, s, i, m) for p in self.problems for s in self.sizes_of(p)
                for i in range(self.instances) for m in order
                if not (m == "gw" and p != "maxcut")]


def _check_sizes(sizes: object, problems: tuple[str, ...]
                 ) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
    """``sizes`` as a tuple, or as a ``{problem: tuple}`` dict, each size valid for its family."""
    if isinstance(sizes, Mapping):
        unknown = sorted(set(sizes) - set(PROBLEMS))
        if unknown:
            raise ValueError(f"sizes has unknown problem(s) {unknown}; choose from "
                             f"{list(PROBLEMS)}")
        missing = [p for p in problems if p not in sizes]
        if missing:
            raise ValueError(f"sizes={dict(sizes)} lacks a list for problem(s) {missing}")
        return {p: _problem_sizes(f"sizes[{p!r}]", sizes[p], [p]) for p in sizes}
    return _problem_sizes("sizes", sizes, problems)


def _problem_sizes(name: str, sizes: object, problems: tuple[str, ...] | list[str]
                   ) -> tuple[int, ...]:
    if isinstance(sizes, str | bytes) or not hasattr(sizes, "__iter__"):
        raise ValueError(f"{name}={sizes!r} must be a list of integers >= 4")
    values = tuple(sizes)
    if not values or any(isinstance(s, bool) or not isinstance(s, int) or s < 4
                         for s in values):
        raise ValueError(f"{name}={list(values)} must be integers >= 4")
    if "tsp" in problems:
        for size in values:
            try:
                cities_for_bits(size)
            except ValueError as err:
                raise ValueError(f"{name} (tsp): {err}") from None
    return values


@dataclass(frozen=True)
class Task:
    problem: str
    size: int
    instance: int
    method: str

    @property
    def key(self) -> str:
        return f"{self.problem}/m{self.size}/i{self.instance:03d}/{self.method}"


@dataclass(frozen=True)
class Instance:
    """A generated problem: its QUBO, a reference optimum and how to judge a bitstring."""

    name: str
    qubo: QUBO
    optimum: float
    proven: bool
    feasible: Callable[[np.ndarray], bool]
    graph: Any = None

    @property
    def n_bits(self) -> int:
        return self.qubo.n_bits


@dataclass(frozen=True, eq=False)
class BlackBoxInstance:
    """A generated black-box problem: its batched cost, exact optimum and feasibility test.

    Attributes:
        cost: ``(B, n_bits)`` uint8 -> ``(B,)`` costs; the only access solvers get.
        optimum: the exact minimum (dynamic programming / Held–Karp), so ``proven``.
        optimum_bits: a string that attains it (checked against ``cost`` on creation).
        feasible: whether a string is a selection within capacity / a tour index.
        data: the underlying ``KnapsackInstance`` or ``TSPInstance``.
    """

    name: str
    n_bits: int
    cost: BatchCost
    optimum: float
    optimum_bits: np.ndarray
    feasible: Callable[[np.ndarray], bool]
    data: Any = None
    proven: bool = True

    def __post_init__(self) -> None:
        value = float(np.asarray(self.cost(self.optimum_bits[None]))[0])
        if not math.isclose(value, self.optimum, rel_tol=1e-9, abs_tol=1e-12):
            raise RuntimeError(f"{self.name}: the optimum's string costs {value}, "
                               f"not {self.optimum}")


def task_seed(seed: int, *parts: object) -> np.random.SeedSequence:
    """A seed for one piece of the study, independent of run order (so resumes agree)."""
    return np.random.SeedSequence([seed, *(zlib.crc32(str(p).encode()) for p in parts)])


def make_instance(problem: str, size: int, index: int, *, seed: int,
                  time_limit: float = 30.0) -> Instance | BlackBoxInstance:
    """Instance ``index`` of ``problem`` at ``size`` bits, drawn from its own seed."""
    # The two black-box knapsacks draw the same items (only the cost differs), so they pair
    # instance by instance.
    drawn_as = "knapsack_penalty" if problem == "knapsack_value" else problem
    rng = np.random.default_rng(task_seed(seed, "instance", drawn_as, size, index))
    name = f"{problem}-m{size}-{index}"
    if problem in ("knapsack_penalty", "knapsack_value"):
        return _knapsack_blackbox(name, size, rng, penalty=problem == "knapsack_penalty")
    if problem == "tsp":
        return _tsp(name, size, rng)
    if problem == "maxcut":
        graph = erdos_renyi_graph(size, 0.5, rng=rng)
        return _with_optimum(name, maxcut_qubo(graph), time_limit, graph=graph)
    if problem == "knapsack":
        return _knapsack(name, size, rng, time_limit)
    if problem == "jssp":
        return _jssp(name, size, rng, time_limit)
    raise ValueError(f"problem={problem!r}: choose from {list(PROBLEMS)}")


def _with_optimum(name: str, qubo: QUBO, time_limit: float, *, graph: Any = None,
                  feasible: Callable[[np.ndarray], bool] = lambda bits: True) -> Instance:
    best = optimum(qubo, time_limit_s=time_limit)
    return Instance(name, qubo, best.cost, best.proven, feasible, graph)


def _knapsack(name: str, size: int, rng: np.random.Generator, time_limit: float) -> Instance:
    for n_items in range(size, 0, -1):  # the most items whose QUBO (items + slack) fits
        instance = random_knapsack(n_items, rng=np.random.default_rng(rng.integers(2**63)))
        if n_items + len(slack_coefficients(instance.capacity)) <= size:
            def feasible(bits: np.ndarray, instance=instance) -> bool:
                return decode_knapsack(instance, bits).feasible

            return _with_optimum(name, knapsack_qubo(instance), time_limit, feasible=feasible)
    raise ValueError(f"no knapsack instance fits in {size} bits")


def _knapsack_blackbox(name: str, size: int, rng: np.random.Generator, *, penalty: bool
                       ) -> BlackBoxInstance:
    """``size`` items, one bit each, and the cost of :func:`penalty_cost` (``penalty``) or of
    :func:`value_cost` (an overweight selection scores 0).

    The paper does not publish its generator; as the independent reproduction
    (merlinquantum/reproduced_papers) assumes, values and weights are uniform on 1..20 and the
    capacity is half the total weight (Pisinger's uncorrelated scheme), so the two are
    comparable. Narrower ranges tie more selections at the optimum and make it easier.
    """
    instance = random_knapsack(size, rng=rng, max_weight=BLACKBOX_KNAPSACK_RANGE)
    bits, best = penalty_optimum(instance)

    def cost(x: np.ndarray, instance=instance) -> np.ndarray:
        return penalty_cost(instance, x) if penalty else value_cost(instance, x)

    def feasible(x: np.ndarray, instance=instance) -> bool:
        return decode_knapsack(instance, x).feasible

    return BlackBoxInstance(name, size, cost, best, bits, feasible, instance)


def _tsp(name: str, size: int, rng: np.random.Generator) -> BlackBoxInstance:
    """Cities uniform in the unit square, as many as a ``size``-bit tour index orders."""
    instance = random_tsp(cities_for_bits(size), rng=rng)
    tour = held_karp(instance)
    bits = np.array([(tour.index >> (size - 1 - i)) & 1 for i in range(size)], dtype=np.uint8)
    return BlackBoxInstance(name, size, instance.cost, tour.length, bits, instance.feasible,
                            instance)


def _jssp(name: str, size: int, rng: np.random.Generator, time_limit: float) -> Instance:
    for _ in range(1000):
        jobs, machines, longest = (int(v) for v in rng.integers([2, 2, 1], [4, 4, 4]))
        instance = random_jobshop(jobs, machines, rng=rng, max_duration=longest)
        best_makespan, _ = cpsat_optimum(instance)
        # One step of slack beyond the optimum makes the makespan objective matter.
        encoding = jssp_qubo(instance, best_makespan + 1, prune=True)
        if size - JSSP_SIZE_TOLERANCE <= encoding.qubo.n_bits <= size:
            def feasible(bits: np.ndarray, encoding=encoding) -> bool:
                return decode_schedule(encoding, bits).schedule is not None

            return _with_optimum(name, encoding.qubo, time_limit, feasible=feasible)
    raise ValueError(f"found no small job-shop instance with a {size}-bit QUBO")


class BBSStudy:
    """The BBS study as :func:`qnn.runs.run_tasks` runs it: one solver or baseline per task.

    A BBS task saves the solver's state every ``checkpoint_every`` updates, so a resumed
    run continues it from there (and redraws, under the same names, the updates after it).
    On a QUBO family every other method gets the cost-evaluation budget that ``bbs`` spent
    on the same instance; on a black-box family every method spends exactly
    :func:`paper_budget`.

    Rows: ``best_cost`` (the best string's cost), ``optimum`` (exact for the black-box
    families), ``success`` (``best_cost`` within ``1e-9 · max(1, |optimum|)`` of the optimum:
    tour lengths are float sums whose order differs between a tour, its reverse and the
    dynamic programme), ``rel_error`` ``(best_cost − optimum) / |optimum|``, ``evaluations``
    spent, ``feasible`` (of the best string), and for the BBS variants the per-update curves.
    """

    family = "bbs"
    spec_type = StudySpec
    summary_by = ("problem", "size", "method")
    summary_metrics = ("success", "rel_error", "evaluations")
    headline = ("success", {"method": "bbs"})

    def tasks(self, spec: StudySpec) -> list[Task]:
        return spec.tasks()

    def run_task(self, spec: StudySpec, task: Task, context: TaskContext) -> dict:
        start = time.perf_counter()
        instance = context.cached((task.problem, task.size, task.instance), lambda: make_instance(
            task.problem, task.size, task.instance, seed=context.seed,
            time_limit=spec.optimum_time_limit))
        rng = np.random.default_rng(task_seed(context.seed, "task", task.key))
        extra: dict[str, Any] = {}
        if isinstance(instance, BlackBoxInstance):
            bits, cost, evaluations, extra = _run_blackbox(task, instance, spec, rng, context)
        elif task.method in BBS_METHODS:
            bits, cost, evaluations, extra = _run_bbs(task, instance, spec, rng, context)
        elif task.method == "gw":
            result = goemans_williamson(instance.graph, rng=rng)
            bits, evaluations = result.bits, 0
            cost = float(instance.qubo.energy(bits))
        else:
            budget = _budget(task, context.rows, spec, instance, context.backend)
            baseline = {"sa": simulated_annealing, "random": random_search,
                        "hill_climbing": hill_climbing}[task.method]
            result = baseline(instance.qubo, budget, rng=rng)
            bits, cost, evaluations = result.best_bits, result.best_cost, result.evaluations
        bits = np.asarray(bits, dtype=np.uint8)
        gap = cost - instance.optimum
        return {
            "problem": task.problem, "size": task.size, "n_bits": instance.n_bits,
            "instance": task.instance, "method": task.method, "best_cost": float(cost),
            "optimum": instance.optimum, "optimum_proven": instance.proven,
            "success": bool(gap <= 1e-9 * max(1.0, abs(instance.optimum))),
            "rel_error": float(gap / abs(instance.optimum)) if instance.optimum else float(gap),
            "feasible": bool(instance.feasible(bits)), "evaluations": int(evaluations),
            "best_bits": "".join(map(str, bits)), "seconds": time.perf_counter() - start,
            **extra,
        }


def _budget(task: Task, rows: list[dict], spec: StudySpec, instance: Instance,
            backend: Backend) -> int:
    """The evaluations ``bbs`` spent on this instance (else its budget by the formula)."""
    for row in reversed(rows):
        if (row["problem"], row["size"], row["instance"], row["method"]) == (
                task.problem, task.size, task.instance, "bbs"):
            return row["evaluations"]
    solver = BBSSolver(instance.qubo, backend, spec.bbs)
    return solver.paper_evaluations_per_update * spec.bbs.updates


def paper_budget(n_bits: int, backend: Backend, config: BBSConfig) -> int:
    """The paper's budget ``N · S · (2K + 2m + 1)`` cost evaluations for an ``n_bits`` problem.

    ``N = config.updates``, ``S = config.shots``, ``K`` the beam-splitter angles of the
    sampler's circuit and ``m = n_bits``: per update, the two shifted sets of every angle,
    both costs of every bit's flip difference and the unshifted set, ``S`` strings each. This
    is :attr:`BBSSolver.paper_evaluations_per_update` times ``N`` whenever
    ``n_bits <= max_modes`` (one tile); beyond, ``m`` stays the number of flip parameters.
    """
    n_bs = ClickSampler(n_bits, backend, config).n_bs
    return config.updates * config.shots * (2 * n_bs + 2 * n_bits + 1)


def _run_blackbox(task: Task, instance: BlackBoxInstance, spec: StudySpec,
                  rng: np.random.Generator, context: TaskContext
                  ) -> tuple[np.ndarray, float, int, dict]:
    """One method on a black-box instance, spending exactly :func:`paper_budget` (times
    ``spec.budget_fraction``, rounded, at least one evaluation).

    :class:`BlackBoxSolver` evaluates ``S (2K + 1)`` strings per update (``bbs_frozen`` too,
    see :func:`_run_blackbox_bbs`): its flip gradient reuses the scored candidates instead of
    ``2m S`` flip differences, so it runs more than ``N`` updates for the same budget
    (``N (2K + 2m + 1) / (2K + 1)``, about 280 for N = 200 at 20-30 bits). With
    ``bbs.flip_gradient="bit_differences"`` (the paper's estimator) it pays for those
    differences and runs exactly ``N``. The last update is
    scored only up to the budget, unshifted candidates first; it updates the best string but
    not the parameters (nothing follows it), so every method spends exactly the budget.
    """
    budget = max(1, round(spec.budget_fraction
                          * paper_budget(instance.n_bits, context.backend, spec.bbs)))
    if task.method in BBS_METHODS:
        return _run_blackbox_bbs(task, instance, spec, rng, context, budget)
    baseline = {"sa": blackbox_baselines.simulated_annealing,
                "random": blackbox_baselines.random_search,
                "hill_climbing": blackbox_baselines.hill_climbing}[task.method]
    result = baseline(instance.cost, instance.n_bits, budget, rng=rng)
    return result.best_bits, result.best_cost, result.evaluations, {}


def _run_blackbox_bbs(task: Task, instance: BlackBoxInstance, spec: StudySpec,
                      rng: np.random.Generator, context: TaskContext, budget: int
                      ) -> tuple[np.ndarray, float, int, dict]:
    config = replace(spec.bbs, **BBS_METHODS[task.method])
    if config.freeze_angles and config.flip_gradient == "sampled":
        # Frozen angles sample no shifted sets. Rather than updates of S strings (~2K + 2m + 1
        # times as many updates as bbs, each an SGD step on the flips and an HDF5 entry), an
        # update scores as many strings as bbs's, S (2K + 1), all from the fixed circuit: the
        # same updates, flip steps and flip-gradient sample size, only the angles untrained.
        # (With "bit_differences" an update keeps S candidates and their 2m S probes and
        # runs more updates on the same budget.)
        n_bs = ClickSampler(instance.n_bits, context.backend, spec.bbs).n_bs
        config = replace(config, shots=spec.bbs.shots * (2 * n_bs + 1))
    solver = BlackBoxSolver(instance.n_bits, context.backend, config)
    saved = context.state if context.state and context.state.get("task") == task.key else None
    state = BBSState.from_dict(saved["bbs"]) if saved else solver.init_state(rng)
    while state.evaluations < budget:
        context.tag(f"update{state.step + 1:04d}")
        proposal = solver.propose(state)
        left = budget - state.evaluations
        if proposal.bits.shape[0] > left:
            return _partial_update(task, instance, state, proposal, left, context)
        state, report = solver.update(state, proposal, instance.cost(proposal.bits))
        _log(context, task, report.step, report.expected_cost, report.best_cost)
        if state.step % spec.checkpoint_every == 0:
            context.save_state({"task": task.key, "bbs": state.to_dict()})
    return state.best_bits, state.best_cost, state.evaluations, _curves(state.history)


def _partial_update(task: Task, instance: BlackBoxInstance, state: BBSState,
                    proposal: Proposal, left: int, context: TaskContext
                    ) -> tuple[np.ndarray, float, int, dict]:
    """Score the first ``left`` candidates (unshifted set first) and keep the best: the last
    update, cut at the budget. Its curve entries are appended like a full update's."""
    costs = np.asarray(instance.cost(proposal.bits[:left]), dtype=np.float64)
    best_bits, best_cost = state.best_bits, state.best_cost
    i = int(np.argmin(costs))
    if costs[i] < best_cost:
        best_bits, best_cost = proposal.bits[i].copy(), float(costs[i])
    unshifted = costs[: proposal.candidates.shape[1]]
    entries = {"expected_cost": float(unshifted.mean()), "best_cost": best_cost,
               "click_rate": proposal.click_rate, "evaluations": left}
    history = {k: [*state.history[k], entries[k]] for k in HISTORY_KEYS}
    _log(context, task, state.step + 1, entries["expected_cost"], best_cost)
    return best_bits, best_cost, state.evaluations + left, _curves(history)


def _log(context: TaskContext, task: Task, step: int, expected: float, best: float) -> None:
    context.log_scalar(f"{task.key}/expected_cost", expected, step)
    context.log_scalar(f"{task.key}/best_cost", best, step)


def _curves(history: dict[str, list]) -> dict[str, list[float]]:
    return {f"curve_{k}": [float(v) for v in values] for k, values in history.items()}


def _run_bbs(task: Task, instance: Instance, spec: StudySpec, rng: np.random.Generator,
             context: TaskContext) -> tuple[np.ndarray, float, int, dict]:
    config = replace(spec.bbs, **BBS_METHODS[task.method])
    solver = BBSSolver(instance.qubo, context.backend, config)
    saved = context.state if context.state and context.state.get("task") == task.key else None
    state = BBSState.from_dict(saved["bbs"]) if saved else solver.init_state(rng)
    # The ablations spend fewer evaluations per update (frozen angles: no shifted circuits),
    # so they run until they have spent what bbs spent: every method, the same budget.
    budget = None if task.method == "bbs" else _budget(task, context.rows, spec, instance,
                                                         context.backend)
    while state.step < config.updates if budget is None else state.evaluations < budget:
        context.tag(f"update{state.step + 1:04d}")
        state, report = solver.step(state)
        context.log_scalar(f"{task.key}/expected_cost", report.expected_cost, report.step)
        context.log_scalar(f"{task.key}/best_cost", report.best_cost, report.step)
        if state.step % spec.checkpoint_every == 0:
            context.save_state({"task": task.key, "bbs": state.to_dict()})
    result = solver.result(state)
    curves = {f"curve_{k}": [float(v) for v in values] for k, values in result.history.items()}
    return result.best_bits, result.best_cost, result.evaluations, curves
