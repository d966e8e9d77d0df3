"""qnn figures: manifest validation, notebook execution, skips that name the command to run,
pinned runs, byte-identical reruns, and the shared style's tables and helpers."""

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qnn import plotting as qp
from qnn.cli import main
from qnn.figures import make_figures, read_manifest

NOTEBOOK = textwrap.dedent('''
    # %%
    import os
    from pathlib import Path

    import matplotlib.pyplot as plt

    out = Path(os.environ["QNN_FIGURES_DIR"])
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1 if os.environ.get("QNN_LABEL") != "flat" else 0])
    fig.savefig(out / "line.png", metadata={"Software": None})
''')

MANIFEST = textwrap.dedent('''
    [[figure]]
    id = "line"
    title = "A line"
    notebook = "analysis/line.py"
    outputs = ["line.png"]
    commands = ["qnn run bbs with paper_table"]
''')

# Two figures in one notebook: the first needs a paper_table run, the second no run at all.
SELECTING = textwrap.dedent('''
    # %%
    from qnn import plotting as qp
    from qnn.figures import Request, notebook_settings

    SETTINGS = notebook_settings()
    qp.use_style()

    # %%
    with SETTINGS.figure("needs_runs") as figure:
        (runs,) = figure.select(Request("bbs", "paper_table"))
        fig, (ax,) = qp.panels(1, width=qp.COLUMN)
        ax.plot([1, 2], [len(runs.folders), 0], label=runs.label)
        qp.save(fig, SETTINGS.out_dir / "needs.png")

    # %%
    with SETTINGS.figure("needs_nothing") as figure:
        fig, (ax,) = qp.panels(1, width=qp.COLUMN)
        ax.plot([1, 2], [2, 1])
        qp.save(fig, SETTINGS.out_dir / "free.png")
''')

SELECTING_MANIFEST = textwrap.dedent('''
    [[figure]]
    id = "needs_runs"
    title = "Needs a paper_table run"
    notebook = "analysis/selecting.py"
    outputs = ["needs.png"]
    commands = ["qnn run bbs with paper_table"]

    [[figure]]
    id = "needs_nothing"
    title = "Draws without runs"
    notebook = "analysis/selecting.py"
    outputs = ["free.png"]
    commands = []
''')


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "line.py").write_text(NOTEBOOK)
    (tmp_path / "analysis" / "selecting.py").write_text(SELECTING)
    (tmp_path / "figures.toml").write_text(MANIFEST)
    (tmp_path / "selecting.toml").write_text(SELECTING_MANIFEST)
    return tmp_path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_figures_are_made_and_reruns_are_identical(repo):
    out = repo / "figs"
    made = make_figures([repo / "figures.toml"], out_dir=out)
    assert made["line"].status == "drawn" and made["line"].files == (out / "line.png",)
    first = digest(out / "line.png")
    make_figures([repo / "figures.toml"], out_dir=out)
    assert digest(out / "line.png") == first
    make_figures([repo / "figures.toml"], out_dir=out, label="flat")
    assert digest(out / "line.png") != first


def test_manifest_and_failures_are_reported(repo):
    with pytest.raises(ValueError, match=r"unknown figure id\(s\) \['nope'\]"):
        make_figures([repo / "figures.toml"], out_dir=repo / "figs", only=["nope"])
    (repo / "analysis" / "line.py").write_text("raise SystemExit('no runs found')\n")
    failed = make_figures([repo / "figures.toml"], out_dir=repo / "figs2")["line"]
    assert failed.status == "failed" and "no runs found" in failed.message
    (repo / "figures.toml").write_text(MANIFEST.replace('title = "A line"\n', ""))
    with pytest.raises(ValueError, match=r"figure\[0\] missing \['title'\]"):
        read_manifest(repo / "figures.toml")


def test_a_figure_without_runs_is_skipped_naming_the_command_and_the_next_is_drawn(
        repo, tmp_path, capsys):
    runs, out = tmp_path / "runs", tmp_path / "out"
    runs.mkdir()
    args = ["figures", "--manifest", str(repo / "selecting.toml"), "--runs-dir", str(runs),
            "--out", str(out)]
    assert main(args) == 0  # one figure drawn, none failed
    printed = capsys.readouterr().out
    assert (f"figure needs_runs: skipped: no completed bbs run under {runs} has the config of "
            f"'paper_table'; make one with: qnn run bbs with paper_table\n") in printed
    assert "figure needs_nothing: drawn" in printed and "1 drawn, 1 skipped, 0 failed" in printed
    assert sorted(p.name for p in out.iterdir()) == ["RESULTS.md", "free.png"]
    # Nothing drawn at all is a failure of the command.
    assert main([*args, "--only", "needs_runs"]) == 1


