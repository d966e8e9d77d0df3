"""Classical baselines of the distributed-QNN study: dense CNN, hashed weight sharing, pruning.

Each baseline trains the target network's ``W`` weights (the flat vector of
:func:`~qnn.qtrain.target.functional_forward`) through a map from a trainable vector:

* ``"classical"``: the vector is the weights themselves (``W`` trained parameters);
* ``"weight_sharing"``: the hashing trick, weight ``j = v[h(j)] · s(j)`` with ``n_shared``
  trainable values ``v``, a seeded bucket ``h`` and sign ``s`` (``n_shared`` parameters);
* ``"pruning"``: only ``n_kept`` weights, chosen by global magnitude after dense training,
  are trained further; the rest are exactly zero (``n_kept`` parameters).

Published (arXiv 2505.08474): the classical CNN is trained 50 epochs by Adam, lr 1e-3
(batch 128, as the Quantum-Train MPS) and reaches 96.89 % ± 0.31 on 6,000 / 600 MNIST
images; weight sharing (38–89 %) and pruning (28–94 %) are reported "at comparable sizes"
without their schedules. Its sizes are its own count of the Quantum-Train parameters,
31χ² + 192 (:func:`~qnn.qtrain.study.paper_parameter_count`), 1.3–4× ours
(:func:`~qnn.qtrain.study.our_parameter_count`); the study sizes the compressions by either
(``DQNNSpec.baseline_counts``). Choices made here where the paper is silent:

* initial weights follow PyTorch's default for ``Conv2d``/``Linear``: every weight and bias
  uniform on ``±1/√fan_in``, drawn from a seeded generator (the module's own parameters
  are never used or changed);
* weight sharing hashes all ``W`` weights (biases included) globally into the ``n_shared``
  buckets, balanced: ``h`` is a random permutation of ``j mod n_shared``, so every value is
  used by ``⌊W/n_shared⌋`` or ``⌈W/n_shared⌉`` weights; ``v`` starts uniform on ``±b`` with
  ``b`` the root-mean-square of the default bounds ``1/√fan_in`` over the ``W`` weights;
* pruning is one-shot and global over all ``W`` weights (biases included): train dense for
  ``epochs`` (exactly :func:`train_classical` with the same seed), keep the ``n_kept``
  largest ``|w|``, then fine-tune the kept weights for ``finetune_epochs`` (default
  ``epochs``) with a fresh Adam at the same learning rate;
* training and evaluation run in the data's dtype (float64 for
  :func:`~qnn.qtrain.study.load_dataset`); the test accuracy is recorded after every epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.functional import cross_entropy

from .data import batches
from .target import accuracy, functional_forward, n_weights
from .train import Dataset

__all__ = [
    "BaselineResult",
    "FitConfig",
    "default_init",
    "equal_budget_baselines",
    "hashing_assignment",
    "shared_weights",
    "top_magnitude_indices",
    "train_classical",
    "train_pruned",
    "train_weight_sharing",
]

# SeedSequence tags of the independent random streams drawn from one ``seed``
_INIT, _BATCHES, _HASH, _SHARED_INIT, _SHARED_BATCHES, _FINETUNE_BATCHES = range(6)


@dataclass(frozen=True)
class FitConfig:
    """How a baseline is optimised: Adam on cross-entropy, minibatches of the training set.

    Attributes:
        epochs: passes over the training set (published: 50).
        lr: Adam learning rate (published: 1e-3).
        batch_size: images per step (published Quantum-Train code: 128).
    """

    epochs: int = 50
    lr: float = 1e-3
    batch_size: int = 128

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r} must be a positive number")


@dataclass(frozen=True)
class BaselineResult:
    """One trained baseline.

    Attributes:
        method: ``"classical"``, ``"weight_sharing"`` or ``"pruning"``.
        n_trained_parameters: size of the trained vector (``W``, ``n_shared`` or ``n_kept``).
        test_accuracy: final test accuracy in ``[0, 1]``.
        curve_test_accuracy: test accuracy after each epoch, in training order (pruning:
            the ``epochs`` dense epochs, then the ``finetune_epochs`` fine-tuning epochs).
        seconds: wall-clock training time, evaluation included (pruning: dense phase too).
        weights: ``[W]`` final network weights in ``named_parameters()`` order (detached),
            ready for :func:`~qnn.qtrain.target.to_state_dict`.
        info: method-specific numbers (pruning: ``dense_test_accuracy`` and
            ``pruned_test_accuracy``, the latter right after pruning, before fine-tuning).
    """

    method: str
    n_trained_parameters: int
    test_accuracy: float
    curve_test_accuracy: tuple[float, ...]
    seconds: float
    weights: Tensor = field(repr=False)
    info: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------- pure maps


def _fan_in_bounds(module: nn.Module) -> Tensor:
    """``[W]`` float64 bounds ``1/√fan_in`` of PyTorch's default init, per flat weight."""
    bounds = []
    for name, p in module.named_parameters():
        owner = module.get_submodule(name.rpartition(".")[0])
        fan_in = owner.weight[0].numel()
        bounds.append(torch.full((p.numel(),), fan_in ** -0.5, dtype=torch.float64))
    return torch.cat(bounds)


