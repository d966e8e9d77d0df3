"""The BBS study: problem families x sizes x instances x methods, resumable, one row per task."""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..photonics.backends.base import Backend
from ..photonics.cost import check_tasks
from ..problems import (
    QUBO,
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
from ..problems.knapsack import slack_coefficients
from ..runs.study import TaskContext
from .config import BBSConfig
from .solver import BBSSolver
from .state import BBSState

PROBLEMS = ("maxcut", "knapsack", "jssp")
BBS_METHODS = {"bbs": {}, "bbs_frozen": {"freeze_angles": True},
               "bbs_random_clicks": {"sampler": "random_clicks"}}
METHODS = (*BBS_METHODS, "sa", "random", "hill_climbing", "gw")
JSSP_SIZE_TOLERANCE = 2  # JSSP QUBO sizes come in steps; accept n_bits in [size - 2, size]


@dataclass(frozen=True)
class StudySpec:
    """What to run. Every field is validated before any work starts.

    Attributes:
        problems: problem families, from :data:`PROBLEMS`.
        sizes: target QUBO sizes (bits) per family (JSSP: within 2 bits below).
        instances: random instances per (family, size).
        methods: from :data:`METHODS`; every method gets the cost-evaluation budget that
            ``bbs`` spent on the same instance (``bbs_frozen`` and ``bbs_random_clicks`` run
            updates until they have spent it; ``gw`` is Max-Cut only and unbudgeted).
        bbs: the solver's hyper-parameters (ablation methods override one field each).
        checkpoint_every: BBS updates between checkpoints.
        optimum_time_limit: seconds CP-SAT may take to prove an optimum beyond brute force.
    """

    problems: tuple[str, ...] = ("maxcut",)
    sizes: tuple[int, ...] = (12,)
    instances: int = 5
    methods: tuple[str, ...] = ("bbs", "sa", "random")
    bbs: BBSConfig = field(default_factory=BBSConfig)
    checkpoint_every: int = 10
    optimum_time_limit: float = 30.0

    def __post_init__(self) -> None:
        for name, allowed in (("problems", PROBLEMS), ("methods", METHODS)):
            values = tuple(getattr(self, name))
            bad = [v for v in values if v not in allowed]
            if bad or not values:
                raise ValueError(f"{name}={list(values)}: choose from {list(allowed)}")
            object.__setattr__(self, name, values)
        sizes = tuple(self.sizes)
        if not sizes or any(not isinstance(s, int) or s < 4 for s in sizes):
            raise ValueError(f"sizes={list(sizes)} must be integers >= 4")
        object.__setattr__(self, "sizes", sizes)
        if isinstance(self.instances, bool) or not isinstance(self.instances, int) \
                or self.instances < 1:
            raise ValueError(f"instances={self.instances!r} must be a positive integer")
        # Before tasks() lists them: ten billion instances would fill memory first.
        check_tasks(len(self.problems) * len(sizes) * self.instances * len(self.methods),
                    f"bbs study of instances={self.instances:,} x {len(sizes)} sizes x "
                    f"{len(self.problems)} problems x {len(self.methods)} methods")
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every={self.checkpoint_every!r} must be >= 1")
        if not (isinstance(self.optimum_time_limit, int | float)
                and math.isfinite(self.optimum_time_limit) and self.optimum_time_limit > 0):
            raise ValueError(f"optimum_time_limit={self.optimum_time_limit!r} must be a "
                             "positive number of seconds")
        if isinstance(self.bbs, dict):
            object.__setattr__(self, "bbs", BBSConfig.from_dict(self.bbs))

    def tasks(self) -> list[Task]:
        """Every task in run order: instances in turn, ``bbs`` first (it sets the budget)."""
        order = sorted(self.methods, key=lambda m: (m not in BBS_METHODS, METHODS.index(m)))
        return [Task(p, s, i, m) for p in self.problems for s in self.sizes
                for i in range(self.instances) for m in order
                if not (m == "gw" and p != "maxcut")]


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


def task_seed(seed: int, *parts: object) -> np.random.SeedSequence:
    """A seed for one piece of the study, independent of run order (so resumes agree)."""
    return np.random.SeedSequence([seed, *(zlib.crc32(str(p).encode()) for p in parts)])


def make_instance(problem: str, size: int, index: int, *, seed: int,
                  time_limit: float = 30.0) -> Instance:
    """Instance ``index`` of ``problem`` at ``size`` bits, drawn from its own seed."""
    rng = np.random.default_rng(task_seed(seed, "instance", problem, size, index))
    name = f"{problem}-m{size}-{index}"
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
    run continues it from there (and redraws, under the same names, the updates after it);
    every other method gets the cost-evaluation budget that ``bbs`` spent on the same
    instance.
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
        if task.method in BBS_METHODS:
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
            "problem": task.problem, "size": task.size, "n_bits": instance.qubo.n_bits,
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