def test_pinned_runs_reach_the_notebook_and_are_checked(repo, tmp_path):
    folders = [tmp_path / "runs" / "bbs" / str(i) for i in (1, 2)]
    for folder in folders:
        folder.mkdir(parents=True)
        (folder / "run.json").write_text("{}")
    manifest, out = [repo / "selecting.toml"], tmp_path / "out"
    made = make_figures(manifest, out_dir=out, runs=folders, only=["needs_runs"])
    assert made["needs_runs"].status == "drawn" and made["needs_runs"].runs == tuple(folders)
    with pytest.raises(ValueError, match="is not a run folder"):
        make_figures(manifest, out_dir=out, runs=[tmp_path])
    with pytest.raises(ValueError, match="not both"):
        make_figures(manifest, out_dir=out, runs=folders, label="smoke")


def test_tables_are_numeric_csv_and_markdown_with_mean_and_std_merged(tmp_path):
    frame = pd.DataFrame({"method": ["bbs", "sa"], "n": [20, 1],
                          "acc_mean": [74.5, 70.0], "acc_std": [2.125, float("nan")]})
    csv, md = qp.write_table(frame, tmp_path / "t", caption="Accuracy (%).")
    assert csv.read_text() == "method,n,acc_mean,acc_std\nbbs,20,74.5,2.125\nsa,1,70,\n"
    assert md.read_text() == ("Accuracy (%).\n\n| method | n | acc (mean ± sample std) |\n"
                              "|---|---|---|\n| bbs | 20 | 74.5 ± 2.125 |\n| sa | 1 | 70 |\n")
    pooled = qp.markdown_table(pd.DataFrame({"runs": ["seeds=[0] | [1]"], "n": [2]}))
    assert pooled.splitlines()[-1] == "| seeds=[0] \\| [1] | 2 |"  # one cell, not two


def test_style_helpers_say_what_bars_are_and_keep_markers_apart():
    assert qp.spread_note([20, 20], "instances") == (
        "error bars: mean ± sample std, n = 20 instances")
    assert qp.spread_note([3, 5], "seeds", shown="bands") == (
        "bands: mean ± sample std, n = 3–5 seeds")
    assert qp.spread_note([1], "seeds") == "n = 1 seed: no spread to show"
    shifted = [qp.dodge([10, 15], i, 3) for i in range(3)]
    assert np.allclose(shifted[1], [10, 15]) and shifted[0][0] < 10 < shifted[2][0] < 12.5
    # two far-apart values: shifted by a small share of the range, not of their gap
    far = [qp.dodge([1, 10], i, 2) for i in range(2)]
    assert 0.8 < far[0][0] < 1 < far[1][0] < 1.2 and 9.8 < far[0][1] < 10 < far[1][1] < 10.2
    starts = {qp.markevery(200, i, 4)[0] for i in range(4)}
    assert len(starts) == 4 and qp.markevery(10, 0, 3) == (0, 3)
    mean, std, n = qp.mean_curve([[1, 2], [3, 4]])
    assert n == 2 and np.allclose(mean, [2, 3]) and np.allclose(std, [2 ** 0.5] * 2)


def test_a_figure_without_runs_falls_back_to_its_shipped_reference_runs(repo, tmp_path):
    manifest = repo / "selecting.toml"
    manifest.write_text(SELECTING_MANIFEST.replace(
        'commands = ["qnn run bbs with paper_table"]',
        'commands = ["qnn run bbs with paper_table"]\nreference = ["bbs/shipped"]'))
    reference, runs, out = tmp_path / "reference", tmp_path / "runs", tmp_path / "out"
    runs.mkdir()
    made = make_figures([manifest], runs_dir=runs, out_dir=out, reference_dir=reference)
    assert made["needs_runs"].status == "skipped"  # nothing shipped there yet
    shipped = reference / "bbs" / "shipped"
    shipped.mkdir(parents=True)
    (shipped / "run.json").write_text("{}")
    made = make_figures([manifest], runs_dir=runs, out_dir=out, reference_dir=reference)
    assert made["needs_runs"].status == "drawn" and made["needs_runs"].runs == (shipped,)
    assert made["needs_runs"].message.endswith(f"(shipped in {reference})")
    assert made["needs_nothing"].status == "drawn"
    page = (out / "RESULTS.md").read_text()  # the page of what was drawn, and from what
    assert "## Needs a paper_table run" in page and "![needs_runs](needs.png)" in page
    assert "`needs_runs`: drawn from " in page and "(run shipped; seed None)" in page
    # a quick check on other runs never falls back to the shipped ones
    made = make_figures([manifest], runs_dir=runs, out_dir=out, reference_dir=reference,
                        label="smoke")
    assert made["needs_runs"].status == "skipped"


