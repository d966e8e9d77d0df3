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
# hardware_14 photonics.backend=exact` (noiseless), `... with ablation_random` and `... with
# paper_chi_sweep` (its χ=10 curves, beside the ablation).

# %%
import matplotlib.pyplot as plt
import numpy as np

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import find_runs, latest_run

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS


# %% [markdown]
# ## Accuracy vs training round
# Left: the seed's Figure 2, two PT systems (emulated or real) against noiseless simulation.
# Right: the published regime at χ=10, photonic vectors against uniform random numbers drawn
# anew at every step (the ablation), same data split and MPS initialisation.

# %%
def plot_tasks(ax, run, name, keep=lambda row: True):
    backend = run.config["photonics"]["backend"]
    for row in run.results("tasks"):
        if keep(row):
            accuracy = 100 * np.asarray(row["curve_test_accuracy"])
            ax.plot(range(1, len(accuracy) + 1), accuracy,
                    label=f"{name} ({backend}), χ={row['bond_dim']}, seed {row['seed']}")


fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for run in find_runs(RUNS, "dqnn", label=SETTINGS.label_or("hardware_14")):
    plot_tasks(left, run, "hardware_14")
ablation = latest_run(RUNS, "dqnn", label=SETTINGS.label_or("ablation_random"))
plot_tasks(right, ablation, "random vectors")
sweeps = find_runs(RUNS, "dqnn", label=SETTINGS.label_or("paper_chi_sweep"))
if sweeps and not SETTINGS.label:  # the smoke check draws its one run once
    chis = {row["bond_dim"] for row in ablation.results("tasks")}
    plot_tasks(right, sweeps[-1], "photonic", keep=lambda row: row["bond_dim"] in chis)
for ax, title in ((left, "two PT systems vs noiseless"), (right, "photonic vs random ablation")):
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("training round")
    ax.legend(fontsize="xx-small")
left.set_ylabel("test accuracy (%)")
fig.tight_layout()
fig.savefig(OUT / "dqnn_training_curves.png", **SAVE)
