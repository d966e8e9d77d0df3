"""qnn figures: manifest validation, notebook execution, byte-identical reruns."""

import hashlib
import textwrap

import pytest

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


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "line.py").write_text(NOTEBOOK)
    (tmp_path / "figures.toml").write_text(MANIFEST)
    return tmp_path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_figures_are_made_and_reruns_are_identical(repo):
    out = repo / "figs"
    made = make_figures([repo / "figures.toml"], out_dir=out)
    first = digest(made["line"][0])
    assert digest(make_figures([repo / "figures.toml"], out_dir=out)["line"][0]) == first
    flat = make_figures([repo / "figures.toml"], out_dir=out, label="flat")
    assert digest(flat["line"][0]) != first


def test_manifest_and_failures_are_reported(repo):
    with pytest.raises(ValueError, match=r"unknown figure id\(s\) \['nope'\]"):
        make_figures([repo / "figures.toml"], out_dir=repo / "figs", only=["nope"])
    (repo / "analysis" / "line.py").write_text("raise SystemExit('no runs found')\n")
    with pytest.raises(RuntimeError, match="no runs found"):
        make_figures([repo / "figures.toml"], out_dir=repo / "figs2")
    (repo / "figures.toml").write_text(MANIFEST.replace('title = "A line"\n', ""))
    with pytest.raises(ValueError, match=r"figure\[0\] missing \['title'\]"):
        read_manifest(repo / "figures.toml")
