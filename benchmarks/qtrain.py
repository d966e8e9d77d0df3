"""Benchmark Quantum-Train rounds: wall time per round and the photonic share, per angle method.

The published regime (``experiments/dqnn.py`` ``paper_chi_sweep``) at χ = 10: PaperCNN (6,690
weights), QPUs of 9 and 8 modes with 4 photons and loops [1, 2] (126 x 70 no-bunching
outcomes), rounds of 5 MPS epochs at batch 128 over 6,000 MNIST images, then one angle update
on 1,000 images, on the exact backend.

1. Wall time per training round, scaled down honestly: each timed round is the real
   ``Trainer.train_round`` with ``mps_epochs=1`` and only the first K batches of the epoch,
   followed by the full angle update and the test-accuracy evaluation. The full round is
   extrapolated as ``one-off vectors + (K steps) x 5 * ceil(6000 / 128) / K + angle update +
   test`` (the short last batch of each epoch counts as a full one: a slight overestimate).
2. The photonic share: every ``PhotonicDistribution.exact`` / ``.sampled`` call (SLOS and
   sampling, including building the circuits and outcome lists) is timed in place, and for
   ``autograd`` also the SLOS backward (from the gradient reaching the QPU vectors to the last
   angle gradient being accumulated). The rest is the MPS + CNN forward/backward, the
   optimisers and the data batching.
3. A per-step breakdown timed in isolation at the same sizes (warm repeats, best and median):
   the distribution, the MPS weight generation over all 6,690 weights, the CNN forward+backward
   on a batch of 128, and one angle-loss evaluation on 1,000 images.

0. The target "χ = 10 published round ≤ 2 s on one core" (PASS/MISS), and the old
   path against the new one in the same run: for ``autograd`` (the target's measurement) and
   ``cobyla`` (``paper_chi_sweep``'s angle method), each a trainer on the plain reference path
   (``QuantumTrain.reference_path``: the tree contraction of ``MPSMapping.forward_indexed``,
   the CNN through ``functional_call``, outcome look-ups on every call, per-tensor Adam) and
   one on the new path, whose scaled-down rounds (as in 1.) alternate old, new, old, new.
   The target is defined on one thread: run with ``--threads 1`` (and ``OMP_NUM_THREADS=1``).

``python benchmarks/qtrain.py [--quick] [--json out.json] [--threads N]``
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata

import numpy as np
import torch
from torch.nn.functional import cross_entropy

import qnn.qtrain.train as train_module
from qnn.photonics import get_backend
from qnn.qtrain.data import PUBLISHED_N_TEST, PUBLISHED_N_TRAIN
from qnn.qtrain.mapping import PhotonicDistribution
from qnn.qtrain.model import QPUSpec, QuantumTrain
from qnn.qtrain.study import PRECISIONS, load_dataset
from qnn.qtrain.target import PaperCNN
from qnn.qtrain.train import Dataset, TrainConfig, Trainer

SEED = 2024
BOND_DIM = 10
QPUS = (QPUSpec((1, 0, 1, 0, 1, 0, 1, 0, 0), (1, 2)),  # as paper_chi_sweep
        QPUSpec((1, 0, 1, 0, 1, 0, 1, 0), (1, 2)))
OUTCOMES, SCALING = "no_bunching", "mean"
MPS_EPOCHS, BATCH_SIZE, ANGLE_BATCH = 5, 128, 1000
SHOTS = 5000
WARMUP_STEPS = 2  # untimed MPS steps per method before its timed rounds
TARGET_ROUND_S = 2.0  # a χ = 10 published round on one core
TARGET = "χ = 10 published round ≤ 2 s on one core"
# --device: where models and data are made; SYNC waits for the GPU before a clock is read (on
# a GPU the in-place photonic share includes those waits: an upper bound)
DEVICE: torch.device | None = None
SYNC: Callable[[], None] = lambda: None  # noqa: E731


@dataclass(frozen=True)
class Method:
    """One training variant: an angle method and exact (None) or sampled vectors."""

    angle_method: str
    shots: int | None

    @property
    def name(self) -> str:
        return f"{self.angle_method} ({'exact' if self.shots is None else f'{self.shots} shots'})"


REQUIRED = (Method("autograd", None), Method("cobyla", None), Method("central_difference", SHOTS),
            Method("spsa", SHOTS))
EXTRA_QUICK = (Method("spsa", None),)  # for the sampled/exact ratio
# the old-vs-new comparison: autograd (the target's measurement) and paper_chi_sweep's method
OLD_NEW = (Method("autograd", None), Method("cobyla", None))
EXTRA_FULL = (Method("spsa", None), Method("central_difference", None))


@dataclass(frozen=True)
class Settings:
    quick: bool
    steps: int  # K MPS steps per timed round
    repeats: int  # timed rounds per method (round-robin over the methods)
    budget_s: float  # no new round-robin pass starts once the passes took this long
    item_budget_s: float  # isolated breakdown: warm repeats per item stop after about this
    min_reps: int
    methods: tuple[Method, ...]
    threads: int | None = None
    device: str = "cpu"  # where the model, the data and the simulation live
    precision: str = "float32"  # the CNN's arithmetic, as DQNNSpec.precision


# --------------------------------------------------------------------------- timing helpers
@dataclass(frozen=True)
class Timing:
    first_s: float
    best_s: float
    median_s: float
    reps: int


def interleave(calls: Sequence[Callable[[], object]], *, budget_s: float, min_reps: int,
               max_reps: int = 50) -> list[Timing]:
    """One cold call each, then warm repeats round-robin (background load hits all alike)."""
    first = []
    for fn in calls:
        start = time.perf_counter()
        fn()
        SYNC()
        first.append(time.perf_counter() - start)
    times: list[list[float]] = [[] for _ in calls]
    while len(times[0]) < max_reps and (len(times[0]) < min_reps
                                        or sum(map(sum, times)) < budget_s * len(calls)):
        for fn, spent in zip(calls, times, strict=True):
            start = time.perf_counter()
            fn()
            SYNC()
            spent.append(time.perf_counter() - start)
    return [Timing(f, min(t), statistics.median(t), len(t))
            for f, t in zip(first, times, strict=True)]


# --------------------------------------------------------------------------- in-place probe
@dataclass
class PhaseStats:
    wall_s: float = 0.0
    photonic_s: float = 0.0  # forward calls + (autograd) SLOS backward
    photonic_backward_s: float = 0.0
    calls: int = 0
    loss_evals: int = 0


class Probe:
    """Accumulates wall time and photonic time per phase of a round."""

    def __init__(self) -> None:
        self.phases: dict[str, PhaseStats] = {}
        self.current = "steps"
        self._backward_mark: float | None = None

    def reset(self) -> None:
        self.phases = {}
        self.current = "steps"
        self._backward_mark = None

    def stats(self, phase: str | None = None) -> PhaseStats:
        return self.phases.setdefault(phase or self.current, PhaseStats())

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        previous, self.current = self.current, name
        SYNC()
        start = time.perf_counter()
        try:
            yield
        finally:
            SYNC()
            self.stats(name).wall_s += time.perf_counter() - start
            self.current = previous

    def forward(self, seconds: float) -> None:
        stats = self.stats()
        stats.photonic_s += seconds
        stats.calls += 1
        self._backward_mark = None

    def backward_started(self) -> None:
        self._backward_mark = time.perf_counter()

    def backward_tick(self) -> None:
        """An angle gradient was accumulated: the SLOS backward ran since the last mark."""
        if self._backward_mark is None:
            return
        now = time.perf_counter()
        stats = self.stats()
        stats.photonic_s += now - self._backward_mark
        stats.photonic_backward_s += now - self._backward_mark
        self._backward_mark = now


class _BackwardClock(torch.autograd.Function):
    """Identity on the QPU vectors whose backward marks the start of the SLOS backward."""

    @staticmethod
    def forward(ctx, probe: Probe, *vectors: torch.Tensor):
        ctx.probe = probe
        return tuple(v.clone() for v in vectors)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        ctx.probe.backward_started()
        return (None, *grads)


@contextlib.contextmanager
def instrumented(probe: Probe) -> Iterator[None]:
    """Time every ``PhotonicDistribution.exact`` / ``.sampled`` call into ``probe``."""
    exact, sampled = PhotonicDistribution.exact, PhotonicDistribution.sampled

    def timed_exact(self, *args, **kwargs):
        SYNC()
        start = time.perf_counter()
        out = exact(self, *args, **kwargs)
        SYNC()
        probe.forward(time.perf_counter() - start)
        if torch.is_grad_enabled() and any(v.requires_grad for v in out):
            out = list(_BackwardClock.apply(probe, *out))
        return out

    def timed_sampled(self, *args, **kwargs):
        SYNC()
        start = time.perf_counter()
        out = sampled(self, *args, **kwargs)
        SYNC()
        probe.forward(time.perf_counter() - start)
        return out

    PhotonicDistribution.exact, PhotonicDistribution.sampled = timed_exact, timed_sampled
    try:
        yield
    finally:
        PhotonicDistribution.exact, PhotonicDistribution.sampled = exact, sampled


@contextlib.contextmanager
def first_batches(k: int) -> Iterator[None]:
    """Make ``Trainer.train_round`` see only the first ``k`` batches of each epoch."""
    batches = train_module.batches

    def limited(*args, **kwargs):
        return itertools.islice(batches(*args, **kwargs), k)

    train_module.batches = limited
    try:
        yield
    finally:
        train_module.batches = batches


class TimedTrainer(Trainer):
    """The real Trainer, with its angle update and test evaluation timed as phases."""

    probe: Probe

    def _update_angles(self) -> None:
        with self.probe.phase("angle"):
            super()._update_angles()

    def test_accuracy(self) -> float:
        with self.probe.phase("test"):
            return super().test_accuracy()

    def _angle_loss(self, flat_angles, x, y) -> float:
        self.probe.stats().loss_evals += 1
        return super()._angle_loss(flat_angles, x, y)


# --------------------------------------------------------------------------- setup
def load_data(dtype: torch.dtype) -> tuple[Dataset, str]:
    """The published 6,000 / 600 MNIST subset, or random images of that shape."""
    try:
        data = load_dataset("mnist_published", SEED, dtype)
        return data, f"MNIST (published subset {len(data.y_train):,} / {len(data.y_test):,})"
    except (ImportError, OSError, ValueError) as error:
        gen = torch.Generator().manual_seed(SEED)
        data = Dataset(torch.rand(PUBLISHED_N_TRAIN, 1, 28, 28, generator=gen, dtype=dtype),
                       torch.randint(0, 10, (PUBLISHED_N_TRAIN,), generator=gen),
                       torch.rand(PUBLISHED_N_TEST, 1, 28, 28, generator=gen, dtype=dtype),
                       torch.randint(0, 10, (PUBLISHED_N_TEST,), generator=gen))
        return data, (f"RANDOM images {PUBLISHED_N_TRAIN:,} / {PUBLISHED_N_TEST:,} x 1x28x28 "
                      f"(MNIST unavailable: {type(error).__name__}: {error})")


def make_model() -> QuantumTrain:
    return QuantumTrain(QPUS, PaperCNN(), bond_dim=BOND_DIM, outcomes=OUTCOMES, scaling=SCALING,
                        generator=torch.Generator().manual_seed(SEED), device=DEVICE)


def train_config(method: Method, *, mps_epochs: int = MPS_EPOCHS) -> TrainConfig:
    return TrainConfig(rounds=1, mps_epochs=mps_epochs, batch_size=BATCH_SIZE, lr_mps=1e-3,
                       angle_method=method.angle_method, shots=method.shots,
                       angle_batch=ANGLE_BATCH)


# --------------------------------------------------------------------------- section 1 + 2
@dataclass
class RoundSample:
    """One timed scaled-down round and its extrapolation to the full round."""

    measured_s: float
    steps_s: float
    one_off_s: float  # the vectors computed once before the MPS steps (non-joint methods)
    per_step_s: float
    photonic_per_step_s: float
    angle_s: float
    angle_photonic_s: float
    loss_evals: int
    test_s: float
    test_photonic_s: float
    round_s: float
    photonic_s: float

    @property
    def share(self) -> float:
        return self.photonic_s / self.round_s


@dataclass
class MethodResult:
    method: str
    angle_method: str
    shots: int | None
    steps_measured: int
    steps_full: int
    samples: list[RoundSample] = field(default_factory=list)

    def median(self, name: str) -> float:
        values = [getattr(s, name) for s in self.samples]
        return statistics.median(values)

    def summary(self) -> dict[str, float]:
        names = ("round_s", "photonic_s", "share", "per_step_s", "photonic_per_step_s",
                 "one_off_s", "angle_s", "angle_photonic_s", "loss_evals", "test_s",
                 "test_photonic_s", "measured_s")
        out = {n: self.median(n) for n in names}
        out["round_best_s"] = min(s.round_s for s in self.samples)
        out["round_worst_s"] = max(s.round_s for s in self.samples)
        return out


def timed_round(trainer: TimedTrainer, steps: int, steps_full: int) -> RoundSample:
    probe = trainer.probe
    probe.reset()
    joint = trainer.config.angle_method == "autograd"
    with instrumented(probe), first_batches(steps):
        start = time.perf_counter()
        trainer.train_round()
        measured = time.perf_counter() - start
    angle, test = probe.stats("angle"), probe.stats("test")
    steps_stats = probe.stats("steps")
    steps_s = measured - angle.wall_s - test.wall_s
    # Non-joint methods compute their vectors once before the loop (the only photonic call
    # of the steps phase); autograd computes them (with backward) on every step.
    one_off = 0.0 if joint else steps_stats.photonic_s
    per_step = (steps_s - one_off) / steps
    photonic_per_step = steps_stats.photonic_s / steps if joint else 0.0
    round_s = one_off + per_step * steps_full + angle.wall_s + test.wall_s
    photonic = (one_off + photonic_per_step * steps_full + angle.photonic_s + test.photonic_s)
    return RoundSample(measured, steps_s, one_off, per_step, photonic_per_step, angle.wall_s,
                       angle.photonic_s, angle.loss_evals, test.wall_s, test.photonic_s,
                       round_s, photonic)


def make_trainer(method: Method, backend, data: Dataset, probe: Probe, *,
                 old_path: bool = False) -> TimedTrainer:
    """A timed trainer; ``old_path``: on the plain reference path (the same numbers, to
    rounding): ``QuantumTrain.reference_path`` and Adam's per-tensor loop."""
    model = make_model()
    model.reference_path = old_path
    trainer = TimedTrainer(model, backend, train_config(method, mps_epochs=1), data)
    if old_path:
        config = trainer.config
        trainer.mps_optimizer = torch.optim.Adam(model.mps.parameters(), lr=config.lr_mps)
        trainer.angle_optimizer = torch.optim.Adam(model.bs_angles.parameters(),
                                                   lr=config.lr_angles)
    trainer.rng = np.random.default_rng(SEED)
    trainer.probe = probe
    for p in model.bs_angles:
        p.register_post_accumulate_grad_hook(lambda _p: probe.backward_tick())
    return trainer


