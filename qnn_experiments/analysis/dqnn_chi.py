# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Distributed QNN (Quantum-Train): accuracy and trained parameters vs bond dimension
#
# Data (see the figure manifest): `qnn run dqnn with paper_chi_sweep` (every completed run of
# it, so a sweep may be split over runs) and, when present, `qnn run dqnn with baselines`.

# %%
import csv

import matplotlib.pyplot as plt

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import find_runs, task_rows
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS


# %% [markdown]
# ## Test accuracy and trained parameters vs bond dimension χ

# %%
rows = task_rows(RUNS, "dqnn", label=SETTINGS.label_or("paper_chi_sweep"))
summary = aggregate(rows, by=("bond_dim",), metrics=("test_accuracy", "n_total"))
with open(OUT / "dqnn_chi_table.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["chi", "runs", "trained_parameters", "test_accuracy_mean",
                     "test_accuracy_std"])
    for s in summary:
        writer.writerow([s["bond_dim"], s["n"], int(s["n_total_mean"]),
                         f"{100 * s['test_accuracy_mean']:.2f}",
                         f"{100 * s['test_accuracy_std']:.2f}"])
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar([s["bond_dim"] for s in summary], [100 * s["test_accuracy_mean"] for s in summary],
            yerr=[100 * s["test_accuracy_std"] for s in summary], fmt="o-", capsize=3,
            label="Quantum-Train")
# The classical comparisons, when a `baselines` run exists (`qnn run dqnn with baselines`).
for run in find_runs(RUNS, "dqnn", label="baselines")[-1:]:
    base = aggregate(run.results("tasks"), by=("method", "bond_dim"),
                     metrics=("test_accuracy",))
    for method in sorted({b["method"] for b in base}):
        part = [b for b in base if b["method"] == method]
        ax.plot([b["bond_dim"] for b in part], [100 * b["test_accuracy_mean"] for b in part],
                "s--", label=f"{method} (equal parameters)" if method != "classical"
                else "classical CNN (all weights)")
ax.set_xlabel("MPS bond dimension χ")
ax.set_ylabel("test accuracy (%)")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "dqnn_chi_sweep.png", **SAVE)