def test_pinned_runs_go_to_the_requests_that_name_their_configs(tmp_path):
    from qnn.runs.selection import NoMatchingRuns, pinned_runs

    folders = {}
    for name in ("circle", "digits", "adhoc"):
        folder = folders[name] = tmp_path / "hybrid" / name
        folder.mkdir(parents=True)
        named = [] if name == "adhoc" else [name]
        (folder / "run.json").write_text(json.dumps(
            {"experiment": {"name": "hybrid"}, "meta": {"named_configs": named}}))
    pinned = list(folders.values())
    assert pinned_runs(pinned, "hybrid", ["circle"]).folders == (folders["circle"],)
    assert pinned_runs(pinned, "hybrid", ["digits"]).folders == (folders["digits"],)
    # no pinned run has the request's configs: every pinned run of the family, as pinned
    assert pinned_runs(pinned, "hybrid", ["mnist"]).folders == tuple(pinned)
    assert pinned_runs(pinned, "hybrid").folders == tuple(pinned)
    # ... unless the request may go without (an optional one): then it has none
    with pytest.raises(NoMatchingRuns, match="mnist: no pinned hybrid run was made with it"):
        pinned_runs(pinned, "hybrid", ["mnist"], fall_back=False)


def test_pooled_runs_are_named_by_what_they_share_and_what_varies(tmp_path):
    """Shipped runs of one sweep drawn together (one bond dimension each) get one short name:
    the shared updates once, the varying one with its values in run order; the caption's
    label says the seed once when every run has it."""
    from qnn.runs.selection import pinned_runs

    folders = []
    for name, named, updates in (
            ("chi4", ["paper_chi_sweep"], {"bond_dims": [4], "train": {"angle_method": "x"}}),
            ("chi1", ["paper_chi_sweep"], {"bond_dims": [1], "train": {"angle_method": "x"},
                                            "seed": 7}),
            ("mesh1", ["paper_chi_sweep", "paper_meshes"], {"bond_dims": [1]})):
        folder = tmp_path / "dqnn" / name
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"experiment": {"name": "dqnn"}, "meta": {
            "named_configs": named, "config_updates": updates}}))
        (folder / "config.json").write_text(json.dumps({"seed": 2026}))
        folders.append(folder)
    both = pinned_runs(folders[:2], "dqnn")
    assert both.name == "paper_chi_sweep train.angle_method='x' bond_dims=[4] | [1]"
    assert both.label.endswith("(runs chi4, chi1; seed 2026)")
    assert pinned_runs(folders, "dqnn").name == (
        "paper_chi_sweep train.angle_method='x' bond_dims=[4] | [1]"
        " + paper_chi_sweep paper_meshes bond_dims=[1]")


def test_pinned_runs_of_one_regime_split_by_condition_not_by_seed(tmp_path):
    """Figure 2's shipped runs: one named config, a shared reduced regime (train.rounds=100),
    one run per seed, and three conditions told apart by scalar updates (the QPU pool, the
    exact backend, the exact backend with bits only). Each request gets its condition's
    runs, every seed; a condition no pinned run has is missing, not another's runs."""
    from qnn.runs.selection import NoMatchingRuns, pinned_runs

    conditions = {"pool": {}, "exact": {"photonics": {"backend": "exact"}},
                  "bits": {"photonics": {"backend": "exact"}, "train": {"inputs": "bits_only"}}}
    folders = {}
    for name, updates in conditions.items():
        for seed in (0, 1, 2):
            folder = tmp_path / f"{name}{seed}"
            folder.mkdir()
            run_updates = {**updates, "train": {**updates.get("train", {}), "rounds": 100},
                           "seeds": [seed]}
            (folder / "run.json").write_text(json.dumps({"experiment": {"name": "dqnn"}, "meta": {
                "named_configs": ["hardware_14"], "config_updates": run_updates}}))
            config = {"seed": 2026, "seeds": [seed], "photonics": {
                "backend": updates.get("photonics", {}).get("backend", "pool")},
                "train": {"rounds": 100, "inputs": updates.get("train", {}).get(
                    "inputs", "photonic")}}
            (folder / "config.json").write_text(json.dumps(config))
            folders.setdefault(name, []).append(folder)
    pinned = [f for group in folders.values() for f in group]
    for name, updates in conditions.items():
        selection = pinned_runs(pinned, "dqnn", ["hardware_14"], updates)
        assert selection.folders == tuple(folders[name]), name
    assert "seeds=[0] | [1] | [2]" in selection.name and "train.rounds=100" in selection.name
    with pytest.raises(NoMatchingRuns, match="condition of 'hardware_14 train.inputs="):
        pinned_runs(pinned, "dqnn", ["hardware_14"], {"train": {"inputs": "fixed_random"}})


