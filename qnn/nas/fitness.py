"""Fitness of an architecture: validation accuracy after a short seeded training, cached."""

from __future__ import annotations

import base64
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .model import build_model
from .space import Architecture, bits_key, decode

DATASETS = ("digits", "mnist_small")


@dataclass(frozen=True, eq=False)
class NASData:
    """Train / validation / test images ``(n, C, H, W)`` float32 and int64 labels."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor
    n_classes: int = 10

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])


def load_nas_data(name: str, seed: int, *, n_train: int = 1000, n_val: int = 300,
                  n_test: int = 400) -> NASData:
    """A seeded split of ``"digits"`` (scikit-learn 8×8, 1,797 images) or ``"mnist_small"``
    (train/validation from MNIST's training split, test from its test split).

    Raises:
        ValueError: unknown ``name`` or sizes the dataset cannot hold.
    """
    from ..qtrain.data import load_digits_dataset, load_mnist

    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))
    if name == "digits":
        x, y = load_digits_dataset()
        if n_train + n_val + n_test > len(y):
            raise ValueError(f"n_train + n_val + n_test = {n_train + n_val + n_test} exceeds "
                             f"the {len(y)} digits images")
        order = torch.from_numpy(rng.permutation(len(y)))
        x, y = x[order], y[order]
        x_test, y_test = x[n_train + n_val : n_train + n_val + n_test], \
            y[n_train + n_val : n_train + n_val + n_test]
    elif name == "mnist_small":
        x, y = load_mnist("train")
        x_all_test, y_all_test = load_mnist("test")
        order = torch.from_numpy(rng.permutation(len(y))[: n_train + n_val])
        x, y = x[order], y[order]
        pick = torch.from_numpy(rng.permutation(len(y_all_test))[:n_test])
        x_test, y_test = x_all_test[pick], y_all_test[pick]
    else:
        raise ValueError(f"dataset={name!r}; choose from {list(DATASETS)}")
    return NASData(x[:n_train], y[:n_train], x[n_train : n_train + n_val],
                   y[n_train : n_train + n_val], x_test, y_test)


@dataclass(frozen=True)
class TrainBudget:
    """The fixed, short training every architecture gets.

    Attributes:
        epochs: passes over the training images.
        batch_size: images per Adam step.
    """

    epochs: int = 2
    batch_size: int = 32

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainBudget.{name}={value!r} must be a positive integer")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The outcome of training one architecture.

    Attributes:
        val_accuracy: the fitness.
        test_accuracy: accuracy on the held-out test images (never used by a search).
        val_probs, test_probs: ``(n, classes)`` float16 softmax outputs (ensembles average
            them).
        n_params: trainable parameters.
        seconds: wall time of the training.
    """

    val_accuracy: float
    test_accuracy: float
    val_probs: np.ndarray
    test_probs: np.ndarray
    n_params: int
    seconds: float

    def to_dict(self) -> dict:
        return {"val_accuracy": self.val_accuracy, "test_accuracy": self.test_accuracy,
                "val_probs": _pack(self.val_probs), "test_probs": _pack(self.test_probs),
                "n_params": self.n_params, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, record: dict) -> Evaluation:
        return cls(float(record["val_accuracy"]), float(record["test_accuracy"]),
                   _unpack(record["val_probs"]), _unpack(record["test_probs"]),
                   int(record["n_params"]), float(record["seconds"]))


def _pack(probs: np.ndarray) -> dict:
    raw = np.ascontiguousarray(probs, dtype=np.float16).tobytes()
    return {"shape": list(probs.shape), "float16": base64.b64encode(raw).decode()}


def _unpack(record: dict) -> np.ndarray:
    raw = base64.b64decode(record["float16"])
    return np.frombuffer(raw, dtype=np.float16).reshape(record["shape"]).copy()


def architecture_seed(seed: int, key: str) -> int:
    """The torch seed of one architecture's training: a function of the run seed and bits."""
    return int(np.random.SeedSequence([seed, int(key, 2)]).generate_state(1, np.uint64)[0]
               >> np.uint64(1))


def train_and_score(arch: Architecture, data: NASData, budget: TrainBudget, seed: int
                    ) -> Evaluation:
    """Train ``arch`` for ``budget`` with everything random drawn from ``seed``; score it.

    Deterministic for a seed on one device and thread count (the global torch generator
    is forked, so callers' random streams are untouched).
    """
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(arch, data.image_shape, data.n_classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=arch.lr)
        generator = torch.Generator().manual_seed(seed)
        n = len(data.y_train)
        model.train()
        for _ in range(budget.epochs):
            order = torch.randperm(n, generator=generator)
            for first in range(0, n, budget.batch_size):
                index = order[first : first + budget.batch_size]
                if len(index) < 2 and arch.norm:  # batch norm needs two images per batch
                    continue
                loss = torch.nn.functional.cross_entropy(model(data.x_train[index]),
                                                         data.y_train[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            val_probs = torch.softmax(model(data.x_val), dim=1)
            test_probs = torch.softmax(model(data.x_test), dim=1)
    val_probs = np.nan_to_num(val_probs.numpy(), nan=1.0 / data.n_classes)
    test_probs = np.nan_to_num(test_probs.numpy(), nan=1.0 / data.n_classes)
    return Evaluation(
        val_accuracy=accuracy(val_probs, data.y_val.numpy()),
        test_accuracy=accuracy(test_probs, data.y_test.numpy()),
        val_probs=val_probs.astype(np.float16), test_probs=test_probs.astype(np.float16),
        n_params=sum(p.numel() for p in model.parameters()),
        seconds=time.perf_counter() - start,
    )


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose largest probability is at the label."""
    return float((np.argmax(probs, axis=1) == labels).mean())


class FitnessCache:
    """Evaluations by architecture key; each architecture is trained at most once.

    ``trainings`` counts the calls of the training function (a test checks that it equals
    the number of distinct architectures asked for). Persist it with :meth:`to_dict` so a
    resumed run trains nothing twice either.

    Args:
        train: ``key -> Evaluation`` (e.g. :func:`make_trainer`).
        entries: evaluations restored from a checkpoint.
    """

    def __init__(self, train: Callable[[str], Evaluation],
                 entries: dict[str, Evaluation] | None = None) -> None:
        self.train = train
        self.entries: dict[str, Evaluation] = dict(entries or {})
        self.trainings = 0

    def __contains__(self, bits: object) -> bool:
        return bits_key(bits) in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def __call__(self, bits: np.ndarray | str) -> Evaluation:
        key = bits_key(bits)
        if key not in self.entries:
            self.entries[key] = self.train(key)
            self.trainings += 1
        return self.entries[key]

    def to_dict(self) -> dict:
        return {key: e.to_dict() for key, e in self.entries.items()}

    @classmethod
    def from_dict(cls, train: Callable[[str], Evaluation], record: dict) -> FitnessCache:
        return cls(train, {key: Evaluation.from_dict(e) for key, e in record.items()})


def make_trainer(data: NASData, budget: TrainBudget, seed: int) -> Callable[[str], Evaluation]:
    """``key -> Evaluation``: decode, then :func:`train_and_score` with the key's own seed."""
    def train(key: str) -> Evaluation:
        return train_and_score(decode(key), data, budget, architecture_seed(seed, key))

    return train
