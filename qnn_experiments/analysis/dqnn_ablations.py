# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Quantum-Train: where the accuracy comes from
#
# The MPS builds weight j from the features [index bits of j, value j], the value coming
# from the photonic outer product. Each input mode replaces part of that (see
# `qnn.qtrain.train.TrainConfig`): `random_values` redraws the values every pass and keeps
# the bits (our earlier ablation), `published_ablation` replaces values *and* bits every
# pass (the published code's ablation: every weight then gets the same features up to
# noise, so chance accuracy follows by construction), `bits_only` keeps the bits with a
# constant value, `fixed_random` one random vector for the whole run.
#
# Data (see the figure manifest): `qnn run dqnn with ablations`. Where present, runs of the
# published regime whose circuit angles are trained harder are drawn beside the photonic mode
# (which trains them by our COBYLA default, 20 evaluations a round): by autograd
# (`paper_chi_sweep train.angle_method=autograd`) and by the published COBYLA
# (`paper_chi_sweep published_cobyla`, 1,000 evaluations a round).

# %%
import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
qp.use_style()

MODES = ("photonic", "bits_only", "fixed_random", "random_values", "published_ablation")
# arXiv 2505.08474's logged ablation (the published code's, bits and values replaced), %
PUBLISHED_ABLATION = {1: 10.83, 4: 10.33, 10: 8.17}
CHANCE = 10.0  # % for ten balanced MNIST classes
SHOWN = {"photonic": "photonic, angles by our COBYLA (20 evaluations a round)"}

# %% [markdown]
# ## Test accuracy vs χ per input mode at 20 rounds; the modes at the published 200 rounds
#
# The sweep over χ ran at 20 rounds (3 seeds); its panel never mixes in a run of another
# length. Where runs at the published 200 rounds exist (χ = 1 so far), a second panel sets
# each mode beside the photonic values with autograd angles at the same 200 rounds.

# %%
R20 = {"train": {"rounds": 20}}


def quantum_train_rows(selection, inputs=None):
    return [{**r, **({} if inputs is None else {"inputs": inputs})} for r in selection.rows()
            if r["method"] == "quantum_train"]


def summarise(rows):
    summary = pd.DataFrame(aggregate(rows, by=("inputs", "bond_dim"),
                                     metrics=("test_accuracy",)))
    return summary.assign(accuracy_pct_mean=100 * summary["test_accuracy_mean"],
                          accuracy_pct_std=100 * summary["test_accuracy_std"])


def ordered(modes):
    return [m for m in MODES if m in modes] + sorted(m for m in modes if m not in MODES)


