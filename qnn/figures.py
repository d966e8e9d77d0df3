"""Regenerate paper figures: run the analysis notebooks listed in the figure manifests.

A manifest (``figures.toml``) lists each figure, the commands that produce its data and the
notebook that draws it, by a path relative to the manifest. Manifests are package data,
found through the ``qnn.figures`` entry-point group (a package name whose ``figures.toml``
is read), so ``qnn figures`` works from any folder and from an installed wheel; this
project's is ``qnn_experiments/figures.toml``.

`qnn figures` and a notebook talk through the environment, so the same notebook runs
unchanged in Jupyter (where the defaults apply):

- ``QNN_RUNS_DIR`` (default ``runs``), ``QNN_FIGURES_DIR`` (``paper/figures``): where
  runs are read and files written.
- ``QNN_LABEL``: a named config every request draws instead of its own (``--label``).
- ``QNN_RUNS``: run folders, ``os.pathsep``-separated, every figure is pinned to (``--runs``).
- ``QNN_FIGURES_REPORT``: a file the notebook appends one JSON line per figure to: drawn
  (from which runs) or skipped (why, and the command that makes the data).
- ``QNN_ONLY``: comma-separated figure ids to draw; the notebook's others are skipped.

A notebook draws each figure inside ``with settings.figure(id) as figure:`` and asks for its
data with ``figure.select(Request(family, named_configs, updates), ...)``; a request that no
completed run matches skips the rest of the block and reports the figure skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .runs.selection import NoMatchingRuns, Selection, pinned_runs, select_runs

MANIFEST = "figures.toml"
ENTRY_POINTS = "qnn.figures"
MAKE_ONE = "; make one with: "  # how a NoMatchingRuns message gives its command


@dataclass(frozen=True)
class Request:
    """The runs of one curve or panel: ``qnn run <family> with <named_configs> <updates>``.

    ``named_configs`` may be one space-separated string; ``updates`` nests like a config
    (``{"photonics": {"backend": "exact"}}``).
    """

    family: str
    named_configs: str | Sequence[str] = ()
    updates: Mapping[str, Any] | None = None

    def name(self, label: str | None = None) -> str:
        """``"hardware_14 photonics.backend='exact'"``, as the command line spells it (with
        ``label`` in place of the named configs, if given)."""
        from .runs.catalog import flatten

        updates = flatten(dict(self.updates or {}))
        return " ".join([*self.configs(label), *(f"{k}={v!r}" for k, v in updates.items())])

    def configs(self, label: str | None) -> list[str]:
        """The named configs to select: ``label`` in place of the request's own, if given."""
        if label:
            return [label]
        names = self.named_configs
        return names.split() if isinstance(names, str) else list(names)


class FigureSkipped(NoMatchingRuns):
    """A figure lacks data; the message names the command(s) that produce it."""


@dataclass(frozen=True)
class NotebookSettings:
    """What `qnn figures` hands a notebook through the environment (defaults for Jupyter)."""

    runs_dir: Path
    out_dir: Path
    label: str | None = None  # a named config to draw instead of each request's own
    pinned: tuple[Path, ...] = ()  # run folders every figure draws instead of selecting
    report: Path | None = None  # where each figure's outcome goes, one JSON line each
    only: tuple[str, ...] = ()  # figure ids to draw; the others are skipped (all when empty)

    def figure(self, figure_id: str) -> FigureRuns:
        """The runs of one figure: a ``with`` block that is skipped when data is missing."""
        return FigureRuns(self, figure_id)


def notebook_settings() -> NotebookSettings:
    """Read the ``QNN_*`` variables (module docstring); create the output folder."""
    pinned = os.environ.get("QNN_RUNS", "")
    report = os.environ.get("QNN_FIGURES_REPORT")
    settings = NotebookSettings(Path(os.environ.get("QNN_RUNS_DIR", "runs")),
                                Path(os.environ.get("QNN_FIGURES_DIR", "paper/figures")),
                                os.environ.get("QNN_LABEL") or None,
                                tuple(Path(p) for p in pinned.split(os.pathsep) if p),
                                Path(report) if report else None,
                                tuple(filter(None, os.environ.get("QNN_ONLY", "").split(","))))
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    return settings


