# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Hybrid QNN: photonic layers inside classical networks
#
# Data (see the figure manifest): `qnn run hybrid with circle`, `... with digits` (the
# photonic layer, `hybrid`, against `classical`, a linear layer of its widths with as many
# trainable entries, and `linear`, the same layer fully trained; 5 seeds) and `... with
# shots_sweep` (accuracy vs shots per circuit evaluation, trained on samples with the
# shift rule). Only completed runs of exactly those configs are drawn, distinct seeds pooled.

# %%
import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.layers.stability import jitter, roughness
from qnn.runs.tables import aggregate

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
qp.use_style()


def in_order(rows, key):
    return list(dict.fromkeys(r[key] for r in rows))


# %% [markdown]
# ## Test accuracy and training loss per epoch; the table of final test accuracies

# %%
with SETTINGS.figure("hybrid_curves") as figure:
    studies = [s for s in figure.select(Request("hybrid", "circle"),
                                        Request("hybrid", "digits")) if s]
    exact = {s: [r for r in s.rows() if r["shots"] is None] for s in studies}
    models = list(dict.fromkeys(m for rows in exact.values() for m in in_order(rows, "model")))
    styles = qp.series_styles(models)
    fig, axes = qp.grid(2, len(studies), width=qp.PAGE if len(studies) > 1 else qp.COLUMN,
                        sharex="col", panel_height=1.6)
    counts, table = [], []
    for col, (selection, rows) in enumerate(exact.items()):
        for i, model in enumerate(models):
            part = [r for r in rows if r["model"] == model]
            for ax, key, scale in ((axes[0, col], "test_accuracy", 100),
                                   (axes[1, col], "train_loss", 1)):
                mean, std, n = qp.mean_curve([r[f"curve_{key}"] for r in part])
                epochs = range(1, len(mean) + 1)
                qp.band(ax, epochs, scale * mean, scale * std, label=model,
                        markevery=qp.markevery(len(mean), i, len(models)), **styles[model])
            counts.append(n)
        axes[0, col].set_title(qp.short_name(studies, selection))
        axes[1, col].set_xlabel("epoch")
        qp.integer_axis(axes[1, col])
        summary = pd.DataFrame(aggregate(rows, by=("model",),
                                         metrics=("test_accuracy", "n_trainable")))
        table.append(summary.assign(runs=selection.name))
    axes[0, 0].set_ylabel("test accuracy (%)")
    axes[1, 0].set_ylabel("training loss\n(cross-entropy)")
    qp.legend(fig, axes.flat, ncols=len(models), title=qp.caption(
        studies, qp.spread_note(counts, "seeds", shown="bands")))
    qp.save(fig, OUT / "hybrid_curves.png")
    table = pd.concat(table, ignore_index=True)
    table = table.assign(trainable_parameters=table["n_trainable_mean"].round().astype(int),
                         test_accuracy_pct_mean=100 * table["test_accuracy_mean"],
                         test_accuracy_pct_std=100 * table["test_accuracy_std"])
    qp.write_table(table[["runs", "model", "n", "trainable_parameters",
                          "test_accuracy_pct_mean", "test_accuracy_pct_std"]],
                   OUT / "hybrid_table", caption=(
                       f"Final test accuracy (%, {qp.SPREAD} over the n seeds) and trainable "
                       f"parameters per model, exact probabilities. Runs: "
                       f"{'; '.join(s.label for s in studies)}."))

# %% [markdown]
# ## Accuracy vs shots per circuit evaluation (shift-rule gradients on samples)

# %%
with SETTINGS.figure("hybrid_shots") as figure:
    (runs,) = figure.select(Request("hybrid", "shots_sweep"))
    rows = [r for r in runs.rows() if r["model"] == "hybrid"]
    sampled = pd.DataFrame(aggregate([r for r in rows if r["shots"] is not None],
                                     by=("shots", "gradient"), metrics=("test_accuracy",)))
    exact = pd.DataFrame(aggregate([r for r in rows if r["shots"] is None], by=("gradient",),
                                   metrics=("test_accuracy",)))
    styles = qp.series_styles(["sampled", "exact"])
    fig, (ax,) = qp.panels(1, width=qp.COLUMN, panel_height=2.0, legend_height=0.9)
    for gradient, part in sampled.groupby("gradient", sort=False):
        qp.errorbars(ax, part["shots"], 100 * part["test_accuracy_mean"],
                     100 * part["test_accuracy_std"],
                     label=f"sampled forward pass, {gradient} gradients", **styles["sampled"])
    for row in exact.itertuples():
        mean, std = 100 * row.test_accuracy_mean, 100 * row.test_accuracy_std
        ax.axhline(mean, color=styles["exact"]["color"], linestyle="--",
                   label=f"exact probabilities, {row.gradient} gradients")
        if std == std:  # not nan: more than one seed
            ax.axhspan(mean - std, mean + std, color=styles["exact"]["color"], alpha=0.15,
                       linewidth=0)
    ax.set_xscale("log")
    qp.log_ticks(ax, sampled["shots"])
    ax.set_xlabel("shots per circuit evaluation")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(qp.short_name([runs], runs))
    qp.legend(fig, [ax], ncols=1, title=qp.caption(
        [runs], qp.spread_note(pd.concat([sampled, exact])["n"], "seeds",
                               shown="bars and band")))
    qp.save(fig, OUT / "hybrid_shots.png")