with SETTINGS.figure("dqnn_ablations") as figure:
    (runs,) = figure.select(Request("dqnn", "ablations", R20))
    rows = quantum_train_rows(runs)
    harder = {"photonic, angles by autograd": Request(
                  "dqnn", "paper_chi_sweep", {"train": {"angle_method": "autograd", "rounds": 20}}),
              "photonic, angles by the published COBYLA": Request(
                  "dqnn", "paper_chi_sweep published_cobyla", R20)}
    trained = []
    for mode, selection in zip(harder, figure.select(*harder.values(), optional=True),
                               strict=True):
        if selection:
            trained.append(selection)
            rows += quantum_train_rows(selection, mode)
    summary = summarise(rows)
    full_runs = [s for s in figure.select(
        Request("dqnn", "ablations"),
        Request("dqnn", "paper_chi_sweep", {"train": {"angle_method": "autograd"}}),
        optional=True) if s]
    full = None
    if len(full_runs) == 2:  # the ablation modes and the photonic values, both at 200 rounds
        ablated, photonic = full_runs
        full = summarise(quantum_train_rows(ablated) + quantum_train_rows(
            photonic, "photonic, angles by autograd"))
        full = full[full["bond_dim"].isin(set(summarise(quantum_train_rows(ablated))
                                              ["bond_dim"]))]
    modes = ordered(set(summary["inputs"]) | (set() if full is None else set(full["inputs"])))
    styles = qp.series_styles(modes)
    fig, axes = qp.panels(1 if full is None else 2, width=qp.COLUMN if full is None else qp.PAGE,
                          panel_height=2.2, legend_height=1.2)
    ax = axes[0]
    present = [m for m in modes if m in set(summary["inputs"])]
    for i, mode in enumerate(present):
        part = summary[summary["inputs"] == mode].sort_values("bond_dim")
        qp.errorbars(ax, qp.dodge(part["bond_dim"], i, len(present), log=True),
                     part["accuracy_pct_mean"], part["accuracy_pct_std"],
                     label=SHOWN.get(mode, mode), **styles[mode])
    shown = pd.Series(PUBLISHED_ABLATION)
    shown = shown[shown.index.isin(summary["bond_dim"])]  # at the χ drawn here, undodged
    ax.plot(shown.index, shown.values, linestyle="none", marker="o", markersize=7,
            fillstyle="none", color="0.3", label="published ablation, as logged (arXiv 2505.08474)")
    ax.set_xscale("log")  # χ = 1, 2, 4, 10: doublings, evenly spaced
    qp.log_ticks(ax, summary["bond_dim"])
    ax.set_xlabel("MPS bond dimension χ")
    ax.set_title("20 rounds", fontsize="medium")
    if full is not None:
        right = axes[1]
        order = [m for m in modes if m in set(full["inputs"])]
        for k, mode in enumerate(order):
            part = full[full["inputs"] == mode]
            qp.errorbars(right, [k] * len(part), part["accuracy_pct_mean"],
                         part["accuracy_pct_std"], **styles[mode])
            for _, row in part.iterrows():
                right.annotate(f"n = {row['n']}", (k, row["accuracy_pct_mean"]),
                               textcoords="offset points", xytext=(6, 0), va="center",
                               fontsize="x-small")
            published = part["bond_dim"].map(PUBLISHED_ABLATION).dropna()
            if mode == "published_ablation" and len(published):
                right.plot([k] * len(published), published, linestyle="none", marker="o",
                           markersize=7, fillstyle="none", color="0.3")
        right.set_xticks(range(len(order)), [m.replace(", angles by ", "\n(angles by ")
                                             + (")" if ", angles by " in m else "")
                                             for m in order],
                         rotation=25, ha="right", fontsize="small")
        right.set_xlim(-0.5, len(order) - 0.3)
        chis = ", ".join(str(c) for c in sorted(set(full["bond_dim"])))
        right.set_title(f"the published 200 rounds, χ = {chis}", fontsize="medium")
    for panel in axes:
        panel.axhline(CHANCE, color="0.5", linewidth=0.8, linestyle=":",
                      label="chance (10 classes)" if panel is ax else None)
        panel.set_ylabel("test accuracy (%)")
    counts = list(summary["n"]) + ([] if full is None else list(full["n"]))
    qp.legend(fig, (ax,), ncols=2, title=qp.caption(
        [runs, *trained, *full_runs], qp.spread_note(counts, "seeds")))
    qp.save(fig, OUT / "dqnn_ablations.png")
    tables = [summary.assign(rounds=20)] + ([] if full is None else [full.assign(rounds=200)])
    table = pd.concat(tables, ignore_index=True)
    table = table.assign(  # the runs are named in the caption
        published_pct=table["bond_dim"].map(PUBLISHED_ABLATION).where(
            table["inputs"] == "published_ablation"))
    table = table.sort_values(["rounds", "inputs", "bond_dim"], key=lambda c: c.map(
        {m: k for k, m in enumerate(modes)}) if c.name == "inputs" else c)
    qp.write_table(table[["rounds", "inputs", "bond_dim", "n", "accuracy_pct_mean",
                          "accuracy_pct_std", "published_pct"]],
                   OUT / "dqnn_ablations_table", caption=(
                       f"Test accuracy (%, {qp.SPREAD} over the n seeds) per training length, "
                       f"input mode and MPS bond dimension, and the published code's logged "
                       f"ablation (its length not stated with the log). "
                       f"Runs: {'; '.join(s.label for s in [runs, *trained, *full_runs])}."))
