"""Job-shop scheduling: time-indexed QUBO optimum = CP-SAT makespan; violations are named."""

import numpy as np
import pytest

from qnn.problems import (
    FT06,
    TOY_3X3,
    JobShopInstance,
    Schedule,
    cpsat_optimum,
    decode_schedule,
    jssp_qubo,
    makespan,
    optimum,
    random_jobshop,
    schedule_violations,
)

# Two jobs crossing two machines; optimal makespan 3 (both first operations run in parallel).
CROSS = JobShopInstance((((0, 2), (1, 1)), ((1, 2), (0, 1))), name="cross")


def test_cpsat_makespans_of_classic_instances():
    assert cpsat_optimum(TOY_3X3)[0] == 11
    span, schedule = cpsat_optimum(FT06)
    assert span == 55 == makespan(schedule)
    assert schedule_violations(schedule) == ()


def test_qubo_optimum_is_optimal_schedule_by_brute_force():
    encoding = jssp_qubo(CROSS, horizon=4)
    assert encoding.qubo.n_bits == 14
    result = optimum(encoding.qubo)
    decoded = decode_schedule(encoding, result.bits)
    assert result.method == "brute_force" and decoded.feasible
    assert makespan(decoded.schedule) == cpsat_optimum(CROSS)[0] == 3


def _qubo_schedule(instance, horizon, objective):
    """The schedule decoded from the CP-SAT optimum of the pruned time-indexed QUBO."""
    encoding = jssp_qubo(instance, horizon=horizon, prune=True, objective=objective)
    result = optimum(encoding.qubo, brute_force_max_bits=0)
    decoded = decode_schedule(encoding, result.bits)
    assert result.proven and decoded.feasible
    return decoded.schedule


def _total_completion(schedule):
    jobs = schedule.instance.jobs
    return sum(row[-1] + job[-1][1] for row, job in zip(schedule.starts, jobs, strict=True))


@pytest.mark.parametrize(("slack", "objective"), [(0, "none"), (1, "makespan"), (2, "makespan")])
def test_qubo_optimum_is_optimal_schedule_by_cpsat(slack, objective):
    span, _ = cpsat_optimum(TOY_3X3)
    assert makespan(_qubo_schedule(TOY_3X3, span + slack, objective)) == span


def test_completion_objective_minimises_total_completion():
    """A proxy: no better Σ_j C_j than a makespan-optimal schedule, but possibly longer."""
    span, schedule = cpsat_optimum(TOY_3X3)
    found = _qubo_schedule(TOY_3X3, span + 1, "completion")
    assert _total_completion(found) <= _total_completion(schedule)
    assert span <= makespan(found) <= span + 1


def test_random_instance_qubo_optimum_matches_cpsat():
    instance = random_jobshop(3, 2, rng=4, max_duration=2)
    span, _ = cpsat_optimum(instance)
    encoding = jssp_qubo(instance, horizon=span + 1, prune=True)
    decoded = decode_schedule(encoding, optimum(encoding.qubo, brute_force_max_bits=0).bits)
    assert decoded.feasible and makespan(decoded.schedule) == span


def test_feasible_energy_is_the_objective():
    """Penalties vanish on a feasible schedule: energy = Σ_j B^(C_j - c_min), B = n_jobs + 1."""
    encoding = jssp_qubo(CROSS, horizon=4)
    schedule = Schedule(CROSS, ((0, 2), (0, 2)))  # both jobs complete at 3; c_min = 1
    bits = encoding.encode(schedule)
    assert decode_schedule(encoding, bits).schedule == schedule
    assert encoding.qubo.energy(bits) == 2 * 3**2


def _bits_with(encoding, starts):
    """Bits with ``(job, op, t)`` set for each entry of ``starts``."""
    bits = np.zeros(encoding.qubo.n_bits, dtype=np.uint8)
    for key in starts:
        bits[encoding.variables.index(key)] = 1
    return bits


FEASIBLE = [(0, 0, 0), (0, 1, 2), (1, 0, 0), (1, 1, 2)]


@pytest.mark.parametrize(
    ("starts", "kind", "words"),
    [
        (FEASIBLE + [(0, 0, 1)], "once", "(job 0, op 0) starts 2 times"),
        (FEASIBLE[1:], "once", "(job 0, op 0) starts 0 times"),
        ([(0, 0, 0), (0, 1, 1), (1, 0, 0), (1, 1, 2)], "precedence", "job 0: op 1 starts at 1"),
        ([(0, 0, 0), (0, 1, 2), (1, 0, 1), (1, 1, 3)], "machine", "machine 1 runs"),
    ],
)
def test_infeasible_bitstrings_name_the_violation(starts, kind, words):
    encoding = jssp_qubo(CROSS, horizon=4)
    decoded = decode_schedule(encoding, _bits_with(encoding, starts))
    assert decoded.schedule is None
    assert kind in {v.kind for v in decoded.violations}
    assert any(words in v.message for v in decoded.violations)
    penalty = sum(encoding.penalties[v.kind] for v in decoded.violations if v.kind != "once")
    assert encoding.qubo.energy(_bits_with(encoding, starts)) >= penalty


def test_violations_count_the_penalty_terms():
    """Each named precedence/machine violation is one penalised pair of the QUBO."""
    encoding = jssp_qubo(
        CROSS,
        horizon=4,
        objective="none",
        penalty_once=1.0,
        penalty_precedence=10.0,
        penalty_machine=100.0,
    )
    bits = _bits_with(encoding, [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)])
    decoded = decode_schedule(encoding, bits)
    expected = sum(encoding.penalties[v.kind] for v in decoded.violations)
    assert encoding.qubo.energy(bits) == expected > 0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"jobs\[0\]\[1\]"):
        JobShopInstance((((0, 1), (1, 0)),))
    with pytest.raises(ValueError, match="horizon=2 leaves operation"):
        jssp_qubo(CROSS, horizon=2, prune=True)
    with pytest.raises(ValueError, match="unknown objective"):
        jssp_qubo(CROSS, horizon=4, objective="tardiness")
