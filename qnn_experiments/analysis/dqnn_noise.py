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
import matplotlib.pyplot as plt

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import task_rows
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS


# %% [markdown]
# ## Accuracy vs noise

# %%
rows = task_rows(RUNS, "dqnn", label=SETTINGS.label_or("noise_sweep"))
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