# %% [markdown]
# ## Training stability: spread over seeds, accuracy jitter and loss roughness, per dataset
#
# The seed claims the photonic layer trains *stably*. Three measures per model and dataset,
# exact probabilities: the sample std over seeds of the final test accuracy (how much the
# outcome depends on the seed); the jitter of each training, the mean absolute change of
# test accuracy from one epoch to the next over the second half of training (how much a
# converged training still wanders); and the roughness of its training-loss curve, the mean
# |second difference| of log loss over the second half (zero for any steady exponential
# decay, whatever its rate, so a fast-falling loss does not count as rough).


# %%
with SETTINGS.figure("hybrid_stability") as figure:
    studies = [s for s in figure.select(Request("hybrid", "circle"), Request("hybrid", "digits"),
                                        Request("hybrid", "mnist"), optional=True) if s]
    if not studies:
        figure.select(Request("hybrid", "circle"))  # skips, naming the command
    frames = []
    for selection in studies:
        rows = pd.DataFrame([r for r in selection.rows() if r["shots"] is None])
        rows = rows.assign(dataset=qp.short_name(studies, selection),
                           accuracy_pct=100 * rows["test_accuracy"],
                           jitter_pct=[100 * jitter(c) for c in rows["curve_test_accuracy"]],
                           roughness_pct=[100 * roughness(c) for c in rows["curve_train_loss"]])
        frames.append(rows)
    rows = pd.concat(frames, ignore_index=True)
    stability = (rows.groupby(["dataset", "model"], sort=False)
                 .agg(n=("seed", "nunique"), accuracy_pct_mean=("accuracy_pct", "mean"),
                      seed_std_pct=("accuracy_pct", "std"), jitter_pct_mean=("jitter_pct", "mean"),
                      jitter_pct_std=("jitter_pct", "std"),
                      roughness_pct_mean=("roughness_pct", "mean"),
                      roughness_pct_std=("roughness_pct", "std"))
                 .reset_index())
    datasets, models = list(dict.fromkeys(stability["dataset"])), in_order(
        rows.to_dict("records"), "model")
    styles = qp.series_styles(models)
    fig, (spread, wander, rough) = qp.panels(3, width=qp.PAGE, panel_height=1.9)
    x = {d: k for k, d in enumerate(datasets)}
    for i, model in enumerate(models):
        part = stability[stability["model"] == model]
        at = qp.dodge([x[d] for d in part["dataset"]], i, len(models))
        spread.plot(at, part["seed_std_pct"], linestyle="none", label=model, **styles[model])
        qp.errorbars(wander, at, part["jitter_pct_mean"], part["jitter_pct_std"], label=model,
                     linestyle="none", **styles[model])
        qp.errorbars(rough, at, part["roughness_pct_mean"], part["roughness_pct_std"],
                     label=model, linestyle="none", **styles[model])
    for ax, title in ((spread, "spread of final test accuracy over seeds"),
                      (wander, "test-accuracy jitter, 2nd half"),
                      (rough, "training-loss roughness, 2nd half")):
        ax.set_xticks(range(len(datasets)), datasets)
        qp.title(ax, title)
        ax.set_ylim(bottom=0)
    if stability["seed_std_pct"].isna().all():
        spread.text(0.5, 0.5, "one seed per model: no spread over seeds",
                    transform=spread.transAxes, ha="center", va="center")
    spread.set_ylabel("sample std over seeds\n(accuracy points)")
    wander.set_ylabel("mean |Δ accuracy| per epoch\n(accuracy points)")
    rough.set_ylabel("mean |Δ² log loss| per epoch (%)")
    qp.legend(fig, (spread, wander, rough), ncols=len(models), title=qp.caption(
        studies, qp.spread_note(stability["n"], "seeds") + " (middle, right); left: one "
        "value per model, the sample std over the n seeds"))
    qp.save(fig, OUT / "hybrid_stability.png")
    qp.write_table(stability, OUT / "hybrid_stability_table", caption=(
        "Training stability per dataset and model (exact probabilities): final test accuracy "
        "(mean over the n seeds) and its sample std over seeds (seed_std_pct); jitter = mean "
        "|change of test accuracy| between consecutive epochs over the second half of "
        "training; roughness = mean |second difference of log training loss| (%) over the "
        f"second half; both {qp.SPREAD} over seeds. Runs: {'; '.join(s.label for s in studies)}."))
