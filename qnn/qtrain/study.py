"""The distributed-QNN study: Quantum-Train runs over bond dimensions and seeds, resumable."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..photonics import NoiseModel, get_backend
from ..photonics.backends.base import Backend
from ..runs import RunSink
from .data import (
    PUBLISHED_N_TEST,
    PUBLISHED_N_TRAIN,
    load_digits_dataset,
    load_mnist,
    published_subset,
    split_train_test,
)
from .model import QPUSpec, QuantumTrain
from .target import DigitsCNN, HardwareCNN, PaperCNN, accuracy, to_state_dict
from .train import Dataset, TrainConfig, Trainer

DATASETS = ("digits", "mnist_published", "mnist_full")
PRECISIONS = {"float32": torch.float32, "float64": torch.float64}
TARGETS = {"digits": DigitsCNN, "paper": PaperCNN, "hardware": HardwareCNN}


@dataclass(frozen=True)
class DQNNSpec:
    """One study: every (bond dimension, seed) pair is a task trained from scratch."""

    dataset: str = "digits"
    target: str = "digits"
    qpus: tuple[QPUSpec, ...] = (QPUSpec((1, 0, 1, 0, 1, 0), (1,)),
                                 QPUSpec((1, 0, 1, 0, 1), (1, 2)))
    outcomes: str = "pnr"
    scaling: str = "mean"
    bond_dims: tuple[int, ...] = (4,)
    seeds: tuple[int, ...] = (0,)
    train: TrainConfig = field(default_factory=TrainConfig)
    noise_levels: tuple[dict, ...] = ()
    # The CNN's arithmetic; the MPS and the photonic vectors stay float64. float32 halves a
    # round's time on CPU with the same accuracy (benchmarks/qtrain.py).
    precision: str = "float32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; choose from {list(PRECISIONS)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset={self.dataset!r}; choose from {list(DATASETS)}")
        if self.target not in TARGETS:
            raise ValueError(f"target={self.target!r}; choose from {sorted(TARGETS)}")
        if not self.bond_dims or any(not isinstance(b, int) or b < 1 for b in self.bond_dims):
            raise ValueError(f"bond_dims={list(self.bond_dims)} must be positive integers")
        if not self.seeds:
            raise ValueError("seeds is empty")
        object.__setattr__(self, "qpus", tuple(
            q if isinstance(q, QPUSpec) else QPUSpec(tuple(q["input_state"]),
                                                     tuple(q["loop_lengths"]))
            for q in self.qpus))
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainConfig.from_dict(self.train))
        object.__setattr__(self, "noise_levels", tuple(self.noise_levels))
        for i, level in enumerate(self.noise_levels):
            try:
                NoiseModel(**level)
            except (TypeError, ValueError) as err:
                raise ValueError(f"noise_levels[{i}]={level}: {err}") from None
        self.model(self.bond_dims[0], 0)  # fails now if the QPUs cannot cover the weights

    def model(self, bond_dim: int, seed: int) -> QuantumTrain:
        generator = torch.Generator().manual_seed(_task_seed(seed, "init", bond_dim))
        return QuantumTrain(self.qpus, TARGETS[self.target](), bond_dim=bond_dim,
                            outcomes=self.outcomes, scaling=self.scaling, generator=generator)


def _task_seed(seed: int, *parts: object) -> int:
    words = [seed, *(zlib.crc32(str(p).encode()) for p in parts)]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0] >> 1)


def load_dataset(name: str, seed: int, dtype: torch.dtype = torch.float64) -> Dataset:
    """The named data regime as ``dtype`` tensors (published: 6,000 / 600 MNIST images)."""
    rng = np.random.default_rng(_task_seed(seed, "data", name))
    if name == "digits":
        x, y = load_digits_dataset()
        x_train, y_train, x_test, y_test = split_train_test(x, y, 360, rng=rng)
    else:
        x_train, y_train = load_mnist("train")
        x_test, y_test = load_mnist("test")
        if name == "mnist_published":
            x_train, y_train = published_subset(x_train, y_train, PUBLISHED_N_TRAIN, rng=rng)
            x_test, y_test = published_subset(x_test, y_test, PUBLISHED_N_TEST, rng=rng)
    return Dataset(x_train.to(dtype), y_train, x_test.to(dtype), y_test)


def run_dqnn_study(spec: DQNNSpec, backend: Backend, *, seed: int, folder: Path,
                   sink: RunSink, progress: bool = True) -> list[dict]:
    """Train every task, checkpointing each round in ``folder``; a rerun resumes.

    With ``spec.noise_levels`` every level is a set of tasks on the exact backend with that
    :class:`NoiseModel` (``backend`` is then unused).

    Each task also writes ``network-chi<χ>-seed<s>.pt``: the trained classical network as a
    plain state dict of the target module, usable without any quantum backend.
    """
    data = load_dataset(spec.dataset, seed, PRECISIONS[spec.precision])
    rows = []
    levels = list(enumerate(spec.noise_levels)) or [(None, None)]
    tasks = [(n, b, s) for n in levels for b in spec.bond_dims for s in spec.seeds]
    for (level, noise), bond_dim, task in tqdm(tasks, disable=not progress, desc="dqnn study",
                                                unit="task"):
        name = f"chi{bond_dim}-seed{task}" + ("" if level is None else f"-noise{level}")
        if noise is not None:  # a noise sweep simulates each level on the exact backend
            backend = get_backend("exact", noise=NoiseModel(**noise))
        model = spec.model(bond_dim, task)
        trainer = Trainer(model, backend, spec.train, data, sink=sink, name=name)
        start = time.perf_counter()

        def log(metrics: dict, name: str = name) -> None:
            for key in ("train_loss", "test_accuracy"):
                sink.log_scalar(f"{name}/{key}", metrics[key], metrics["round"])

        history = trainer.fit(seed=_task_seed(seed, "train", bond_dim, task),
                              checkpoint=folder / f"checkpoint-{name}.pt", on_round=log)
        with torch.no_grad():
            weights = model.weights(trainer.vectors())
        network = export_network(model.target, weights, folder / f"network-{name}.pt")
        rows.append({
            "task": name, "bond_dim": bond_dim, "seed": task, "noise": noise,
            **{f"n_{k}": v for k, v in model.n_trained_parameters().items()},
            "n_target_weights": model.n_weights,
            "test_accuracy": history[-1]["test_accuracy"],
            "exported_accuracy": accuracy(network, data.x_test.float(), data.y_test),
            "curve_test_accuracy": [m["test_accuracy"] for m in history],
            "curve_train_loss": [m["train_loss"] for m in history],
            "seconds": time.perf_counter() - start,
        })
    return rows


def export_network(target: nn.Module, weights: torch.Tensor, path: Path) -> nn.Module:
    """Write the generated weights as ``target``'s plain state dict; return a loaded copy."""
    state = {k: v.float() for k, v in to_state_dict(target, weights).items()}
    torch.save(state, path)
    network = type(target)()
    network.load_state_dict(state)
    return network.eval()


