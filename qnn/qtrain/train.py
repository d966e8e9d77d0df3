"""Training Quantum-Train: the MPS by Adam; circuit angles by autograd, central differences,
SPSA or COBYLA."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import minimize
from torch import Tensor
from torch.nn.functional import cross_entropy
from tqdm.auto import tqdm

from ..photonics.backends.base import Backend, ProbabilityBackend
from ..runs.checkpoint import atomic_torch_save, torch_load
from .data import batches
from .mapping import weight_features
from .model import QuantumTrain

ANGLE_METHODS = ("autograd", "central_difference", "spsa", "cobyla", "frozen")
# What the MPS's per-weight features are made of (TrainConfig.inputs); every mode but
# "photonic" is an ablation that never uses the circuits.
INPUTS = ("photonic", "random_values", "published_ablation", "bits_only", "fixed_random")
# the modes whose features are drawn anew on every forward pass
FRESH_INPUTS = ("random_values", "published_ablation")


@dataclass(frozen=True)
class TrainConfig:
    """How one Quantum-Train run trains; defaults follow the published code (arXiv 2505.08474).

    Attributes:
        rounds: training rounds; each is ``mps_epochs`` epochs of the MPS, then one update of
            the circuit angles (except ``"autograd"``, which trains both on every batch).
        mps_epochs: MPS epochs per round (published: 5).
        batch_size: images per MPS step (published: 128).
        lr_mps: Adam learning rate of the MPS (published: 1e-3).
        angle_method: ``"autograd"`` (exact gradients through the exact backend, Adam with
            ``lr_angles`` on every batch), ``"central_difference"`` (``[L(θ+Δe_j) −
            L(θ−Δe_j)] / 2Δ`` on ``angle_batch`` images: the loss is not a trigonometric
            polynomial of θ, so no exact shift rule exists; ``2·n_angles`` loss evaluations),
            ``"spsa"`` (two evaluations along a random ±1 direction, step ``spsa_c``),
            ``"cobyla"`` (SciPy's COBYLA on the loss of ``angle_batch`` images, as the
            published code; ``cobyla_maxiter`` evaluations) or ``"frozen"``.
        lr_angles: Adam learning rate of the angles for autograd, central differences and
            SPSA.
        shots: ``None``: exact probability vectors; else each QPU vector is the frequency
            vector of ``shots`` samples (hardware, or the exact backend sampling).
        angle_batch: images in the loss that drives central differences, SPSA and COBYLA
            (published: 1000).
        difference_step: step Δ (radians) of ``"central_difference"``.
        spsa_c: perturbation size for ``"spsa"``.
        cobyla_maxiter: loss evaluations COBYLA may spend per round (at least
            ``n_angles + 2``, its own minimum).
        cobyla_rhobeg: COBYLA's initial trust radius (radians).
        inputs: what the MPS's features ``[index bits of weight j, value j]`` are made of.
            ``"photonic"``: the QPUs' vectors (the method). The ablations never use the
            circuits, so ``angle_method`` is ignored (no angle updates):
            ``"random_values"``: each QPU vector replaced by uniform random numbers
            (normalised), drawn anew on every forward pass (every MPS step and every
            evaluation); index bits kept.
            ``"published_ablation"``: the published code's ablation, which replaces values
            AND bits on every forward pass: value j ~ N(0, 1) fresh per weight, and one
            random ±1 string as every weight's "bits". Weights then differ only by noise,
            so chance accuracy is expected by construction.
            ``"bits_only"``: no photonic information: each QPU vector is the uniform
            distribution, so every weight's value is the same constant; bits kept.
            ``"fixed_random"``: uniform random vectors (normalised) drawn once from the
            run's seed and kept for the whole run; bits kept.
        eval_draws: where the vectors are random (sampled ``shots``, or the redrawn
            ablation inputs), the test accuracy is the mean over this many draws of them:
            one draw of 1,000-shot vectors moves a trained model's accuracy by ~10 points
            (digits, χ = 6), more than the noise a sweep looks for. 1 (one draw) was every
            run's measure before this option existed.
    """

    rounds: int = 200
    mps_epochs: int = 5
    batch_size: int = 128
    lr_mps: float = 1e-3
    angle_method: str = "cobyla"
    lr_angles: float = 0.01
    shots: int | None = None
    angle_batch: int = 1000
    difference_step: float = 0.1
    spsa_c: float = 0.1
    cobyla_maxiter: int = 20
    cobyla_rhobeg: float = 0.5
    inputs: str = "photonic"
    eval_draws: int = 1

    def __post_init__(self) -> None:
        for name in ("rounds", "mps_epochs", "batch_size", "angle_batch", "cobyla_maxiter",
                     "eval_draws"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name}={value!r} must be a positive integer")
        for name in ("lr_mps", "lr_angles", "difference_step", "spsa_c", "cobyla_rhobeg"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"TrainConfig.{name}={value!r} must be a positive number")
        if self.angle_method not in ANGLE_METHODS:
            raise ValueError(f"TrainConfig.angle_method={self.angle_method!r}; choose from "
                             f"{list(ANGLE_METHODS)}")
        if self.shots is not None and (not isinstance(self.shots, int) or self.shots < 1):
            raise ValueError(f"TrainConfig.shots={self.shots!r} must be None or >= 1")
        if self.angle_method == "autograd" and self.shots is not None:
            raise ValueError("TrainConfig.angle_method='autograd' needs exact vectors (shots=None)")
        if self.inputs not in INPUTS:
            raise ValueError(f"TrainConfig.inputs={self.inputs!r}; choose from {list(INPUTS)}")

    @classmethod
    def from_dict(cls, record: dict) -> TrainConfig:
        unknown = sorted(set(record) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown}")
        return cls(**record)


@dataclass(frozen=True)
class Dataset:
    """Training and test images ``[n, 1, H, W]`` with labels ``[n]``."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor


