"""Regenerate paper figures: run the analysis notebooks listed in the figure manifests.

A manifest (``figures.toml``) lists each figure, the commands that produce its data and the
notebook that draws it, by a path relative to the manifest. Manifests are package data,
found through the ``qnn.figures`` entry-point group (a package name whose ``figures.toml``
is read), so ``qnn figures`` works from any folder and from an installed wheel; this
project's is ``qnn_experiments/figures.toml``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "figures.toml"
ENTRY_POINTS = "qnn.figures"
# PNGs without the matplotlib version stamp, so reruns on the same runs give equal bytes.
SAVE_OPTIONS = {"metadata": {"Software": None}, "dpi": 120}


@dataclass(frozen=True)
class NotebookSettings:
    """What `qnn figures` hands a notebook through the environment (defaults for Jupyter)."""

    runs_dir: Path
    out_dir: Path
    label: str | None  # a named config to draw instead of each figure's own

    def label_or(self, default: str) -> str:
        return self.label or default


def notebook_settings() -> NotebookSettings:
    """Read ``QNN_RUNS_DIR``, ``QNN_FIGURES_DIR``, ``QNN_LABEL``; create the output folder."""
    settings = NotebookSettings(Path(os.environ.get("QNN_RUNS_DIR", "runs")),
                                Path(os.environ.get("QNN_FIGURES_DIR", "paper/figures")),
                                os.environ.get("QNN_LABEL") or None)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    return settings


@dataclass(frozen=True)
class FigureSpec:
    """One manifest entry: which notebook draws which files from which runs."""

    id: str
    title: str
    notebook: str
    outputs: tuple[str, ...]
    commands: tuple[str, ...] = field(default=())
    smoke_commands: tuple[str, ...] = field(default=())


def installed_manifests() -> list[Path]:
    """The ``figures.toml`` of every package declared in the ``qnn.figures`` entry points."""
    from importlib.metadata import entry_points
    from importlib.resources import as_file, files

    found = []
    for point in sorted(entry_points(group=ENTRY_POINTS), key=lambda p: p.name):
        with as_file(files(point.value) / MANIFEST) as path:  # a real file: not zipped
            found.append(Path(path))
    return found


def read_manifest(path: str | Path) -> list[FigureSpec]:
    """The figures of one manifest file, notebooks resolved against its folder; unknown or
    missing keys are errors naming them."""
    path = Path(path)
    with open(path, "rb") as f:
        document = tomllib.load(f)
    specs = []
    required = {"id", "title", "notebook", "outputs", "commands"}
    allowed = required | {"commands", "smoke_commands"}
    for i, entry in enumerate(document.get("figure", [])):
        missing, unknown = required - set(entry), set(entry) - allowed
        if missing or unknown:
            raise ValueError(f"{path}: figure[{i}] missing {sorted(missing)}, unknown "
                             f"{sorted(unknown)}")
        entry = {**entry, "notebook": str(path.parent / entry["notebook"])}
        specs.append(FigureSpec(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in entry.items()}))
    return specs


def make_figures(manifests: list[Path] | None = None, *, runs_dir: str | Path = "runs",
                 out_dir: str | Path = "paper/figures", only: list[str] | None = None,
                 label: str | None = None, timeout: float = 1800.0) -> dict[str, list[Path]]:
    """Execute each needed notebook once, headless (Agg), and check its outputs exist.

    Notebooks read ``QNN_RUNS_DIR`` and ``QNN_FIGURES_DIR`` from the environment, so the
    same file runs unchanged in Jupyter (via jupytext) and here. Each notebook knows which
    named configs its figures draw; ``label`` (``QNN_LABEL``) makes it draw that one instead,
    e.g. ``"smoke"`` to check the whole chain on quick runs.

    Args:
        manifests: manifest files; ``None``: every installed one (:func:`installed_manifests`).

    Returns:
        figure id -> the files it wrote.

    Raises:
        ValueError: an unknown figure id; RuntimeError: a notebook failed or wrote nothing.
    """
    out = Path(out_dir)
    specs = [spec for manifest in (installed_manifests() if manifests is None else manifests)
             for spec in read_manifest(manifest)]
    if only:
        unknown = sorted(set(only) - {s.id for s in specs})
        if unknown:
            raise ValueError(f"unknown figure id(s) {unknown}; known: {[s.id for s in specs]}")
        specs = [s for s in specs if s.id in only]
    out.mkdir(parents=True, exist_ok=True)
    done: set[str] = set()
    made = {}
    for spec in specs:
        if spec.notebook not in done:
            _execute(Path(spec.notebook), Path(runs_dir), out, label, timeout)
            done.add(spec.notebook)
        files = [out / name for name in spec.outputs]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise RuntimeError(f"{spec.notebook} did not write {missing} for figure {spec.id}")
        made[spec.id] = files
    return made


def _execute(notebook: Path, runs_dir: Path, out: Path, label: str | None,
             timeout: float) -> None:
    env = {**os.environ, "QNN_RUNS_DIR": str(runs_dir.resolve()),
           "QNN_FIGURES_DIR": str(out.resolve()), "MPLBACKEND": "Agg"}
    env.pop("QNN_LABEL", None)
    if label:
        env["QNN_LABEL"] = label
    result = subprocess.run([sys.executable, str(notebook.resolve())], env=env, capture_output=True,
                            text=True, timeout=timeout, cwd=notebook.parent)
    if result.returncode != 0:
        raise RuntimeError(f"{notebook} failed (exit {result.returncode}):\n"
                           f"{result.stderr[-3000:]}")