def warm_up(trainer: TimedTrainer, steps: int) -> None:
    """A few untimed MPS steps through ``train_round`` (Adam state, caches), no angle update."""
    trainer._update_angles = lambda: None
    trainer.test_accuracy = lambda: float("nan")
    try:
        with first_batches(steps):
            trainer.train_round()
    finally:
        del trainer._update_angles, trainer.test_accuracy


def round_rows(settings: Settings, backend, data: Dataset) -> list[MethodResult]:
    steps_full = MPS_EPOCHS * math.ceil(len(data.y_train) / BATCH_SIZE)
    probe = Probe()
    trainers = {m: make_trainer(m, backend, data, probe) for m in settings.methods}
    for trainer in trainers.values():
        warm_up(trainer, WARMUP_STEPS)
    results = {m: MethodResult(m.name, m.angle_method, m.shots, settings.steps, steps_full)
               for m in settings.methods}
    start = time.perf_counter()
    for r in range(settings.repeats):
        if r and time.perf_counter() - start > settings.budget_s:
            print(f"  (stopping after {r} round(s) per method: passes took "
                  f"{time.perf_counter() - start:.0f} s > budget {settings.budget_s:.0f} s)",
                  flush=True)
            break
        for method in settings.methods:
            sample = timed_round(trainers[method], settings.steps, steps_full)
            results[method].samples.append(sample)
            load = f", load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
            print(f"  pass {r + 1}: {method.name:<18} measured {sample.measured_s:6.2f} s"
                  f" -> round {sample.round_s:7.1f} s{load}", flush=True)
    return list(results.values())


