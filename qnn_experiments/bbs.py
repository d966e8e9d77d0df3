"""Bosonic Binary Solver study: BBS vs classical baselines on Max-Cut, knapsack and job-shop."""

from __future__ import annotations

from qnn.bbs.config import BBSConfig
from qnn.bbs.study import BBSStudy
from qnn_experiments.ingredients import new_experiment

study = BBSStudy()
ex = new_experiment(study)


@ex.config
def config():
    label = "default"  # which named config produced the run (figures select runs by it)
    problems = ["maxcut"]  # maxcut | knapsack | jssp
    sizes = [12]  # QUBO bits (= TBI modes up to bbs.max_modes)
    instances = 5  # random instances per (problem, size)
    methods = ["bbs", "sa", "random"]  # + bbs_frozen, bbs_random_clicks, hill_climbing, gw
    bbs = BBSConfig(updates=100, shots=50).to_dict()  # every BBSConfig field (qnn.bbs.config)
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
