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
# ## Test accuracy vs χ per input mode, one panel per training length; the table
#
# The shipped sweep over χ ran at 20 rounds (3 seeds). Runs at the published 200 rounds
# (every ablation mode at χ = 1, 2, 4, 10, one seed; bits only at χ = 1 three) get a panel
# of their own, beside the photonic values with autograd angles at the same length and χ.
# A panel never mixes runs of different lengths.

# %%
R20 = {"train": {"rounds": 20}}
AUTOGRAD = "photonic, angles by autograd"


def quantum_train_rows(selection, inputs=None):
    return [{**r, **({} if inputs is None else {"inputs": inputs})} for r in selection.rows()
            if r["method"] == "quantum_train"]


def summarise(rows):
    summary = pd.DataFrame(aggregate(rows, by=("inputs", "bond_dim"),
                                     metrics=("test_accuracy",)))
    return summary.assign(accuracy_pct_mean=100 * summary["test_accuracy_mean"],
                          accuracy_pct_std=100 * summary["test_accuracy_std"])


def length_panel(ablated, photonic):
    """The ablation runs of one training length and, at the χ they cover, the photonic
    runs with harder-trained angles of the same length (label -> selection)."""
    rows = quantum_train_rows(ablated)
    chis = {r["bond_dim"] for r in rows}
    for label, selection in photonic.items():
        if selection:
            rows += [r for r in quantum_train_rows(selection, label) if r["bond_dim"] in chis]
    return summarise(rows)


with SETTINGS.figure("dqnn_ablations") as figure:
    short, published_cobyla, long, long_autograd = figure.select(
        Request("dqnn", "ablations", R20),
        Request("dqnn", "paper_chi_sweep published_cobyla", R20),
        Request("dqnn", "ablations"),
        Request("dqnn", "paper_chi_sweep", {"train": {"angle_method": "autograd"}}),
        optional=True)
    (short_autograd,) = figure.select(Request(
        "dqnn", "paper_chi_sweep", {"train": {"angle_method": "autograd", "rounds": 20}}),
        optional=True)
    if not (short or long):  # nothing to draw: skip with the command that makes the runs
        figure.select(Request("dqnn", "ablations"))
    lengths = {}  # rounds -> summary
    if short:
        lengths[20] = length_panel(short, {
            AUTOGRAD: short_autograd,
            "photonic, angles by the published COBYLA": published_cobyla})
    if long:
        lengths[200] = length_panel(long, {AUTOGRAD: long_autograd})
    selections = [s for s in (short, short_autograd, published_cobyla, long, long_autograd) if s]
    modes = [m for m in MODES if any(m in set(t["inputs"]) for t in lengths.values())]
    modes += sorted({m for t in lengths.values() for m in t["inputs"]} - set(modes))
    styles = qp.series_styles(modes)
    fig, axes = qp.panels(len(lengths), width=qp.COLUMN if len(lengths) == 1 else qp.PAGE,
                          panel_height=2.2, legend_height=1.2, sharey=True)
    drawn = set()
    for ax, (rounds, summary) in zip(axes, lengths.items(), strict=True):
        present = [m for m in modes if m in set(summary["inputs"])]
        for i, mode in enumerate(present):
            part = summary[summary["inputs"] == mode].sort_values("bond_dim")
            xs = qp.dodge(part["bond_dim"], i, len(present), log=True)
            qp.errorbars(ax, xs, part["accuracy_pct_mean"], part["accuracy_pct_std"],
                         label=None if mode in drawn else SHOWN.get(mode, mode), **styles[mode])
            drawn.add(mode)
            # a single seed has no bar: its marker is hollow, so the missing bar is not
            # read as a tiny spread (the legend's note says so)
            single = part["n"].to_numpy() == 1
            ax.plot(xs[single], part["accuracy_pct_mean"].to_numpy()[single], linestyle="none",
                    marker=styles[mode]["marker"], markerfacecolor="white",
                    markeredgecolor=styles[mode]["color"], zorder=3)
        shown = pd.Series(PUBLISHED_ABLATION)
        shown = shown[shown.index.isin(summary["bond_dim"])]  # at the χ drawn here, undodged
        ax.plot(shown.index, shown.values, linestyle="none", marker="o", markersize=7,
                fillstyle="none", color="0.3", label=None if ax is not axes[0] else
                "published ablation, as logged (arXiv 2505.08474)")
        ax.axhline(CHANCE, color="0.5", linewidth=0.8, linestyle=":",
                   label="chance (10 classes)" if ax is axes[0] else None)
        ax.set_xscale("log")  # χ = 1, 2, 4, 10: doublings, evenly spaced
        qp.log_ticks(ax, summary["bond_dim"])
        ax.set_xlabel("MPS bond dimension χ")
        ax.set_title(f"{rounds} rounds" + (" (the published length)" if rounds == 200 else ""),
                     fontsize="medium")
    axes[0].set_ylabel("test accuracy (%)")
    counts = [n for t in lengths.values() for n in t["n"]]
    note = qp.spread_note(counts, "seeds")
    if 1 in counts and max(counts) > 1:
        note += "; hollow markers: n = 1, no bar"
    qp.legend(fig, axes, ncols=2, title=qp.caption(selections, note))
    qp.save(fig, OUT / "dqnn_ablations.png")
    table = pd.concat([t.assign(rounds=r) for r, t in lengths.items()], ignore_index=True)
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
                       f"Runs: {'; '.join(s.label for s in selections)}."))
