"""Quantum-guided neural-architecture search: photonic proposals vs baselines at equal budgets."""

from __future__ import annotations

from dataclasses import asdict

from qnn.nas.capacity import CAPACITY_SEARCH
from qnn.nas.fitness import TrainBudget
from qnn.nas.search import SearchConfig
from qnn.nas.study import NASStudy
from qnn_experiments.ingredients import new_experiment

study = NASStudy()
ex = new_experiment(study)


@ex.config
def config():
    label = "default"  # which named config produced the run (figures select runs by it)
    dataset = "digits"  # digits (scikit-learn 8x8) | mnist_small (MNIST subset)
    seeds = [0, 1, 2, 3, 4]  # one search per (seed, method); a seed fixes split and training
    methods = ["photonic", "bernoulli", "evolution", "random"]
    search = asdict(SearchConfig(budget=100, ensemble_size=5))  # (bbs: BBSConfig fields)
    train = asdict(TrainBudget(epochs=2, batch_size=32))  # every architecture's training
    n_train = 1000  # training images
    n_val = 300  # validation images (fitness = validation accuracy)
    n_test = 400  # test images (reported, never searched on)
    checkpoint_every = 20  # new trainings between checkpoints


@ex.named_config
def smoke():
    # Seconds: two seeds, a budget of 12 architectures, one epoch on 300 images.
    label = "smoke"
    seeds = [0, 1]
    search = {"budget": 12, "ensemble_size": 3}
    train = {"epochs": 1, "batch_size": 32}
    n_train = 300
    n_val = 200
    n_test = 200


@ex.named_config
def digits():
    # The comparison the README reports: 4 methods x 5 seeds, 100 architectures each
    # (about 5 CPU-minutes on one core).
    label = "digits"
    seeds = [0, 1, 2, 3, 4]
    search = {"budget": 100, "ensemble_size": 5}


@ex.named_config
def mnist_small():
    # MNIST subset (2,000 / 500 / 1,000 images of 28x28), 3 seeds, 60 architectures each:
    # 2-10 s per architecture on one core, so about an hour (not run for the README).
    label = "mnist_small"
    dataset = "mnist_small"
    seeds = [0, 1, 2]
    search = {"budget": 60, "ensemble_size": 5}
    train = {"epochs": 2, "batch_size": 64}
    n_train = 2000
    n_val = 500
    n_test = 1000


@ex.named_config
def capacity():
    # A proposer that can learn (qnn.nas.capacity): 8 modes, loops 1 and 2, 10 shots
    # per parameter set, the shift rule along one random direction (30 candidates, >= 16
    # updates), 500 architectures per search, on an MNIST subset (1,000 / 500 / 1,000
    # images). Fitness is a cheap proxy: validation accuracy after ONE epoch on 1,000 images
    # (about 1 s per architecture on one core), not a converged training. 8 seeds, so the
    # paired Wilcoxon test can reach p < 0.05 (with 5 its smallest two-sided p is 1/16).
    # At most 4 x 8 x 500 = 16,000 trainings (a seed's methods share its cache). Seed 0
    # took 52 min on 2 cores shared with three other runs; run it a seed at a time
    # ('seeds=[S]'): runs of distinct seeds pool in the figure.
    label = "capacity"
    dataset = "mnist_small"
    seeds = [0, 1, 2, 3, 4, 5, 6, 7]
    search = dict(CAPACITY_SEARCH)
    train = {"epochs": 1, "batch_size": 32}
    n_train = 1000
    n_val = 500
    n_test = 1000
    checkpoint_every = 100  # a seed's cache is ~40 kB per architecture in the checkpoint


@ex.named_config
def capacity_smoke():
    # The capacity study's chain in seconds: the same proposer, 2 seeds, 40 architectures
    # (one sampler update), one epoch on 200 MNIST images.
    label = "capacity_smoke"
    dataset = "mnist_small"
    seeds = [0, 1]
    search = {**CAPACITY_SEARCH, "budget": 40, "ensemble_size": 3}
    train = {"epochs": 1, "batch_size": 32}
    n_train = 200
    n_val = 100
    n_test = 100


@ex.named_config
def hardware():
    # The smoke study's photonic search on PT hardware (or emulators) through a QPU pool:
    # set ORCA_ACCESS_URL (comma-separated, one URL per QPU) and ORCA_AUTH_TOKEN first.
    label = "hardware"
    seeds = [0]
    methods = ["photonic", "random"]
    search = {"budget": 12, "ensemble_size": 3}
    train = {"epochs": 1, "batch_size": 32}
    n_train = 300
    n_val = 200
    n_test = 200
    photonics = {"backend": "pool"}
