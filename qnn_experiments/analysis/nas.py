# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Quantum-guided architecture search: photonic proposals vs baselines at equal budgets
#
# Data: `qnn run nas with digits` (the figure manifest). Every method trains the same number
# of distinct architectures (the x axis); `photonic` proposes from the BBS sampler (boson
# click samples XOR trainable flips), `bernoulli` from the same loop with independent clicks
# at the sampler's per-mode rates, `evolution` is a (μ + λ) EA, `random` uniform bitstrings.
# Lines are means over seeds, bands ± one standard deviation; the accuracy panels zoom on the
# range after the first fifth of the budget. The last panel asks whether the proposal
# distribution learns: the trailing mean fitness of the architectures each method proposes.

# %%
import csv

import matplotlib.pyplot as plt
import numpy as np

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import task_rows
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS

rows = task_rows(RUNS, "nas", label=SETTINGS.label_or("digits"))
methods = list(dict.fromkeys(r["method"] for r in rows))
print(f"{len(rows)} searches, methods {methods}, seeds {sorted({r['seed'] for r in rows})}")


def curve_matrix(part: list[dict], name: str) -> np.ndarray:
    """(seeds, budget) curve; a search that stopped short keeps its last value."""
    budget = max(r["budget"] for r in part)
    values = [r[f"curve_{name}"] for r in part]
    return np.array([v + [v[-1]] * (budget - len(v)) for v in values])


# %%
panels = (("best_val", "best architecture: validation"), ("best_test", "best architecture: test"),
          ("ensemble_val", "top-K ensemble: validation"), ("ensemble_test", "top-K ensemble: test"),
          ("fitness", "proposals: validation (mean of last 10)"))
budget = max(r["budget"] for r in rows)
fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 3.6))
for ax, (name, title) in zip(axes, panels, strict=True):
    shown = []  # band edges after the first fifth of the budget: the y range worth seeing
    for method in methods:
        matrix = 100 * curve_matrix([r for r in rows if r["method"] == method], name)
        if name == "fitness":  # is the proposal distribution learning? a trailing mean
            window = min(10, matrix.shape[1])
            matrix = np.array([np.convolve(m, np.ones(window) / window, "valid") for m in matrix])
        x = np.arange(1, matrix.shape[1] + 1) + (budget - matrix.shape[1])
        mean, std = matrix.mean(axis=0), matrix.std(axis=0)
        ax.plot(x, mean, label=method)
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        late = x >= budget / 5
        shown += [*(mean - std)[late], *(mean + std)[late]]
    if name != "fitness":
        ax.set_ylim(min(shown) - 0.5, min(max(shown), 100) + 0.5)
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("fitness evaluations")
axes[0].set_ylabel("accuracy (%)")
axes[-1].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "nas_search_curves.png", **SAVE)

# %% [markdown]
# ## Final accuracies (mean ± std over seeds)

# %%
summary = aggregate(rows, by=("dataset", "method"),
                    metrics=("best_val", "best_test", "ensemble_val", "ensemble_test",
                             "evaluations", "seconds"))
with open(OUT / "nas_table.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["dataset", "method", "seeds", "evaluations", "best_val", "best_test",
                     "ensemble_val", "ensemble_test", "seconds_per_search"])
    for s in summary:
        writer.writerow([s["dataset"], s["method"], s["n"], f"{s['evaluations_mean']:.0f}",
                         *(f"{100 * s[f'{m}_mean']:.1f} ± {100 * s[f'{m}_std']:.1f}"
                           for m in ("best_val", "best_test", "ensemble_val",
                                     "ensemble_test")),
                         f"{s['seconds_mean']:.1f}"])
        print(s["method"], {m: f"{100 * s[f'{m}_mean']:.1f} ± {100 * s[f'{m}_std']:.1f}"
                            for m in ("best_val", "best_test", "ensemble_val", "ensemble_test")})

# %% [markdown]
# ## Paired differences to random search
#
# A seed fixes the data split and every architecture's training, so methods compare per seed.

# %%
baseline = {r["seed"]: r for r in rows if r["method"] == "random"}
for method in methods:
    if method == "random" or not baseline:
        continue
    for metric in ("best_test", "ensemble_test"):
        diffs = 100 * np.array([r[metric] - baseline[r["seed"]][metric] for r in rows
                                if r["method"] == method and r["seed"] in baseline])
        spread = diffs.std(ddof=1) if len(diffs) > 1 else 0.0
        print(f"{method} - random, {metric}: {diffs.mean():+.1f} ± {spread:.1f} points "
              f"({np.sum(diffs > 0)} of {len(diffs)} seeds better)")
