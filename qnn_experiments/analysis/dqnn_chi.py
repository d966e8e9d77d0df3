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
from qnn.runs.config_data import read_json_data
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
qp.use_style()

# arXiv 2505.08474's table: test accuracy (%) after 200 rounds, mean and std where given
PUBLISHED = {1: (55.78, 3.28), 2: (81.38, 2.29), 3: (87.06, None), 4: (93.29, 0.63),
             5: (93.04, None), 6: (94.92, None), 7: (94.96, None), 8: (94.71, None),
             9: (94.84, None), 10: (95.50, 0.84)}
PUBLISHED_CNN = (96.89, 0.31)  # its classical CNN


def chi_summary(figure, selection):
    """Per method and χ: test accuracy (%) and trained parameters, noiseless tasks only."""
    rows = [r for r in selection.rows() if r.get("noise_level") is None]
    summary = pd.DataFrame(aggregate(rows, by=("method", "bond_dim"),
                                     metrics=("test_accuracy", "n_total")))
    configs = [read_json_data(folder / "config.json") for folder in selection.folders]
    published_regime = all((c["dataset"], c["target"]) == ("mnist_published", "paper")
                           for c in configs)
    return summary.assign(runs=selection.name, shown=qp.short_name(figure.drawn, selection),
                          published_regime=published_regime,
                          test_accuracy_pct_mean=100 * summary["test_accuracy_mean"],
                          test_accuracy_pct_std=100 * summary["test_accuracy_std"])


# %% [markdown]
# ## Test accuracy and trained parameters vs bond dimension χ; the table behind them

# %%
with SETTINGS.figure("dqnn_chi_sweep") as figure:
    (sweep,) = figure.select(Request("dqnn", "paper_chi_sweep"))
    meshes, baselines = figure.select(Request("dqnn", "paper_chi_sweep paper_meshes"),
                                      Request("dqnn", "baselines"), optional=True)
    selections = [s for s in (sweep, meshes, baselines) if s]
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
    # the published numbers only beside runs of the published regime (MNIST 6,000 / 600,
    # its CNN): never beside a smoke run on 8x8 digits
    regime = summary[summary["published_regime"]]
    published = pd.DataFrame([(chi, mean, std) for chi, (mean, std) in PUBLISHED.items()
                              if chi in set(regime["bond_dim"])],
                             columns=["bond_dim", "mean", "std"])
    if len(published):
        accuracy.errorbar(published["bond_dim"], published["mean"],
                          published["std"].fillna(0), linestyle="none", marker="o",
                          fillstyle="none", color="0.3", markersize=6,
                          label="published (arXiv 2505.08474), mean ± std")
    accuracy.set_title("test accuracy")
    accuracy.set_ylabel("test accuracy (%)")
    parameters.set_title("trained parameters")
    parameters.set_ylabel("parameters")
    if summary["n_total_mean"].max() > 10 * summary["n_total_mean"].min():
        parameters.set_yscale("log")  # χ = 1..10 spans decades of parameters
        qp.plain_log(parameters)
    parameters.set_xlabel("MPS bond dimension χ")
    qp.integer_axis(parameters, values=summary["bond_dim"])
    qp.legend(fig, (accuracy,), ncols=1, title=qp.caption(
        selections, qp.spread_note(summary["n"], "seeds")))
    qp.save(fig, OUT / "dqnn_chi_sweep.png")
    table = summary.assign(
        trained_parameters=summary["n_total_mean"].round().astype(int),
        published_pct=[None if not regime else PUBLISHED_CNN[0] if m == "classical"
                       else PUBLISHED.get(chi, (None,))[0] if m == "quantum_train" else None
                       for m, chi, regime in zip(summary["method"], summary["bond_dim"],
                                                 summary["published_regime"], strict=True)])
    qp.write_table(table[["runs", "method", "bond_dim", "n", "trained_parameters",
                          "test_accuracy_pct_mean", "test_accuracy_pct_std", "published_pct"]],
                   OUT / "dqnn_chi_table", caption=(
                       f"Test accuracy (%, {qp.SPREAD} over the n seeds) and trained "
                       f"parameters per method and MPS bond dimension, beside the published "
                       f"test accuracy after 200 rounds (arXiv 2505.08474). Runs: "
                       f"{'; '.join(s.label for s in selections)}."))
