"""The study's black-box families (arXiv 2510.08274's Table I): instances, budget, rows."""

import itertools
import math

import numpy as np
import pytest

from qnn.bbs import BBSConfig
from qnn.bbs.study import BBSStudy, StudySpec, make_instance, paper_budget
from qnn.photonics import get_backend
from qnn.runs.study import run_study
from qnn.store import RunStore


def every_string(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8)


@pytest.mark.parametrize(("problem", "size"), [("knapsack_value", 10), ("knapsack_penalty", 10),
                                               ("tsp", 10)])
@pytest.mark.parametrize("index", range(3))
def test_instance_optimum_is_the_brute_force_minimum_of_its_black_box_cost(problem, size,
                                                                          index):
    instance = make_instance(problem, size, index, seed=4)
    costs = instance.cost(every_string(size))
    assert instance.n_bits == size and instance.proven
    assert costs.min() == pytest.approx(instance.optimum, rel=1e-12)
    assert instance.feasible(every_string(size)[costs.argmin()])


def test_the_two_black_box_knapsacks_share_their_items_and_differ_only_overweight():
    value = make_instance("knapsack_value", 12, 1, seed=4)
    penalty = make_instance("knapsack_penalty", 12, 1, seed=4)
    assert value.data == penalty.data and value.optimum == penalty.optimum
    strings = every_string(12)
    within = strings @ np.array(value.data.weights) <= value.data.capacity
    np.testing.assert_array_equal(value.cost(strings)[within], penalty.cost(strings)[within])
    assert (value.cost(strings)[~within] == 0.0).all()
    assert (penalty.cost(strings)[~within] > value.cost(strings)[~within]).any()


def test_tsp_instance_of_29_bits_has_13_cities():
    assert make_instance("tsp", 29, 0, seed=0).data.n_cities == 13


@pytest.mark.parametrize(("size", "budget"), [
    (10, 550_000),    # 537 x 2^10, the reproduction's "537x the whole space"
    (20, 1_350_000),  # 1.29 x 2^20
    (30, 200 * 50 * (2 * 77 + 2 * 30 + 1)),  # the paper's 77 angles at 30 modes
])
def test_paper_budget_is_updates_shots_times_2k_plus_2m_plus_1(size, budget):
    assert paper_budget(size, get_backend("exact"), BBSConfig(updates=200, shots=50)) == budget


def test_spec_takes_sizes_per_problem_and_lists_tasks_by_them():
    spec = StudySpec(problems=("knapsack_penalty", "tsp"), instances=1, methods=("bbs",),
                     sizes={"knapsack_penalty": [10, 20], "tsp": [10], "maxcut": [8]})
    assert [t.key for t in spec.tasks()] == [
        "knapsack_penalty/m10/i000/bbs", "knapsack_penalty/m20/i000/bbs", "tsp/m10/i000/bbs"]
    assert spec.sizes_of("tsp") == (10,)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"problems": ("tsp",), "sizes": (11,)}, r"sizes \(tsp\): n_bits=11 is no tour-index"),
    ({"problems": ("tsp",), "sizes": {"knapsack": [8]}},
     r"lacks a list for problem\(s\) \['tsp'\]"),
    ({"problems": ("tsp",), "sizes": {"tsp": [10], "tps": [5]}}, r"unknown problem\(s\) \['tps'\]"),
    ({"problems": ("tsp",), "sizes": {"tsp": [3]}}, r"sizes\['tsp'\]=\[3\] must be integers >= 4"),
    ({"problems": ("knapsack_penalty",), "bbs": {"flip_gradient": "closed_form"}},
     "bbs.flip_gradient='closed_form': the black-box families"),
    *[({"problems": ("tsp",), "sizes": (10,), "budget_fraction": bad},
       f"budget_fraction={bad!r} must be a positive number") for bad in (0, float("nan"), True)],
    ({"problems": ("tsp", "maxcut"), "sizes": {"tsp": [10], "maxcut": [8]},
      "budget_fraction": 0.5}, r"budget_fraction=0.5: the QUBO families \['maxcut'\] spend"),
])
def test_bad_specs_are_refused_naming_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StudySpec(**kwargs)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    spec = StudySpec(problems=("knapsack_penalty", "tsp"), sizes={"knapsack_penalty": [6],
                     "tsp": [5]}, instances=1,
                     methods=("bbs", "bbs_frozen", "bbs_random_clicks", "sa", "random",
                              "hill_climbing"), bbs={"updates": 3, "shots": 10})
    path = tmp_path_factory.mktemp("study") / "histograms.h5"
    with RunStore(path, "w") as store:
        rows = run_study(BBSStudy(), spec, seed=2, store=store)
    return spec, rows, path


