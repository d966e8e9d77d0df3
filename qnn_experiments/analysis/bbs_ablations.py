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
from qnn.stats import mcnemar_p, wilcoxon_p

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

# %% [markdown]
# ## Paired tests: is bbs better than each ablation, instance by instance?
#
# Data: `qnn run bbs with paper_ablations` (black-box knapsack and TSP, every method with the
# paper's budget). Every method ran on the same instances, so the comparisons are paired by
# instance (and run): an exact McNemar test on solved / not solved (a two-sided binomial test
# on the instances only one of the two solved) and a Wilcoxon signed-rank test on the relative
# errors (two-sided; pairs with equal errors dropped, as `n_differ` counts). Per size, and
# pooled over the sizes of each problem (`size` = "all"). n counts paired instances.

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
    return pd.DataFrame(out)


with SETTINGS.figure("bbs_ablation_tests") as figure:
    (runs,) = figure.select(Request("bbs", "paper_ablations"))
    frame = runs.frame()
    frame = frame[frame["method"].isin(METHODS)]
    tests = paired_tests(frame)
    qp.write_table(tests, OUT / "bbs_ablation_tests", caption=(
        "bbs against each ablation, paired by instance: a = bbs, b = the other method; "
        "solved (%) and mean relative error (%) of each over the n paired instances; "
        "only_a_solved / only_b_solved: discordant instances, exact McNemar p (two-sided "
        "binomial); Wilcoxon signed-rank p on relative error over the n_differ instances whose "
        f"errors differ. Runs: {runs.label}."))
