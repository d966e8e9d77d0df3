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
# Data: `qnn run dqnn with noise_sweep` (every completed run of exactly that config,
# distinct seeds pooled). One panel per noise parameter varied alone, the noiseless level
# drawn at that parameter's ideal value (transmission 1, indistinguishability 1, dark counts
# 0); levels that vary several parameters at once are in the table only.

# %%
from dataclasses import fields

import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.photonics import NoiseModel
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
IDEAL = {f.name: f.default for f in fields(NoiseModel)}  # a parameter's noiseless value
PANELS = {  # parameter: (what it models, its axis)
    "transmission": ("photon loss", "transmission η"),
    "indistinguishability": ("partial distinguishability", "HOM visibility x²"),
    "dark_count_prob": ("dark counts", "dark-count probability per shot"),
    "detector_efficiency": ("detector loss", "detector efficiency")}
qp.use_style()


def level_name(noise):
    return ", ".join(f"{k}={v}" for k, v in sorted((noise or {}).items())) or "noiseless"


# %%
with SETTINGS.figure("dqnn_noise") as figure:
    (runs,) = figure.select(Request("dqnn", "noise_sweep"))
    rows = [{**r, "level": level_name(r.get("noise"))} for r in runs.rows()
            if r["method"] == "quantum_train"]
    summary = pd.DataFrame(aggregate(rows, by=("level",), metrics=("test_accuracy",)))
    summary = summary.assign(test_accuracy_pct_mean=100 * summary["test_accuracy_mean"],
                             test_accuracy_pct_std=100 * summary["test_accuracy_std"])
    noise = {level_name(r.get("noise")): r.get("noise") or {} for r in rows}
    single = list(dict.fromkeys(k for n in noise.values() if len(n) == 1 for k in n))
    fig, axes = qp.panels(max(len(single), 1), max_cols=3, sharey=True, panel_height=1.9,
                          width=qp.PAGE if len(single) > 1 else qp.COLUMN)
    ideal = summary[summary["level"] == "noiseless"]
    style = qp.series_styles(["quantum_train"])["quantum_train"]
    for ax, parameter in zip(axes, single or [None], strict=True):
        if parameter is None:  # no noise levels: the noiseless accuracy alone
            part = ideal.assign(x=0)
            ax.set_xticks([0], ["noiseless (no noise levels in these runs)"])
            ax.set_title("test accuracy without noise")
        else:
            levels = [level for level, n in noise.items() if list(n) == [parameter]]
            part = summary[summary["level"].isin(levels)].assign(
                x=lambda f, p=parameter: [noise[level][p] for level in f["level"]])
            part = pd.concat([part, ideal.assign(x=IDEAL[parameter])]).sort_values("x")
            title, axis = PANELS.get(parameter, (parameter, parameter))
            ax.set_title(title)
            ax.set_xlabel(axis)
        handle = qp.errorbars(ax, part["x"], part["test_accuracy_pct_mean"],
                              part["test_accuracy_pct_std"], **style)
    axes[0].set_ylabel("test accuracy (%)")
    qp.legend(fig, axes, entries=[(handle, "quantum_train")], title=qp.caption(
        [runs], qp.spread_note(summary["n"], "seeds")))
    qp.save(fig, OUT / "dqnn_noise.png")
    qp.write_table(summary[["level", "n", "test_accuracy_pct_mean", "test_accuracy_pct_std"]],
                   OUT / "dqnn_noise_table", caption=(
                       f"Quantum-Train test accuracy (%, {qp.SPREAD} over the n seeds) per "
                       f"noise level. Runs: {runs.label}."))