class Trainer:
    """Runs rounds of Quantum-Train on ``backend`` and checkpoints after every round.

    The run is a deterministic function of (model initialisation, data, config, seed): all
    randomness comes from one numpy Generator whose state is checkpointed with the model and
    optimiser states, so a killed run resumes to the same final weights.

    Training happens where the model is (``model.to(device)`` first): the trainer keeps a
    copy of ``data`` there, and a checkpoint written on one device resumes on another.
    """

    def __init__(self, model: QuantumTrain, backend: Backend, config: TrainConfig,
                 data: Dataset, *, on_round_start: Callable[[int], None] | None = None
                 ) -> None:
        if config.shots is None and not isinstance(backend, ProbabilityBackend):
            raise TypeError(f"exact vectors (shots=None) need a ProbabilityBackend, got "
                            f"{backend!r}")
        self.model, self.backend, self.config = model, backend, config
        self.device = model.device
        # .to is free where the data already are (the CPU, usually)
        self.data = Dataset(*(getattr(data, f.name).to(self.device) for f in fields(data)))
        # foreach: one multi-tensor update instead of a Python loop over the MPS's cores
        # (the same arithmetic, bit for bit; a few per cent of a step at the published sizes)
        self.mps_optimizer = torch.optim.Adam(model.mps.parameters(), lr=config.lr_mps,
                                              foreach=True)
        self.angle_optimizer = torch.optim.Adam(model.bs_angles.parameters(),
                                                lr=config.lr_angles, foreach=True)
        self.rng = np.random.default_rng()
        self.round, self.history = 0, []
        self._fixed_random: list[Tensor] | None = None
        # told the round about to start, e.g. to file the histograms it draws under it
        self.on_round_start = on_round_start

    # ----------------------------------------------------------------- inputs
    def vectors(self, *, grad: bool = False,
                angles: list[Tensor] | None = None) -> list[Tensor] | None:
        """The K vectors the value features come from now, per ``config.inputs``: exact or
        sampled QPU vectors, or an ablation's stand-ins; ``None`` for
        ``"published_ablation"``, whose features replace the bits as well (:meth:`features`
        draws them)."""
        inputs = self.config.inputs
        if inputs == "random_values":
            return self._random_vectors()
        if inputs == "fixed_random":
            if self._fixed_random is None:
                raise RuntimeError("inputs='fixed_random' draws its vectors from the seed "
                                   "in fit(); call fit() first")
            return self._fixed_random
        if inputs == "bits_only":  # a QPU that tells nothing: its uniform distribution
            return [torch.full((size,), 1.0 / size, dtype=torch.float64, device=self.device)
                    for size in self.model.distribution().sizes]
        if inputs == "published_ablation":
            return None
        distribution = self.model.distribution(angles)
        with torch.set_grad_enabled(grad):
            if self.config.shots is None:
                return distribution.exact(self.backend)
            return distribution.sampled(self.backend, self.config.shots, rng=self.rng)

    def _random_vectors(self) -> list[Tensor]:
        sizes = self.model.distribution().sizes
        draws = [torch.as_tensor(self.rng.random(size), device=self.device) for size in sizes]
        return [d / d.sum() for d in draws]

    def _published_ablation_features(self) -> Tensor:
        """``(W, n_bits + 1)``: one random ±1 string for every weight's bits, then a fresh
        N(0, 1) value per weight (the published ablation's forward pass)."""
        n_weights = self.model.n_weights
        n_bits = self.model.mps.n_inputs - 1
        bits = torch.as_tensor(self.rng.choice([-1.0, 1.0], size=n_bits), device=self.device)
        values = torch.as_tensor(self.rng.standard_normal(n_weights), device=self.device)
        return torch.cat([bits.expand(n_weights, n_bits), values[:, None]], dim=1)

    def features(self, vectors: list[Tensor] | None) -> Tensor:
        """The MPS inputs ``(W, n_bits + 1)`` of one forward pass on ``vectors`` (from
        :meth:`vectors`); the published ablation draws its own (``vectors`` unused)."""
        if self.config.inputs == "published_ablation":
            return self._published_ablation_features()
        return weight_features(self.model.values(vectors))

    def weights(self, vectors: list[Tensor] | None) -> Tensor:
        """The generated weights ``[W]`` of one forward pass on ``vectors``."""
        if self.config.inputs == "published_ablation":
            return self.model.weights_from_features(self.features(None))
        return self.model.weights(vectors)  # = from features(vectors), bits' work shared

    # ----------------------------------------------------------------- one round
    def loss(self, x: Tensor, y: Tensor, vectors: list[Tensor] | None) -> Tensor:
        return cross_entropy(self.model.logits(x, self.weights(vectors)), y)

    def train_round(self) -> dict[str, float]:
        """MPS epochs, then an angle update; returns the round's metrics (``seconds``: the
        round's wall time, so a run's total survives resumes in ``history``)."""
        start = time.perf_counter()
        cfg = self.config
        if self.on_round_start is not None:
            self.on_round_start(self.round + 1)
        photonic = cfg.inputs == "photonic"  # the ablations never touch the angles
        joint = photonic and cfg.angle_method == "autograd"
        fresh = cfg.inputs in FRESH_INPUTS
        # otherwise the vectors stay fixed while only the MPS trains: computed once a round
        fixed = None if joint or fresh else self.vectors()
        losses = []
        for _ in range(cfg.mps_epochs):
            for xb, yb in batches(self.data.x_train, self.data.y_train, cfg.batch_size,
                                  rng=self.rng):
                vectors = (self.vectors(grad=True) if joint
                           else self.vectors() if fresh else fixed)
                loss = self.loss(xb, yb, vectors)
                self.mps_optimizer.zero_grad()
                self.angle_optimizer.zero_grad()
                loss.backward()
                self.mps_optimizer.step()
                if joint:
                    self.angle_optimizer.step()
                losses.append(float(loss.detach()))
        if photonic and cfg.angle_method in ("central_difference", "spsa", "cobyla"):
            self._update_angles()
        self.round += 1
        metrics = {"round": self.round, "train_loss": float(np.mean(losses)),
                   "test_accuracy": self.test_accuracy(),
                   "seconds": time.perf_counter() - start}
        self.history.append(metrics)
        return metrics

    def _angle_loss(self, flat_angles: np.ndarray, x: Tensor, y: Tensor) -> float:
        angles = list(torch.split(torch.as_tensor(flat_angles, device=self.device),
                                  self._angle_sizes()))
        with torch.no_grad():
            return float(self.loss(x, y, self.vectors(angles=angles)))

    def _angle_sizes(self) -> list[int]:
        return [p.numel() for p in self.model.bs_angles]

    def _update_angles(self) -> None:
        cfg = self.config
        pick = self.rng.choice(len(self.data.y_train), min(cfg.angle_batch,
                                                           len(self.data.y_train)), replace=False)
        x, y = self.data.x_train[pick], self.data.y_train[pick]
        theta = torch.cat([p.detach() for p in self.model.bs_angles]).cpu().numpy()

        def loss(a: np.ndarray) -> float:
            return self._angle_loss(a, x, y)

        if cfg.angle_method == "cobyla":  # COBYLA needs at least n + 2 evaluations
            maxiter = max(cfg.cobyla_maxiter, theta.size + 2)
            found = minimize(loss, theta, method="COBYLA",
                             options={"maxiter": maxiter, "rhobeg": cfg.cobyla_rhobeg})
            self._set_angles(found.x)
            return
        self._set_gradient(_spsa(loss, theta, cfg.spsa_c, self.rng) if cfg.angle_method == "spsa"
                           else _central_differences(loss, theta, cfg.difference_step))
        self.angle_optimizer.step()

    def _set_angles(self, flat: np.ndarray) -> None:
        with torch.no_grad():
            for p, part in zip(self.model.bs_angles,
                               torch.split(torch.as_tensor(flat), self._angle_sizes()),
                               strict=True):
                p.copy_(part)

    def _set_gradient(self, flat: np.ndarray) -> None:
        for p, part in zip(self.model.bs_angles,
                           torch.split(torch.as_tensor(flat), self._angle_sizes()), strict=True):
            p.grad = part.to(p.device, copy=True)

    def test_accuracy(self) -> float:
        """Test accuracy of the current model: the mean over ``config.eval_draws`` draws of
        its vectors where they are random, else of its one set of vectors."""
        random = (self.config.inputs in FRESH_INPUTS
                  or (self.config.inputs == "photonic" and self.config.shots is not None))
        accuracies = []
        for _ in range(self.config.eval_draws if random else 1):
            with torch.no_grad():
                weights = self.weights(self.vectors())
                logits = self.model.logits(self.data.x_test, weights)
            accuracies.append(float((logits.argmax(-1) == self.data.y_test).double().mean()))
        return float(np.mean(accuracies))

    # ----------------------------------------------------------------- whole runs
    def fit(self, *, seed: int, checkpoint: Path | None = None,
            on_round: Callable[[dict[str, float]], None] | None = None,
            progress: bool = True) -> list[dict]:
        """Train until ``config.rounds``, resuming from ``checkpoint`` if it exists there."""
        self.rng = np.random.default_rng(seed)
        if checkpoint is not None and Path(checkpoint).is_file():
            self.load_state(torch_load(checkpoint))
        elif self.config.inputs == "fixed_random":
            self._fixed_random = self._random_vectors()
        bar = tqdm(total=self.config.rounds, initial=self.round, desc="rounds", unit="round",
                   leave=False, disable=not progress)
        while self.round < self.config.rounds:
            metrics = self.train_round()
            if checkpoint is not None:
                atomic_torch_save(self.state(), checkpoint)
            if on_round is not None:
                on_round(metrics)
            bar.set_postfix(test_accuracy=f"{metrics['test_accuracy']:.3f}")
            bar.update()
        bar.close()
        return self.history

    def state(self) -> dict:
        return {"round": self.round, "history": self.history, "model": self.model.state_dict(),
                "mps_optimizer": self.mps_optimizer.state_dict(),
                "angle_optimizer": self.angle_optimizer.state_dict(),
                "rng": self.rng.bit_generator.state, "config": asdict(self.config),
                "fixed_random": self._fixed_random}

    def load_state(self, state: dict) -> None:
        if state["config"] != asdict(self.config):
            raise ValueError("the checkpoint was written with another TrainConfig; start a new "
                             "run or restore that config")
        self.model.load_state_dict(state["model"])
        self.mps_optimizer.load_state_dict(state["mps_optimizer"])
        self.angle_optimizer.load_state_dict(state["angle_optimizer"])
        self.rng.bit_generator.state = state["rng"]
        self.round, self.history = state["round"], list(state["history"])
        fixed = state["fixed_random"]  # loaded on the CPU (torch_load), trained here
        self._fixed_random = None if fixed is None else [v.to(self.device) for v in fixed]


def _central_differences(loss: Callable[[np.ndarray], float], theta: np.ndarray,
                         step: float) -> np.ndarray:
    grad = np.zeros_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        grad[j] = (loss(theta + e) - loss(theta - e)) / (2 * step)
    return grad


def _spsa(loss: Callable[[np.ndarray], float], theta: np.ndarray, c: float,
          rng: np.random.Generator) -> np.ndarray:
    delta = rng.choice([-1.0, 1.0], size=theta.size)
    return (loss(theta + c * delta) - loss(theta - c * delta)) / (2 * c) * delta