# --------------------------------------------------------------------------- section 0
def old_new_rows(settings: Settings, backend, data: Dataset
                 ) -> list[tuple[MethodResult, MethodResult]]:
    """Per OLD_NEW method, (old path, new path) scaled-down rounds, alternated."""
    steps_full = MPS_EPOCHS * math.ceil(len(data.y_train) / BATCH_SIZE)
    probe = Probe()
    pairs = []
    for method in OLD_NEW:
        trainers = [make_trainer(method, backend, data, probe, old_path=old)
                    for old in (True, False)]
        for trainer in trainers:
            warm_up(trainer, WARMUP_STEPS)
        results = [MethodResult(f"{method.name}, {path}", method.angle_method, method.shots,
                                settings.steps, steps_full) for path in ("old", "new")]
        for r in range(max(settings.repeats, 2)):
            for trainer, result in zip(trainers, results, strict=True):
                sample = timed_round(trainer, settings.steps, steps_full)
                result.samples.append(sample)
                print(f"  pass {r + 1}: {result.method:<26} measured {sample.measured_s:6.2f} s"
                      f" -> round {sample.round_s:6.2f} s", flush=True)
        pairs.append((results[0], results[1]))
    return pairs


def print_old_new(pairs: list[tuple[MethodResult, MethodResult]], settings: Settings) -> dict:
    threads = torch.get_num_threads()
    print(f"\n0. Old (reference) path vs new path, alternating rounds in this run (K="
          f"{settings.steps} steps per timed round, extrapolated as in 1.; medians; torch "
          f"threads {threads})")
    header = (f"{'method, path':<26} {'rounds':>6} {'per step':>9} {'angle update':>12} "
              f"{'test':>8} {'round':>9} {'(min-max)':>17}")
    print(header)
    print("-" * len(header))
    record: dict[str, dict] = {}
    for old, new in pairs:
        for result in (old, new):
            s = result.summary()
            angle = fmt_s(s["angle_s"]) if result.angle_method != "autograd" else "(per step)"
            spread = f"{fmt_s(s['round_best_s'])}-{fmt_s(s['round_worst_s'])}"
            print(f"{result.method:<26} {len(result.samples):>6} {fmt_s(s['per_step_s']):>9} "
                  f"{angle:>12} {fmt_s(s['test_s']):>8} {fmt_s(s['round_s']):>9} {spread:>17}")
        so, sn = old.summary(), new.summary()
        ratios = {"round": so["round_s"] / sn["round_s"],
                  "per_step": so["per_step_s"] / sn["per_step_s"]}
        if old.angle_method != "autograd":
            ratios["angle_update"] = so["angle_s"] / sn["angle_s"]
        print("  old/new: " + ", ".join(f"{k.replace('_', ' ')} {v:.2f}x"
                                        for k, v in ratios.items()))
        verdict = "PASS" if sn["round_s"] <= TARGET_ROUND_S else "MISS"
        record[old.angle_method] = {"old": so, "new": sn, "old_over_new": ratios,
                                    "target": verdict}
    print()
    for (old, new), name in zip(pairs, (m.angle_method for m in OLD_NEW), strict=True):
        sn = new.summary()
        role = ("the target's measurement" if name == "autograd"
                else "paper_chi_sweep's angle method")
        print(f"TARGET \"{TARGET}\" [{name}, {role}]: {record[name]['target']} "
              f"(new path {sn['round_s']:.2f} s, old path {old.summary()['round_s']:.2f} s, "
              f"{record[name]['old_over_new']['round']:.2f}x)")
    if settings.device != "cpu":
        print(f"  (measured on {settings.device}; the target is for one CPU core: the verdict "
              "only compares)")
    elif threads != 1:
        print(f"  (measured with {threads} torch threads; the target is for one core: "
              "--threads 1)")
    return record