def test_a_selection_narrowed_to_the_runs_drawn_is_named_by_those_runs(tmp_path):
    from qnn.runs.selection import NoMatchingRuns, pinned_runs

    folders = []
    for seed, methods in ((1, ["bbs"]), (2, ["sa"])):
        folder = tmp_path / f"part{seed}"
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps({"experiment": {"name": "bbs"}, "meta": {
            "named_configs": ["paper_table"], "config_updates": {"methods": methods}}}))
        (folder / "config.json").write_text(json.dumps({"seed": seed, "methods": methods}))
        folders.append(folder)
    both = pinned_runs(folders, "bbs", ["paper_table"])
    assert both.name == "paper_table methods=['bbs'] | ['sa']"
    assert both.only(lambda folder: True) == both
    bbs = both.only(lambda folder: folder.name == "part1")
    assert (bbs.name, bbs.folders, bbs.seeds) == ("paper_table methods=['bbs']", (folders[0],),
                                                  (1,))
    with pytest.raises(NoMatchingRuns, match="none of the runs of"):
        both.only(lambda folder: False)


def test_a_run_is_never_drawn_twice_in_one_figure(tmp_path):
    from qnn.figures import NotebookSettings, Request

    pinned = []
    for name in ("circle", "digits"):
        folder = tmp_path / "hybrid" / name
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps(
            {"experiment": {"name": "hybrid"}, "meta": {"named_configs": [name]}}))
        pinned.append(folder)
    settings = NotebookSettings(tmp_path, tmp_path / "out", pinned=tuple(pinned))
    figure = settings.figure("f")
    circle, digits, other = figure.select(Request("hybrid", "circle"),
                                          Request("hybrid", "digits"),
                                          Request("hybrid", "mnist"), optional=True)
    assert circle.folders == (pinned[0],) and digits.folders == (pinned[1],)
    # no pinned run is an mnist run: it is drawn without, never said to be the others' runs
    assert other is None and figure.notes == [
        "drawn without mnist: no pinned hybrid run was made with it"]


def test_a_run_recorded_before_a_config_key_existed_still_matches(tmp_path):
    # A key added to a family later (with a default that keeps the old behaviour) must not
    # orphan the runs recorded before it; a run whose recorded value differs never matches.
    from qnn.runs.selection import NoMatchingRuns, resolved_config, select_runs

    config = resolved_config("bbs", ["smoke"])
    older = {k: v for k, v in config.items() if k != "optimum_time_limit"}
    differs = {**config, "instances": config["instances"] + 1}
    for run_id, recorded in (("1", older), ("2", differs)):
        folder = tmp_path / "bbs" / run_id
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({**recorded, "seed": int(run_id)}))
        (folder / "run.json").write_text(json.dumps(
            {"experiment": {"name": "bbs"}, "status": "COMPLETED",
             "meta": {"named_configs": ["smoke"]}}))
    assert select_runs(tmp_path, "bbs", ["smoke"]).folders == (tmp_path / "bbs" / "1",)
    with pytest.raises(NoMatchingRuns):
        select_runs(tmp_path, "bbs", ["paper_table"])


def test_a_pinned_run_recorded_before_a_config_key_existed_has_that_keys_default(tmp_path):
    # Shipped runs that predate budget_fraction spent the paper's budget: a request for
    # budget_fraction=1.0 (its default) is theirs, a request for half the budget is not.
    from qnn.runs.selection import NoMatchingRuns, pinned_runs, resolved_config

    config = resolved_config("bbs", ["paper_table"])
    folder = tmp_path / "older"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {k: v for k, v in config.items() if k != "budget_fraction"}))
    (folder / "run.json").write_text(json.dumps({"experiment": {"name": "bbs"}, "meta": {
        "named_configs": ["paper_table"], "config_updates": {}}}))
    full = pinned_runs([folder], "bbs", ["paper_table"], {"budget_fraction": 1.0})
    assert full.folders == (folder,)
    with pytest.raises(NoMatchingRuns, match="budget_fraction"):
        pinned_runs([folder], "bbs", ["paper_table"], {"budget_fraction": 0.5})


