# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Bosonic Binary Solver: instances solved, relative error, training curves
#
# Data: `qnn run bbs with paper_table` (see the figure manifest). Only completed runs whose
# config is exactly `paper_table`'s are drawn, distinct seeds pooled; with none, each figure
# below is skipped with that command. The grouping lives in `qnn.runs.tables`, the look in
# `qnn.plotting`, where they are tested; this notebook only selects and draws.

# %%
import pandas as pd
from matplotlib.lines import Line2D

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.runs.tables import aggregate, gap_curves_by_evaluations

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
qp.use_style()


def in_order(rows, key):
    """The values of ``key`` in the order the study ran them (methods as configured)."""
    return list(dict.fromkeys(r[key] for r in rows))


# %% [markdown]
# ## Solved to optimality and mean relative error vs size; the table behind it

# %%
with SETTINGS.figure("bbs_success_vs_size") as figure:
    (runs,) = figure.select(Request("bbs", "paper_table"))
    rows = runs.rows()
    summary = pd.DataFrame(aggregate(rows, by=("problem", "size", "method"),
                                     metrics=("success", "rel_error")))
    problems, methods = in_order(rows, "problem"), in_order(rows, "method")
    styles = qp.series_styles(methods)
    fig, axes = qp.grid(2, len(problems), sharex="col", panel_height=1.7)
    for col, problem in enumerate(problems):
        for i, method in enumerate(methods):
            part = summary[(summary["problem"] == problem) & (summary["method"] == method)]
            x = qp.dodge(part["size"], i, len(methods))
            axes[0, col].plot(x, 100 * part["success_mean"], label=method, **styles[method])
            qp.errorbars(axes[1, col], x, part["rel_error_mean"], part["rel_error_std"],
                         label=method, **styles[method])
        axes[0, col].set_title(problem)
        axes[0, col].set_ylim(-5, 105)
        axes[1, col].set_xlabel("problem size m (bits)")
        qp.integer_axis(axes[1, col], values=summary["size"][summary["problem"] == problem])
    axes[0, 0].set_ylabel("solved to optimality (%)")
    axes[1, 0].set_ylabel("relative error\n(cost − opt.) / |opt.|")
    spread = qp.spread_note(summary["n"], "instances")
    qp.legend(fig, axes.flat, ncols=min(len(methods), 6), title=qp.caption(
        [runs], f"top: share of the n instances solved; bottom {spread}"))
    qp.save(fig, OUT / "bbs_success_vs_size.png")
    table = summary.assign(solved_pct=100 * summary["success_mean"])[
        ["problem", "size", "method", "n", "solved_pct", "rel_error_mean", "rel_error_std"]]
    qp.write_table(table, OUT / "bbs_table", caption=(
        f"BBS and baselines per problem and size: instances solved to optimality (%) and "
        f"relative error to the optimum ({qp.SPREAD} over the n instances). Runs: "
        f"{runs.label}."))

# %% [markdown]
# ## Training curves at the largest size: relative gap of the expected and best cost

# %%
with SETTINGS.figure("bbs_training_curves") as figure:
    (runs,) = figure.select(Request("bbs", "paper_table"))
    rows = [r for r in runs.rows() if r.get("curve_expected_cost")]  # the BBS variants
    problems, methods = in_order(rows, "problem"), in_order(rows, "method")
    styles = qp.series_styles(methods)
    curves = {"curve_expected_cost": "-", "curve_best_cost": "--"}
    fig, axes = qp.panels(len(problems), panel_height=1.9)
    counts = []
    for ax, problem in zip(axes, problems, strict=True):
        size = max(r["size"] for r in rows if r["problem"] == problem)
        for i, method in enumerate(methods):
            part = [r for r in rows if (r["problem"], r["size"], r["method"])
                    == (problem, size, method)]
            for curve, linestyle in curves.items():
                # against evaluations spent: frozen angles spend the budget in more updates
                spent, mean, std, n = gap_curves_by_evaluations(part, curve)
                qp.band(ax, spent, mean, std, linestyle=linestyle,
                        markevery=qp.markevery(len(mean), i, len(methods)), **styles[method])
                counts.append(n)
        ax.set_title(f"{problem}, m = {size} bits")
        ax.set_xlabel("cost evaluations spent")
    axes[0].set_ylabel("relative gap\n(cost − opt.) / |opt.|")
    entries = [(Line2D([], [], **styles[m]), m) for m in methods] + [
        (Line2D([], [], color="0.3", linestyle="-"), "expected sample cost"),
        (Line2D([], [], color="0.3", linestyle="--"), "best cost so far")]
    qp.legend(fig, axes, entries=entries, ncols=len(entries), title=qp.caption(
        [runs], qp.spread_note(counts, "instances", shown="bands")))
    qp.save(fig, OUT / "bbs_training_curves.png")
