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
import matplotlib.pyplot as plt
import numpy as np

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import find_runs, latest_run

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS


# %% [markdown]
# ## Accuracy vs training round: QPUs (emulated or real) vs noiseless simulation, and the
# ## random-input ablation

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.5))
hardware = find_runs(RUNS, "dqnn", label=SETTINGS.label_or("hardware_14"))
ablation = latest_run(RUNS, "dqnn", label=SETTINGS.label_or("ablation_random"))
curves = [(run, "hardware_14") for run in hardware] + [(ablation, "ablation_random")]
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