# --------------------------------------------------------------------------- section 3
@dataclass
class BreakdownRow:
    key: str
    item: str
    timing: Timing
    note: str = ""


def breakdown_rows(settings: Settings, backend, data: Dataset) -> list[BreakdownRow]:
    model = make_model()
    old_model = make_model()  # the same state, computed by the reference path
    old_model.reference_path = True
    gen = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    with torch.no_grad():
        vectors = model.distribution().exact(backend)
    vector_grads = [torch.randn(v.shape, generator=gen, dtype=v.dtype).to(v.device)
                    for v in vectors]
    weights_leaf = model.weights(vectors).detach().requires_grad_()
    weight_grad = torch.randn(weights_leaf.shape, generator=gen,
                              dtype=weights_leaf.dtype).to(weights_leaf.device)
    xb, yb = data.x_train[:BATCH_SIZE], data.y_train[:BATCH_SIZE]
    xa, ya = data.x_train[:ANGLE_BATCH], data.y_train[:ANGLE_BATCH]
    theta = torch.cat([p.detach() for p in model.bs_angles]).cpu().numpy()
    exact_trainer = Trainer(model, backend, train_config(Method("cobyla", None)), data)
    sampled_trainer = Trainer(model, backend, train_config(Method("spsa", SHOTS)), data)
    sampled_trainer.rng = rng

    def dist_exact() -> None:
        with torch.no_grad():
            model.distribution().exact(backend)

    def dist_exact_fb() -> None:
        out = model.distribution().exact(backend)
        sum((v * g).sum() for v, g in zip(out, vector_grads, strict=True)).backward()

    def dist_sampled() -> None:
        model.distribution().sampled(backend, SHOTS, rng=rng)

    def weights_fwd() -> None:
        model.weights(vectors)

    def weights_fb(on=model) -> None:
        (on.weights(vectors) * weight_grad).sum().backward()

    def cnn_fb(on=model) -> None:
        cross_entropy(on.logits(xb, weights_leaf), yb).backward()

    def cnn_fwd_angle(on=model) -> None:
        with torch.no_grad():
            on.logits(xa, weights_leaf)

    def loss_exact() -> None:
        exact_trainer._angle_loss(theta, xa, ya)

    def loss_sampled() -> None:
        sampled_trainer._angle_loss(theta, xa, ya)

    items = [
        ("dist", "distribution exact, fwd (2 QPUs, SLOS)", dist_exact, "126 + 70 probabilities"),
        ("dist_fb", "distribution exact, fwd+bwd", dist_exact_fb, "autograd: every step"),
        ("dist_sampled", f"distribution sampled, {SHOTS} shots/QPU", dist_sampled,
         "exact backend sampling"),
        ("weights", "weights (MPS, 6,690 weights), fwd", weights_fwd,
         f"chi={BOND_DIM}, 14 inputs"),
        ("weights_fb", "weights (MPS, 6,690 weights), fwd+bwd", weights_fb, "every MPS step"),
        ("weights_fb_old", "  the same, old path", lambda: weights_fb(old_model),
         "MPSMapping.forward_indexed"),
        ("cnn_fb", f"CNN fwd+bwd, batch {BATCH_SIZE}", cnn_fb, "every MPS step"),
        ("cnn_fb_old", "  the same, old path", lambda: cnn_fb(old_model), "functional_call"),
        ("cnn_angle", f"CNN fwd, {ANGLE_BATCH} images (no grad)", cnn_fwd_angle,
         "in each angle loss"),
        ("cnn_angle_old", "  the same, old path", lambda: cnn_fwd_angle(old_model),
         "functional_call"),
        ("loss_exact", f"angle loss eval, exact, {ANGLE_BATCH} images", loss_exact,
         "dist + weights + CNN"),
        ("loss_sampled", f"angle loss eval, sampled, {ANGLE_BATCH} images", loss_sampled,
         "dist + weights + CNN"),
    ]
    timings = interleave([fn for _, _, fn, _ in items], budget_s=settings.item_budget_s,
                         min_reps=settings.min_reps)
    for p in [*model.parameters(), *old_model.parameters()]:
        p.grad = None
    return [BreakdownRow(key, name, t, note)
            for (key, name, _, note), t in zip(items, timings, strict=True)]


