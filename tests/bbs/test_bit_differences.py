"""The paper's flip gradient on a black box: both costs of every bit's flip, paid for."""

import math

import numpy as np
import pytest

from qnn.bbs import BBSConfig, BBSSolver, BlackBoxSolver
from qnn.bbs.blackbox import flip_probes
from qnn.bbs.study import BBSStudy, StudySpec, paper_budget
from qnn.photonics import get_backend
from qnn.problems import QUBO
from qnn.runs.study import run_study
from qnn.store import RunStore


def test_a_probe_sets_one_flip_and_keeps_every_other_bit_as_drawn():
    rng = np.random.default_rng(0)
    clicks = rng.integers(0, 2, (4, 5), dtype=np.uint8)
    flips = rng.integers(0, 2, (4, 5), dtype=np.uint8)
    probes = flip_probes(clicks ^ flips, flips)
    assert probes.shape == (5, 2, 4, 5)
    for bit in range(5):
        for value in (0, 1):
            forced = flips.copy()
            forced[:, bit] = value
            np.testing.assert_array_equal(probes[bit, value], clicks ^ forced)


def test_the_best_string_is_taken_from_the_probes_too():
    """A cost that only a probe can reach: every candidate scores 1, the string with bit 0
    forced on and every other bit as some candidate drew it scores 0."""
    cfg = BBSConfig(max_modes=4, loop_lengths=(1,), shots=3, init_flip=1e-9,
                    flip_gradient="bit_differences", freeze_angles=True)
    solver = BlackBoxSolver(4, get_backend("exact"), cfg)
    state = solver.init_state(np.random.default_rng(1))
    proposal = solver.propose(state)
    target = proposal.probes[0, 1, 0]
    assert not (proposal.candidates == target).all(axis=-1).any()  # p ~ 0: bit 0 never flips
    costs = np.where((proposal.bits == target).all(axis=1), 0.0, 1.0)
    state, report = solver.update(state, proposal, costs)
    np.testing.assert_array_equal(state.best_bits, target)
    assert state.best_cost == report.best_cost == 0.0


@pytest.fixture(scope="module")
def paper_estimator_study(tmp_path_factory):
    spec = StudySpec(problems=("knapsack_penalty",), sizes={"knapsack_penalty": [6]},
                     instances=1, methods=("bbs", "bbs_frozen"),
                     bbs={"updates": 3, "shots": 10, "flip_gradient": "bit_differences"})
    path = tmp_path_factory.mktemp("study") / "histograms.h5"
    with RunStore(path, "w") as store:
        rows = run_study(BBSStudy(), spec, seed=2, store=store)
    return spec, {row["method"]: row for row in rows}


def test_with_the_papers_estimator_bbs_runs_exactly_n_updates_on_the_papers_budget(
        paper_estimator_study):
    spec, rows = paper_estimator_study
    budget = paper_budget(6, get_backend("exact"), spec.bbs)
    assert rows["bbs"]["curve_evaluations"] == [budget // spec.bbs.updates] * spec.bbs.updates
    # frozen angles: S candidates and their 2m S probes an update, more updates, same budget
    frozen = rows["bbs_frozen"]["curve_evaluations"]
    assert sum(frozen) == rows["bbs_frozen"]["evaluations"] == budget
    assert frozen[0] == spec.bbs.shots * (1 + 2 * 6)
    assert len(frozen) == math.ceil(budget / frozen[0])


def test_bit_differences_are_refused_where_a_qubo_gives_them_for_free():
    qubo = QUBO(np.eye(4))
    with pytest.raises(ValueError, match="flip_gradient='bit_differences' is the black-box"):
        BBSSolver(qubo, get_backend("exact"), BBSConfig(flip_gradient="bit_differences"))
    with pytest.raises(ValueError, match=r"bbs.flip_gradient='bit_differences': the QUBO "
                                         r"families \['maxcut'\]"):
        StudySpec(problems=("maxcut", "tsp"), sizes={"maxcut": [8], "tsp": [5]},
                  bbs={"flip_gradient": "bit_differences"})
