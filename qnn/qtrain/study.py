"""The distributed-QNN study: Quantum-Train runs over bond dimensions and seeds, resumable."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..photonics import NoiseModel, get_backend
from ..runs.study import TaskContext
from .data import (
    PUBLISHED_N_TEST,
    PUBLISHED_N_TRAIN,
    load_digits_dataset,
    load_mnist,
    published_subset,
    split_train_test,
)
from .model import QPUSpec, QuantumTrain
from .target import DigitsCNN, HardwareCNN, PaperCNN, accuracy, n_weights, to_state_dict
from .train import INPUTS, Dataset, TrainConfig, Trainer

DATASETS = ("digits", "mnist_published", "mnist_full")
# How the classical compressions are sized (DQNNSpec.baseline_counts): at our count of the
# Quantum-Train model's trained parameters, or at the count arXiv 2505.08474 publishes.
COUNT_CONVENTIONS = ("ours", "paper")
PRECISIONS = {"float32": torch.float32, "float64": torch.float64}
TARGETS = {"digits": DigitsCNN, "paper": PaperCNN, "hardware": HardwareCNN}


@dataclass(frozen=True)
class DQNNSpec:
    """One study: every (bond dimension, seed) pair is a task trained from scratch (times
    every noise level, and every entry of ``inputs``, when given)."""

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
    # TrainConfig.inputs values, one set of tasks each (every task otherwise the same, so the
    # modes are compared on equal data, initialisation and seeds); empty: train.inputs alone
    inputs: tuple[str, ...] = ()
    # The CNN's arithmetic; the MPS and the photonic vectors stay float64. float32 halves a
    # round's time on CPU with the same accuracy (benchmarks/qtrain.py).
    precision: str = "float32"
    baselines: bool = False  # the classical comparisons instead of Quantum-Train
    baseline_epochs: int = 50  # epochs of the classical CNN (published baseline: 50)
    # Which count of χ's Quantum-Train parameters sizes weight sharing and pruning
    # (COUNT_CONVENTIONS; see our_parameter_count and paper_parameter_count). "paper"
    # compares at the published sizes; it is the published convention at every χ, whatever
    # the dataset, so it means the published sizes only in the published regime.
    baseline_counts: str = "ours"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; choose from {list(PRECISIONS)}")
        if self.baseline_counts not in COUNT_CONVENTIONS:
            raise ValueError(f"baseline_counts={self.baseline_counts!r}; choose from "
                             f"{list(COUNT_CONVENTIONS)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset={self.dataset!r}; choose from {list(DATASETS)}")
        if self.target not in TARGETS:
            raise ValueError(f"target={self.target!r}; choose from {sorted(TARGETS)}")
        if not self.bond_dims or any(not isinstance(b, int) or b < 1 for b in self.bond_dims):
            raise ValueError(f"bond_dims={list(self.bond_dims)} must be positive integers")
        if not self.seeds:
            raise ValueError("seeds is empty")
        object.__setattr__(self, "qpus", tuple(_qpu_spec(i, q) for i, q in enumerate(self.qpus)))
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainConfig.from_dict(self.train))
        object.__setattr__(self, "noise_levels", tuple(self.noise_levels))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if self.inputs and self.train.inputs != "photonic":
            raise ValueError(f"inputs={list(self.inputs)} sweeps the input modes; leave "
                             f"train.inputs at 'photonic' (got {self.train.inputs!r})")
        for i, mode in enumerate(self.inputs):
            if mode not in INPUTS:
                raise ValueError(f"inputs[{i}]={mode!r}; choose from {list(INPUTS)}")
        for i, level in enumerate(self.noise_levels):
            try:
                NoiseModel(**level)
            except (TypeError, ValueError) as err:
                raise ValueError(f"noise_levels[{i}]={level}: {err}") from None
        self.model(self.bond_dims[0], 0)  # fails now if the QPUs cannot cover the weights

    def train_config(self, inputs: str | None) -> TrainConfig:
        """``train`` with its ``inputs`` replaced (``None``: as given)."""
        return self.train if inputs is None else replace(self.train, inputs=inputs)

    def model(self, bond_dim: int, seed: int) -> QuantumTrain:
        generator = torch.Generator().manual_seed(_task_seed(seed, "init", bond_dim))
        return QuantumTrain(self.qpus, TARGETS[self.target](), bond_dim=bond_dim,
                            outcomes=self.outcomes, scaling=self.scaling, generator=generator)

    @property
    def published_regime(self) -> bool:
        """Whether runs of this spec are arXiv 2505.08474's task: its 6,000 / 600 MNIST
        images and its 6,690-weight CNN (where its published numbers may stand beside ours)."""
        return (self.dataset, self.target) == ("mnist_published", "paper")

    def parameter_counts(self, bond_dim: int) -> dict[str, int]:
        """χ's Quantum-Train parameters under both conventions: ``{"ours", "paper"}``."""
        return {"ours": our_parameter_count(self.model(bond_dim, 0)),
                "paper": paper_parameter_count(bond_dim)}

    def baseline_budget(self, bond_dim: int) -> int:
        """Trained parameters of χ's weight sharing and pruning: the ``baseline_counts``
        count, at most the target's weights (a compression cannot keep more than all)."""
        return min(self.parameter_counts(bond_dim)[self.baseline_counts],
                   n_weights(TARGETS[self.target]()))


