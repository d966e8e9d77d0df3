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
# control that separates "quantum" from "any click distribution". One row of panels per
# set of runs: where both names resolve to the same runs (`qnn figures --label smoke`),
# they are drawn once.

# %%
import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
METHODS = ("bbs", "bbs_frozen", "bbs_random_clicks", "random")  # what the ablations compare
qp.use_style()

# %%
with SETTINGS.figure("bbs_ablations") as figure:
    selections = [s for s in figure.select(Request("bbs", "ablation_frozen"),
                                           Request("bbs", "ablation_random_clicks")) if s]
    rows = [[r for r in s.rows() if r["method"] in METHODS] for s in selections]
    summaries = [pd.DataFrame(aggregate(part, by=("problem", "size", "method"),
                                        metrics=("success",))) for part in rows]
    problems = list(dict.fromkeys(r["problem"] for part in rows for r in part))  # as run
    styles = qp.series_styles(METHODS)
    fig, axes = qp.grid(len(selections), len(problems), sharey=True, panel_height=1.7)
    for row, (selection, summary) in enumerate(zip(selections, summaries, strict=True)):
        methods = [m for m in METHODS if m in set(summary["method"])]
        for col, problem in enumerate(problems):
            ax = axes[row, col]
            for i, method in enumerate(methods):
                part = summary[(summary["problem"] == problem) & (summary["method"] == method)]
                ax.plot(qp.dodge(part["size"], i, len(methods)), 100 * part["success_mean"],
                        label=method, **styles[method])
            ax.set_title(f"{problem} — {qp.short_name(selections, selection)}")
            ax.set_ylim(-5, 105)
            ax.set_xlabel("problem size m (bits)")
            qp.integer_axis(ax, values=summary["size"][summary["problem"] == problem])
        axes[row, 0].set_ylabel("solved to optimality (%)")
    counts = pd.concat(summaries)["n"]
    qp.legend(fig, axes.flat, ncols=len(METHODS), title=qp.caption(
        selections, f"share of the n = {qp.counts_text(counts)} instances per point solved "
                    f"to optimality"))
    qp.save(fig, OUT / "bbs_ablations.png")
