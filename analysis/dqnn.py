# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Distributed QNN (Quantum-Train): accuracy vs bond dimension, training curves, ablations
#
# Data (see `paper/figures.toml`): `qnn run dqnn with paper_chi_sweep`, `... with
# hardware_14` (through two emulated or real PT systems) and `... with hardware_14
# photonics.backend=exact` (noiseless), `... with ablation_random`, `... with noise_sweep`.
# Each section draws the newest completed run of its named config under `runs/`.

# %%
import csv
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from qnn.runs import find_runs, latest_run
from qnn.runs.tables import aggregate

RUNS = Path(os.environ.get("QNN_RUNS_DIR", "../runs"))
OUT = Path(os.environ.get("QNN_FIGURES_DIR", "../paper/figures"))
OVERRIDE = os.environ.get("QNN_LABEL")
OUT.mkdir(parents=True, exist_ok=True)
SAVE = {"metadata": {"Software": None}, "dpi": 120}


def tasks(label):
    return latest_run(RUNS, "dqnn", label=OVERRIDE or label).results("tasks")


# %% [markdown]
# ## Test accuracy and trained parameters vs bond dimension χ

# %%
rows = tasks("paper_chi_sweep")
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

# %% [markdown]
# ## Accuracy vs training round: QPUs (emulated or real) vs noiseless simulation, and the
# ## random-input ablation

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.5))
curves = [(run, "hardware_14") for run in find_runs(RUNS, "dqnn",
                                                    label=OVERRIDE or "hardware_14")]
curves += [(latest_run(RUNS, "dqnn", label=OVERRIDE or "ablation_random"), "ablation_random")]
for run, label in curves:
    backend = run.config["photonics"]["backend"]
    for row in run.results("tasks"):
        accuracy = 100 * np.asarray(row["curve_test_accuracy"])
        ax.plot(range(1, len(accuracy) + 1), accuracy,
                label=f"{label} ({backend}), χ={row['bond_dim']}, seed {row['seed']}")
ax.set_xlabel("training round")
ax.set_ylabel("test accuracy (%)")
ax.legend(fontsize="x-small")
fig.tight_layout()
fig.savefig(OUT / "dqnn_training_curves.png", **SAVE)

# %% [markdown]
# ## Accuracy vs noise

# %%
rows = tasks("noise_sweep")
labels = [", ".join(f"{k}={v}" for k, v in (r.get("noise") or {}).items()) or "ideal"
          for r in rows]
summary = aggregate([{**r, "level": lab} for r, lab in zip(rows, labels, strict=True)],
                    by=("level",), metrics=("test_accuracy",))
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.barh([s["level"] for s in summary], [100 * s["test_accuracy_mean"] for s in summary],
        xerr=[100 * s["test_accuracy_std"] for s in summary])
ax.set_xlabel("test accuracy (%)")
fig.tight_layout()
fig.savefig(OUT / "dqnn_noise.png", **SAVE)
