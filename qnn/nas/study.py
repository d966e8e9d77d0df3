"""The NAS study: seeds x methods at equal fitness budgets, resumable, one row per search."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..runs.study import TaskContext
from .capacity import proposer_capacity
from .ensemble import search_curves
from .fitness import DATASETS, FitnessCache, NASData, TrainBudget, load_nas_data, make_trainer
from .search import METHODS, SearchConfig, search
from .space import N_BITS, decode


@dataclass(frozen=True)
class NASSpec:
    """What to run; validated before any work starts.

    Attributes:
        dataset: ``"digits"`` or ``"mnist_small"``.
        seeds: one search per (seed, method); the seed also draws the data split and
            seeds every training, so a seed's fitness cache is shared by its methods.
        methods: from :data:`~qnn.nas.search.METHODS`.
        search: budget, ensemble size and the methods' settings.
        train: the fixed training each architecture gets.
        n_train, n_val, n_test: sizes of the split (fitness is validation accuracy).
        checkpoint_every: new trainings between checkpoints.
    """

    dataset: str = "digits"
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    methods: tuple[str, ...] = METHODS
    search: SearchConfig = field(default_factory=SearchConfig)
    train: TrainBudget = field(default_factory=TrainBudget)
    n_train: int = 1000
    n_val: int = 300
    n_test: int = 400
    checkpoint_every: int = 20

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset={self.dataset!r}; choose from {list(DATASETS)}")
        methods = tuple(self.methods)
        bad = [m for m in methods if m not in METHODS]
        if bad or not methods or len(set(methods)) != len(methods):
            raise ValueError(f"methods={list(methods)}: distinct values from {list(METHODS)}")
        seeds = tuple(self.seeds)
        if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0
                            for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds={list(seeds)} must be distinct integers >= 0")
        for name in ("n_train", "n_val", "n_test", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "seeds", seeds)
        if isinstance(self.search, dict):
            object.__setattr__(self, "search", SearchConfig(**self.search))
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainBudget(**self.train))

    def tasks(self) -> list[tuple[int, str]]:
        return [(seed, method) for seed in self.seeds for method in self.methods]


def task_key(seed: int, method: str) -> str:
    return f"seed{seed}/{method}"


@dataclass(frozen=True)
class NASTask:
    seed: int
    method: str

    @property
    def key(self) -> str:
        return task_key(self.seed, self.method)


class NASStudy:
    """The NAS study as :func:`qnn.runs.run_tasks` runs it: one search per (seed, method).

    A seed's fitness cache (every evaluation, with the validation and test outputs the
    ensembles need) is the study's saved state: checkpointed after every
    ``checkpoint_every`` trainings and kept from one method's search to the next of the same
    seed. A resumed search replays from its start: being deterministic for its seed, it
    proposes the same architectures, which the restored cache answers without training
    (photonic samples are drawn again and recorded under the same names).
    """

    family = "nas"
    spec_type = NASSpec
    summary_by = ("dataset", "method")
    summary_metrics = ("best_val", "best_test", "ensemble_val", "ensemble_test", "evaluations",
                       "seconds")
    headline = ("ensemble_test", {"method": "photonic"})

    def tasks(self, spec: NASSpec) -> list[NASTask]:
        return [NASTask(seed, method) for seed, method in spec.tasks()]

    def run_task(self, spec: NASSpec, task: NASTask, context: TaskContext) -> dict:
        data, cache = _seed_cache(spec, task.seed, context)
        start, trained_before = time.perf_counter(), cache.trainings
        rng = np.random.default_rng(np.random.SeedSequence([task.seed,
                                                            zlib.crc32(task.method.encode())]))

        def on_evaluation(count: int) -> None:
            new = cache.trainings - trained_before
            if new and new % spec.checkpoint_every == 0:
                context.save_state({"seed": task.seed, "cache": cache.to_dict()})

        def on_update(report) -> None:
            context.log_scalar(f"{task.key}/expected_cost", report.expected_cost, report.step)

        result = search(task.method, lambda bits: cache(bits).val_accuracy, N_BITS,
                        spec.search, rng, backend=context.backend,
                        on_evaluation=on_evaluation, on_update=on_update)
        context.state = {"seed": task.seed, "cache": cache.to_dict()}  # kept for the next task
        return _search_row(spec, task, result, data, cache, trained_before, start)


def _seed_cache(spec: NASSpec, seed: int, context: TaskContext) -> tuple[NASData, FitnessCache]:
    """The seed's data split and fitness cache: built once per seed, restored from the
    saved state when it belongs to this seed."""
    held = context.memo.get("nas")
    if held is None or held[0] != seed:
        data = load_nas_data(spec.dataset, seed, n_train=spec.n_train, n_val=spec.n_val,
                             n_test=spec.n_test)
        saved = context.state if context.state and context.state.get("seed") == seed else {}
        cache = FitnessCache.from_dict(make_trainer(data, spec.train, seed),
                                       saved.get("cache") or {})
        held = context.memo["nas"] = (seed, data, cache)
    return held[1], held[2]


def _search_row(spec: NASSpec, task: NASTask, result, data: NASData, cache: FitnessCache,
                trained_before: int, start: float) -> dict:
    curves = search_curves(result.keys, cache.entries, data.y_val.numpy(),
                           data.y_test.numpy(), spec.search.ensemble_size)
    best = result.population[0]
    return {
        "dataset": spec.dataset, "seed": task.seed, "method": task.method,
        "evaluations": len(result.keys), "budget": spec.search.budget,
        "proposals": result.proposals, "updates": result.updates,
        "trainings": cache.trainings - trained_before,
        "best_val": curves["best_val"][-1], "best_test": curves["best_test"][-1],
        "ensemble_val": curves["ensemble_val"][-1], "ensemble_test": curves["ensemble_test"][-1],
        "best_bits": best, "best_architecture": decode(best).to_dict(),
        "best_params": cache.entries[best].n_params, "population": result.population,
        "mean_train_seconds": float(np.mean([cache.entries[k].seconds for k in result.keys])),
        "seconds": time.perf_counter() - start,
        "keys": result.keys,
        **{f"curve_{name}": values for name, values in curves.items()},
        "curve_fitness": result.fitness,
        "curve_click_rate": result.click_rate,
        # what the sampler could learn from (None for evolution and random search)
        "proposer": proposer_capacity(N_BITS, spec.search).to_dict()
        if task.method in ("photonic", "bernoulli") else None,
    }