def run_baseline_study(spec: DQNNSpec, *, seed: int, epochs: int = 50,
                       progress: bool = True) -> list[dict]:
    """The classical comparisons at the trained-parameter count of each ``spec.bond_dims``
    Quantum-Train model: the full CNN, weight sharing and magnitude pruning, per seed."""
    from .baselines import equal_budget_baselines

    data = load_dataset(spec.dataset, seed, PRECISIONS[spec.precision])
    rows = []
    tasks = [(b, s) for b in spec.bond_dims for s in spec.seeds]
    for bond_dim, task in tqdm(tasks, disable=not progress, desc="baselines", unit="task"):
        budget = spec.model(bond_dim, task).n_trained_parameters()["total"]
        target = TARGETS[spec.target]()
        budget = min(budget, sum(p.numel() for p in target.parameters()))
        for result in equal_budget_baselines(target, data, budget, epochs=epochs,
                                             seed=_task_seed(seed, "baseline", task),
                                             batch_size=spec.train.batch_size,
                                             lr=spec.train.lr_mps):
            rows.append({"task": f"{result.method}-chi{bond_dim}-seed{task}",
                         "method": result.method, "bond_dim": bond_dim, "seed": task,
                         "n_total": result.n_trained_parameters,
                         "test_accuracy": result.test_accuracy,
                         "curve_test_accuracy": list(result.curve_test_accuracy),
                         "seconds": result.seconds})
    return rows
