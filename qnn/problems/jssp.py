"""Job-shop scheduling: instances, schedules, the time-indexed QUBO and the CP-SAT optimum."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np

from .qubo import QUBO

Job = tuple[tuple[int, int], ...]  # ((machine, duration), ...) in processing order
ViolationKind = Literal["once", "precedence", "machine"]
OBJECTIVES = ("makespan", "completion", "none")


@dataclass(frozen=True)
class JobShopInstance:
    """Jobs, each a sequence of operations ``(machine, duration)`` processed in order.

    Machines are integers ``>= 0``, durations integers ``>= 1`` (time units).
    """

    jobs: tuple[Job, ...]
    name: str = "jobshop"

    def __post_init__(self) -> None:
        jobs = tuple(tuple((int(m), int(d)) for m, d in job) for job in self.jobs)
        if not jobs or any(not job for job in jobs):
            raise ValueError("jobs must be a non-empty list of non-empty operation lists")
        for j, job in enumerate(jobs):
            for k, (m, d) in enumerate(job):
                if m < 0 or d < 1 or (m, d) != tuple(self.jobs[j][k]):
                    raise ValueError(
                        f"jobs[{j}][{k}]={self.jobs[j][k]}: need machine >= 0 and "
                        "duration >= 1, both integers"
                    )
        object.__setattr__(self, "jobs", jobs)

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    @property
    def n_machines(self) -> int:
        return 1 + max(m for job in self.jobs for m, _ in job)

    def operations(self) -> list[tuple[int, int]]:
        """All ``(job, index)`` pairs, job by job."""
        return [(j, k) for j, job in enumerate(self.jobs) for k in range(len(job))]

    def duration(self, j: int, k: int) -> int:
        return self.jobs[j][k][1]


#: Google OR-Tools' introductory 3-job, 3-machine example; optimal makespan 11.
TOY_3X3 = JobShopInstance(
    (((0, 3), (1, 2), (2, 2)), ((0, 2), (2, 1), (1, 4)), ((1, 4), (2, 3))), name="ortools_3x3"
)

#: Fisher & Thompson (1963) ft06 / mt06 from the OR-Library; optimal makespan 55.
FT06 = JobShopInstance(
    (
        ((2, 1), (0, 3), (1, 6), (3, 7), (5, 3), (4, 6)),
        ((1, 8), (2, 5), (4, 10), (5, 10), (0, 10), (3, 4)),
        ((2, 5), (3, 4), (5, 8), (0, 9), (1, 1), (4, 7)),
        ((1, 5), (0, 5), (2, 5), (3, 3), (4, 8), (5, 9)),
        ((2, 9), (1, 3), (4, 5), (5, 4), (0, 3), (3, 1)),
        ((1, 3), (3, 3), (5, 9), (0, 10), (4, 4), (2, 1)),
    ),
    name="ft06",
)


def random_jobshop(
    n_jobs: int, n_machines: int, *, rng: np.random.Generator | int, max_duration: int = 3
) -> JobShopInstance:
    """Taillard-style instance: each job visits every machine once, in random order.

    Durations are uniform on ``1 .. max_duration``.
    """
    if n_jobs < 1 or n_machines < 1 or max_duration < 1:
        raise ValueError(
            f"n_jobs={n_jobs}, n_machines={n_machines}, max_duration={max_duration}"
            " must all be >= 1"
        )
    rng = np.random.default_rng(rng)
    jobs = tuple(
        tuple(
            zip(
                rng.permutation(n_machines).tolist(),
                rng.integers(1, max_duration + 1, n_machines).tolist(),
                strict=True,
            )
        )
        for _ in range(n_jobs)
    )
    return JobShopInstance(jobs, name=f"random_{n_jobs}x{n_machines}")


@dataclass(frozen=True)
class Schedule:
    """Start time ``starts[j][k]`` (integer time units) of operation ``k`` of job ``j``."""

    instance: JobShopInstance
    starts: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        starts = tuple(tuple(int(t) for t in row) for row in self.starts)
        shape = [len(job) for job in self.instance.jobs]
        if [len(row) for row in starts] != shape:
            raise ValueError(f"starts have shape {[len(r) for r in starts]}, jobs have {shape}")
        if any(t < 0 for row in starts for t in row):
            raise ValueError(f"starts must be >= 0, got {starts}")
        object.__setattr__(self, "starts", starts)


def makespan(schedule: Schedule) -> int:
    """Completion time of the last operation."""
    jobs = schedule.instance.jobs
    return max(row[-1] + job[-1][1] for row, job in zip(schedule.starts, jobs, strict=True))


@dataclass(frozen=True)
class Violation:
    """One violated constraint: ``kind`` is ``"once"``, ``"precedence"`` or ``"machine"``."""

    kind: ViolationKind
    message: str


def schedule_violations(schedule: Schedule) -> tuple[Violation, ...]:
    """Precedence and machine violations of a schedule (empty when it is feasible)."""
    starts = {op: [schedule.starts[op[0]][op[1]]] for op in schedule.instance.operations()}
    return tuple(_violations(schedule.instance, starts))


@dataclass(frozen=True)
class TimeIndexedQUBO:
    """A JSSP instance as a QUBO with one bit per (operation, start time).

    Attributes:
        instance: the instance encoded.
        horizon: every operation must end by this time.
        qubo: the QUBO (see :func:`jssp_qubo`).
        variables: ``(job, index, start)`` of each bit, in bit order.
        penalties: ``{"once": P1, "precedence": P2, "machine": P3}``.
        objective: ``"makespan"``, ``"completion"`` or ``"none"``.
    """

    instance: JobShopInstance
    horizon: int
    qubo: QUBO
    variables: tuple[tuple[int, int, int], ...]
    penalties: dict[str, float]
    objective: str

    def encode(self, schedule: Schedule) -> np.ndarray:
        """``(n_bits,)`` uint8 bits of a schedule; its start times must have bits."""
        index = {v: i for i, v in enumerate(self.variables)}
        bits = np.zeros(len(self.variables), dtype=np.uint8)
        for j, k in self.instance.operations():
            key = (j, k, schedule.starts[j][k])
            if key not in index:
                raise ValueError(f"operation {(j, k)} starts at {key[2]}, which has no bit")
            bits[index[key]] = 1
        return bits


def jssp_qubo(
    instance: JobShopInstance,
    horizon: int,
    *,
    penalty_once: float | None = None,
    penalty_precedence: float | None = None,
    penalty_machine: float | None = None,
    objective: str = "makespan",
    objective_weight: float = 1.0,
    prune: bool = False,
) -> TimeIndexedQUBO:
    """Time-indexed QUBO: bit ``x[o, t] = 1`` iff operation ``o`` starts at time ``t``.

    Start times run over ``0 .. horizon - duration`` (with ``prune``, over
    ``head .. horizon - tail``, where ``head`` is the total duration of the job's earlier
    operations and ``tail`` that of this and later ones: times no feasible schedule uses).
    The cost is ``P1 Σ_o (Σ_t x[o,t] - 1)²`` (each operation starts exactly once)
    ``+ P2 Σ x[o,t] x[o',t']`` over consecutive operations ``o -> o'`` of a job with
    ``t' < t + d_o`` (precedence) ``+ P3 Σ x[o,t] x[o',t']`` over distinct operations on one
    machine whose intervals ``[t, t + d)`` overlap, plus the objective on each job's last
    operation, completing at ``c = t + d``:

    - ``"makespan"``: ``α B^(c - c_min)``, ``B = n_jobs + 1``, ``c_min`` the smallest ``c``
      with a bit. One job finishing a step later outweighs all jobs finishing earlier, so the
      QUBO optimum is a schedule of *minimum makespan* within the horizon (ties broken towards
      fewer jobs ending late). Coefficients grow like ``B^horizon``: for small horizons.
    - ``"completion"``: ``α c``; the optimum minimises the total completion time ``Σ_j C_j``, a
      makespan proxy with a small coefficient range.
    - ``"none"``: pure feasibility.

    Every default penalty is ``F_max + 1``, ``F_max`` the largest objective of any assignment
    starting each last operation once, so every infeasible bitstring (penalty ``>= P``,
    objective ``>= 0``) costs more than every feasible one. If no schedule fits in ``horizon``,
    the QUBO optimum is infeasible.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {list(OBJECTIVES)}")
    if not objective_weight >= 0:
        raise ValueError(f"objective_weight={objective_weight} must be >= 0")
    variables = _start_variables(instance, horizon, prune)
    weights = _objective_weights(instance, variables, objective, objective_weight)
    f_max = sum(
        max((w for (j, _, _), w in weights.items() if j == job), default=0.0)
        for job in range(instance.n_jobs)
    )
    given = {"once": penalty_once, "precedence": penalty_precedence, "machine": penalty_machine}
    penalties = {kind: f_max + 1.0 if p is None else float(p) for kind, p in given.items()}
    for kind, p in penalties.items():
        if not p > 0:
            raise ValueError(f"penalty_{kind}={p} must be positive")
    q, offset = _penalty_matrix(instance, variables, penalties)
    index = {v: i for i, v in enumerate(variables)}
    for v, w in weights.items():
        q[index[v], index[v]] += w
    qubo = QUBO(q, offset=offset, name=f"{instance.name}_T{horizon}")
    return TimeIndexedQUBO(instance, horizon, qubo, tuple(variables), penalties, objective)


