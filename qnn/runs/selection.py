"""Which stored runs a figure may draw under a name: exactly those whose config is that name's.

A figure asks for a family and named configs (plus, where a panel needs it, config updates).
That request resolves — through the family's Sacred experiment — to a full config; a stored
run is drawn under the request's name only if its recorded config equals it, up to the seed
and the settings that do not change results (where files go, QPU URLs, retries, time-outs,
the torch device). Several matching runs are pooled only as distinct seeds (the newest run
of each seed); anything else is never shown under that name. ``runs=`` pins a figure to
explicit run folders instead, each labelled by its own named configs and overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .catalog import describe_run, flatten, run_folders, run_updates
from .config_data import read_json_data
from .folder import CONFIG_FILE, RESULTS_FILE

# Keys that say where or how a run ran, not what it computed.
RUN_TIME_KEYS = ("seed", "store.output_dir", "store.resume_from", "photonics.urls",
                 "photonics.retries", "photonics.timeout", "photonics.device")


class NoMatchingRuns(ConfigError):
    """No stored run has the requested config; the message names the command that makes one."""


@dataclass(frozen=True)
class Selection:
    """The runs a figure draws under one name, and that name.

    Attributes:
        family: the experiment family.
        name: what legends and captions call it (the named configs and updates asked for,
            or, for pinned runs, their own).
        folders: the run folders, one per seed, oldest first.
        seeds: their config seeds.
    """

    family: str
    name: str
    folders: tuple[Path, ...]
    seeds: tuple[int, ...]

    @property
    def label(self) -> str:
        """``"paper_table (run 3, seed 1)"`` or ``"smoke (runs 1, 4; seeds 0, 1)"``."""
        ids = ", ".join(f.name for f in self.folders)
        distinct = list(dict.fromkeys(self.seeds))  # pooled runs of one seed: said once
        seeds = ", ".join(str(s) for s in distinct)
        plural = "s" if len(self.folders) > 1 else ""
        return f"{self.name} (run{plural} {ids}; seed{'s' if len(distinct) > 1 else ''} {seeds})"

    def only(self, keep: Callable[[Path], bool]) -> Selection:
        """The runs ``keep`` accepts, named by their own configs (a figure that draws some of
        its runs' rows names only the runs it drew).

        Raises:
            NoMatchingRuns: ``keep`` accepts none of them.
        """
        kept = [(f, s) for f, s in zip(self.folders, self.seeds, strict=True) if keep(f)]
        if not kept:
            raise NoMatchingRuns(f"none of the runs of '{self.name}' holds what is drawn")
        if len(kept) == len(self.folders):
            return self
        folders = tuple(f for f, _ in kept)
        return Selection(self.family, pooled_name([describe_run(f) for f in folders]),
                         folders, tuple(s for _, s in kept))

    def config(self) -> dict[str, Any]:
        """The full config of the first run: runs drawn as one share every setting but the
        list-valued ones they pool along (seeds, sizes, bond dimensions)."""
        return read_json_data(self.folders[0] / CONFIG_FILE)

    def rows(self, table: str = "tasks") -> list[dict[str, Any]]:
        """The rows of ``table`` of every selected run, each with its ``run`` folder name."""
        out = []
        for folder in self.folders:
            results = read_json_data(folder / RESULTS_FILE)
            if table not in results:
                raise ConfigError(f"{folder}: no {table!r} table in {RESULTS_FILE}")
            out += [{**row, "run": folder.name} for row in results[table]]
        return out

    def frame(self, table: str = "tasks") -> pd.DataFrame:
        return pd.DataFrame(self.rows(table))


def resolved_config(family: str, named_configs: Sequence[str] = (),
                    updates: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full config ``qnn run <family> with <named_configs> <updates>`` would run."""
    from .families import load_family

    ex = load_family(family).ex  # imports Sacred quietly (it warns about pkg_resources)
    from sacred.initialize import create_run

    return dict(create_run(ex, ex.default_command, dict(updates or {}),
                           named_configs=list(named_configs), force=True).config)


def select_runs(runs_dir: str | Path, family: str, named_configs: Sequence[str] = (),
                updates: Mapping[str, Any] | None = None) -> Selection:
    """The completed runs whose config is exactly that of ``named_configs`` + ``updates``
    (a key the family gained after a run was recorded counts as its default there).

    Raises:
        NoMatchingRuns: none; the message gives the command that produces one.
    """
    wanted = _comparable(resolved_config(family, named_configs, updates))
    defaults = {k: v for k, v in flatten(resolved_config(family)).items() if k in wanted}
    newest: dict[int, Path] = {}
    for folder in run_folders(runs_dir):
        row = describe_run(folder)
        if row["family"] != family or row["status"] != "COMPLETED":
            continue
        if _comparable(recorded_config(folder, defaults)) == wanted:
            newest[row["seed"]] = folder  # folders come oldest first: the newest wins
    name = " ".join([*named_configs, *(f"{k}={v!r}" for k, v in flatten(dict(updates or {}))
                                       .items())]) or "default"
    if not newest:
        raise NoMatchingRuns(f"no completed {family} run under {runs_dir} has the config of "
                             f"'{name}'; make one with: qnn run {family} with {name}")
    seeds = sorted(newest, key=lambda s: _order(newest[s]))
    return Selection(family, name, tuple(newest[s] for s in seeds), tuple(seeds))


def pinned_runs(folders: Sequence[str | Path], family: str,
                named_configs: Sequence[str] = (),
                updates: Mapping[str, Any] | None = None, *,
                fall_back: bool = True) -> Selection:
    """Explicit runs of ``family`` (``qnn figures --runs``), named by their own configs.

    Where some of them were run with exactly ``named_configs`` (a figure drawing circle and
    digits runs in separate panels), only those; else those run with all of them among
    others; otherwise, if ``fall_back``, every pinned run of the family. Among those, runs of
    another condition than the request's are left out (see :func:`same_condition`).

    Raises:
        NoMatchingRuns: no pinned run of the family has the request's condition (or, without
            ``fall_back``, its named configs).
    """
    rows = [describe_run(Path(f)) for f in folders]
    rows = [r for r in rows if r["family"] == family]
    if not rows:
        raise NoMatchingRuns(f"none of the pinned runs {list(map(str, folders))} is a "
                             f"{family} run")
    if named_configs:
        wanted = set(named_configs)
        exact = [r for r in rows if set(r["named_configs"].split()) == wanted]
        among = [r for r in rows if wanted <= set(r["named_configs"].split())]
        if not (exact or among or fall_back):
            raise NoMatchingRuns(f"{' '.join(named_configs)}: no pinned {family} run was "
                                 "made with it")
        rows = exact or among or rows
    rows = same_condition(rows, family, named_configs, updates)
    return Selection(family, pooled_name(rows), tuple(Path(r["path"]) for r in rows),
                     tuple(r["seed"] for r in rows))


def same_condition(rows: Sequence[dict[str, Any]], family: str, named_configs: Sequence[str],
                   updates: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The runs (catalogue rows) whose condition is the request's. Runs of one set of named
    configs pool along their list-valued updates (``seeds``, ``bond_dims``, ``sizes``: the
    tasks of one sweep, split over runs) and along :data:`PART_SIZES` (parts of 10 and of 5
    instances, run with distinct seeds, are one study's instances) and share a regime (an
    update all of them made, such as ``train.rounds=100``), but a scalar update on which
    they differ is a condition (``photonics.backend='exact'`` against the QPU pool): there a
    run's value must be what ``qnn run`` with the request's configs and updates would use.
    So must it for every key the request itself updates, even where the runs agree: runs
    all made without ``bbs.flip_param='logit'`` are not that request's runs. A key the
    family gained after a run was recorded counts as its default there, as in
    :func:`select_runs`."""
    groups: dict[str, list[dict[str, Any]]] = {}  # runs of other named configs never pool
    for row in rows:
        groups.setdefault(row["named_configs"], []).append(row)
    requested = list(flatten(dict(updates or {})))
    kept, conditions, asked, defaults = [], [], None, None
    for group in groups.values():
        overrides = [run_updates(Path(r["path"])) for r in group]
        keys = sorted(set().union(*overrides))
        differ = [k for k in keys if k not in PART_SIZES
                  and not any(isinstance(u.get(k), list | tuple) for u in overrides)
                  and len({repr(u.get(k, _UNSET)) for u in overrides}) > 1]
        conditions_here = differ + [k for k in requested if k not in differ]
        if not conditions_here:
            kept += group
            continue
        conditions += conditions_here
        asked = asked or flatten(resolved_config(family, named_configs, updates))
        defaults = defaults or flatten(resolved_config(family))
        for row in group:  # each run's config read once, whatever the number of conditions
            config = recorded_config(Path(row["path"]), defaults)
            if all(config.get(k) == asked.get(k) for k in conditions_here):
                kept.append(row)
    if not kept:
        name = " ".join([*named_configs, *(f"{k}={v!r}" for k, v in flatten(dict(updates or {}))
                                           .items())])
        raise NoMatchingRuns(f"none of the pinned {family} runs has the condition of '{name}' "
                             f"({', '.join(dict.fromkeys(conditions))})")
    return [r for r in rows if r in kept]  # in the pinned order


_UNSET = object()
# Scalar updates that size one part of a sweep split over runs: they pool, never a condition.
PART_SIZES = frozenset({"instances"})


def pooled_name(rows: Sequence[Mapping[str, Any]]) -> str:
    """One name for runs drawn together (catalogue rows): per set of named configs, the
    updates they share, then each update they differ in with its values in run order, e.g.
    ``paper_chi_sweep seeds=[0, 1, 2] bond_dims=[1] | [2] | [4]``; sets joined by ``+``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        named = "" if row["named_configs"] == "-" else row["named_configs"]
        groups.setdefault(named, []).append(run_updates(Path(row["path"])))
    names = []
    for named, updates in sorted(groups.items()):
        keys = sorted(set().union(*updates))
        shared = [k for k in keys if all(k in u and u[k] == updates[0][k] for u in updates)]
        parts = [f"{k}={updates[0][k]!r}" for k in shared]
        for key in (k for k in keys if k not in shared):
            values = dict.fromkeys(repr(u[key]) if key in u else "(default)" for u in updates)
            parts.append(f"{key}={' | '.join(values)}")
        names.append(" ".join(filter(None, [named, *parts])) or "default")
    return " + ".join(names)


def recorded_config(folder: Path, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A run's recorded config, flat, where a key the family gained after the run was
    recorded takes its default: new keys keep the old behaviour by default, so such a run
    still computed what this says. ``defaults``: flat default values. Where whole configs
    are compared, pass only the keys of the config compared with: a dict empty by default
    (``sizes``) flattens to other keys once a named config fills it."""
    return {**defaults, **flatten(read_json_data(folder / CONFIG_FILE))}


def _comparable(config: Mapping[str, Any]) -> dict[str, Any]:
    flat = flatten(dict(config))
    return {k: v for k, v in flat.items()
            if not any(k == key or k.startswith(key + ".") for key in RUN_TIME_KEYS)}


def _order(folder: Path) -> tuple[int, str]:
    return (int(folder.name), "") if folder.name.isdigit() else (1 << 62, folder.name)
