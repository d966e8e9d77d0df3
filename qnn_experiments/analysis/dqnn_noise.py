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
# Data: `qnn run dqnn with noise_sweep_sampled` (sampled vectors, a fixed number of raw shots
# per vector) and, when present, `qnn run dqnn with noise_sweep` (exact noisy
# distributions); every completed run of exactly that config, distinct seeds pooled. One
# panel per noise parameter varied alone, the noiseless level drawn at that parameter's
# ideal value (transmission 1, indistinguishability 1, dark counts 0); levels that vary
# several parameters at once are in the table only.
#
# **Which noise is null on exact vectors, and why.** A QPU's vector holds the probabilities
# of its N-photon outcomes (`pnr` or `no_bunching`), and the `mean` scaling divides each
# vector by its mean. Uniform photon loss keeps an N-photon outcome only when no photon is
# lost, probability η^N for every outcome alike; dark counts without loss always add a
# count, so an outcome stays N-photon with probability (1 − p)^M, again the same for every
# outcome. A common factor is divided out: on exact vectors these levels give exactly the
# noiseless features, so the exact sweep's loss and dark-count panels are null controls
# (`qnn.qtrain.study.null_on_exact_vectors`; tests/qtrain/test_noise_sampled.py). Partial
# distinguishability changes the distribution's shape and acts on exact vectors too; so do
# per-mode efficiencies, dark counts together with loss (a dark count takes a lost
# photon's place), threshold outcomes and the `qt` scaling.
#
# On **sampled** vectors at a fixed raw shot count nothing is null: only shots on the
# outcome list count, so loss leaves about η^N of them (η = 0.5, N = 3: 1/8) and dark
# counts (1 − p)^M, and the post-selected vector is noisier. That is what a photonic QPU
# pays for loss, and what the sampled sweep measures. The table gives each level's expected
# post-selected shots per vector.

# %%
from dataclasses import fields

import numpy as np
import pandas as pd

from qnn import plotting as qp
from qnn.figures import Request, notebook_settings
from qnn.photonics import NoiseModel
from qnn.qtrain.study import null_on_exact_vectors
from qnn.runs.config_data import read_json_data
from qnn.runs.tables import aggregate
from qnn.stats import wilcoxon_p

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
IDEAL = {f.name: f.default for f in fields(NoiseModel)}  # a parameter's noiseless value
PANELS = {  # parameter: (what it models, its axis)
    "transmission": ("photon loss", "transmission η"),
    "indistinguishability": ("partial distinguishability", "HOM visibility x²"),
    "dark_count_prob": ("dark counts", "dark-count probability\nper detector and shot"),
    "detector_efficiency": ("detector loss", "detector efficiency")}
qp.use_style()


def level_name(noise):
    return ", ".join(f"{k}={v}" for k, v in sorted((noise or {}).items())) or "noiseless"


def vectors_name(config):
    shots, draws = config["train"].get("shots"), config["train"].get("eval_draws", 1)
    if shots is None:
        return "exact vectors"
    # one draw of sampled vectors moves a model's test accuracy by ~10 points: say which
    return f"sampled, {shots:,} raw shots per vector, test accuracy " + (
        "of one draw" if draws == 1 else f"averaged over {draws} draws")


def paired_p_values(rows):
    """Per (vectors, runs, level): the two-sided Wilcoxon signed-rank p-value of the per-seed
    accuracy differences from the noiseless level of the same runs (same seeds, data and
    initialisation); NaN for the noiseless level itself."""
    frame = pd.DataFrame(rows)
    out = {}
    for (vectors, runs), group in frame.groupby(["vectors", "runs"]):
        pivot = group.pivot_table(index="seed", columns="level", values="test_accuracy")
        for level in pivot.columns:
            out[(vectors, runs, level)] = (
                wilcoxon_p(list((pivot[level] - pivot["noiseless"]).dropna()))
                if "noiseless" in pivot and level != "noiseless" else float("nan"))
    return out


def sweep_rows(selection):
    """The Quantum-Train rows of one sweep, each with its level, the vectors it trained on,
    whether the level is null on exact vectors, and its expected post-selected shots per
    vector (mean over the QPUs; rows written before it was recorded: none)."""
    configs = {f.name: read_json_data(f / "config.json") for f in selection.folders}
    out = []
    for r in selection.rows():
        if r["method"] != "quantum_train":
            continue
        config, kept = configs[r["run"]], r.get("postselected_shots")
        out.append({**r, "level": level_name(r.get("noise")), "vectors": vectors_name(config),
                    "runs": selection.name,
                    "null_on_exact": null_on_exact_vectors(r.get("noise") or {},
                                                           config["outcomes"],
                                                           config["scaling"]),
                    "postselected_shots": None if kept is None else float(np.mean(kept))})
    return out