@dataclass(frozen=True)
class JobShopDecoding:
    """A decoded bitstring: ``schedule`` is ``None`` unless ``violations`` is empty."""

    schedule: Schedule | None
    violations: tuple[Violation, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


def decode(encoding: TimeIndexedQUBO, bits: np.ndarray) -> JobShopDecoding:
    """Schedule of a bitstring, with every violated QUBO constraint named.

    The violations are exactly the nonzero penalty terms of the QUBO: an operation started
    ``!= 1`` times (``"once"``), a pair of started times breaking a job's order
    (``"precedence"``) or overlapping on a machine (``"machine"``).
    """
    x = np.asarray(bits).ravel()
    if x.size != len(encoding.variables):
        raise ValueError(f"bits have {x.size} entries, the encoding has {len(encoding.variables)}")
    instance = encoding.instance
    starts: dict[tuple[int, int], list[int]] = {op: [] for op in instance.operations()}
    for (j, k, t), bit in zip(encoding.variables, x.tolist(), strict=True):
        if bit:
            starts[(j, k)].append(t)
    found = [
        Violation("once", f"operation (job {j}, op {k}) starts {len(ts)} times {ts}")
        for (j, k), ts in starts.items()
        if len(ts) != 1
    ]
    found += _violations(instance, starts)
    if found:
        return JobShopDecoding(None, tuple(found))
    rows = [[starts[(j, k)][0] for k in range(len(job))] for j, job in enumerate(instance.jobs)]
    return JobShopDecoding(Schedule(instance, tuple(map(tuple, rows))), ())


def cpsat_optimum(
    instance: JobShopInstance, *, time_limit_s: float = 10.0, n_workers: int = 1
) -> tuple[int, Schedule]:
    """Minimum makespan and an optimal schedule by OR-Tools CP-SAT.

    Interval variables per operation, ``NoOverlap`` per machine, precedence within each job.

    Raises:
        RuntimeError: if optimality is not proven within ``time_limit_s`` seconds.
    """
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    horizon = sum(d for job in instance.jobs for _, d in job)
    starts, ends, by_machine = {}, {}, {}
    for j, k in instance.operations():
        m, d = instance.jobs[j][k]
        starts[j, k] = model.new_int_var(0, horizon - d, f"s{j}_{k}")
        ends[j, k] = starts[j, k] + d
        interval = model.new_fixed_size_interval_var(starts[j, k], d, f"i{j}_{k}")
        by_machine.setdefault(m, []).append(interval)
        if k:
            model.add(starts[j, k] >= ends[j, k - 1])
    for intervals in by_machine.values():
        model.add_no_overlap(intervals)
    span = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(span, [ends[j, len(job) - 1] for j, job in enumerate(instance.jobs)])
    model.minimize(span)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = n_workers
    status = solver.solve(model)
    if status != cp_model.OPTIMAL:
        raise RuntimeError(
            f"CP-SAT did not prove optimality for {instance.name} within "
            f"{time_limit_s} s (status {solver.status_name(status)})"
        )
    rows = [
        tuple(solver.value(starts[j, k]) for k in range(len(job)))
        for j, job in enumerate(instance.jobs)
    ]
    return int(solver.value(span)), Schedule(instance, tuple(rows))


def _start_variables(
    instance: JobShopInstance, horizon: int, prune: bool
) -> list[tuple[int, int, int]]:
    """``(job, index, start)`` for every allowed start time, operation by operation."""
    variables = []
    for j, job in enumerate(instance.jobs):
        durations = [d for _, d in job]
        for k, d in enumerate(durations):
            first = sum(durations[:k]) if prune else 0
            last = horizon - (sum(durations[k:]) if prune else d)
            if last < first:
                raise ValueError(
                    f"horizon={horizon} leaves operation (job {j}, op {k}) no start time"
                )
            variables += [(j, k, t) for t in range(first, last + 1)]
    return variables


def _objective_weights(
    instance: JobShopInstance, variables: list[tuple[int, int, int]], objective: str, alpha: float
) -> dict[tuple[int, int, int], float]:
    """Linear objective coefficient of each last-operation bit."""
    last = {
        (j, t): t + instance.jobs[j][k][1]
        for j, k, t in variables
        if k == len(instance.jobs[j]) - 1 and objective != "none"
    }
    if not last:
        return {}
    c_min = min(last.values())
    base = instance.n_jobs + 1
    weight = {"makespan": lambda c: alpha * base ** (c - c_min), "completion": lambda c: alpha * c}
    return {
        (j, len(instance.jobs[j]) - 1, t): float(weight[objective](c)) for (j, t), c in last.items()
    }


def _penalty_matrix(
    instance: JobShopInstance, variables: list[tuple[int, int, int]], penalties: dict[str, float]
) -> tuple[np.ndarray, float]:
    """Upper-triangular matrix and offset of the three penalty terms."""
    by_op: dict[tuple[int, int], list[tuple[int, int]]] = {op: [] for op in instance.operations()}
    for i, (j, k, t) in enumerate(variables):
        by_op[(j, k)].append((i, t))
    q = np.zeros((len(variables), len(variables)))
    p_once = penalties["once"]
    for bits in by_op.values():  # (Σ x - 1)² = -Σ x + 2 Σ_{a<b} x_a x_b + 1
        for (a, _), (b, _) in combinations(bits, 2):
            q[a, b] += 2 * p_once
        for a, _ in bits:
            q[a, a] -= p_once
    for kind, (_, a, _), (_, b, _) in _conflicts(instance, by_op):
        q[min(a, b), max(a, b)] += penalties[kind]
    return q, p_once * len(by_op)


def _violations(
    instance: JobShopInstance, starts: dict[tuple[int, int], list[int]]
) -> list[Violation]:
    """Precedence and machine violations among all started times of each operation."""
    tagged = {op: [(0, t) for t in ts] for op, ts in starts.items()}
    found = []
    for kind, ((ja, ka), _, ta), ((jb, kb), _, tb) in _conflicts(instance, tagged):
        if kind == "precedence":
            end = ta + instance.duration(ja, ka)
            message = f"job {ja}: op {kb} starts at {tb} before op {ka} ends at {end}"
        else:
            message = (
                f"machine {instance.jobs[ja][ka][0]} runs (job {ja}, op {ka}) from {ta} "
                f"and (job {jb}, op {kb}) from {tb} at once"
            )
        found.append(Violation(kind, message))
    return found


def _conflicts(
    instance: JobShopInstance, starts: dict[tuple[int, int], list[tuple[int, int]]]
) -> Iterator[tuple[ViolationKind, tuple, tuple]]:
    """Penalised pairs ``(kind, (op, tag, t), (op', tag', t'))`` among tagged start times."""
    for j, job in enumerate(instance.jobs):
        for k in range(len(job) - 1):
            for ia, ta in starts[(j, k)]:
                for ib, tb in starts[(j, k + 1)]:
                    if tb < ta + job[k][1]:
                        yield "precedence", ((j, k), ia, ta), ((j, k + 1), ib, tb)
    by_machine: dict[int, list[tuple[int, int]]] = {}
    for j, k in instance.operations():
        by_machine.setdefault(instance.jobs[j][k][0], []).append((j, k))
    for ops in by_machine.values():
        for oa, ob in combinations(ops, 2):
            da, db = instance.duration(*oa), instance.duration(*ob)
            for ia, ta in starts[oa]:
                for ib, tb in starts[ob]:
                    if ta < tb + db and tb < ta + da:
                        yield "machine", (oa, ia, ta), (ob, ib, tb)
