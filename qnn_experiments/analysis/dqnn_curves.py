# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Distributed QNN (Quantum-Train): accuracy vs training round
#
# Data: `qnn run dqnn with hardware_14` (two emulated or real PT systems), `... with
# hardware_14 photonics.backend=exact` (noiseless), `... with hardware_14
# photonics.backend=exact train.inputs=bits_only` (the control: no QPU information, every
# weight's value the same constant), `... with ablation_random` and `... with paper_chi_sweep`
# (its curves at the ablation's χ, beside the ablation).
#
# Left: the seed's Figure 2, two PT systems against noiseless simulation, beside the bits-only
# control: without it, "hardware ≈ noiseless" says nothing about the QPUs. Right: the
# published regime at χ=10, photonic vectors against uniform random numbers drawn anew at
# every step (the ablation), same data split and MPS initialisation. Runs that two requests
# share (as under `qnn figures --label smoke`) are drawn once; an empty panel is left out.

# %%
from qnn import plotting as qp
from qnn.figures import Request, notebook_settings

SETTINGS = notebook_settings()
OUT = SETTINGS.out_dir
qp.use_style()


def role(selection):
    """What a run set is, read off its own config (legends show it beside the run name)."""
    config = selection.config()
    if config["train"]["inputs"] == "bits_only":
        return "bits only, no QPU"
    backend = config["photonics"]["backend"]
    return {"exact": "exact simulation", "pool": "QPU pool", "orca": "ORCA QPU"}.get(
        backend, backend)


def curves_by_chi(selection, chis=None):
    """``{χ: [accuracy curve (%) per seed]}`` of the Quantum-Train tasks, noiseless only."""
    found = {}
    for row in selection.rows():
        if row["method"] == "quantum_train" and row.get("noise_level") is None and (
                chis is None or row["bond_dim"] in chis):
            found.setdefault(row["bond_dim"], []).append(
                [100 * a for a in row["curve_test_accuracy"]])
    return dict(sorted(found.items()))


# %%
with SETTINGS.figure("dqnn_training_curves") as figure:
    hardware, noiseless = figure.select(
        Request("dqnn", "hardware_14"),
        Request("dqnn", "hardware_14", {"photonics": {"backend": "exact"}}))
    bits, ablation, photonic = figure.select(
        Request("dqnn", "hardware_14", {"photonics": {"backend": "exact"},
                                        "train": {"inputs": "bits_only"}}),
        Request("dqnn", "ablation_random"), Request("dqnn", "paper_chi_sweep"), optional=True)
    chis = set(curves_by_chi(ablation)) if ablation else None  # the sweep at the ablation's χ
    # a panel per comparison, titled by the names of the runs it draws
    shown = [[(s, curves_by_chi(s)) for s in (hardware, noiseless, bits) if s],
             [(s, curves_by_chi(s, chis if s is photonic else None))
              for s in (ablation, photonic) if s]]
    name = {s: qp.short_name(figure.drawn, s) for s in figure.drawn}
    # a run set under a short name ("runs A") is titled by its role, and keeps both in legends
    titles = [" vs ".join(name[s] if name[s] == s.name else role(s) for s, _ in curves)
              for curves in shown]
    name = {s: f"{name[s]} ({role(s)})" if name[s] != s.name else name[s] for s in name}
    shown = [(title, curves) for title, curves in zip(titles, shown, strict=True) if curves]
    fig, axes = qp.panels(len(shown), width=qp.PAGE if len(shown) > 1 else qp.COLUMN,
                          sharey=True, panel_height=2.0, legend_height=0.8)
    styles = qp.series_styles((s, chi) for _, curves in shown for s, by_chi in curves
                              for chi in by_chi)
    counts = []
    for ax, (title, curves) in zip(axes, shown, strict=True):
        keys = [(s, chi) for s, by_chi in curves for chi in by_chi]
        for i, (selection, chi) in enumerate(keys):
            mean, std, n = qp.mean_curve(dict(curves)[selection][chi])
            rounds = range(1, len(mean) + 1)
            qp.band(ax, rounds, mean, std, label=f"{name[selection]}, χ = {chi} (n = {n})",
                    markevery=qp.markevery(len(mean), i, len(keys)),
                    **styles[selection, chi])
            counts.append(n)
        qp.title(ax, title)
        ax.set_xlabel("training round")
        qp.integer_axis(ax)
    axes[0].set_ylabel("test accuracy (%)")
    qp.legend(fig, axes, ncols=1 if len(shown) == 1 else 2, title=qp.caption(
        figure.drawn, qp.spread_note(counts, "seeds", shown="bands")))
    qp.save(fig, OUT / "dqnn_training_curves.png")