# --------------------------------------------------------------------------- report
def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, str]:
    import numba
    import scipy

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "cpus": f"{os.cpu_count()} (usable {usable})",
        "load average": load,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": f"{torch.__version__} (threads {torch.get_num_threads()},"
                 f" interop {torch.get_num_interop_threads()})",
        "numba": f"{numba.__version__} (threads {numba.get_num_threads()})",
        "device": (f"cuda ({torch.cuda.get_device_name()})" if DEVICE is not None
                   and DEVICE.type == "cuda" else "cpu"),
        "cudaq": package_version("cudaq"),
        "photonic-qnn": package_version("photonic-qnn"),
    }


def fmt_s(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.1f} ms"


def print_rounds(results: list[MethodResult], settings: Settings) -> dict[str, dict]:
    steps_full = results[0].steps_full
    print(f"\n1+2. Wall time per training round (extrapolated from K={settings.steps} measured "
          f"MPS steps to {steps_full} = {MPS_EPOCHS} epochs x ceil(n_train/{BATCH_SIZE}); "
          "angle update and test accuracy timed in full). Median over rounds; "
          "photonic = PhotonicDistribution.exact/sampled calls (+ SLOS backward for autograd)")
    header = (f"{'method':<18} {'rounds':>6} {'per step':>9} {'angle update':>12} {'evals':>5} "
              f"{'test':>8} {'round':>9} {'(min-max)':>17} {'photonic':>9} {'share':>6} "
              f"{'MPS+CNN+rest':>12} {'x cobyla':>8}")
    print(header)
    print("-" * len(header))
    summaries = {r.method: r.summary() for r in results}
    cobyla = summaries.get(Method("cobyla", None).name, {}).get("round_s")
    for r in results:
        s = summaries[r.method]
        spread = f"{fmt_s(s['round_best_s'])}-{fmt_s(s['round_worst_s'])}"
        ratio = f"{s['round_s'] / cobyla:.2f}" if cobyla else "-"
        evals = f"{s['loss_evals']:.0f}" if r.angle_method != "autograd" else "-"
        angle = fmt_s(s["angle_s"]) if r.angle_method != "autograd" else "(per step)"
        print(f"{r.method:<18} {len(r.samples):>6} {fmt_s(s['per_step_s']):>9} {angle:>12} "
              f"{evals:>5} {fmt_s(s['test_s']):>8} {fmt_s(s['round_s']):>9} {spread:>17} "
              f"{fmt_s(s['photonic_s']):>9} {s['share']:>6.1%} {1 - s['share']:>12.1%} "
              f"{ratio:>8}")
    print("\nWhere the photonic time goes (per full round, medians):")
    for r in results:
        s = summaries[r.method]
        if r.angle_method == "autograd":
            where = (f"{fmt_s(s['photonic_per_step_s'])}/step x {steps_full} steps (fwd+bwd) "
                     f"+ test {fmt_s(s['test_photonic_s'])}")
        else:
            where = (f"one-off vectors {fmt_s(s['one_off_s'])} + angle update "
                     f"{fmt_s(s['angle_photonic_s'])} of {fmt_s(s['angle_s'])} "
                     f"({s['loss_evals']:.0f} evals) + test {fmt_s(s['test_photonic_s'])}")
        print(f"  {r.method:<18} {where}")
    pairs = [(a, b) for a in results for b in results
             if a.angle_method == b.angle_method and a.shots is not None and b.shots is None]
    if pairs:
        print("\nSampled / exact vectors (same angle method):")
        for a, b in pairs:
            sa, sb = summaries[a.method], summaries[b.method]
            print(f"  {a.angle_method:<8} round {sa['round_s'] / sb['round_s']:.2f}x, "
                  f"angle update {sa['angle_s'] / sb['angle_s']:.2f}x, photonic time "
                  f"{sa['photonic_s'] / sb['photonic_s']:.2f}x")
    return summaries


