# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Quantum-guided architecture search: photonic proposals vs baselines at equal budgets
#
# Data: `qnn run nas with digits` (the figure manifest; completed runs of exactly that
# config, distinct seeds pooled). Every method trains the same number of distinct
# architectures (the x axis); `photonic` proposes from the BBS sampler (boson click samples
# XOR trainable flips), `bernoulli` from the same loop with independent clicks at the
# sampler's per-mode rates, `evolution` is a (μ + λ) EA, `random` uniform bitstrings.
# Lines are means over seeds, bands ± one sample standard deviation; the accuracy panels zoom
# on the range after the first fifth of the budget. The last panel asks whether the proposal
# distribution learns: the trailing mean fitness of the architectures each method proposes.
#
# The second figure is the capacity study (`qnn run nas with capacity`): a sampler that can
# learn (8 modes, loops 1 and 2, 10 shots per parameter set, the shift rule along one random
# direction, 500 architectures; see `qnn.nas.capacity`) on an MNIST subset, with paired
# significance tests of photonic against each baseline over seeds (`qnn.nas.significance`).

# %%
import numpy as np
import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.nas.learning import early_and_late
from qnn.nas.significance import paired_tests
from qnn.runs.tables import aggregate
from qnn.stats import holm, wilcoxon_p

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
PANELS = {"best_val": "best architecture: validation",
          "best_test": "best architecture: test",
          "ensemble_val": "top-K ensemble: validation",
          "ensemble_test": "top-K ensemble: test",
          "fitness": "proposals: validation, trailing mean of 10"}
METRICS = ("best_val", "best_test", "ensemble_val", "ensemble_test")
qp.use_style()


def curve_matrix(part, name):
    """(seeds, budget) curve in %; a search that stopped short keeps its last value."""
    budget = max(r["budget"] for r in part)
    values = [r[f"curve_{name}"] for r in part]
    return 100 * np.array([v + [v[-1]] * (budget - len(v)) for v in values], dtype=float)


def paired_differences(rows):
    """Each method minus random search on the same seed (a seed fixes the data split and
    every architecture's training, so methods compare per seed), as printed lines."""
    baseline = {r["seed"]: r for r in rows if r["method"] == "random"}
    for method in dict.fromkeys(r["method"] for r in rows):
        if method == "random" or not baseline:
            continue
        for metric in ("best_test", "ensemble_test"):
            diffs = 100 * np.array([r[metric] - baseline[r["seed"]][metric] for r in rows
                                    if r["method"] == method and r["seed"] in baseline])
            spread = diffs.std(ddof=1) if len(diffs) > 1 else float("nan")
            print(f"{method} - random, {metric}: {diffs.mean():+.1f} ± {spread:.1f} points "
                  f"({np.sum(diffs > 0)} of {len(diffs)} seeds better)")