def test_every_shipped_reference_the_manifest_names_is_a_complete_run_record():
    # a fresh clone draws these figures from data/reference: a misspelt or missing folder
    # would only show as a skipped figure there
    from pathlib import Path

    import qnn_experiments

    package = Path(qnn_experiments.__file__).parent
    root = package.parent / "data" / "reference"
    named = {name for spec in read_manifest(package / "figures.toml") for name in spec.reference}
    assert named, "the manifest names no shipped runs"
    for name in sorted(named):
        folder = root / name
        for file in ("run.json", "config.json", "results.json"):
            assert (folder / file).is_file(), f"{folder / file} is missing"
        assert json.loads((folder / "run.json").read_text())["status"] == "COMPLETED", name
        assert name in (root / "README.md").read_text(), f"{name} is not in the README table"


@pytest.mark.parametrize("shipped", ["bbs/table1-tsp-m10-19", "dqnn/chi5-autograd-r200-seed3",
                                     "dqnn/ablations-r200-chi1-seed0-bits-only"])
def test_the_results_page_gives_each_run_a_command_that_repeats_it(shipped):
    import shlex

    from qnn.figures import _runs_table, run_command
    from qnn.runs.catalog import flatten, run_updates
    from qnn.runs.families import load_family
    from qnn.runs.launch import parse_words, read_run_meta

    folder = Path(__file__).parents[2] / "data" / "reference" / shipped
    words = shlex.split(run_command(folder))
    assert words[:2] == ["qnn", "run"]
    invocation = parse_words(load_family(words[2]).ex, words[3:])
    meta = read_run_meta(folder)
    assert list(invocation.named_configs) == meta["named_configs"]
    assert flatten(invocation.config_updates) == {
        **run_updates(folder), "seed": meta["config_updates"]["seed"]}
    table = _runs_table([folder])
    assert f"| `{folder.name}` | `{run_command(folder)}` |" in table
    assert ("resumed an interrupted run" in table) == shipped.startswith("dqnn/")  # both were


def test_parts_of_different_instance_counts_pool_as_one_study(tmp_path):
    """The paper's ablations shipped in parts: 10 instances a run at one size, 5 at another
    (distinct seeds). `instances` sizes a part, it is no condition: all parts draw together."""
    from qnn.runs.selection import pinned_runs

    folders = []
    for name, instances, seed in (("m20", 10, 2026), ("m25a", 5, 2026), ("m25b", 5, 2027)):
        folder = tmp_path / "bbs" / name
        folder.mkdir(parents=True)
        updates = {"instances": instances, "seed": seed, "sizes": {"knapsack_penalty": [
            20 if name == "m20" else 25]}}
        (folder / "run.json").write_text(json.dumps({"experiment": {"name": "bbs"}, "meta": {
            "named_configs": ["paper_ablations"], "config_updates": updates}}))
        (folder / "config.json").write_text(json.dumps({"seed": seed, "instances": instances}))
        folders.append(folder)
    selection = pinned_runs(folders, "bbs", ["paper_ablations"])
    assert selection.folders == tuple(folders)
    assert "instances=10 | 5" in selection.name


def test_a_request_update_no_pinned_run_was_made_with_matches_none_of_them(tmp_path):
    """Shipped runs all of one flip rule: a request for another rule (an optional variant)
    gets no runs, not those of the default rule under the variant's name."""
    from qnn.runs.selection import NoMatchingRuns, pinned_runs

    folders = []
    for seed in (1, 2):
        folder = tmp_path / f"angle{seed}"
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps({"experiment": {"name": "bbs"}, "meta": {
            "named_configs": ["paper_ablations"], "config_updates": {"seed": seed}}}))
        (folder / "config.json").write_text(json.dumps(
            {"seed": seed, "bbs": {"flip_param": "angle"}}))
        folders.append(folder)
    assert pinned_runs(folders, "bbs", ["paper_ablations"]).folders == tuple(folders)
    logit = {"bbs": {"flip_param": "logit"}}
    with pytest.raises(NoMatchingRuns, match="bbs.flip_param"):
        pinned_runs(folders, "bbs", ["paper_ablations"], logit, fall_back=False)