class FigureRuns:
    """Selects the runs of one figure, each set drawn once, and reports how the figure went.

    Used as ``with settings.figure("bbs_ablations") as figure:``; a :class:`NoMatchingRuns`
    raised in the block (by :meth:`select`) ends the block and records the figure as skipped
    with its message. Any other error propagates: the notebook fails.
    """

    def __init__(self, settings: NotebookSettings, figure_id: str) -> None:
        self.settings, self.id = settings, figure_id
        self.drawn: list[Selection] = []  # each set of runs once, and what asked for it
        self.requests: list[Request] = []
        self.notes: list[str] = []

    def select(self, *requests: Request, optional: bool = False) -> list[Selection | None]:
        """One :class:`Selection` per request, ``None`` for runs already drawn in this figure
        under another name (a run is never shown twice) and, if ``optional``, for missing ones.

        Raises:
            FigureSkipped: a required request matches no completed run; the message names
                the command of each one missing.
        """
        if self.settings.only and self.id not in self.settings.only:
            raise FigureSkipped(f"not asked for (only {', '.join(self.settings.only)})")
        found, missing = [], []
        for request in requests:
            try:
                found.append(self._claim(request, self._selection(request, optional)))
            except NoMatchingRuns as err:
                found.append(None)
                if optional:
                    self.notes.append(f"drawn without {err}")
                else:
                    missing.append((request, str(err)))
        if missing:
            raise FigureSkipped(self._one_line(missing))
        return found

    def _one_line(self, missing: list[tuple[Request, str]]) -> str:
        """Why the figure is skipped, as one line: the message of a single missing request;
        for several, their names and every command to run."""
        messages = list(dict.fromkeys(message for _, message in missing))
        if len(messages) == 1 or not all(MAKE_ONE in m for m in messages):
            return "; ".join(messages)
        names = ", ".join(f'"{r.name(self.settings.label)}"' for r, _ in missing)
        commands = " && ".join(m.partition(MAKE_ONE)[2] for m in messages)
        families = "/".join(dict.fromkeys(r.family for r, _ in missing))
        return (f"no completed {families} runs under {self.settings.runs_dir} have the "
                f"configs of {names}; make them with: {commands}")

    def _selection(self, request: Request, optional: bool) -> Selection:
        if self.settings.pinned:
            # a required request draws the pinned runs whatever they were run with (so
            # `--runs X` always draws X); an optional one only runs made with its configs
            return pinned_runs(self.settings.pinned, request.family,
                               request.configs(self.settings.label), request.updates,
                               fall_back=not optional)
        from sacred.utils import NamedConfigNotFoundError

        try:
            return select_runs(self.settings.runs_dir, request.family,
                               request.configs(self.settings.label), request.updates)
        except NamedConfigNotFoundError as err:  # a --label the family does not define
            raise NoMatchingRuns(f"{request.family} has no named config "
                                 f"{self.settings.label!r} ({err})") from None

    def _claim(self, request: Request, selection: Selection) -> Selection | None:
        """``selection`` without the runs an earlier request of this figure drew (a run is
        never shown twice, under two names); ``None`` when none is left."""
        for asked, earlier in zip(self.requests, self.drawn, strict=True):
            if earlier.folders == selection.folders:
                self.notes.append(f'"{request.name()}" and "{asked.name()}" are the same runs, '
                                  f"{earlier.label}: drawn once")
                return None
        drawn = {f for earlier in self.drawn for f in earlier.folders}
        kept = [(f, s) for f, s in zip(selection.folders, selection.seeds, strict=True)
                if f not in drawn]
        if not kept:
            self.notes.append(f'"{request.name()}": its runs are drawn under other names')
            return None
        if len(kept) < len(selection.folders):
            selection = replace(selection, folders=tuple(f for f, _ in kept),
                                seeds=tuple(s for _, s in kept))
        self.requests.append(request)
        self.drawn.append(selection)
        return selection

    def __enter__(self) -> FigureRuns:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: Any) -> bool:
        if kind is not None and not issubclass(kind, NoMatchingRuns):
            return False
        if kind is None:
            record = {"status": "drawn", "message": "from " + "; ".join(
                s.label for s in self.drawn)}
        else:
            record = {"status": "skipped", "message": str(error)}
        record |= {"figure": self.id, "notes": self.notes,
                   "runs": [str(f) for s in self.drawn for f in s.folders]}
        print(f"figure {self.id}: {'drawn ' if kind is None else 'skipped: '}"
              f"{record['message']}" + "".join(f"\n  ({note})" for note in self.notes))
        if self.settings.report:
            with open(self.settings.report, "a") as f:
                f.write(json.dumps(record) + "\n")
        return True