# ---------------------------------------------------------------------------- counts
# arXiv 2505.08474's table lists the trained parameters of its Quantum-Train models as 223,
# ..., 3,292 for χ = 1..10, which is exactly 31χ² + 192 at every χ. 31χ² is what TorchMPS's
# MPS(input_dim=14, output_dim=1, bond_dim=χ) counts with its defaults (14 full χ×χ×2
# cores, 28χ²; a χ×χ bias matrix per input region on either side of the output site, 2χ²;
# the 1×χ×χ output site, χ²; see MPSMapping's docstring for why 7χ² - 4χ of these are
# redundant). 192 is its circuits' count, constant in χ; the paper does not break it down
# (3 parameters per 2-mode cell of the 36 + 28 cells of its 9- and 8-mode meshes would give
# it; our meshes train 2 per cell, 128).
PAPER_MPS_PARAMETERS_PER_CHI2 = 31
PAPER_CIRCUIT_PARAMETERS = 192


def paper_parameter_count(bond_dim: int) -> int:
    """The published convention: ``31χ² + 192`` trained parameters at bond dimension χ.

    It belongs to the published model (14 MPS inputs for the 6,690-weight CNN, its
    circuits) and is returned for any χ as that convention, not recomputed for other models.
    """
    if isinstance(bond_dim, bool) or not isinstance(bond_dim, int) or bond_dim < 1:
        raise ValueError(f"bond_dim={bond_dim!r} must be a positive integer")
    return PAPER_MPS_PARAMETERS_PER_CHI2 * bond_dim ** 2 + PAPER_CIRCUIT_PARAMETERS


def our_parameter_count(model: QuantumTrain) -> int:
    """Our convention: the model's trained parameters, counted from the model itself.

    The circuits' angles plus the MPS's ``2χ²(n - 2) + 4χ`` entries (``n`` = index bits + 1
    inputs; open boundaries of size 1); 2,440 + 28 TBI angles for the published task at χ=10.
    """
    return model.n_trained_parameters()["total"]


# ---------------------------------------------------------------------------- noise
def null_on_exact_vectors(noise: dict | NoiseModel, outcomes: str, scaling: str) -> bool:
    """Whether ``noise`` leaves the value features of EXACT vectors unchanged.

    Uniform loss (transmission, one detector efficiency for all modes) keeps an N-photon
    outcome only when no photon is lost: probability ``η^N`` for every outcome alike, so a
    ``"pnr"`` or ``"no_bunching"`` vector (N-photon patterns only) is multiplied by ``η^N``.
    Without loss, a dark count always adds a count, so it moves an N-photon outcome out of
    those lists with the same probability ``1 - (1 - p)^M`` for every outcome. A common
    factor is what the ``"mean"`` scaling divides out. Not null: partial distinguishability
    (it changes the distribution's shape), per-mode efficiencies, dark counts with loss
    (a dark count fills a lost photon's place), threshold outcomes (a lost photon of a
    bunched mode keeps the click pattern) and the ``"qt"`` scaling (no division).
    On sampled vectors none is null: the common factor is paid in post-selected shots.
    """
    model = NoiseModel(**noise) if isinstance(noise, dict) else noise
    if outcomes == "threshold" or scaling != "mean" or model.indistinguishability < 1.0:
        return False
    effs = model.detector_efficiency
    if isinstance(effs, tuple) and len(set(effs)) > 1:
        return False
    return not (model.has_loss and model.dark_count_prob > 0)


