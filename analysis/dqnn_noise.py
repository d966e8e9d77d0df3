# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Distributed QNN (Quantum-Train): accuracy vs noise
#
# Data: `qnn run dqnn with noise_sweep` (every completed run of it).

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt

from qnn.runs import find_runs, latest_run
from qnn.runs.tables import aggregate

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
