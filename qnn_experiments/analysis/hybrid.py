# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Hybrid QNN: photonic layers inside classical networks
#
# Data (see the figure manifest): `qnn run hybrid with circle`, `... with digits` (hybrid vs
# classical twin with the same trainable-parameter count, 5 seeds) and `... with shots_sweep`
# (accuracy vs shots per circuit evaluation, trained on samples with the shift rule).

# %%
import csv

import matplotlib.pyplot as plt
import numpy as np

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import task_rows
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS
STUDIES = ("circle", "digits")
NAMES = {"hybrid": "photonic layer", "classical": "classical twin (equal parameters)",
         "linear": "full linear layer (reference)"}


def curve_band(rows, key):
    """Mean and std over seeds of one per-epoch curve."""
    curves = np.array([row[f"curve_{key}"] for row in rows], dtype=float)
    return curves.mean(axis=0), curves.std(axis=0)


# %% [markdown]
# ## Test accuracy and training loss per epoch; the table of final test accuracies

# %%
fig, axes = plt.subplots(2, len(STUDIES), figsize=(10, 6), squeeze=False)
table = []
for column, study in enumerate(STUDIES):
    rows = [r for r in task_rows(RUNS, "hybrid", label=SETTINGS.label_or(study))
            if r["shots"] is None]
    for model in [m for m in NAMES if any(r["model"] == m for r in rows)]:
        part = [r for r in rows if r["model"] == model]
        epochs = np.arange(1, len(part[0]["curve_test_accuracy"]) + 1)
        for ax, key, scale in ((axes[0, column], "test_accuracy", 100),
                               (axes[1, column], "train_loss", 1)):
            mean, std = curve_band(part, key)
            ax.plot(epochs, scale * mean, label=NAMES[model])
            ax.fill_between(epochs, scale * (mean - std), scale * (mean + std), alpha=0.2)
    axes[0, column].set_title(study)
    axes[0, column].set_ylabel("test accuracy (%)")
    axes[1, column].set_ylabel("training loss")
    axes[1, column].set_xlabel("epoch")
    for s in aggregate(rows, by=("model",), metrics=("test_accuracy", "n_trainable")):
        table.append([study, s["model"], s["n"], int(s["n_trainable_mean"]),
                      f"{100 * s['test_accuracy_mean']:.2f}",
                      f"{100 * s['test_accuracy_std']:.2f}"])
axes[0, 0].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "hybrid_curves.png", **SAVE)
with open(OUT / "hybrid_table.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["dataset", "model", "seeds", "trainable_parameters", "test_accuracy_mean",
                     "test_accuracy_std"])
    writer.writerows(table)

# %% [markdown]
# ## Accuracy vs shots per circuit evaluation (shift-rule gradients on samples)

# %%
rows = [r for r in task_rows(RUNS, "hybrid", label=SETTINGS.label_or("shots_sweep"))
        if r["model"] == "hybrid"]
sampled = aggregate([r for r in rows if r["shots"] is not None], by=("shots",),
                    metrics=("test_accuracy",))
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar([s["shots"] for s in sampled], [100 * s["test_accuracy_mean"] for s in sampled],
            yerr=[100 * s["test_accuracy_std"] for s in sampled], fmt="o-", capsize=3,
            label="sampled forward + shift-rule gradients")
exact = [r["test_accuracy"] for r in rows if r["shots"] is None]
if exact:
    ax.axhline(100 * np.mean(exact), color="grey", ls="--", label="exact probabilities")
ax.set_xscale("log")
ax.set_xlabel("shots per circuit evaluation")
ax.set_ylabel("test accuracy (%)")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "hybrid_shots.png", **SAVE)
