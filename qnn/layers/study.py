"""The hybrid classification study: photonic-layer networks against equal-size classical twins."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..photonics import Backend
from ..runs.study import TaskContext
from .baselines import MatchedLinear
from .photonic import PhotonicLayer

DATASETS = ("circle", "digits", "mnist")
MODELS = ("hybrid", "classical", "linear")
LAYER_KEYS = ("n_modes", "input_state", "loop_lengths", "n_features", "encoding", "observable",
              "detection", "phases", "gradient", "spsa_step", "spsa_samples")
CIRCLE_RADIUS = float(np.sqrt(2 / np.pi))  # half of the square [-1, 1]² lies inside


@dataclass(frozen=True)
class Data:
    """Flattened float32 features and int64 labels of one train/test split."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    n_classes: int


def circle_data(n: int, *, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """``n`` points uniform on ``[-1, 1]²``, label 1 inside the circle of radius √(2/π)."""
    points = rng.uniform(-1, 1, size=(n, 2))
    labels = (np.hypot(points[:, 0], points[:, 1]) < CIRCLE_RADIUS).astype(np.int64)
    return torch.as_tensor(points, dtype=torch.float32), torch.as_tensor(labels)


def load_data(dataset: str, n_train: int, n_test: int, *, seed: int) -> Data:
    """A seeded split: fresh circle points, or a random subset of digits / MNIST."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r}; choose from {list(DATASETS)}")
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train={n_train} and n_test={n_test} must be positive")
    rng = np.random.default_rng(np.random.SeedSequence([seed, DATASETS.index(dataset)]))
    if dataset == "circle":
        x, y = circle_data(n_train + n_test, rng=rng)
        return Data(x[:n_train], y[:n_train], x[n_train:], y[n_train:], 2)
    if dataset == "digits":
        from ..qtrain.data import load_digits_dataset

        images, labels = load_digits_dataset()
        order = rng.permutation(len(labels))
        if n_train + n_test > len(order):
            raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds the "
                             f"{len(order)} digits images")
        x = images.flatten(1)
        train, test = order[:n_train], order[n_train : n_train + n_test]
        return Data(x[train], labels[train], x[test], labels[test], 10)
    from ..qtrain.data import load_mnist

    parts = []
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = load_mnist(split)
        if n > len(labels):
            raise ValueError(f"n_{split}={n} exceeds the {len(labels)} MNIST {split} images")
        pick = torch.as_tensor(rng.choice(len(labels), size=n, replace=False))
        parts += [images[pick].flatten(1), labels[pick]]
    return Data(*parts, 10)


@dataclass(frozen=True)
class HybridSpec:
    """One study: which data, which photonic layer, which models, seeds, shots, training.

    Attributes:
        layer: :class:`PhotonicLayer` keywords (:data:`LAYER_KEYS`).
        front_hidden: 0 for a single linear front end ``d -> F``; otherwise a classical
            compressor ``d -> front_hidden -> F`` with a ReLU (e.g. for MNIST).
        models: ``hybrid``, ``classical`` (equal trainable count), ``linear`` (reference).
        shots: one set of hybrid tasks per entry; ``None`` is the exact distribution. The
            classical models run once per seed.
    """

    dataset: str = "circle"
    n_train: int = 800
    n_test: int = 400
    layer: dict = field(default_factory=lambda: {"n_modes": 4, "loop_lengths": [1, 2],
                                                 "n_features": 2})
    front_hidden: int = 0
    models: tuple[str, ...] = MODELS
    seeds: tuple[int, ...] = (0,)
    shots: tuple[int | None, ...] = (None,)
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.05

    def __post_init__(self) -> None:
        unknown = sorted(set(self.layer) - set(LAYER_KEYS))
        if unknown:
            raise ValueError(f"layer has unknown key(s) {unknown}; allowed: {list(LAYER_KEYS)}")
        if "n_modes" not in self.layer or "n_features" not in self.layer:
            raise ValueError(f"layer={self.layer} needs n_modes and n_features")
        try:  # the layer checks its own keywords: build one now, before any work
            PhotonicLayer(**self.layer)
        except (TypeError, ValueError) as err:
            raise ValueError(f"layer={self.layer}: {err}") from None
        bad = sorted(set(self.models) - set(MODELS))
        if bad or not self.models:
            raise ValueError(f"models={list(self.models)}; choose from {list(MODELS)}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be at least 1")
        if not self.lr > 0:
            raise ValueError(f"lr={self.lr} must be positive")
        if not self.seeds:
            raise ValueError("seeds is empty")

    def tasks(self) -> list[tuple[str, int | None, int]]:
        """``(model, shots, seed)`` for every training: hybrids per shots, classical once."""
        out = []
        for model in self.models:
            for shots in self.shots if model == "hybrid" else (None,):
                out += [(model, shots, seed) for seed in self.seeds]
        return out


def task_name(model: str, shots: int | None, seed: int) -> str:
    return f"{model}-{'exact' if shots is None else f'shots{shots}'}-seed{seed}"


def _linear(n_in: int, n_out: int, generator: torch.Generator) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    bound = n_in ** -0.5
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            p.uniform_(-bound, bound, generator=generator)
    return layer


def build_model(spec: HybridSpec, kind: str, n_inputs: int, n_classes: int, *,
                backend: Backend | str = "exact", shots: int | None = None,
                seed: int = 0) -> nn.Sequential:
    """``front -> middle -> head``: the front compresses to the layer's ``F`` features, the
    middle is the photonic layer (``hybrid``), a :class:`MatchedLinear` with the same widths
    and trainable count (``classical``) or with every entry trained (``linear``), and the
    head maps its ``K`` outputs to logits."""
    generator = torch.Generator().manual_seed(seed)
    features = int(spec.layer["n_features"])
    if spec.front_hidden:
        front = nn.Sequential(_linear(n_inputs, spec.front_hidden, generator), nn.ReLU(),
                              _linear(spec.front_hidden, features, generator))
    else:
        front = _linear(n_inputs, features, generator)
    photonic = PhotonicLayer(backend=backend, shots=shots, seed=seed, **spec.layer)
    middle = photonic
    if kind == "classical":
        middle = MatchedLinear(features, photonic.n_outputs, photonic.n_trainable, seed=seed)
    elif kind == "linear":  # a reference with every entry trained (more parameters)
        n_all = features * photonic.n_outputs + photonic.n_outputs
        middle = MatchedLinear(features, photonic.n_outputs, n_all, seed=seed)
    return nn.Sequential(front, middle, _linear(photonic.n_outputs, n_classes, generator))


def evaluate(model: nn.Module, x: Tensor, y: Tensor) -> tuple[float, float]:
    """Cross-entropy loss and accuracy on ``(x, y)`` in one batch, without gradients."""
    with torch.no_grad():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        return loss, (logits.argmax(-1) == y).float().mean().item()


def train_task(spec: HybridSpec, data: Data, kind: str, *, backend: Backend | str,
               shots: int | None, seed: int,
               log_scalar: Callable[[str, float, int], None] | None = None,
               name: str = "task") -> tuple[dict, nn.Module]:
    """Train one model with Adam on cross-entropy; return its result row and the model.
    (Histograms the photonic layer draws are recorded by the run's backend.)"""
    model = build_model(spec, kind, data.x_train.shape[1], data.n_classes, backend=backend,
                        shots=shots, seed=seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=spec.lr)
    generator = torch.Generator().manual_seed(seed + 1)
    curves: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "test_accuracy": []}
    start = time.perf_counter()
    for epoch in tqdm(range(spec.epochs), desc=name, leave=False):
        order = torch.randperm(len(data.y_train), generator=generator)
        losses = []
        for batch in order.split(spec.batch_size):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data.x_train[batch]), data.y_train[batch])
            loss.backward()
            optimiser.step()
            losses.append(loss.item() * len(batch))
        test_loss, test_accuracy = evaluate(model, data.x_test, data.y_test)
        for key, value in (("train_loss", sum(losses) / len(order)), ("test_loss", test_loss),
                           ("test_accuracy", test_accuracy)):
            curves[key].append(value)
            if log_scalar is not None:
                log_scalar(f"{name}.{key}", value, epoch)
    seconds = time.perf_counter() - start
    middle = model[1]
    _, train_accuracy = evaluate(model, data.x_train, data.y_train)
    row = {"task": name, "model": kind, "shots": shots, "seed": seed,
           "test_accuracy": curves["test_accuracy"][-1], "test_loss": curves["test_loss"][-1],
           "train_accuracy": train_accuracy, "seconds": seconds,
           "n_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
           "n_middle_trainable": sum(p.numel() for p in middle.parameters() if p.requires_grad),
           **{f"curve_{k}": v for k, v in curves.items()}}
    if isinstance(middle, PhotonicLayer):
        row |= {"gradient": middle.gradient, "circuit_evaluations": middle.evaluations,
                "evaluations_per_step": middle.evaluations_per_step(spec.batch_size)}
    return row, model


@dataclass(frozen=True)
class HybridTask:
    model: str
    shots: int | None
    seed: int

    @property
    def key(self) -> str:
        return task_name(self.model, self.shots, self.seed)


class HybridStudy:
    """The hybrid study as :func:`qnn.runs.run_tasks` runs it: one training per task."""

    family = "hybrid"
    spec_type = HybridSpec
    summary_by = ("model", "shots")
    summary_metrics = ("test_accuracy", "n_trainable", "seconds")
    headline = ("test_accuracy", {"model": "hybrid"})

    def tasks(self, spec: HybridSpec) -> list[HybridTask]:
        return [HybridTask(*task) for task in spec.tasks()]

    def run_task(self, spec: HybridSpec, task: HybridTask, context: TaskContext) -> dict:
        data = load_data(spec.dataset, spec.n_train, spec.n_test, seed=context.seed + task.seed)
        row, _ = train_task(spec, data, task.model, backend=context.backend or "exact",
                            shots=task.shots, seed=context.seed + task.seed,
                            log_scalar=context.log_scalar, name=task.key)
        return row | {"seed": task.seed}
