"""Bosonic Binary Solver study: BBS vs classical baselines on Max-Cut, knapsack and job-shop."""

from __future__ import annotations

from dataclasses import fields

from experiments.ingredients import make_backend, new_experiment, open_run, save_results
from qnn.bbs import BBSConfig
from qnn.bbs.study import StudySpec, run_study
from qnn.runs import StoreSink
from qnn.runs.tables import aggregate

ex = new_experiment("bbs")


@ex.config
def config():
    label = "default"  # which named config produced the run (figures select runs by it)
    problems = ["maxcut"]  # maxcut | knapsack | jssp
    sizes = [12]  # QUBO bits (= TBI modes up to bbs.max_modes)
    instances = 5  # random instances per (problem, size)
    methods = ["bbs", "sa", "random"]  # + bbs_frozen, bbs_random_clicks, hill_climbing, gw
    bbs = {"updates": 100, "shots": 50}  # BBSConfig fields; the rest keep their defaults
    checkpoint_every = 10  # BBS updates between checkpoints
    optimum_time_limit = 30.0  # seconds CP-SAT may spend proving each optimum


@ex.named_config
def smoke():
    # Seconds: two tiny instances per family, every method, a few updates.
    label = "smoke"
    problems = ["maxcut", "knapsack", "jssp"]
    sizes = [8]
    instances = 2
    methods = ["bbs", "bbs_frozen", "bbs_random_clicks", "sa", "random", "gw"]
    bbs = {"updates": 10, "shots": 20}
    checkpoint_every = 2


@ex.named_config
def paper_table():
    # Solved-to-optimality rate and mean relative error vs size (arXiv 2510.08274 setting:
    # 200 updates, 50 shots, lr 0.01 / 0.05, loops 1, 3, 9).
    label = "paper_table"
    problems = ["maxcut", "knapsack", "jssp"]
    sizes = [10, 15, 20, 25, 30]
    instances = 20
    methods = ["bbs", "sa", "random"]
    bbs = {"updates": 200, "shots": 50}


@ex.named_config
def ablation_frozen():
    # Is training the interferometer needed? The same study with angles never updated.
    label = "ablation_frozen"
    problems = ["maxcut", "knapsack"]
    sizes = [12, 16, 20]
    instances = 20
    methods = ["bbs", "bbs_frozen", "random"]
    bbs = {"updates": 200, "shots": 50}


@ex.named_config
def ablation_random_clicks():
    # Are boson samples needed? Independent clicks with the circuit's per-mode click rates.
    label = "ablation_random_clicks"
    problems = ["maxcut", "knapsack"]
    sizes = [12, 16, 20]
    instances = 20
    methods = ["bbs", "bbs_random_clicks", "random"]
    bbs = {"updates": 200, "shots": 50}


@ex.named_config
def hardware():
    # The smoke study on PT hardware (or emulators) through a QPU pool: set ORCA_ACCESS_URL
    # (comma-separated, one URL per QPU) and ORCA_AUTH_TOKEN first.
    label = "hardware"
    problems = ["maxcut"]
    sizes = [8]
    instances = 2
    methods = ["bbs", "sa", "random"]
    bbs = {"updates": 10, "shots": 50, "loop_lengths": [1, 2]}  # PT systems have <= 2 loops
    photonics = {"backend": "pool"}


def spec_from_config(config) -> StudySpec:
    """The study a config describes; every value checked (named) before anything runs."""
    bbs = config["bbs"]
    allowed = {f.name for f in fields(BBSConfig)}
    unknown = sorted(set(bbs) - allowed)
    if unknown:
        raise ValueError(f"bbs has unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return StudySpec(tuple(config["problems"]), tuple(config["sizes"]), config["instances"],
                     tuple(config["methods"]), BBSConfig.from_dict(bbs),
                     config["checkpoint_every"], config["optimum_time_limit"])


# `seed` (the recorded config value, not Sacred's derived _seed) seeds everything, so tools
# such as `qnn export` can rebuild the run's data split from config.json.
@ex.main
def main(seed, _config, _run):
    spec = spec_from_config(_config)
    backend = make_backend()
    run_store, checkpoint = open_run()
    with run_store:
        sink = StoreSink(run_store, log_scalar=_run.log_scalar)
        rows = run_study(spec, backend, seed=seed, sink=sink, checkpoint=checkpoint)
    summary = aggregate(rows, by=("problem", "size", "method"),
                        metrics=("success", "rel_error", "evaluations"))
    save_results(tasks=rows, summary=summary)
    return {f"{s['problem']}/m{s['size']}/{s['method']}": s["success_mean"] for s in summary}
