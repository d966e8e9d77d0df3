# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Distributed QNN (Quantum-Train): accuracy and trained parameters vs bond dimension
#
# Data (see the figure manifest): `qnn run dqnn with paper_chi_sweep` (every completed run of
# exactly that config, distinct seeds pooled) and, when present, `qnn run dqnn with
# baselines` (the classical CNN and classical compressions at each χ's parameter count).

# %%
import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
qp.use_style()


def chi_summary(figure, selection):
    """Per method and χ: test accuracy (%) and trained parameters, noiseless tasks only."""
    rows = [r for r in selection.rows() if r.get("noise_level") is None]
    summary = pd.DataFrame(aggregate(rows, by=("method", "bond_dim"),
                                     metrics=("test_accuracy", "n_total")))
    return summary.assign(runs=selection.name, shown=qp.short_name(figure.drawn, selection),
                          test_accuracy_pct_mean=100 * summary["test_accuracy_mean"],
                          test_accuracy_pct_std=100 * summary["test_accuracy_std"])


# %% [markdown]
# ## Test accuracy and trained parameters vs bond dimension χ; the table behind them

# %%
with SETTINGS.figure("dqnn_chi_sweep") as figure:
    (sweep,) = figure.select(Request("dqnn", "paper_chi_sweep"))
    (baselines,) = figure.select(Request("dqnn", "baselines"), optional=True)
    selections = [s for s in (sweep, baselines) if s]
    summary = pd.concat([chi_summary(figure, s) for s in selections], ignore_index=True)
    series = list(dict.fromkeys(zip(summary["shown"], summary["method"], strict=True)))
    styles = qp.series_styles(series)
    fig, (accuracy, parameters) = qp.panels(2, width=qp.COLUMN, max_cols=1, sharex=True,
                                            panel_height=1.6, legend_height=0.9)
    for i, key in enumerate(series):
        part = summary[(summary["shown"] == key[0]) & (summary["method"] == key[1])]
        x = qp.dodge(part["bond_dim"], i, len(series))
        label = f"{key[1]} ({key[0]})"
        qp.errorbars(accuracy, x, part["test_accuracy_pct_mean"], part["test_accuracy_pct_std"],
                     label=label, **styles[key])
        parameters.plot(x, part["n_total_mean"], label=label, **styles[key])
    accuracy.set_title("test accuracy")
    accuracy.set_ylabel("test accuracy (%)")
    parameters.set_title("trained parameters")
    parameters.set_ylabel("parameters")
    parameters.set_yscale("log")
    qp.plain_log(parameters)
    parameters.set_xlabel("MPS bond dimension χ")
    qp.integer_axis(parameters, values=summary["bond_dim"])
    qp.legend(fig, (accuracy,), ncols=1, title=qp.caption(
        selections, qp.spread_note(summary["n"], "seeds")))
    qp.save(fig, OUT / "dqnn_chi_sweep.png")
    table = summary.assign(trained_parameters=summary["n_total_mean"].round().astype(int))
    qp.write_table(table[["runs", "method", "bond_dim", "n", "trained_parameters",
                          "test_accuracy_pct_mean", "test_accuracy_pct_std"]],
                   OUT / "dqnn_chi_table", caption=(
                       f"Test accuracy (%, {qp.SPREAD} over the n seeds) and trained "
                       f"parameters per method and MPS bond dimension. Runs: "
                       f"{'; '.join(s.label for s in selections)}."))