def print_breakdown(rows: list[BreakdownRow], results: list[MethodResult]) -> dict:
    print("\n3. Per-step breakdown, timed in isolation at the same sizes (first = cold call)")
    header = f"{'item':<44} {'first':>9} {'best':>9} {'median':>9} {'reps':>4}  note"
    print(header)
    print("-" * len(header))
    for row in rows:
        t = row.timing
        print(f"{row.item:<44} {fmt_s(t.first_s):>9} {fmt_s(t.best_s):>9} "
              f"{fmt_s(t.median_s):>9} {t.reps:>4}  {row.note}")
    med = {row.key: row.timing.median_s for row in rows}
    best = {row.key: row.timing.best_s for row in rows}
    joint_keys, fixed_keys = ("dist_fb", "weights_fb", "cnn_fb"), ("weights_fb", "cnn_fb")
    joint = sum(med[k] for k in joint_keys)
    fixed = sum(med[k] for k in fixed_keys)
    in_situ = {(r.angle_method, r.shots): r.median("per_step_s") for r in results}
    print(f"\n  autograd step from parts (dist fwd+bwd + weights fwd+bwd + CNN fwd+bwd): median "
          f"{fmt_s(joint)}, best {fmt_s(sum(best[k] for k in joint_keys))} (photonic "
          f"{med['dist_fb'] / joint:.1%}); in the rounds {fmt_s(in_situ.get(('autograd', None)))}"
          " per step incl. Adam and batching")
    print(f"  fixed-vector step from parts (weights fwd+bwd + CNN fwd+bwd): median {fmt_s(fixed)}, "
          f"best {fmt_s(sum(best[k] for k in fixed_keys))}; in the rounds (cobyla) "
          f"{fmt_s(in_situ.get(('cobyla', None)))}")
    print("  old/new path (medians): weights fwd+bwd "
          f"{med['weights_fb_old'] / med['weights_fb']:.2f}x, CNN fwd+bwd "
          f"{med['cnn_fb_old'] / med['cnn_fb']:.2f}x, CNN fwd on {ANGLE_BATCH} images "
          f"{med['cnn_angle_old'] / med['cnn_angle']:.2f}x")
    exact, sampled = med["loss_exact"], med["loss_sampled"]
    print(f"  angle loss eval: exact {fmt_s(exact)} (photonic {med['dist'] / exact:.1%}), "
          f"sampled {fmt_s(sampled)} (photonic {med['dist_sampled'] / sampled:.1%}); "
          f"sampled/exact {sampled / exact:.2f}x")
    print(f"  distribution sampled/exact (fwd): {med['dist_sampled'] / med['dist']:.2f}x; "
          f"exact fwd+bwd/fwd: {med['dist_fb'] / med['dist']:.2f}x")
    return {"autograd_step_from_parts_s": joint, "fixed_step_from_parts_s": fixed}


