# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Distributed QNN (Quantum-Train): accuracy vs training round
#
# Data: `qnn run dqnn with hardware_14` (two emulated or real PT systems), `... with
# hardware_14 photonics.backend=exact` (noiseless) and `... with ablation_random`.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from qnn.runs import find_runs, latest_run

RUNS = Path(os.environ.get("QNN_RUNS_DIR", "../runs"))
OUT = Path(os.environ.get("QNN_FIGURES_DIR", "../paper/figures"))
OVERRIDE = os.environ.get("QNN_LABEL")
OUT.mkdir(parents=True, exist_ok=True)
SAVE = {"metadata": {"Software": None}, "dpi": 120}


def tasks(label):
    """Rows of every completed run of a named config: a sweep may be split over many runs."""
    runs = find_runs(RUNS, "dqnn", label=OVERRIDE or label)
    if not runs:
        latest_run(RUNS, "dqnn", label=OVERRIDE or label)  # raises, naming the command to run
    return [row for run in runs for row in run.results("tasks")]


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

