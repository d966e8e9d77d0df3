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
# Data: `qnn run bbs with paper_ablations` (the paper's black-box knapsack and TSP, every
# method with the paper's budget, paired per instance) and, where they were run, our QUBO
# extension `qnn run bbs with ablation_frozen` / `ablation_random_clicks` (Max-Cut and the
# slack-bit knapsack). `bbs_frozen` never updates the angles; `bbs_random_clicks` replaces
# the boson samples by independent clicks with the circuit's per-mode click rates, the
# control that separates "quantum" from "any click distribution"; `random` is random search.
# `paper_ablations` runs with the independent reproduction's flip rule (`bbs.flip_param=logit
# bbs.flip_gradient=bit_differences`) are a set of their own, named so in every panel.
# One row of panels per set of runs and problem: solved to optimality with its exact 95 %
# interval (a share of a few tens of instances is uncertain by ten points or more), and the
# mean relative error. Names that resolve to the same runs (`qnn figures --label smoke`) are
# drawn once.

# %%
import pandas as pd

from qnn import plotting as qp
from qnn.bbs.config import REPRODUCTION_FLIP_RULE
from qnn.bbs.published import SOURCES, beside_published, in_paper_regime
from qnn.figures import Request, notebook_settings
from qnn.runs.tables import solved_with_interval
from qnn.stats import holm, mcnemar_p, wilcoxon_p

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
METHODS = ("bbs", "bbs_frozen", "bbs_random_clicks", "random")  # what the ablations compare
LEGEND = {"bbs": "bbs (trained, boson samples)", "bbs_frozen": "bbs_frozen (angles never trained)",
          "bbs_random_clicks": "bbs_random_clicks (independent clicks, matched rates)",
          "random": "random search"}
# The paper's ablations under each flip rule run, each drawn as its own set: our default
# (ORCA's flip angles, score-function gradient) and the independent reproduction's (SGD on
# logits, both costs of every bit's flip), under which BBS trains on the value-cost knapsack.
FLIP_RULES = {"angle flips": None, "logit flips": {"bbs": REPRODUCTION_FLIP_RULE}}
qp.use_style()


def ablation_runs(figure, *extra: Request) -> list[tuple[str, object]]:
    """``(flip rule, selection)`` of the paper's ablations per flip rule run (the default
    rule's runs are required), then of the ``extra`` requests (rule ``""``) where run."""
    requests = [Request("bbs", "paper_ablations", updates) for updates in FLIP_RULES.values()]
    (default,) = figure.select(requests[0])
    others = figure.select(*requests[1:], *extra, optional=True)
    rules = [*FLIP_RULES, *[""] * len(extra)]
    return [(rule, s) for rule, s in zip(rules, [default, *others], strict=True) if s]