def draw_curves(runs, rows, panels, path):
    """One panel per curve of ``panels`` (name -> title): mean ± sample std over seeds per
    method vs fitness evaluations; the accuracy panels zoom past the first fifth."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    styles = qp.series_styles(methods)
    budget = max(r["budget"] for r in rows)
    fig, axes = qp.panels(len(panels), panel_height=1.8)
    counts = []
    for ax, (name, title) in zip(axes, panels.items(), strict=True):
        late = []  # band edges after the first fifth of the budget: the y range worth seeing
        for i, method in enumerate(methods):
            matrix = curve_matrix([r for r in rows if r["method"] == method], name)
            if name == "fitness":  # is the proposal distribution learning?
                matrix = trailing_mean(matrix)
            mean, std, n = qp.mean_curve(matrix)
            x = np.arange(1, matrix.shape[1] + 1) + (budget - matrix.shape[1])
            qp.band(ax, x, mean, std, label=method,
                    markevery=qp.markevery(len(x), i, len(methods)), **styles[method])
            spread = np.nan_to_num(std)
            late += [*(mean - spread)[x >= budget / 5], *(mean + spread)[x >= budget / 5]]
            counts.append(n)
        if name != "fitness" and late:
            ax.set_ylim(min(late) - 0.5, min(max(late), 100) + 0.5)
        ax.set_title(title)
        ax.set_xlabel("fitness evaluations")
        ax.set_ylabel("accuracy (%)")
        qp.integer_axis(ax)
    qp.legend(fig, axes, ncols=len(methods), title=qp.caption(
        [runs], qp.spread_note(counts, "seeds", shown="bands")))
    qp.save(fig, path)


def trailing_mean(matrix, window=10):
    window = min(window, matrix.shape[1])
    return np.array([np.convolve(m, np.ones(window) / window, "valid") for m in matrix])


# %% [markdown]
# ## Search curves, the table of final accuracies, paired differences to random search

# %%
with SETTINGS.figure("nas_search_curves") as figure:
    (runs,) = figure.select(Request("nas", "digits"))
    rows = runs.rows()
    draw_curves(runs, rows, PANELS, OUT / "nas_search_curves.png")
    summary = pd.DataFrame(aggregate(rows, by=("dataset", "method"),
                                     metrics=(*METRICS, "evaluations", "seconds")))
    table = summary[["dataset", "method", "n"]].assign(
        evaluations=summary["evaluations_mean"].round().astype(int))
    for metric in METRICS:
        table[f"{metric}_pct_mean"] = 100 * summary[f"{metric}_mean"]
        table[f"{metric}_pct_std"] = 100 * summary[f"{metric}_std"]
    table["seconds_per_search_mean"] = summary["seconds_mean"]
    qp.write_table(table, OUT / "nas_table", caption=(
        f"Final accuracies (%, {qp.SPREAD} over the n seeds) of the best architecture and "
        f"the top-K ensemble, on validation and test data, per search method. Runs: "
        f"{runs.label}."))
    print(table.to_string(index=False))
    paired_differences(rows)

# %% [markdown]
# ## A proposer that can learn, on an MNIST subset, with significance tests
#
# Learning curves (best validation accuracy = best fitness, its test accuracy, the top-K
# ensemble's test accuracy, and the trailing mean fitness of the proposals: does the
# proposal distribution learn?) vs architectures evaluated, mean ± sample std over the n
# seeds. The table pairs photonic with each baseline on the same seeds: the mean and sample
# std of the difference (points), seeds won and lost, the exact two-sided Wilcoxon
# signed-rank p-value and the paired t-test p-value. With n seeds the Wilcoxon p cannot go
# below 2 / 2^n.
#
# Whether a proposer learns is tested the same way (`qnn.nas.learning`): the mean fitness of
# its proposals in the first and in the last fifth of the budget, and the gain between them.
# `proposals_late` pairs photonic's late proposals with each baseline's, `proposals_gain` its
# gain: a photonic proposer that learns beats random search on both.

# %%
with SETTINGS.figure("nas_capacity") as figure:
    (runs,) = figure.select(Request("nas", "capacity"))
    rows = runs.rows()
    draw_curves(runs, rows, {"best_val": "best fitness (validation accuracy)",
                             "best_test": "best architecture: test",
                             "ensemble_test": "top-K ensemble: test",
                             "fitness": PANELS["fitness"]},
                OUT / "nas_capacity_curves.png")
    for row in rows:
        early, late = early_and_late(row["curve_fitness"], row["budget"])
        row.update(proposals_early=early, proposals_late=late, proposals_gain=late - early)
    tests = paired_tests(rows, metrics=("best_val", "best_test", "ensemble_test",
                                        "proposals_late", "proposals_gain"))
    for column in ("diff_mean", "diff_std"):  # accuracy points, like the figure
        tests[column] = 100 * tests[column]
    tests = tests.rename(columns={"diff_mean": "diff_pts_mean", "diff_std": "diff_pts_std"})
    tests.insert(tests.columns.get_loc("wilcoxon_p") + 1, "wilcoxon_p_holm",
                 holm(tests["wilcoxon_p"]))
    updates = {m: np.mean([r["updates"] for r in rows if r["method"] == m])
               for m in ("photonic", "bernoulli")}
    proposer = next((r["proposer"] for r in rows if r.get("proposer")), None)
    qp.write_table(tests, OUT / "nas_capacity_tests", caption=(
        f"Photonic minus each baseline on the same seed (accuracy points, {qp.SPREAD} over "
        f"the n seeds), seeds won/lost, two-sided exact Wilcoxon signed-rank and paired "
        f"t-test p-values; wilcoxon_p_holm: the Wilcoxon p Holm-adjusted over every test of "
        f"this table (family-wise error rate; the verdict reads the unadjusted p). "
        f"Runs: {runs.label}."))
    print(tests.to_string(index=False))
    learning = (pd.DataFrame(rows).groupby("method", sort=False)
                .agg(n=("seed", "nunique"), early_pct_mean=("proposals_early", "mean"),
                     early_pct_std=("proposals_early", "std"),
                     late_pct_mean=("proposals_late", "mean"),
                     late_pct_std=("proposals_late", "std"),
                     gain_pts_mean=("proposals_gain", "mean"),
                     gain_pts_std=("proposals_gain", "std"),
                     gain_wilcoxon_p=("proposals_gain", wilcoxon_p))
                .reset_index())
    numeric = [c for c in learning.columns if c.endswith(("_mean", "_std"))]
    learning[numeric] = 100 * learning[numeric]
    qp.write_table(learning, OUT / "nas_capacity_learning", caption=(
        "Does the proposer learn? Mean validation accuracy (%) of each method's proposals in "
        "the first (early) and the last (late) fifth of the budget, and the gain from early to "
        f"late (points), {qp.SPREAD} over the n seeds; gain_wilcoxon_p: two-sided Wilcoxon "
        f"signed-rank test of the gain against 0 over seeds. Runs: {runs.label}."))
    print(learning.to_string(index=False))
    if proposer:
        print(f"proposer: {proposer['angles']} angles + {proposer['flips']} flips, "
              f"{proposer['parameter_sets']} parameter sets x {proposer['shots']} shots = "
              f"{proposer['candidates']} candidates per update; updates per search: "
              + ", ".join(f"{m} {u:.0f}" for m, u in updates.items()))
    for line in tests.itertuples():
        print(f"photonic vs {line.baseline}, {line.metric}: {line.diff_pts_mean:+.2f} points "
              f"(n = {line.n}, Wilcoxon p = {line.wilcoxon_p:.3g}, t-test p = "
              f"{line.ttest_p:.3g}): {line.verdict}")