# --------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> tuple[Settings, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps, one round per method, no exact-vector "
                             "central-difference run")
    parser.add_argument("--json", metavar="PATH", help="also write environment and results here")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch (and numba) threads (default: as installed)")
    parser.add_argument("--steps", type=int, metavar="K", help="MPS steps per timed round")
    parser.add_argument("--repeats", type=int, metavar="R", help="timed rounds per method")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="train and simulate on this device (default: cpu)")
    parser.add_argument("--precision", choices=sorted(PRECISIONS), default="float32",
                        help="the CNN's arithmetic (the experiments' default: float32)")
    args = parser.parse_args(argv)
    for name in ("threads", "steps", "repeats"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name}={value} must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but torch sees no CUDA device")
    if args.quick:
        settings = Settings(True, steps=8, repeats=1, budget_s=30.0, item_budget_s=0.3,
                            min_reps=3, methods=REQUIRED + EXTRA_QUICK, threads=args.threads)
    else:
        settings = Settings(False, steps=32, repeats=3, budget_s=150.0, item_budget_s=1.5,
                            min_reps=5, methods=REQUIRED + EXTRA_FULL, threads=args.threads)
    if args.steps is not None:
        settings = replace(settings, steps=args.steps)
    if args.repeats is not None:
        settings = replace(settings, repeats=args.repeats)
    return replace(settings, precision=args.precision, device=args.device), args.json