@dataclass(frozen=True)
class FigureSpec:
    """One manifest entry: which notebook draws which files from which runs."""

    id: str
    title: str
    notebook: str
    outputs: tuple[str, ...]
    commands: tuple[str, ...] = field(default=())
    smoke_commands: tuple[str, ...] = field(default=())
    # shipped run folders, relative to the reference folder (data/reference), drawn when no
    # run under the runs folder matches: labelled by their own configs, so a shipped run of
    # a reduced regime is never shown under the full regime's name
    reference: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class FigureResult:
    """How one figure went: ``status`` is ``drawn``, ``skipped`` (no data: ``message`` says
    which command makes it) or ``failed`` (``message`` is the error)."""

    status: str
    message: str  # one line: drawn "from <runs>", or why it was skipped or failed
    files: tuple[Path, ...] = ()
    runs: tuple[Path, ...] = ()  # the run folders drawn
    notes: tuple[str, ...] = ()  # e.g. a request drawn once under an earlier name
    detail: str = ""  # failed: the end of the notebook's stderr


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
    allowed = required | {"commands", "smoke_commands", "reference"}
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
                 label: str | None = None, runs: Sequence[str | Path] = (),
                 reference_dir: str | Path = "data/reference",
                 timeout: float = 1800.0) -> dict[str, FigureResult]:
    """Execute each needed notebook once, headless (Agg), and say how each figure went.

    Each notebook knows which named configs its figures draw; ``label`` (``QNN_LABEL``)
    makes every request draw that one instead, e.g. ``"smoke"`` to check the whole chain on
    quick runs; ``runs`` (``QNN_RUNS``) pins every figure to those run folders. A figure
    that no run under ``runs_dir`` matches is drawn from its shipped ``reference`` runs under
    ``reference_dir`` where the manifest names some (and neither ``label`` nor ``runs`` is
    given); otherwise it is skipped, not failed, and its older files are left as they were.
    A failing notebook fails its figures and the others still run.

    Args:
        manifests: manifest files; ``None``: every installed one (:func:`installed_manifests`).

    Returns:
        figure id -> :class:`FigureResult`, in manifest order.

    Raises:
        ValueError: an unknown figure id, ``label`` with ``runs``, or a pinned folder that is
            not a run.
    """
    specs = _wanted(manifests, only)
    pinned = _pinned(runs, label)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, tuple[int, str, dict[str, dict]]] = {}
    results = {}
    for spec in specs:
        if spec.notebook not in outcomes:
            # with --only, a notebook draws just the figures asked for
            asked = ",".join(s.id for s in specs if s.notebook == spec.notebook) if only else ""
            outcomes[spec.notebook] = _execute(Path(spec.notebook), Path(runs_dir), out, label,
                                               pinned, timeout, only=asked)
        results[spec.id] = _result(spec, out, *outcomes[spec.notebook])
        shipped = _reference_runs(spec, Path(reference_dir))
        if results[spec.id].status == "skipped" and shipped and not (label or pinned):
            result = _result(spec, out, *_execute(Path(spec.notebook), Path(runs_dir), out,
                                                  None, shipped, timeout, only=spec.id))
            results[spec.id] = replace(result, message=f"{result.message} (shipped in "
                                                       f"{reference_dir})")
    (out / RESULTS_PAGE).write_text(results_page(specs, results))
    return results


RESULTS_PAGE = "RESULTS.md"


def results_page(specs: Sequence[FigureSpec], results: Mapping[str, FigureResult]) -> str:
    """One Markdown page of what `qnn figures` made: per figure its title, the runs drawn
    (or why it was skipped and the command that makes the data), the image and its tables
    (with the published numbers where a notebook puts them beside ours)."""
    lines = ["# Results", "",
             "Generated by `qnn figures` from the stored and shipped runs; every table gives "
             "mean ± sample std and n.", ""]
    for spec in specs:
        result = results[spec.id]
        sep = " " if result.status == "drawn" else ": "
        lines += [f"## {spec.title}", "", f"`{spec.id}`: {result.status}{sep}{result.message}",
                  ""]
        if result.status != "drawn":
            continue
        lines += [_runs_table(result.runs), ""] if result.runs else []
        for path in result.files:
            if path.suffix == ".png":
                lines += [f"![{spec.id}]({path.name})", ""]
            elif path.suffix == ".md" and path.is_file():
                lines += [path.read_text().strip(), ""]
    return "\n".join(lines)


def run_command(folder: Path, row: Mapping[str, Any] | None = None) -> str:
    """The ``qnn run`` command line that repeats the run in ``folder`` (its named configs,
    updates and seed, shell-quoted; a resume's bookkeeping left out). ``row``: the folder's
    :func:`~qnn.runs.catalog.describe_run` row, where the caller has it already."""
    import shlex

    from .runs.catalog import describe_run, run_updates

    row = describe_run(folder) if row is None else row
    words = ["qnn", "run", row["family"], "with"]
    words += [] if row["named_configs"] == "-" else row["named_configs"].split()
    for key, value in sorted(run_updates(folder).items()):
        words.append(shlex.quote(f"{key}={_literal(value)}"))
    words.append(f"seed={row['seed']}")
    return " ".join(words)