def _qpu_spec(index: int, qpu: QPUSpec | dict) -> QPUSpec:
    """``qpus[index]`` as a QPUSpec; a bad entry is a ValueError that names it."""
    if isinstance(qpu, QPUSpec):
        return qpu
    keys = {"input_state", "loop_lengths", "circuit"}
    if not isinstance(qpu, dict) or "input_state" not in qpu or set(qpu) - keys:
        raise ValueError(f"qpus[{index}]={qpu!r} must be a dict with input_state and, for a "
                         "TBI, loop_lengths (or circuit='mesh' and no loops)")
    try:
        return QPUSpec(tuple(qpu["input_state"]), tuple(qpu.get("loop_lengths", ())),
                       qpu.get("circuit", "tbi"))
    except (TypeError, ValueError) as err:
        raise ValueError(f"qpus[{index}]: {err}") from None


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


@dataclass(frozen=True)
class DQNNTask:
    """One training: Quantum-Train at ``bond_dim`` (and a noise level), or one classical
    comparison at that χ's trained-parameter count (``spec.baseline_counts``' convention)."""

    bond_dim: int
    seed: int
    level: int | None = None  # index into spec.noise_levels
    method: str = "quantum_train"  # or one of BASELINE_METHODS
    inputs: str | None = None  # an entry of spec.inputs; None: spec.train.inputs

    @property
    def key(self) -> str:
        if self.method != "quantum_train":
            return f"{self.method}-chi{self.bond_dim}-seed{self.seed}"
        return f"chi{self.bond_dim}-seed{self.seed}" + (
            "" if self.level is None else f"-noise{self.level}") + (
            "" if self.inputs is None else f"-{self.inputs}")


BASELINE_METHODS = ("classical", "weight_sharing", "pruning")


class DQNNStudy:
    """The distributed-QNN study as :func:`qnn.runs.run_tasks` runs it.

    Quantum-Train tasks checkpoint every round in the run folder (``checkpoint-<task>.pt``)
    and write the trained network as a plain state dict (``network-<task>.pt``), usable
    without any quantum backend. With ``spec.noise_levels`` every level is a set of tasks
    simulated on the exact backend with that :class:`NoiseModel` (exact vectors, or with
    ``train.shots`` sampled ones of that many raw shots). With ``spec.baselines`` the tasks
    are the classical comparisons instead, each at the trained-parameter count of the
    Quantum-Train model of its χ (our count or the published one: ``spec.baseline_counts``).
    Every Quantum-Train and compression row records both counts (``n_params_ours``,
    ``n_params_paper``).
    """

    family = "dqnn"
    spec_type = DQNNSpec
    summary_by = ("method", "inputs", "noise_level", "bond_dim")
    summary_metrics = ("test_accuracy", "n_total")
    headline = ("test_accuracy", {"method": "quantum_train"})

    def tasks(self, spec: DQNNSpec) -> list[DQNNTask]:
        if spec.baselines:
            return [DQNNTask(b, s, method=m) for b in spec.bond_dims for s in spec.seeds
                    for m in BASELINE_METHODS]
        levels = list(range(len(spec.noise_levels))) or [None]
        modes = list(spec.inputs) or [None]
        return [DQNNTask(b, s, level, inputs=mode) for level in levels for b in spec.bond_dims
                for mode in modes for s in spec.seeds]

    def run_task(self, spec: DQNNSpec, task: DQNNTask, context: TaskContext) -> dict:
        data = context.cached("data", lambda: load_dataset(spec.dataset, context.seed,
                                                           PRECISIONS[spec.precision]))
        if task.method != "quantum_train":
            return _baseline_row(spec, task, data, context)
        backend = context.backend
        # photonics.device: the exact backend's device, where the model trains too
        device = getattr(backend, "device", None) or torch.device("cpu")
        noise = None if task.level is None else spec.noise_levels[task.level]
        if noise is not None:  # a noise sweep simulates each level on the exact backend
            backend = backend.wrapping(get_backend("exact", device=device,
                                                   noise=NoiseModel(**noise)))
        model = spec.model(task.bond_dim, task.seed).to(device)
        train = spec.train_config(task.inputs)
        trainer = Trainer(model, backend, train, data,
                          on_round_start=lambda r: backend.tag(f"round{r:04d}"))

        def log(metrics: dict) -> None:
            for name in ("train_loss", "test_accuracy"):
                context.log_scalar(f"{task.key}/{name}", metrics[name], metrics["round"])

        history = trainer.fit(seed=_task_seed(context.seed, "train", task.bond_dim, task.seed),
                              checkpoint=context.folder / f"checkpoint-{task.key}.pt",
                              on_round=log)
        with torch.no_grad():
            weights = trainer.weights(trainer.vectors())
        network = export_network(model.target, weights, context.folder / f"network-{task.key}.pt")
        return {
            "method": task.method, "inputs": train.inputs, "bond_dim": task.bond_dim,
            "seed": task.seed, "noise_level": task.level, "noise": noise,
            **({} if noise is None else _noise_record(spec, model, noise, train.shots)),
            **{f"n_{k}": v for k, v in model.n_trained_parameters().items()},
            "n_params_ours": our_parameter_count(model),
            "n_params_paper": paper_parameter_count(task.bond_dim),
            "n_target_weights": model.n_weights,
            "test_accuracy": history[-1]["test_accuracy"],
            "exported_accuracy": accuracy(network, data.x_test.float(), data.y_test),
            "curve_test_accuracy": [m["test_accuracy"] for m in history],
            "curve_train_loss": [m["train_loss"] for m in history],
            # every round's time, also those before a resume (the loop would time only this
            # process); checkpoints written before rounds were timed leave the loop's measure
            **({"seconds": sum(m["seconds"] for m in history)}
               if all("seconds" in m for m in history) else {}),
        }


