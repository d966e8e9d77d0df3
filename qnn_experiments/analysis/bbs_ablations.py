# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # BBS ablations: is the trained interferometer, and are boson samples, needed?
#
# Data: `qnn run bbs with ablation_frozen` and `qnn run bbs with ablation_random_clicks`
# (the figure manifest). `bbs_frozen` never updates the angles; `bbs_random_clicks` replaces
# the boson samples by independent clicks with the circuit's per-mode click rates, the
# control that separates "quantum" from "any click distribution".

# %%
import matplotlib.pyplot as plt

from qnn.figures import SAVE_OPTIONS, notebook_settings
from qnn.runs import latest_run
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
RUNS, OUT, SAVE = SETTINGS.runs_dir, SETTINGS.out_dir, SAVE_OPTIONS

panels = {}
for label, variant in (("ablation_frozen", "bbs_frozen"),
                       ("ablation_random_clicks", "bbs_random_clicks")):
    run = latest_run(RUNS, "bbs", label=SETTINGS.label_or(label))
    rows = [r for r in run.results("tasks") if r["method"] in ("bbs", variant, "random")]
    panels[variant] = aggregate(rows, by=("problem", "size", "method"), metrics=("success",))
    print(f"{variant}: run {run.path}, {len(rows)} tasks")

# %%
problems = sorted({s["problem"] for part in panels.values() for s in part})
fig, axes = plt.subplots(len(panels), len(problems), figsize=(4 * len(problems), 6),
                         squeeze=False, sharey=True)
for row, (variant, summary) in enumerate(panels.items()):
    for col, problem in enumerate(problems):
        ax = axes[row, col]
        for method in ("bbs", variant, "random"):
            part = [s for s in summary if s["problem"] == problem and s["method"] == method]
            ax.plot([s["size"] for s in part], [100 * s["success_mean"] for s in part], "o-",
                    label=method)
        ax.set_title(f"{problem}: bbs vs {variant}")
        ax.set_ylim(-5, 105)
        ax.set_xlabel("problem size m (bits)")
    axes[row, 0].set_ylabel("solved to optimality (%)")
    axes[row, -1].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "bbs_ablations.png", **SAVE)