def _literal(value: object) -> str:
    """``value`` as the command line gives it back: a bare word for a plain string, JSON for
    lists and mappings where that is also the Python literal (double quotes read better in
    a shell), else Python's repr."""
    import ast

    if isinstance(value, str) and value.isidentifier():
        return value
    if isinstance(value, list | dict):
        text = json.dumps(value)
        try:
            if ast.literal_eval(text) == value:
                return text
        except (ValueError, SyntaxError):
            pass
    return repr(value)


def _runs_table(folders: Sequence[Path]) -> str:
    """Markdown: each run drawn, the command that repeats it, and its wall time where it ran."""
    from .runs.catalog import describe_run
    from .runs.config_data import read_json_mapping

    lines = ["| run | command | wall time (where it ran) |", "|---|---|---|"]
    for folder in folders:
        row = describe_run(folder)
        seconds = row["seconds"]
        took = "–" if seconds is None else (f"{seconds / 60:.1f} min" if seconds >= 90
                                            else f"{seconds:.0f} s")
        if seconds is not None and "resumed_from" in read_json_mapping(folder / "info.json"):
            took += " (its last part: it resumed an interrupted run)"
        lines.append(f"| `{folder.name}` | `{run_command(folder, row)}` | {took} |")
    return "\n".join(lines)


def _reference_runs(spec: FigureSpec, reference_dir: Path) -> tuple[Path, ...]:
    """The figure's shipped run folders, if every one of them is there."""
    from .runs.folder import RUN_FILE

    folders = tuple((reference_dir / name).resolve() for name in spec.reference)
    return folders if folders and all((f / RUN_FILE).is_file() for f in folders) else ()


def _wanted(manifests: list[Path] | None, only: list[str] | None) -> list[FigureSpec]:
    specs = [spec for manifest in (installed_manifests() if manifests is None else manifests)
             for spec in read_manifest(manifest)]
    if only:
        unknown = sorted(set(only) - {s.id for s in specs})
        if unknown:
            raise ValueError(f"unknown figure id(s) {unknown}; known: {[s.id for s in specs]}")
        specs = [s for s in specs if s.id in only]
    return specs


def _pinned(runs: Sequence[str | Path], label: str | None) -> tuple[Path, ...]:
    from .runs.folder import RUN_FILE

    if runs and label:
        raise ValueError("give --label or --runs, not both: pinned runs are drawn as they are")
    folders = tuple(Path(r).resolve() for r in runs)
    for folder in folders:
        if not (folder / RUN_FILE).is_file():
            raise ValueError(f"{folder} is not a run folder (it has no {RUN_FILE})")
    return folders


def _execute(notebook: Path, runs_dir: Path, out: Path, label: str | None,
             pinned: tuple[Path, ...], timeout: float, only: str = ""
             ) -> tuple[int, str, dict[str, dict]]:
    """Run one notebook; its exit status, the end of its stderr, and its figure reports."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.jsonl"
        env = {**os.environ, "QNN_RUNS_DIR": str(runs_dir.resolve()),
               "QNN_FIGURES_DIR": str(out.resolve()), "MPLBACKEND": "Agg",
               "QNN_FIGURES_REPORT": str(report)}
        for name, value in (("QNN_LABEL", label), ("QNN_RUNS", os.pathsep.join(map(str, pinned))),
                            ("QNN_ONLY", only)):
            env.pop(name, None)
            if value:
                env[name] = value
        try:
            done = subprocess.run([sys.executable, str(notebook.resolve())], env=env,
                                  capture_output=True, text=True, timeout=timeout,
                                  cwd=notebook.parent)
            status, stderr = done.returncode, done.stderr[-3000:]
        except subprocess.TimeoutExpired:
            status, stderr = -1, f"timed out after {timeout:.0f} s"
        lines = report.read_text().splitlines() if report.is_file() else []
    return status, stderr, {r["figure"]: r for r in map(json.loads, lines)}


def _result(spec: FigureSpec, out: Path, status: int, stderr: str,
            reports: dict[str, dict]) -> FigureResult:
    """One figure's outcome from its notebook's report, exit status and files."""
    files = tuple(out / name for name in spec.outputs)
    report = reports.get(spec.id, {})
    if report.get("status") == "skipped":
        older = [f.name for f in files if f.is_file()]
        kept = f" (older {', '.join(older)} left in {out})" if older else ""
        return FigureResult("skipped", report["message"] + kept,
                            notes=tuple(report.get("notes", ())))
    missing = [f.name for f in files if not f.is_file()]
    if status != 0 and not report:
        error = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        return FigureResult("failed", f"{spec.notebook} exited with {status}: {error}",
                            detail=stderr)
    if missing:
        return FigureResult("failed", f"{spec.notebook} did not write {missing}")
    unreported = "by a notebook that does not report its runs"
    return FigureResult("drawn", report.get("message", unreported), files,
                        tuple(Path(r) for r in report.get("runs", ())),
                        tuple(report.get("notes", ())))