def test_every_method_spends_exactly_the_paper_budget(tiny_study):
    spec, rows, _ = tiny_study
    for row in rows:
        budget = paper_budget(row["n_bits"], get_backend("exact"), spec.bbs)
        assert row["evaluations"] == budget, row["task"]
        if row["method"].startswith("bbs"):  # curves account for every evaluation
            assert sum(row["curve_evaluations"]) == budget


def test_a_budget_fraction_is_the_share_of_the_paper_budget_every_method_spends():
    spec = StudySpec(problems=("knapsack_value",), sizes=(6,), instances=1,
                     methods=("bbs", "sa", "random", "hill_climbing"),
                     bbs={"updates": 3, "shots": 10}, budget_fraction=0.25)
    full = paper_budget(6, get_backend("exact"), spec.bbs)
    rows = run_study(BBSStudy(), spec, seed=2)
    assert full % 4 != 0  # so the share is rounded
    assert {r["method"]: r["evaluations"] for r in rows} == dict.fromkeys(
        spec.methods, round(full / 4))
    assert sum(rows[0]["curve_evaluations"]) == round(full / 4)  # bbs stops at the share too


def test_rows_report_cost_optimum_success_and_relative_error(tiny_study):
    _, rows, _ = tiny_study
    for row in rows:
        instance = make_instance(row["problem"], row["size"], row["instance"], seed=2)
        bits = np.array([int(c) for c in row["best_bits"]], dtype=np.uint8)
        assert row["best_cost"] == pytest.approx(instance.cost(bits[None])[0])
        assert row["optimum"] == pytest.approx(instance.optimum)
        assert row["best_cost"] >= row["optimum"] - 1e-9
        assert row["success"] == math.isclose(row["best_cost"], row["optimum"], rel_tol=1e-9)
        assert row["rel_error"] == pytest.approx(
            (row["best_cost"] - row["optimum"]) / abs(row["optimum"]))
        assert row["optimum_proven"]
        assert row["feasible"] or not row["success"]  # an optimum is always feasible


def test_every_update_drawn_goes_through_the_recording_backend(tiny_study):
    _, rows, path = tiny_study
    updates = sum(len(r["curve_evaluations"]) for r in rows if r["method"].startswith("bbs"))
    with RunStore(path, "r") as store:
        names = store.names()
    assert len(names) == updates  # the cut last update too
    assert {n.split("/")[0] for n in names} == {"knapsack_penalty", "tsp"}


def test_the_ablations_run_as_many_updates_as_bbs_on_the_same_budget(tiny_study):
    spec, rows, _ = tiny_study
    curves = {(r["problem"], r["method"]): r["curve_evaluations"] for r in rows
              if r["method"].startswith("bbs")}
    for problem, n_bits, n_bs in (("knapsack_penalty", 6, 5 + 3), ("tsp", 5, 4 + 2)):
        # more updates than N: S (2K + 1) strings an update against the S (2K + 2m + 1) per
        # update of the budget; frozen angles score as many, all from the unshifted circuit
        per_update = spec.bbs.shots * (2 * n_bs + 1)
        updates = math.ceil(spec.bbs.updates * (2 * n_bs + 2 * n_bits + 1) / (2 * n_bs + 1))
        for method in ("bbs", "bbs_frozen", "bbs_random_clicks"):
            assert len(curves[(problem, method)]) == updates > spec.bbs.updates
            assert curves[(problem, method)][0] == per_update


def test_a_black_box_task_stopped_mid_run_resumes_to_the_uninterrupted_row(tmp_path):
    from qnn.runs import Checkpoint

    spec = StudySpec(problems=("tsp",), sizes=(5,), instances=1, methods=("bbs",),
                     bbs={"updates": 4, "shots": 10}, checkpoint_every=2)
    straight = run_study(BBSStudy(), spec, seed=9)

    class Stop(Exception):
        pass

    def stop_at_update_5(name, value, step):
        if step == 5:
            raise Stop

    checkpoint = Checkpoint(tmp_path / "checkpoint.json")
    with pytest.raises(Stop):
        run_study(BBSStudy(), spec, seed=9, checkpoint=checkpoint, log_scalar=stop_at_update_5)
    assert checkpoint.load()["state"]["bbs"]["step"] == 4  # saved after update 4
    resumed = run_study(BBSStudy(), spec, seed=9, checkpoint=checkpoint)
    drop = {"seconds"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in resumed] == \
        [{k: v for k, v in r.items() if k not in drop} for r in straight]