def _baseline_row(spec: DQNNSpec, task: DQNNTask, data: Dataset, context: TaskContext) -> dict:
    """One classical comparison; the dense network (the ``classical`` result, and pruning's
    starting point) is trained once per seed and kept for the run."""
    from .baselines import FitConfig, finetune_pruned, train_classical, train_weight_sharing

    counts = spec.parameter_counts(task.bond_dim)
    budget = spec.baseline_budget(task.bond_dim)
    seed = _task_seed(context.seed, "baseline", task.seed)
    fit = {"epochs": spec.baseline_epochs, "lr": spec.train.lr_mps,
           "batch_size": spec.train.batch_size}
    start = time.perf_counter()
    dense = context.cached(("classical", task.seed), lambda: train_classical(
        TARGETS[spec.target](), data, seed=seed, **fit))
    if task.method == "classical":
        result = dense
    elif task.method == "weight_sharing":
        result = train_weight_sharing(TARGETS[spec.target](), data, budget, seed=seed, **fit)
    else:
        result = finetune_pruned(TARGETS[spec.target](), data, dense, budget,
                                 FitConfig(**fit), seed, start)
    return {"method": result.method, "inputs": None, "bond_dim": task.bond_dim,
            "seed": task.seed, "noise_level": None, "n_total": result.n_trained_parameters,
            "baseline_counts": spec.baseline_counts, "n_params_ours": counts["ours"],
            "n_params_paper": counts["paper"],
            "test_accuracy": result.test_accuracy,
            "curve_test_accuracy": list(result.curve_test_accuracy),
            "seconds": result.seconds}


def _noise_record(spec: DQNNSpec, model: QuantumTrain, noise: dict,
                  shots: int | None) -> dict:
    """What a noise level did to the vectors: per QPU, the exact probability that a shot
    lands on the outcome list (at the trained angles), and with ``shots`` the expected
    post-selected shots of a vector (what the sampled vectors' noise scales with)."""
    with torch.no_grad():
        vectors = model.distribution().exact(get_backend("exact", noise=NoiseModel(**noise)))
    kept = [float(v.sum()) for v in vectors]
    return {"null_on_exact": null_on_exact_vectors(noise, spec.outcomes, spec.scaling),
            "shots": shots, "kept_fraction": kept,
            "postselected_shots": None if shots is None else [shots * k for k in kept]}


def export_network(target: nn.Module, weights: torch.Tensor, path: Path) -> nn.Module:
    """Write the generated weights as ``target``'s plain state dict; return a loaded copy."""
    state = {k: v.float().cpu() for k, v in to_state_dict(target, weights).items()}
    torch.save(state, path)
    network = type(target)()
    network.load_state_dict(state)
    return network.eval()