# %%
with SETTINGS.figure("dqnn_noise") as figure:
    (sampled,) = figure.select(Request("dqnn", "noise_sweep_sampled"))
    (averaged,) = figure.select(Request("dqnn", "noise_sweep_sampled",
                                        {"train": {"eval_draws": 20}}), optional=True)
    (exact,) = figure.select(Request("dqnn", "noise_sweep"), optional=True)
    selections = [s for s in (sampled, averaged, exact) if s]
    rows = [row for s in selections for row in sweep_rows(s)]
    summary = pd.DataFrame(aggregate(
        rows, by=("vectors", "runs", "level", "null_on_exact"),
        metrics=("test_accuracy", "postselected_shots")))
    summary = summary.assign(test_accuracy_pct_mean=100 * summary["test_accuracy_mean"],
                             test_accuracy_pct_std=100 * summary["test_accuracy_std"])
    noise = {level_name(r.get("noise")): r.get("noise") or {} for r in rows}
    single = list(dict.fromkeys(k for n in noise.values() if len(n) == 1 for k in n))
    fig, axes = qp.panels(max(len(single), 1), max_cols=3, sharey=True, panel_height=1.9,
                          width=qp.PAGE if len(single) > 1 else qp.COLUMN)
    series = list(dict.fromkeys(summary["vectors"]))
    styles = qp.series_styles(series)
    handles = {}
    for ax, parameter in zip(axes, single or [None], strict=True):
        null_control = False  # the exact series' points are all null levels
        for name in series:
            part = summary[summary["vectors"] == name]
            ideal = part[part["level"] == "noiseless"]
            if parameter is None:  # no noise levels: the noiseless accuracy alone
                points = ideal.assign(x=0)
                ax.set_xticks([0], ["noiseless (no noise levels in these runs)"])
                ax.set_title("test accuracy without noise")
            else:
                levels = [level for level, n in noise.items() if list(n) == [parameter]]
                points = part[part["level"].isin(levels)].assign(
                    x=lambda f, p=parameter: [noise[level][p] for level in f["level"]])
                points = pd.concat([points, ideal.assign(x=IDEAL[parameter])]).sort_values("x")
                title, axis = PANELS.get(parameter, (parameter, parameter))
                null_control |= name == "exact vectors" and len(points) > 1 and all(
                    points["null_on_exact"])
                ax.set_title(title + (" (null on exact vectors)" if null_control else ""))
                ax.set_xlabel(axis)
            if points.empty:
                continue
            x = points["x"].to_numpy(dtype=float)
            handles[name] = qp.errorbars(ax, x, points["test_accuracy_pct_mean"],
                                         points["test_accuracy_pct_std"], **styles[name])
            for xi, y, shots in zip(x, points["test_accuracy_pct_mean"],
                                    points["postselected_shots_mean"], strict=True):
                if not np.isnan(shots):  # what the sampled vector was built from
                    ax.annotate(f"{shots:,.0f}", (xi, y), textcoords="offset points",
                                xytext=(3, -8), fontsize=6, color=styles[name]["color"])
    axes[0].set_ylabel("test accuracy (%)")
    sampled_note = ("numbers by the sampled points: expected post-selected shots per vector"
                    if summary["postselected_shots_mean"].notna().any() else "")
    qp.legend(fig, axes, entries=[(h, f"Quantum-Train, {name}") for name, h in handles.items()],
              ncols=1, title=qp.caption(selections, qp.spread_note(summary["n"], "seeds"),
                                        *filter(None, [sampled_note])))
    qp.save(fig, OUT / "dqnn_noise.png")
    p_values = paired_p_values(rows)
    table = summary.assign(
        postselected_shots=summary["postselected_shots_mean"].round(),
        p_vs_noiseless=[p_values.get(key, float("nan")) for key in zip(
            summary["vectors"], summary["runs"], summary["level"], strict=True)])
    qp.write_table(table[["runs", "vectors", "level", "null_on_exact", "postselected_shots",
                          "n", "test_accuracy_pct_mean", "test_accuracy_pct_std",
                          "p_vs_noiseless"]],
                   OUT / "dqnn_noise_table", caption=(
                       f"Quantum-Train test accuracy (%, {qp.SPREAD} over the n seeds) per "
                       f"noise level, on exact or sampled vectors. null_on_exact: the level "
                       f"leaves exact vectors' mean-scaled features unchanged (uniform loss, "
                       f"dark counts without loss); postselected_shots: expected shots per "
                       f"vector that land on the outcome list at the trained angles (mean "
                       f"over the QPUs and seeds; sampled runs only); p_vs_noiseless: "
                       f"two-sided Wilcoxon signed-rank p of the per-seed differences from "
                       f"the same runs' noiseless level (paired: same seeds). Runs: "
                       f"{'; '.join(s.label for s in selections)}."))
