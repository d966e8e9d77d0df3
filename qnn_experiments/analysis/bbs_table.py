# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Bosonic Binary Solver: instances solved, relative error, training curves
#
# Data: `qnn run bbs with paper_table` (see the figure manifest); this notebook draws the
# newest completed run of that named config under `runs/`. It only reads and plots: the
# grouping lives in `qnn.runs.tables`, where it is tested.

# %%
import csv

import matplotlib.pyplot as plt

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import latest_run
from qnn.runs.tables import aggregate, gap_curves

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS

run = latest_run(RUNS, "bbs", label=SETTINGS.label_or("paper_table"))
rows = run.results("tasks")
summary = aggregate(rows, by=("problem", "size", "method"), metrics=("success", "rel_error"))
problems = sorted({s["problem"] for s in summary})
methods = sorted({s["method"] for s in summary})
print(f"run {run.path}: {len(rows)} tasks, problems {problems}, methods {methods}")

# %% [markdown]
# ## Solved to optimality and mean relative error vs size

# %%
fig, axes = plt.subplots(2, len(problems), figsize=(4 * len(problems), 6), squeeze=False,
                         sharex="col")
for col, problem in enumerate(problems):
    for method in methods:
        part = [s for s in summary if s["problem"] == problem and s["method"] == method]
        if not part:
            continue
        sizes = [s["size"] for s in part]
        axes[0, col].plot(sizes, [100 * s["success_mean"] for s in part], "o-", label=method)
        axes[1, col].errorbar(sizes, [s["rel_error_mean"] for s in part],
                              yerr=[s["rel_error_std"] for s in part], fmt="o-", capsize=3,
                              label=method)
    axes[0, col].set_title(problem)
    axes[0, col].set_ylim(-5, 105)
    axes[1, col].set_xlabel("problem size m (bits)")
axes[0, 0].set_ylabel("solved to optimality (%)")
axes[1, 0].set_ylabel("mean relative error")
axes[0, -1].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "bbs_success_vs_size.png", **SAVE)

# %% [markdown]
# ## The table behind the figure

# %%
with open(OUT / "bbs_table.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["problem", "size", "method", "instances", "solved_pct", "rel_error_mean",
                     "rel_error_std"])
    for s in summary:
        writer.writerow([s["problem"], s["size"], s["method"], s["n"],
                         f"{100 * s['success_mean']:.1f}", f"{s['rel_error_mean']:.4f}",
                         f"{s['rel_error_std']:.4f}"])

# %% [markdown]
# ## Training curves at the largest size: relative gap of the expected and best cost

# %%
bbs_methods = [m for m in methods if m.startswith("bbs")]
fig, axes = plt.subplots(1, len(problems), figsize=(4 * len(problems), 3.2), squeeze=False)
for col, problem in enumerate(problems):
    size = max(s["size"] for s in summary if s["problem"] == problem)
    for method in bbs_methods:
        part = [r for r in rows if (r["problem"], r["size"], r["method"]) == (problem, size,
                                                                              method)]
        for curve, style in (("curve_expected_cost", "-"), ("curve_best_cost", "--")):
            mean, std, n = gap_curves(part, curve)
            steps = range(1, len(mean) + 1)
            line, = axes[0, col].plot(steps, mean, style,
                                      label=f"{method} {curve.removeprefix('curve_')}")
            axes[0, col].fill_between(steps, mean - std, mean + std, alpha=0.15,
                                      color=line.get_color())
    axes[0, col].set_title(f"{problem}, m = {size} ({n} instances)")
    axes[0, col].set_xlabel("update")
axes[0, 0].set_ylabel("(cost − optimum) / |optimum|")
axes[0, -1].legend(fontsize="x-small")
fig.tight_layout()
fig.savefig(OUT / "bbs_training_curves.png", **SAVE)
