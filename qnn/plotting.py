"""The paper's figure and table style: one look for every figure `qnn figures` draws.

Figures are sized for a two-column paper — :data:`COLUMN` (3.4 in) or :data:`PAGE` (7 in)
wide — with no text under 7 pt, so they are read at their printed size, not scaled down.
Series take the Okabe–Ito palette (told apart with the common colour-vision deficiencies)
and a marker each, points at the same x are dodged sideways, legends sit below the panels
rather than on the data, and the legend's caption names the runs drawn and what every error
bar or band is (:func:`spread_note`: "mean ± sample std, n = …"). Tables go out twice
(:func:`write_table`): numeric CSV, with mean, std and n in separate columns, and Markdown
for the README and the paper.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator, NullFormatter

COLUMN = 3.4  # in: one column of a two-column paper
PAGE = 7.0  # in: the full text width
# Okabe & Ito, "Color Universal Design" (2008); yellow last, as it is faint on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SPREAD = "mean ± sample std"
STYLE = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "legend.fontsize": 7, "legend.title_fontsize": 7,
    "figure.titlesize": 8, "lines.linewidth": 1.2, "lines.markersize": 4,
    "errorbar.capsize": 2, "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5,
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "figure.constrained_layout.use": True, "savefig.facecolor": "white",
}
# No matplotlib version stamp, so reruns on the same runs write identical bytes.
SAVE_OPTIONS = {"metadata": {"Software": None}, "dpi": 300}
LEGEND_HEIGHT = 0.55  # in: below the panels, for a legend row and a caption line or two
LINE_HEIGHT = 0.13  # in: one more line of legend or caption at 7 pt
NAME_LIMIT = 28  # characters of a run name that panel titles and legend entries show


def use_style() -> None:
    """Apply :data:`STYLE` to every figure made afterwards in this process."""
    mpl.rcParams.update(STYLE)


def grid(nrows: int, ncols: int, *, width: float = PAGE, panel_height: float | None = None,
         legend_height: float = LEGEND_HEIGHT, **subplots: Any) -> tuple[Figure, np.ndarray]:
    """A figure of ``nrows x ncols`` panels ``width`` inches wide, room below for the legend.

    Args:
        panel_height: inches per row; default 0.72 of a panel's width, at most 2.4.
        subplots: passed to ``plt.subplots`` (``sharex``, ``sharey``).

    Returns:
        The figure and its ``(nrows, ncols)`` array of axes.
    """
    height = panel_height or min(0.72 * width / ncols, 2.4)
    return plt.subplots(nrows, ncols, figsize=(width, nrows * height + legend_height),
                        squeeze=False, **subplots)


def panels(n: int, *, width: float = PAGE, max_cols: int = 3, **options: Any
           ) -> tuple[Figure, list[Axes]]:
    """``n`` panels in rows of at most ``max_cols`` (a grid, never a long strip); cells
    left over in the last row are removed."""
    ncols = min(n, max_cols)
    fig, axes = grid(math.ceil(n / ncols), ncols, width=width, **options)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def series_styles(keys: Iterable[Hashable]) -> dict[Hashable, dict[str, Any]]:
    """A colour and a marker per key, in order, so a series looks the same in every panel."""
    return {key: {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}
            for i, key in enumerate(dict.fromkeys(keys))}


def dodge(x: Sequence[float], index: int, count: int, *, log: bool = False,
          width: float = 0.3) -> np.ndarray:
    """``x`` shifted for series ``index`` of ``count``, so markers at one x do not overlap.

    The shifts span ``width`` of the smallest gap between distinct x (of 1 where there is
    one x), as a factor on a log axis; a gap wider than an eighth of the x range counts as
    that, so two far-apart values (χ = 1 and 10) are not shifted until they read as others.
    """
    x = np.asarray(x, dtype=float)
    if count < 2:
        return x
    values = np.unique(np.log10(x) if log else x)
    gap = (min(np.diff(values).min(), (values[-1] - values[0]) / 8) if len(values) > 1
           else (0.3 if log else 1.0))
    shift = (index - (count - 1) / 2) * width * gap / (count - 1)
    return x * 10 ** shift if log else x + shift


def integer_axis(ax: Axes, which: str = "x", values: Iterable[float] = ()) -> None:
    """Ticks at integers only (sizes, epochs, rounds, bond dimensions).

    Args:
        values: the integers drawn, if dodged: the axis then spans them with half a gap
            (or half a unit) to spare, so a dodged cluster stays narrow around its tick,
            and up to 12 of them are the ticks.
    """
    axis = ax.xaxis if which == "x" else ax.yaxis
    # min_n_ticks=1: a single size dodged over less than one unit still gets its one tick
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    values = np.unique(np.asarray(list(values), dtype=float))
    if len(values):
        pad = np.diff(values).min() / 2 if len(values) > 1 else 0.5
        (ax.set_xlim if which == "x" else ax.set_ylim)(values[0] - pad, values[-1] + pad)
    if 0 < len(values) <= 12:
        axis.set_ticks(values, [f"{v:g}" for v in values])


def title(ax: Axes, text: str) -> None:
    """``text`` as the panel's title, wrapped to the panel's width."""
    width = ax.get_position().width * ax.figure.get_figwidth()
    ax.set_title(wrap(text, width, mpl.rcParams["axes.titlesize"]))


def log_ticks(ax: Axes, values: Iterable[float], which: str = "x") -> None:
    """A log axis ticked at exactly ``values`` (e.g. the shot counts run), plainly labelled."""
    values = sorted(set(values))
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_ticks(values, [f"{v:g}" for v in values])
    axis.set_minor_formatter(NullFormatter())


def plain_log(ax: Axes, which: str = "y") -> None:
    """Label a log axis with plain numbers (200, 1000), minor ticks too where few decades."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def errorbars(ax: Axes, x: Sequence[float], mean: Sequence[float], std: Sequence[float],
              **style: Any) -> Any:
    """Points with ± ``std`` bars (none where the std is undefined: a single value)."""
    std = np.asarray(std, dtype=float)
    yerr = None if np.all(np.isnan(std)) else np.nan_to_num(std)
    return ax.errorbar(x, mean, yerr=yerr, **style)