def per_method(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, size, method): n instances, solved (%) with its Clopper–Pearson 95 %
    interval, and the mean relative error (%) with its standard error."""
    return solved_with_interval(frame.assign(rel_error_pct=100 * frame["rel_error"]),
                                ["problem", "size", "method"],
                                rel_error_pct=("rel_error_pct", "mean"),
                                rel_error_sem=("rel_error_pct", "sem"))


# %%
with SETTINGS.figure("bbs_ablations") as figure:
    sets = ablation_runs(figure, Request("bbs", "ablation_frozen"),
                         Request("bbs", "ablation_random_clicks"))
    rules, selections = [rule for rule, _ in sets], [selection for _, selection in sets]
    summaries = []
    for selection in selections:
        frame = selection.frame()
        summaries.append(per_method(frame[frame["method"].isin(METHODS)]))
    panels = [(rule, selection, summary, problem)
              for rule, selection, summary in zip(rules, selections, summaries, strict=True)
              for problem in summary["problem"].unique()]  # problems as run
    styles = qp.series_styles(METHODS)
    fig, axes = qp.grid(len(panels), 2, panel_height=2.0)
    for row, (rule, selection, summary, problem) in enumerate(panels):
        solved_ax, error_ax = axes[row]
        part = summary[summary["problem"] == problem]
        methods = [m for m in METHODS if m in set(part["method"])]
        for i, method in enumerate(methods):
            line = part[part["method"] == method]
            x = qp.dodge(line["size"], i, len(methods))
            solved_ax.errorbar(x, line["solved_pct"], label=LEGEND[method], **styles[method],
                               yerr=[line["solved_pct"] - line["solved_low"],
                                     line["solved_high"] - line["solved_pct"]])
            qp.errorbars(error_ax, x, line["rel_error_pct"], line["rel_error_sem"],
                         **styles[method])
        name = f"{problem}{', ' + rule if rule else ''} — {qp.short_name(selections, selection)}"
        solved_ax.set_title(f"{name}: solved to optimality")
        error_ax.set_title(f"{name}: relative error")
        solved_ax.set_ylim(-5, 105)
        solved_ax.set_ylabel("instances solved (%)")
        error_ax.set_ylabel("mean relative error (%)")
        error_ax.set_ylim(bottom=-0.04 * error_ax.get_ylim()[1])  # markers at 0 in full
        for ax in (solved_ax, error_ax):
            ax.set_xlabel("problem size m (bits)")
            qp.integer_axis(ax, values=part["size"])
    counts = pd.concat(summaries)["n"]
    qp.legend(fig, axes.flat, ncols=2, title=qp.caption(
        selections, f"n = {qp.counts_text(counts)} instances per point, every method on the "
                    "same instances with the same budget of cost evaluations; solved: bars "
                    "are the exact (Clopper–Pearson) 95 % interval; relative error "
                    "(cost − optimum) / |optimum|: mean ± standard error of the mean"))
    qp.save(fig, OUT / "bbs_ablations.png")
    columns = ["runs", "flips", "problem", "size", "method", "n", "solved_pct", "solved_low",
               "solved_high", "rel_error_pct", "rel_error_sem"]
    table = pd.concat([beside_published(summary.assign(runs=qp.short_name(selections, selection),
                                                       flips=rule)[columns],
                                        in_paper_regime(selection.folders))
                       for rule, selection, summary in zip(rules, selections, summaries,
                                                           strict=True)])
    shown = SOURCES if any(c.startswith("published_") for c in table.columns) else ""
    qp.write_table(table, OUT / "bbs_ablations_table", caption=(
        "Per method: instances solved to optimality (%) with the exact (Clopper–Pearson) 95 % "
        "interval (solved_low, solved_high), and the mean relative error (%) with its standard "
        f"error, over the n instances. {shown} "
        f"Runs: {qp.caption(selections)[len('data: '):]}."))

# %% [markdown]
# ## Paired tests: is bbs better than each ablation, instance by instance?
#
# Data: `qnn run bbs with paper_ablations` (black-box knapsack and TSP, every method with the
# paper's budget). Every method ran on the same instances, so the comparisons are paired by
# instance (and run): an exact McNemar test on solved / not solved (a two-sided binomial test
# on the instances only one of the two solved) and a Wilcoxon signed-rank test on the relative
# errors (two-sided; pairs with equal errors dropped, as `n_differ` counts). Per size, and
# pooled over the sizes of each problem (`size` = "all"). n counts paired instances. The six
# tests of one problem and size are one family: Holm-adjusted p-values keep its family-wise
# error rate at alpha.

# %%
PAIRS = (("bbs", "bbs_random_clicks"), ("bbs", "bbs_frozen"), ("bbs", "random"))


def paired_tests(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, size or "all", pair of methods) with both paired tests."""
    out = []
    groups = [(key, part) for key, part in frame.groupby(["problem", "size"], sort=False)]
    groups += [((problem, "all"), part) for problem, part in frame.groupby("problem", sort=False)
               if part["size"].nunique() > 1]
    for (problem, size), part in groups:
        wide = part.pivot_table(index=["run", "size", "instance"], columns="method",
                                values=["success", "rel_error"], aggfunc="first")
        for a, b in PAIRS:
            if a not in wide["success"] or b not in wide["success"]:
                continue
            both = wide.dropna(subset=[("success", a), ("success", b), ("rel_error", a),
                                       ("rel_error", b)])
            solved_a = both[("success", a)].astype(bool)
            solved_b = both[("success", b)].astype(bool)
            only_a, only_b = int((solved_a & ~solved_b).sum()), int((~solved_a & solved_b).sum())
            gap = both[("rel_error", b)] - both[("rel_error", a)]
            differ = gap[gap != 0]
            out.append({
                "problem": problem, "size": size, "comparison": f"{a} vs {b}", "n": len(both),
                "solved_pct_a": 100 * solved_a.mean(), "solved_pct_b": 100 * solved_b.mean(),
                "only_a_solved": only_a, "only_b_solved": only_b,
                "mcnemar_p": mcnemar_p(only_a, only_b),
                "rel_error_pct_a": 100 * both[("rel_error", a)].mean(),
                "rel_error_pct_b": 100 * both[("rel_error", b)].mean(),
                "n_differ": len(differ), "wilcoxon_p": wilcoxon_p(gap),
            })
    tests = pd.DataFrame(out)
    for _, family in tests.groupby(["problem", "size"], sort=False):  # one family per group
        adjusted = holm([*family["mcnemar_p"], *family["wilcoxon_p"]])
        tests.loc[family.index, "mcnemar_p_holm"] = adjusted[:len(family)]
        tests.loc[family.index, "wilcoxon_p_holm"] = adjusted[len(family):]
    return tests


with SETTINGS.figure("bbs_ablation_tests") as figure:
    sets = ablation_runs(figure)
    selections = [selection for _, selection in sets]
    tests = pd.concat([paired_tests(frame[frame["method"].isin(METHODS)])
                       .assign(runs=qp.short_name(selections, selection), flips=rule)
                       for rule, selection in sets for frame in [selection.frame()]])
    tests = tests[["runs", "flips", *tests.columns.drop(["runs", "flips"])]]
    qp.write_table(tests, OUT / "bbs_ablation_tests", caption=(
        "bbs against each ablation, paired by instance: a = bbs, b = the other method; "
        "solved (%) and mean relative error (%) of each over the n paired instances; "
        "only_a_solved / only_b_solved: discordant instances, exact McNemar p (two-sided "
        "binomial); Wilcoxon signed-rank p on relative error over the n_differ instances whose "
        "errors differ; *_holm: both p-values Holm-adjusted over the six tests of their "
        "problem, size and set of runs (family-wise error rate). Runs: "
        f"{qp.caption(selections)[len('data: '):]}."))