def default_init(module: nn.Module, *, generator: torch.Generator,
                 dtype: torch.dtype = torch.float64) -> Tensor:
    """``[W]`` initial weights with PyTorch's ``Conv2d``/``Linear`` default distribution.

    Every weight and bias is uniform on ``±1/√fan_in`` of its layer (what
    ``kaiming_uniform_(a=√5)`` and the default bias init give), drawn from ``generator``.
    Every parameter must belong to a submodule with a ``weight`` (conv or linear layers).
    """
    bounds = _fan_in_bounds(module)
    draw = torch.rand(len(bounds), generator=generator, dtype=torch.float64)
    return ((2 * draw - 1) * bounds).to(dtype)


def hashing_assignment(n_weights: int, n_shared: int, *,
                       generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """A balanced random hash of ``n_weights`` weights into ``n_shared`` buckets, with signs.

    Returns:
        ``(buckets, signs)``: ``buckets`` int64 ``[n_weights]`` in ``[0, n_shared)``, a
        random permutation of ``j mod n_shared`` (every bucket used ``⌊n_weights/n_shared⌋``
        or ``⌈…⌉`` times); ``signs`` float64 ``[n_weights]`` of ``±1``.

    Raises:
        ValueError: ``n_shared`` outside ``[1, n_weights]``.
    """
    if isinstance(n_shared, bool) or not isinstance(n_shared, int) \
            or not 1 <= n_shared <= n_weights:
        raise ValueError(f"n_shared={n_shared!r} is outside [1, {n_weights}] "
                         "(the number of weights)")
    order = torch.randperm(n_weights, generator=generator)
    buckets = torch.arange(n_weights)[order] % n_shared
    signs = 2.0 * torch.randint(0, 2, (n_weights,), generator=generator) - 1.0
    return buckets, signs.to(torch.float64)


def shared_weights(values: Tensor, buckets: Tensor, signs: Tensor) -> Tensor:
    """The ``[W]`` weights ``values[buckets] · signs`` of ``values`` ``[n_shared]``."""
    return values[buckets] * signs.to(values.dtype)


def top_magnitude_indices(weights: Tensor, n_kept: int) -> Tensor:
    """Sorted int64 indices ``[n_kept]`` of the ``n_kept`` largest ``|weights|`` (global).

    Raises:
        ValueError: ``n_kept`` outside ``[1, len(weights)]``.
    """
    if isinstance(n_kept, bool) or not isinstance(n_kept, int) \
            or not 1 <= n_kept <= len(weights):
        raise ValueError(f"n_kept={n_kept!r} is outside [1, {len(weights)}] "
                         "(the number of weights)")
    return torch.topk(weights.detach().abs(), n_kept).indices.sort().values


# ---------------------------------------------------------------------------- training


def _stream(seed: int, tag: int) -> int:
    """An independent 63-bit seed for the random stream ``tag`` of ``seed``."""
    return int(np.random.SeedSequence([seed, tag]).generate_state(1, np.uint64)[0] >> 1)


def _test_accuracy(target: nn.Module, data: Dataset, weights: Tensor) -> float:
    return accuracy(lambda x: functional_forward(target, weights, x), data.x_test, data.y_test)


def _fit(target: nn.Module, data: Dataset, params: Tensor, expand: Callable[[Tensor], Tensor],
         config: FitConfig, rng: np.random.Generator) -> list[float]:
    """Adam on ``params`` (a leaf) through ``expand(params) -> [W]``; per-epoch test accuracy."""
    optimizer = torch.optim.Adam([params], lr=config.lr)
    curve = []
    for _ in range(config.epochs):
        for xb, yb in batches(data.x_train, data.y_train, config.batch_size, rng=rng):
            loss = cross_entropy(functional_forward(target, expand(params), xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        curve.append(_test_accuracy(target, data, expand(params).detach()))
    return curve


def _result(method: str, params: Tensor, weights: Tensor, curve: list[float],
            start: float, **info: float) -> BaselineResult:
    return BaselineResult(method, params.numel(), curve[-1], tuple(curve),
                          time.perf_counter() - start, weights.detach().clone(), dict(info))


def train_classical(target: nn.Module, data: Dataset, *, epochs: int = 50, lr: float = 1e-3,
                    batch_size: int = 128, seed: int) -> BaselineResult:
    """The published baseline: all ``W`` weights of ``target`` trained by Adam.

    Args:
        target: the network whose architecture is trained (e.g. ``PaperCNN()``); its own
            parameters are neither used nor changed.
        data: training and test images ``[n, 1, H, W]``; their dtype is the weights' dtype.
        epochs, lr, batch_size: see :class:`FitConfig` (defaults: the published values).
        seed: seeds the initial weights and the minibatch order.

    Returns:
        ``method="classical"``, ``n_trained_parameters = W``.
    """
    config = FitConfig(epochs, lr, batch_size)
    start = time.perf_counter()
    init = torch.Generator().manual_seed(_stream(seed, _INIT))
    params = default_init(target, generator=init, dtype=data.x_train.dtype).requires_grad_()
    curve = _fit(target, data, params, lambda p: p, config,
                 np.random.default_rng(_stream(seed, _BATCHES)))
    return _result("classical", params, params, curve, start)


def train_weight_sharing(target: nn.Module, data: Dataset, n_shared: int, *, epochs: int = 50,
                         lr: float = 1e-3, batch_size: int = 128,
                         seed: int) -> BaselineResult:
    """Hashed weight sharing: the ``W`` weights are ``v[h(j)] · s(j)``, ``v`` ``[n_shared]``.

    ``h`` and ``s`` come from :func:`hashing_assignment` (fixed for the run); only ``v`` is
    trained, by Adam through :func:`~qnn.qtrain.target.functional_forward`. ``v`` starts
    uniform on ``±b``, ``b`` the root-mean-square of PyTorch's default bounds ``1/√fan_in``.

    Args:
        n_shared: number of trained values, ``1 <= n_shared <= W``.
        seed: seeds the hash, the initial ``v`` and the minibatch order.
        target, data, epochs, lr, batch_size: as :func:`train_classical`.

    Returns:
        ``method="weight_sharing"``, ``n_trained_parameters = n_shared``.

    Raises:
        ValueError: bad ``n_shared`` or training settings.
    """
    config = FitConfig(epochs, lr, batch_size)
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(_stream(seed, _HASH))
    buckets, signs = hashing_assignment(n_weights(target), n_shared, generator=gen)
    bound = _fan_in_bounds(target).square().mean().sqrt()
    gen = torch.Generator().manual_seed(_stream(seed, _SHARED_INIT))
    draw = torch.rand(n_shared, generator=gen, dtype=torch.float64)
    params = ((2 * draw - 1) * bound).to(data.x_train.dtype).requires_grad_()

    def expand(values: Tensor) -> Tensor:
        return shared_weights(values, buckets, signs)

    curve = _fit(target, data, params, expand, config,
                 np.random.default_rng(_stream(seed, _SHARED_BATCHES)))
    return _result("weight_sharing", params, expand(params), curve, start)


def finetune_pruned(target: nn.Module, data: Dataset, dense: BaselineResult, n_kept: int,
                     config: FitConfig, seed: int, start: float) -> BaselineResult:
    """Prune ``dense.weights`` to the ``n_kept`` largest ``|w|`` and fine-tune only those."""
    index = top_magnitude_indices(dense.weights, n_kept)
    params = dense.weights[index].clone().requires_grad_()
    zeros = torch.zeros_like(dense.weights)

    def expand(kept: Tensor) -> Tensor:
        return zeros.index_put((index,), kept)

    pruned = _test_accuracy(target, data, expand(params).detach())
    curve = _fit(target, data, params, expand, config,
                 np.random.default_rng(_stream(seed, _FINETUNE_BATCHES)))
    return _result("pruning", params, expand(params), [*dense.curve_test_accuracy, *curve],
                   start, dense_test_accuracy=dense.test_accuracy,
                   pruned_test_accuracy=pruned)


def train_pruned(target: nn.Module, data: Dataset, n_kept: int, *, epochs: int = 50,
                 finetune_epochs: int | None = None, lr: float = 1e-3, batch_size: int = 128,
                 seed: int) -> BaselineResult:
    """One-shot global magnitude pruning to ``n_kept`` non-zero weights, then fine-tuning.

    Schedule: :func:`train_classical` for ``epochs`` (same seed, so the dense phase is that
    run exactly); keep the ``n_kept`` largest ``|w|`` over all ``W`` weights (biases
    included), set the rest to zero; train only the kept weights for ``finetune_epochs``
    with a fresh Adam at ``lr``. The pruned weights are not parameters at all, so they
    stay exactly zero.

    Args:
        n_kept: number of weights kept and fine-tuned, ``1 <= n_kept <= W``.
        finetune_epochs: fine-tuning epochs; ``None`` means ``epochs`` (not published).
        target, data, epochs, lr, batch_size, seed: as :func:`train_classical`.

    Returns:
        ``method="pruning"``, ``n_trained_parameters = n_kept``; ``info`` holds the dense
        and the just-pruned test accuracies.

    Raises:
        ValueError: bad ``n_kept`` (checked before any training) or training settings.
    """
    top_magnitude_indices(torch.zeros(n_weights(target)), n_kept)  # validate first
    finetune = FitConfig(epochs if finetune_epochs is None else finetune_epochs, lr,
                         batch_size)
    start = time.perf_counter()
    dense = train_classical(target, data, epochs=epochs, lr=lr, batch_size=batch_size,
                            seed=seed)
    return finetune_pruned(target, data, dense, n_kept, finetune, seed, start)


def equal_budget_baselines(target: nn.Module, data: Dataset, n_params: int, *, seed: int,
                           epochs: int = 50, finetune_epochs: int | None = None,
                           lr: float = 1e-3, batch_size: int = 128) -> list[BaselineResult]:
    """The classical CNN, and weight sharing and pruning with ``n_params`` trained parameters.

    Pruning fine-tunes the classical run's weights (its dense phase *is* that run), so the
    network is trained densely once; the pruning result's ``seconds`` include that run.
    Compare with a Quantum-Train model whose trained parameter count is ``n_params``.

    Args:
        n_params: trained parameters of the two compressed baselines, ``1 <= n_params <= W``.
        target, data, seed, epochs, finetune_epochs, lr, batch_size: as :func:`train_pruned`.

    Returns:
        ``[classical, weight_sharing, pruning]`` results.

    Raises:
        ValueError: bad ``n_params`` (checked before any training) or training settings.
    """
    w = n_weights(target)
    if isinstance(n_params, bool) or not isinstance(n_params, int) or not 1 <= n_params <= w:
        raise ValueError(f"n_params={n_params!r} is outside [1, {w}] (the number of weights)")
    finetune = FitConfig(epochs if finetune_epochs is None else finetune_epochs, lr,
                         batch_size)
    start = time.perf_counter()
    classical = train_classical(target, data, epochs=epochs, lr=lr, batch_size=batch_size,
                                seed=seed)
    pruned = finetune_pruned(target, data, classical, n_params, finetune, seed, start)
    sharing = train_weight_sharing(target, data, n_params, epochs=epochs, lr=lr,
                                   batch_size=batch_size, seed=seed)
    return [classical, sharing, pruned]