def main(argv: Sequence[str] | None = None) -> int:
    global DEVICE, SYNC
    settings, json_path = parse_args(argv)
    DEVICE = torch.device(settings.device)
    if DEVICE.type == "cuda":
        SYNC = torch.cuda.synchronize
    if settings.threads is not None:
        import numba

        torch.set_num_threads(settings.threads)
        numba.set_num_threads(min(settings.threads, numba.config.NUMBA_NUM_THREADS))
    started = time.perf_counter()
    env = environment()
    print("Quantum-Train round benchmark" + (" (--quick)" if settings.quick else ""))
    print("Environment: " + "; ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    data, source = load_data(PRECISIONS[settings.precision])
    data = Dataset(*(t.to(DEVICE) for t in (data.x_train, data.y_train, data.x_test,
                                              data.y_test)))
    env["data"] = source
    model = make_model()
    sizes = model.distribution().sizes
    counts = model.n_trained_parameters()
    print(f"Data: {source}, CNN in {settings.precision}")
    print(f"Model: PaperCNN ({model.n_weights:,} weights), QPUs "
          + " + ".join(f"{len(q.input_state)} modes/{sum(q.input_state)} photons loops "
                       f"{list(q.loop_lengths)}" for q in QPUS)
          + f", {OUTCOMES} outcomes {sizes[0]} x {sizes[1]}, chi={BOND_DIM} "
          f"({counts['mps']:,} MPS + {counts['angles']} angles); exact backend following "
          f"the model, on {settings.device}")
    print(f"Rounds: {MPS_EPOCHS} epochs x batch {BATCH_SIZE}, angle batch {ANGLE_BATCH}, "
          f"sampled vectors {SHOTS} shots/QPU; K={settings.steps} steps per timed round, "
          f"up to {settings.repeats} round(s) per method", flush=True)
    if isinstance(env["load average"], str) and env["load average"] != "?":
        load = float(env["load average"].split()[0])
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        if load >= usable:
            print(f"WARNING: 1-min load {load:.2f} >= {usable} usable CPUs: other processes "
                  "compete; with more than one torch thread small ops can stall (try "
                  "--threads 1)")
    backend = get_backend("exact")

    print("\nWarming up and timing the per-step parts in isolation ...", flush=True)
    breakdown = breakdown_rows(settings, backend, data)
    print("Timing old vs new path rounds ...", flush=True)
    pairs = old_new_rows(settings, backend, data)
    print("Timing rounds ...", flush=True)
    results = round_rows(settings, backend, data)

    old_new = print_old_new(pairs, settings)
    summaries = print_rounds(results, settings)
    derived = print_breakdown(breakdown, results)
    total = time.perf_counter() - started
    print(f"\nTotal benchmark time {total:.0f} s")
    if json_path:
        record = {
            "environment": env,
            "settings": {**asdict(settings), "methods": [m.name for m in settings.methods]},
            "rounds": [{"method": r.method, "angle_method": r.angle_method, "shots": r.shots,
                        "steps_measured": r.steps_measured, "steps_full": r.steps_full,
                        "median": summaries[r.method],
                        "samples": [asdict(s) for s in r.samples]} for r in results],
            "breakdown": [{"item": b.item, "note": b.note, **asdict(b.timing)}
                          for b in breakdown],
            "derived": derived,
            "round_target": {"target": TARGET, "target_round_s": TARGET_ROUND_S, **old_new},
            "total_s": total,
        }
        with open(json_path, "w") as handle:
            json.dump(record, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