def band(ax: Axes, x: Sequence[float], mean: Sequence[float], std: Sequence[float],
         **style: Any) -> Any:
    """A line with a shaded ± ``std`` band in its colour (no band for a single value)."""
    (line,) = ax.plot(x, mean, **style)
    std = np.asarray(std, dtype=float)
    if not np.all(np.isnan(std)):
        mean = np.asarray(mean, dtype=float)
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.18,
                        linewidth=0)
    return line


def mean_curve(curves: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and sample std (``ddof=1``; ``nan`` for one curve) of equal-length curves.

    Returns:
        ``mean`` and ``std``, each ``(length,)``, and the number of curves.
    """
    stack = np.asarray(curves, dtype=float)
    if stack.ndim != 2 or not len(stack):
        raise ValueError(f"expected a non-empty list of equal-length curves, got shape "
                         f"{stack.shape}")
    std = stack.std(axis=0, ddof=1) if len(stack) > 1 else np.full(stack.shape[1], np.nan)
    return stack.mean(axis=0), std, len(stack)


def markevery(length: int, index: int, count: int, marks: int = 8) -> tuple[int, int]:
    """Markers on about ``marks`` points of series ``index`` of ``count`` curves, staggered
    so that no two series put a marker at the same x."""
    every = max(count, length // marks, 1)
    return (index * every // max(count, 1), every)


def counts_text(counts: Iterable[int]) -> str:
    """``"20"``, or ``"10–20"`` where the counts differ."""
    counts = sorted({int(c) for c in counts})
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def spread_note(counts: Iterable[int], unit: str, shown: str = "error bars") -> str:
    """What bars or bands are: ``"error bars: mean ± sample std, n = 20 instances"``."""
    counts = list(counts)
    if max(counts) < 2:
        return f"n = 1 {unit.rstrip('s')}: no spread to show"
    return f"{shown}: {SPREAD}, n = {counts_text(counts)} {unit}"


def short_name(selections: Sequence[Any], selection: Any) -> str:
    """What panels and legends call ``selection``: its name, or ``"runs A"``, ``"runs B"``,
    … (by its place in ``selections``) where the name is longer than :data:`NAME_LIMIT`
    characters (an ad-hoc run's overrides); :func:`caption` spells those out."""
    if len(selection.name) <= NAME_LIMIT:
        return selection.name
    return f"runs {chr(ord('A') + list(selections).index(selection))}"


def caption(selections: Sequence[Any], *notes: str) -> str:
    """The legend's caption: the runs drawn (each selection's label, after its short name
    where that is not the name itself), then the notes."""
    parts = []
    for selection in selections:
        short = short_name(selections, selection)
        parts.append(selection.label if short == selection.name
                     else f"{short} = {selection.label}")
    return "\n".join(["data: " + "; ".join(parts), *notes])


def legend(fig: Figure, axes: Iterable[Axes], *, title: str = "", ncols: int | None = None,
           entries: Sequence[tuple[Any, str]] | None = None) -> None:
    """One legend for the whole figure, below its panels, with ``title`` as its caption.

    Args:
        entries: ``(handle, label)`` pairs; default: every labelled artist of ``axes``
            (each label once).
    """
    if entries is None:
        seen: dict[str, Any] = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(label, handle)
        entries = [(handle, label) for label, handle in seen.items()]
    handles, labels = [e[0] for e in entries], [e[1] for e in entries]
    ncols = ncols or min(len(labels), 3) or 1
    width = fig.get_figwidth()
    title = wrap(title, width)
    # grow the figure by what the caption and entries need beyond the room grid() left
    lines = title.count("\n") + 1 + math.ceil(len(labels) / ncols) if title else 0
    fig.set_figheight(fig.get_figheight() + max(0, lines - 3) * LINE_HEIGHT)
    fig.legend(handles, [wrap(label, width / ncols) for label in labels],
               loc="outside lower center", title=title or None, ncols=ncols, frameon=False,
               alignment="left")


def wrap(text: str, width: float, points: float = 7) -> str:
    """``text`` broken into lines that fit ``width`` inches at ``points`` pt."""
    chars = max(20, int(width * 72 / (points * 0.56)) - 4)
    return "\n".join(textwrap.fill(line, chars, break_on_hyphens=False)
                     for line in text.splitlines())


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` with :data:`SAVE_OPTIONS` and close it."""
    fig.savefig(path, **SAVE_OPTIONS)
    plt.close(fig)
    return Path(path)


def write_table(frame: pd.DataFrame, path: str | Path, caption: str = "") -> tuple[Path, Path]:
    """Write ``frame`` as ``<path>.csv`` (numbers only) and ``<path>.md`` (Markdown).

    In the Markdown each ``<x>_mean`` / ``<x>_std`` column pair reads as one ``x`` column of
    ``mean ± std``, under ``caption`` (what the numbers are, which runs, what n counts).

    Returns:
        The CSV and Markdown paths.
    """
    path = Path(path)
    csv, md = path.with_suffix(".csv"), path.with_suffix(".md")
    frame.to_csv(csv, index=False, float_format="%.6g", lineterminator="\n")
    md.write_text(markdown_table(frame, caption))
    return csv, md


def markdown_table(frame: pd.DataFrame, caption: str = "") -> str:
    """``frame`` as a Markdown table, mean/std pairs merged into ``mean ± std`` cells."""
    columns: list[tuple[str, list[str]]] = []
    for name in frame.columns:
        if name.endswith("_std") and f"{name[:-4]}_mean" in frame.columns:
            continue
        if name.endswith("_mean") and f"{name[:-5]}_std" in frame.columns:
            cells = [_merge(m, s) for m, s in zip(frame[name], frame[f"{name[:-5]}_std"],
                                                  strict=True)]
            columns.append((f"{name[:-5]} ({SPREAD})", cells))
        else:
            columns.append((name, [_cell(v) for v in frame[name]]))
    header = [name for name, _ in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in zip(*(c for _, c in columns),
                                                                  strict=True)]
    return (f"{caption}\n\n" if caption else "") + "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "–" if np.isnan(value) else f"{value:.4g}"
    # A pooled run name lists values as "a | b": unescaped, each "|" would start a new column.
    return "–" if value is None or value is pd.NA else str(value).replace("|", "\\|")


def _merge(mean: float, std: float) -> str:
    return _cell(mean) if np.isnan(std) else f"{_cell(mean)} ± {_cell(std)}"
