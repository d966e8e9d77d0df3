"""The NAS study: seeds x methods at equal fitness budgets, resumable, one row per search."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from ..photonics.backends.base import Backend
from ..runs import Checkpoint, RunSink
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


def run_nas_study(spec: NASSpec, backend: Backend, *, sink: RunSink,
                  checkpoint: Checkpoint | None = None, progress: bool = True) -> list[dict]:
    """Run every (seed, method) search of ``spec``; one result row per search.

    Resumable: finished rows and the current seed's fitness cache (every evaluation, with
    the validation and test outputs the ensembles need) are checkpointed after every
    search and every ``checkpoint_every`` trainings. A resumed search replays from its
    start: being deterministic for its seed, it proposes the same architectures, which
    the restored cache answers without training (photonic samples are drawn again).
    Sampler updates' histograms go to ``sink`` as ``seed<s>/<method>/update<k>``.
    """
    saved = checkpoint.load() if checkpoint is not None else None
    rows: list[dict] = list(saved["rows"]) if saved else []
    done = {row["task"] for row in rows}
    bar = tqdm(total=len(spec.tasks()), initial=len(done), disable=not progress,
               desc=f"nas {spec.dataset}", unit="search")
    data: NASData | None = None
    cache: FitnessCache | None = None
    cache_seed = None
    for seed, method in spec.tasks():
        key = task_key(seed, method)
        if key in done:
            continue
        if cache_seed != seed:
            data = load_nas_data(spec.dataset, seed, n_train=spec.n_train, n_val=spec.n_val,
                                 n_test=spec.n_test)
            trainer = make_trainer(data, spec.train, seed)
            restored = saved.get("cache") if saved and saved.get("seed") == seed else None
            cache = FitnessCache.from_dict(trainer, restored or {})
            cache_seed = seed
        rows.append(_run_search(spec, seed, method, data, cache, backend, sink, rows,
                                checkpoint))
        if checkpoint is not None:
            checkpoint.save({"rows": rows, "seed": seed, "cache": cache.to_dict()})
        bar.set_postfix_str(f"{key}: best val {rows[-1]['best_val']:.3f}")
        bar.update()
    bar.close()
    return rows


def _run_search(spec: NASSpec, seed: int, method: str, data: NASData, cache: FitnessCache,
                backend: Backend, sink: RunSink, rows: list[dict],
                checkpoint: Checkpoint | None) -> dict:
    key = task_key(seed, method)
    start, trained_before = time.perf_counter(), cache.trainings
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(method.encode())]))

    def on_evaluation(count: int) -> None:
        new = cache.trainings - trained_before
        if checkpoint is not None and new and new % spec.checkpoint_every == 0:
            checkpoint.save({"rows": rows, "seed": seed, "cache": cache.to_dict()})

    def on_update(report) -> None:
        sink.put_histograms(f"{key}/update{report.step:04d}", [h for _, h in report.histograms],
                            labels=",".join(label for label, _ in report.histograms),
                            step=report.step)
        sink.log_scalar(f"{key}/expected_cost", report.expected_cost, report.step)

    result = search(method, lambda bits: cache(bits).val_accuracy, N_BITS, spec.search, rng,
                    backend=backend, on_evaluation=on_evaluation, on_update=on_update)
    curves = search_curves(result.keys, cache.entries, data.y_val.numpy(),
                           data.y_test.numpy(), spec.search.ensemble_size)
    best = result.population[0]
    return {
        "task": key, "dataset": spec.dataset, "seed": seed, "method": method,
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
    }


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and sample std over seeds of the final accuracies, per (dataset, method)."""
    out = []
    for dataset, method in dict.fromkeys((r["dataset"], r["method"]) for r in rows):
        part = [r for r in rows if (r["dataset"], r["method"]) == (dataset, method)]
        entry = {"dataset": dataset, "method": method, "seeds": len(part)}
        for metric in ("best_val", "best_test", "ensemble_val", "ensemble_test",
                       "evaluations", "seconds"):
            values = np.array([r[metric] for r in part], dtype=float)
            entry[f"{metric}_mean"] = float(values.mean())
            entry[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        out.append(entry)
    return out

