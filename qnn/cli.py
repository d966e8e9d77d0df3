"""The ``qnn`` command line: one entry point for demos, experiments and services."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import QnnError
from .runs.families import family_names


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="sample a random TBI and store its histogram in HDF5",
        description="Sample a TBI with random angles (input 1,0,1,0,...) on a "
        "backend and write the histogram, with the exact "
        "distribution where it fits, to an HDF5 file.",
    )
    demo.add_argument("--modes", type=int, default=8, help="time bins M (default 8)")
    demo.add_argument("--loops", type=_int_list, default=(1, 2), help="loop lengths (default 1,2)")
    demo.add_argument("--shots", type=int, default=10_000, help="samples (default 10000)")
    demo.add_argument("--seed", type=int, default=0, help="seed for angles and samples")
    demo.add_argument("--backend", default="exact", help="backend name (default exact)")
    demo.add_argument("--detection", choices=("pnr", "threshold"), default="pnr")
    demo.add_argument("--transmission", type=float, default=1.0, help="uniform transmission η")
    demo.add_argument("--out", default="demo.h5", help="HDF5 file to write (default demo.h5)")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    import numpy as np

    from .photonics import NoiseModel, ProbabilityBackend, get_backend, random_tbi
    from .store import RunStore, circuit_attrs

    rng = np.random.default_rng(args.seed)
    circuit = random_tbi(args.modes, args.loops, rng=rng)
    options = (
        {"noise": NoiseModel(transmission=args.transmission)} if args.backend == "exact" else {}
    )
    backend = get_backend(args.backend, **options)
    hist = backend.sample(circuit, args.shots, seed=rng, detection=args.detection)
    attrs = {
        "backend": args.backend,
        "seed": args.seed,
        "noise": options["noise"].to_dict() if options else {},
    }
    attrs.update(circuit_attrs(circuit))
    with RunStore(args.out, mode="w") as store:
        store.put_histogram("demo/histogram", hist, **attrs)
        if isinstance(backend, ProbabilityBackend) and circuit.n_fock_states <= 1 << 20:
            patterns, probs = backend.probabilities(circuit, args.detection)
            store.put_probabilities("demo/probabilities", patterns, probs.detach(), **attrs)
    top = sorted(hist.to_dict().items(), key=lambda item: -item[1])[:5]
    print(f"{circuit}\n{hist}\nmost frequent patterns:")
    for pattern, count in top:
        print(f"  {''.join(map(str, pattern))}  {count / hist.shots:.4f}")
    mean = " ".join(f"{x:.3f}" for x in hist.mean_photon_number())
    print(f"mean photons per mode: {mean}\nwrote {args.out}")
    return 0


def _float_pair(text: str) -> tuple[float, float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS or LOW,HIGH, got {text!r}") from None
    if len(values) not in (1, 2):
        raise argparse.ArgumentTypeError(f"expected SECONDS or LOW,HIGH, got {text!r}")
    return (values[0], values[-1])


def noise_from_spec(text: str):
    """``"transmission=0.9,detector_efficiency=0.9:0.8,dark_count_prob=1e-3"`` -> NoiseModel."""
    from dataclasses import fields

    from .photonics import NoiseModel

    allowed = {f.name for f in fields(NoiseModel)}
    values: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in allowed:
            raise ValueError(f"noise item {item!r}: use KEY=VALUE with KEY in {sorted(allowed)}")
        try:
            values[key] = tuple(map(float, value.split(":"))) if ":" in value else float(value)
        except ValueError:
            raise ValueError(f"noise item {item!r}: {value!r} is not a number") from None
    return NoiseModel(**values)


def _noise_option(text: str):
    """argparse hides a type function's ValueError behind 'invalid value': say why instead."""
    try:
        return noise_from_spec(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside [0, 65535]")
    return port


def _add_emulator(sub: argparse._SubParsersAction) -> None:
    emu = sub.add_parser(
        "emulator",
        help="serve an emulated ORCA PT system over HTTP",
        description="Serve one emulated PT-series QPU speaking the ORCA protocol that CUDA-Q's "
        "orca target uses; samples come from the exact backend. Start several on "
        "different ports for several QPUs. Settings come from --config (a JSON or TOML file "
        "of EmulatorConfig fields, '-' for standard input), then from the options given, "
        "which win. The bearer token is read from QNN_EMULATOR_TOKEN (preferred: command "
        "lines are visible to other users) or --token; without one, authentication is off.",
    )
    emu.add_argument("--config", default=None, metavar="FILE",
                     help="JSON or TOML settings, e.g. {\"noise\": {\"transmission\": 0.9}}")
    emu.add_argument("--host", default=None, help="address to bind (default loopback)")
    emu.add_argument("--port", type=_port, default=None, help="port (default 8080); 0 picks a "
                     "free one")
    emu.add_argument("--token", default=None, help="bearer token clients must send")
    emu.add_argument("--noise", type=_noise_option, default=None,
                     help="e.g. transmission=0.9,dark_count_prob=1e-3,indistinguishability=0.95")
    emu.add_argument("--latency", type=_float_pair, default=None,
                     help="seconds per job, or LOW,HIGH for a uniform range")
    emu.add_argument("--fail-rate", type=float, default=None,
                     help="probability that a submission meets an injected fault")
    emu.add_argument("--faults", default=None,
                     help="fault kinds to inject: submit,job,malformed,hang,drop")
    for flag, what in (("--max-loops", "loops"), ("--max-samples", "samples per request"),
                       ("--max-modes", "modes"), ("--max-photons", "photons")):
        emu.add_argument(flag, type=int, default=None, help=f"most {what} the QPU accepts")
    emu.add_argument("--request-timeout", type=float, default=None,
                     help="seconds a client may take to send a request (default 10)")
    emu.add_argument("--result-ttl", type=float, default=None,
                     help="seconds a finished job's results are kept (default 3600)")
    emu.add_argument("--max-jobs", type=int, default=None,
                     help="jobs held at once, finished ones included (default 1000)")
    emu.add_argument("--seed", type=int, default=None, help="seed for samples and faults")
    emu.add_argument("--verbose", action="store_true", help="log request lines to stderr")
    emu.set_defaults(func=_emulator)


def _emulator(args: argparse.Namespace) -> int:
    import os

    from .config import from_dict
    from .emulator import EmulatorConfig, serve
    from .emulator.process import TOKEN_VARIABLE
    from .errors import ConfigError
    from .runs.config_data import nested_update

    settings = _emulator_settings(args.config) if args.config else {}
    if "token" in settings:
        raise ConfigError(f"--config {args.config}: holds a token; pass it in {TOKEN_VARIABLE}"
                          " (files get copied and shared)")
    options = {
        "host": args.host, "port": args.port, "seed": args.seed,
        "request_timeout": args.request_timeout, "result_ttl": args.result_ttl,
        "max_jobs": args.max_jobs, "noise": args.noise,
        "limits": {"max_loops": args.max_loops, "max_samples": args.max_samples,
                   "max_modes": args.max_modes, "max_photons": args.max_photons},
        "faults": {"fail_rate": args.fail_rate, "latency": args.latency,
                   "kinds": None if args.faults is None
                   else tuple(filter(None, args.faults.split(",")))},
    }
    settings = nested_update(settings, _given(options))
    settings.setdefault("port", 8080)
    token = os.environ.get(TOKEN_VARIABLE) or args.token
    config = from_dict(EmulatorConfig, {**settings, "token": token})
    serve(config, verbose=args.verbose)
    return 0


def _emulator_settings(path: str) -> dict:
    """The ``--config`` file (``-``: JSON on standard input, how EmulatorProcess passes its
    settings) as plain data."""
    import json

    from .errors import ConfigError
    from .runs.config_data import read_config_file, refuse_code

    if path != "-":
        if not Path(path).is_file():
            raise ConfigError(f"--config {path}: no such file")
        return read_config_file(path)
    try:
        data = json.loads(sys.stdin.read())
    except (json.JSONDecodeError, RecursionError) as err:
        raise ConfigError(f"--config -: standard input is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--config -: holds a {type(data).__name__}, expected a mapping")
    return refuse_code(data, "--config -")


def _given(options: dict) -> dict:
    """``options`` without the ones left at ``None`` (not given), nested sections included."""
    given = {}
    for key, value in options.items():
        if isinstance(value, dict):
            value = _given(value)
            if value:
                given[key] = value
        elif value is not None:
            given[key] = value
    return given


FAMILIES = family_names()


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run", help="run an experiment (Sacred): qnn run bbs with smoke seed=3", add_help=False,
        description="Run one experiment family as a Sacred experiment. Everything after the "
                    "family goes to Sacred: 'with' named configs, JSON/TOML config files and "
                    "key=value updates, 'print_config', -F DIR, ... Runs are stored under "
                    "RUNS_DIR/<family>/<id>/. 'qnn run FAMILY --help' lists its named configs.")
    run.add_argument("family", choices=FAMILIES, nargs="?")
    run.add_argument("-h", "--help", action="store_true", help="show this help (with a "
                     "family: its named configs) and exit")
    run.add_argument("--runs-dir", default="runs", help="FileStorageObserver base (default runs)")
    run.add_argument("--resume", metavar="RUN_DIR", default=None,
                     help="continue an interrupted run from its checkpoint, as a new run")
    run.set_defaults(func=_run, parser=run)  # the words argparse does not know go to Sacred


def _run(args: argparse.Namespace) -> int:

    from .runs.families import family_help, load_family
    from .runs.launch import launch, parse_words, recorded_family

    if args.resume and not args.help:
        args.family = _resumed_family(args.resume, args.family, recorded_family(args.resume))
    if args.help or not args.family:
        print(family_help(args.family) if args.family else args.parser.format_help())
        return 0 if args.help else 2
    module = load_family(args.family)
    invocation = parse_words(module.ex, args.sacred_args)
    if args.resume:
        invocation = invocation.resuming(args.resume)
    run = launch(module.ex, invocation, runs_dir=Path(args.runs_dir) / args.family,
                 study=module.study)
    return 0 if run is None or run.status == "COMPLETED" else 1


def _resumed_family(folder: str, given: str | None, recorded: str | None) -> str:
    """The family of ``qnn run [FAMILY] --resume RUN_DIR``: the run's own, which a given
    FAMILY must match."""
    from .errors import ConfigError

    if recorded is not None and recorded not in FAMILIES:
        raise ConfigError(f"--resume {folder}: its run.json names the experiment "
                          f"{recorded!r}, not a family ({', '.join(FAMILIES)})")
    if given and recorded and given != recorded:
        raise ConfigError(f"--resume {folder}: that is a {recorded} run, not {given}")
    if not (given or recorded):
        raise ConfigError(f"--resume {folder}: no readable run.json names its family; "
                          f"give it: qnn run FAMILY --resume {folder}")
    return given or recorded


def _add_submit(sub: argparse._SubParsersAction) -> None:
    sm = sub.add_parser(
        "submit", help="run a sweep as a Slurm job array: qnn submit bbs with smoke --seeds 1,2",
        description="Expand --sweep/--seeds into a grid and submit it through submitit as one "
                    "job array, one Sacred run per task (run id <array job>_<array task>) under "
                    "RUNS_DIR/sweeps/<name>/<family>/. Words argparse does not know go to "
                    "Sacred as in qnn run. Cluster defaults come from hpc.toml ($QNN_HPC_CONFIG); "
                    "the QPU token stays in ORCA_AUTH_TOKEN.")
    sm.add_argument("family", nargs="?", choices=FAMILIES)
    sm.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="a config key and its values (repeat for a grid)")
    sm.add_argument("--seeds", default=None, metavar="S1,S2,...", help="shorthand: --sweep seed=")
    sm.add_argument("--name", default=None, help="sweep name (default <family>-<UTC time>)")
    sm.add_argument("--runs-dir", default="runs", help="sweeps go to RUNS_DIR/sweeps/<name>")
    sm.add_argument("--qpus", type=int, default=None, help="QPUs per task")
    sm.add_argument("--gpus", type=int, default=None, help="GPUs per task")
    sm.add_argument("--cpus", type=int, default=None, dest="cpus_per_task", help="CPUs per task")
    sm.add_argument("--partition", default=None)
    sm.add_argument("--time", type=int, default=None, help="minutes per task")
    sm.add_argument("--parallel", type=int, default=None, dest="array_parallelism",
                    help="tasks running at once (the array's %%N)")
    sm.add_argument("--qpu-resource", choices=("gres", "license"), default=None,
                    help="request QPUs as --gres=NAME:K or -L NAME:K")
    sm.add_argument("--qpu-name", default=None, help="GRES or license name (qpu / orca_pt)")
    sm.add_argument("--qpu-urls", default=None, help="the pool, comma-separated: QPU i = URL i")
    sm.add_argument("--hdf5-locking", choices=("auto", "on", "off"), default=None)
    sm.add_argument("--config", default=None, help="cluster settings file (TOML)")
    sm.add_argument("--local", action="store_true", help="run with submitit's local executor")
    sm.add_argument("--wait", action="store_true", help="wait for the tasks, then collect")
    sm.add_argument("--resume", metavar="SWEEP", default=None,
                    help="resubmit the failed and missing tasks of a sweep (name or folder)")
    sm.set_defaults(func=_submit)


def _submit(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .hpc import Sweep, load_config, parse_sweep_option, submit_tasks, sweep_folder
    from .hpc.collect import format_states
    from .hpc.submit import resubmit
    from .hpc.sweep import SWEEPS_FOLDER

    executor = "local" if args.local else None
    if args.resume:
        if args.family or args.sacred_args or args.sweep or args.seeds:
            raise ValueError("--resume takes the sweep's recorded family, config and grid; "
                             "give no family, 'with' words, --sweep or --seeds")
        sweep = Sweep.load(sweep_folder(args.resume, args.runs_dir))
        states, submission = resubmit(sweep, executor=executor)
        print(format_states(sweep, states))
        if submission is None:
            print(f"sweep {sweep.name}: nothing to resubmit")
            return 0
        if submission.resume_from:
            print(f"continuing from checkpoints: {submission.resume_from}")
    else:
        if not args.family:
            raise ValueError(f"give a family ({', '.join(FAMILIES)}) or --resume SWEEP")
        overrides = {key: getattr(args, key) for key in
                     ("qpus", "gpus", "cpus_per_task", "partition", "time", "array_parallelism",
                      "qpu_resource", "qpu_name", "qpu_urls", "hdf5_locking")}
        cluster = load_config(args.config).updated(**overrides)
        sweeps = [parse_sweep_option(text) for text in args.sweep]
        if args.seeds:
            sweeps.append(parse_sweep_option(f"seed={args.seeds}"))
        name = args.name or f"{args.family}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        folder = Path(args.runs_dir) / SWEEPS_FOLDER / name
        sweep = Sweep.create(folder, args.family, args.sacred_args, sweeps, cluster,
                             "local" if args.local else "slurm")
        submission = submit_tasks(sweep, range(len(sweep.tasks)), executor=executor)
    print(f"sweep {sweep.name}: submitted tasks {list(submission.tasks)} as array "
          f"{submission.id} ({submission.executor}); runs in {sweep.folder / sweep.family}")
    if not args.wait:
        print(f"check with: qnn collect {sweep.folder}")
        return 0
    from .hpc import wait

    wait(sweep, progress=True)
    return _print_collect(sweep)


def _add_collect(sub: argparse._SubParsersAction) -> None:
    col = sub.add_parser(
        "collect", help="merge a sweep's finished runs into one table; list failed/missing",
        description="Write RUNS_DIR/sweeps/<name>/results.json (every completed run's rows, "
                    "with the sweep values) and histograms.h5 (external links to each run's "
                    "histograms); print each task's state. Exit status 1 while tasks are "
                    "failed or missing: 'qnn submit --resume SWEEP' reruns only those.")
    col.add_argument("sweep", help="sweep name (under RUNS_DIR/sweeps) or folder")
    col.add_argument("--runs-dir", default="runs")
    col.add_argument("--table", default="tasks", help="results table to merge (default tasks)")
    col.set_defaults(func=_collect)


def _collect(args: argparse.Namespace) -> int:
    from .hpc import Sweep, sweep_folder

    return _print_collect(Sweep.load(sweep_folder(args.sweep, args.runs_dir)), args.table)


def _print_collect(sweep, table: str = "tasks") -> int:
    from .hpc import collect, format_states

    rows, states = collect(sweep, table)
    print(format_states(sweep, states))
    print(f"{len(rows)} rows from {sum(s.status == 'completed' for s in states)} runs -> "
          f"{sweep.folder / 'results.json'}, {sweep.folder / 'histograms.h5'}")
    bad = [s.task for s in states if s.status in ("failed", "missing")]
    if bad:
        print(f"tasks {bad} failed or missing: qnn submit --resume {sweep.folder}")
    return 1 if bad else 0


def _add_figures(sub: argparse._SubParsersAction) -> None:
    fig = sub.add_parser(
        "figures", help="regenerate paper figures from stored runs",
        description="Execute the analysis notebooks listed in the figure manifests (jupytext "
                    "percent-format .py files) headlessly against stored runs; each figure "
                    "draws only completed runs whose config is exactly that of its named "
                    "configs (distinct seeds pooled). A figure without data is skipped with "
                    "the `qnn run` command that makes it. Exit status: 0 when at least one "
                    "figure was drawn and no notebook failed, 1 otherwise.")
    fig.add_argument("--manifest", action="append", default=None, metavar="FILE",
                     help="a figures.toml to use (repeatable); default: every installed one")
    fig.add_argument("--runs-dir", default="runs")
    fig.add_argument("--reference-dir", default="data/reference",
                     help="shipped runs a figure falls back to when no run under --runs-dir "
                          "matches (default data/reference)")
    fig.add_argument("--out", default="paper/figures")
    fig.add_argument("--only", nargs="*", default=None, help="figure ids to make")
    pick = fig.add_mutually_exclusive_group()
    pick.add_argument("--label", default=None,
                      help="draw runs of this named config instead of each figure's own "
                           "(e.g. smoke, for a quick check)")
    pick.add_argument("--runs", nargs="+", default=(), metavar="RUN",
                      help="draw exactly these run folders (each figure those of its family)")
    fig.set_defaults(func=_figures)


def _figures(args: argparse.Namespace) -> int:

    from .figures import make_figures

    manifests = [Path(m) for m in args.manifest] if args.manifest else None
    results = make_figures(manifests, runs_dir=args.runs_dir, out_dir=args.out,
                           only=args.only, label=args.label, runs=args.runs,
                           reference_dir=args.reference_dir)
    for figure, result in results.items():
        files = f" -> {', '.join(str(f) for f in result.files)}" if result.files else ""
        stream = sys.stderr if result.status == "failed" else sys.stdout
        sep = " " if result.status == "drawn" else ": "
        print(f"figure {figure}: {result.status}{sep}{result.message}{files}", file=stream)
        for note in result.notes:
            print(f"  ({note})", file=stream)
        if result.detail:
            print(result.detail, file=sys.stderr)
    counts = {s: sum(r.status == s for r in results.values())
              for s in ("drawn", "skipped", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0 if counts["drawn"] and not counts["failed"] else 1


def _add_export(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser(
        "export", help="write a dqnn run's trained CNN as a plain torch state dict",
        description="Copy the classical network trained by a dqnn run (its generated weights) "
                    "to a plain state dict and evaluate it on the run's test set without any "
                    "quantum backend, on GPU when --device cuda.")
    exp.add_argument("run_dir", help="a dqnn run folder, e.g. runs/dqnn/3")
    exp.add_argument("--task", default=None, help="chi<χ>-seed<s>; default: the best task")
    exp.add_argument("--out", default="network.pt", help="output file (default network.pt)")
    exp.add_argument("--device", default="cpu", help="torch device for the evaluation")
    exp.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    import shutil

    from .qtrain.study import TARGETS, load_dataset
    from .qtrain.target import accuracy
    from .runs.checkpoint import torch_load
    from .runs.config_data import read_json_data
    from .runs.folder import RESULTS_FILE
    from .runs.launch import read_run_config

    folder = Path(args.run_dir)
    config = read_run_config(folder)
    if "target" not in config or "bond_dims" not in config:
        raise ValueError(f"{folder} is not a dqnn run (its config has no target network); "
                         "qnn export takes the folder of a 'qnn run dqnn' run")
    results = folder / RESULTS_FILE
    if not results.is_file():
        raise ValueError(f"{folder}: no {RESULTS_FILE} (the run did not finish); nothing to "
                         "export")
    rows = read_json_data(results)["tasks"]
    task = args.task or max(rows, key=lambda r: r["test_accuracy"])["task"]
    source = folder / f"network-{task}.pt"
    if not source.is_file():
        raise ValueError(f"--task {task}: no {source.name} in {folder}; tasks: "
                         f"{[r['task'] for r in rows]}")
    shutil.copyfile(source, args.out)
    network = TARGETS[config["target"]]()
    network.load_state_dict(torch_load(args.out))
    network.to(args.device)
    data = load_dataset(config["dataset"], config["seed"])
    acc = accuracy(network.eval(), data.x_test.float().to(args.device),
                   data.y_test.to(args.device))
    print(f"{args.out}: {type(network).__name__} from {source} ({task}); test accuracy "
          f"{acc:.4f} on {len(data.y_test)} images, no quantum backend, device {args.device}")
    return 0


def _add_show(sub: argparse._SubParsersAction) -> None:
    show = sub.add_parser(
        "show", help="print what an HDF5 run file holds",
        description="Verify an HDF5 run file (every entry read and checked, in a child "
                    "process; the file is not modified) and list its provenance and entries.")
    show.add_argument("file", help="e.g. runs/bbs/1/histograms.h5")
    show.add_argument("--all", action="store_true", help="list every entry (default: the "
                      "first and last 10)")
    show.set_defaults(func=_show)


SHOWN_ENTRY_COLUMNS = ("name", "kind", "n_modes", "detection", "shots", "n_states",
                       "n_histograms", "backend")


def _show(args: argparse.Namespace) -> int:
    import pandas as pd

    from .store import RunStore, verify_store

    report = verify_store(args.file)  # a StoreError names the damaged entry
    with RunStore(args.file) as store:
        provenance = store.get_attrs("/")
        entries = store.entries()
    print(f"{args.file}: {report.entries} entries, all readable; {report.sealed} checked "
          f"against their digests; manifest {'present' if report.manifest else 'absent'}")
    for key, value in provenance.items():
        print(f"  {key}: {value}")
    if entries.empty:
        return 0
    print(entries.groupby(["kind", "n_modes", "detection"], dropna=False).size()
          .rename("entries").to_string())
    table = entries[[c for c in SHOWN_ENTRY_COLUMNS if c in entries.columns]]
    if not args.all and len(table) > 20:
        table = pd.concat([table.head(10), table.tail(10)])
        print(f"first and last 10 of {len(entries)} entries (--all for every one):")
    print(table.to_string(index=False))
    return 0


def _add_runs(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser(
        "runs", help="list, inspect, compare and clean stored runs",
        description="The run catalogue (qnn.runs.catalog.catalog in Python, as a DataFrame).")
    runs.add_argument("--runs-dir", default="runs")
    actions = runs.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("ls", help="one line per run: status, configs, seed, headline")
    ls.add_argument("--family", default=None)
    ls.add_argument("--status", default=None, help="COMPLETED, FAILED, INTERRUPTED, RUNNING")
    show = actions.add_parser("show", help="a run's config against its named configs, its "
                                           "results summary and its files")
    show.add_argument("run", help="a run folder, or FAMILY/ID under --runs-dir")
    compare = actions.add_parser("compare", help="config differences and summaries side by side")
    compare.add_argument("run", nargs="+", help="run folders, or FAMILY/ID under --runs-dir")
    clean = actions.add_parser("clean", help="delete FAILED and INTERRUPTED runs")
    clean.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    ship = actions.add_parser(
        "ship", help="copy a completed run's compact record (config, results, metrics, "
                     "Sacred's run.json) to a folder to commit, e.g. data/reference/dqnn/NAME")
    ship.add_argument("run", help="a run folder, or FAMILY/ID under --runs-dir")
    ship.add_argument("dest", help="the new folder (must not exist)")
    runs.set_defaults(func=_runs)


def _runs(args: argparse.Namespace) -> int:
    import pandas as pd

    from .runs import catalog as runs_catalog

    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 60)
    if args.action == "ls":
        table = runs_catalog.catalog(args.runs_dir)
        if args.family:
            table = table[table["family"] == args.family]
        if args.status:
            table = table[table["status"] == args.status.upper()]
        shown = table[runs_catalog.COLUMNS[:-1]].copy()
        shown["started"] = shown["started"].map(lambda t: f"{t:%Y-%m-%d %H:%M}" if t else "-")
        shown["seconds"] = shown["seconds"].map(lambda x: "-" if pd.isna(x) else f"{x:.0f}")
        print(shown.to_string(index=False) if len(shown) else f"no runs under {args.runs_dir}")
        return 0
    if args.action == "clean":
        return _clean_runs(runs_catalog.catalog(args.runs_dir), args.yes)
    if args.action == "ship":
        return _ship_run(_run_folder(args.run, args.runs_dir), Path(args.dest))
    folders = [_run_folder(r, args.runs_dir) for r in
               (args.run if isinstance(args.run, list) else [args.run])]
    print(_show_run(folders[0]) if args.action == "show" else _compare_runs(folders))
    return 0


def _run_folder(text: str, runs_dir: str):

    for folder in (Path(text), Path(runs_dir) / text):
        if (folder / "config.json").is_file():
            return folder
    raise ValueError(f"{text}: not a run folder (tried {text} and {Path(runs_dir) / text})")


def _show_run(folder) -> str:
    from sacred.initialize import create_run

    from .runs.catalog import config_differences, describe_run, task_table
    from .runs.families import load_family
    from .runs.launch import read_run_config

    row = describe_run(folder)
    named = [] if row["named_configs"] == "-" else row["named_configs"].split()
    ex = load_family(row["family"]).ex
    reference = create_run(ex, ex.default_command, {}, named_configs=named, force=True).config
    run_config = {k: v for k, v in read_run_config(folder).items() if k != "seed"}
    diff = config_differences({"named configs": {k: v for k, v in reference.items()
                                                 if k != "seed"}, "this run": run_config})
    lines = [f"{row['family']} run {row['id']} ({folder}): {row['status']}, seed {row['seed']}",
             f"named configs: {row['named_configs']}; headline: {row['headline']}", "",
             "config differing from its named configs:",
             diff.to_string() if len(diff) else "  (none)", ""]
    try:
        lines += ["results summary:", task_table(folder, "summary").to_string(index=False)]
    except ValueError as err:
        lines += [f"results: {err}"]
    files = sorted(p for p in folder.iterdir() if p.is_file())
    lines += ["", "files:", *(f"  {p.name:<32}{p.stat().st_size:>12,} bytes" for p in files)]
    return "\n".join(lines)


def _compare_runs(folders) -> str:
    import pandas as pd

    from .runs.catalog import config_differences, describe_run, task_table
    from .runs.launch import read_run_config

    names = [f"{describe_run(f)['family']}/{f.name}" for f in folders]
    diff = config_differences({n: read_run_config(f) for n, f in zip(names, folders,
                                                                     strict=True)})
    summaries = []
    for name, folder in zip(names, folders, strict=True):
        try:
            summaries.append(task_table(folder, "summary").assign(run=name))
        except ValueError:
            continue
    lines = ["config differences:", diff.to_string() if len(diff) else "  (none)", ""]
    if summaries:
        table = pd.concat(summaries, ignore_index=True)
        keys = [c for c in table.columns if not c.endswith(("_mean", "_std")) and c != "run"]
        means = [c for c in table.columns if c.endswith("_mean")]
        wide = table.pivot_table(index=keys, columns="run", values=means, dropna=False)
        lines += ["summaries (means; n is each run's count per group):", wide.to_string()]
    return "\n".join(lines)


SHIPPED_FILES = ("run.json", "config.json", "results.json", "metrics.json", "info.json")


def _ship_run(folder: Path, dest: Path) -> int:
    """Copy the files figures and tables read (no checkpoints, networks or console logs)."""
    import json
    import shutil

    from .runs.catalog import describe_run
    from .runs.folder import resumed_metrics

    status = describe_run(folder)["status"]
    if status != "COMPLETED":
        raise ValueError(f"{folder} is {status}: only a COMPLETED run is shipped")
    if dest.exists():
        raise ValueError(f"{dest} exists: ship into a new folder")
    dest.mkdir(parents=True)
    for name in SHIPPED_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, dest / name)
    # a resumed run logged only its own rounds: ship the whole curve
    metrics, missing = resumed_metrics(folder)
    if metrics:
        (dest / "metrics.json").write_text(json.dumps(metrics))
    size = sum(p.stat().st_size for p in dest.iterdir())
    print(f"shipped {folder} -> {dest}: {', '.join(sorted(p.name for p in dest.iterdir()))} "
          f"({size:,} bytes)")
    for name in missing:
        print(f"warning: metrics.json lacks the rounds of {name}, the run this one resumed "
              "(not found here)", file=sys.stderr)
    return 0


def _clean_runs(table, yes: bool) -> int:
    import shutil

    doomed = table[table["status"].isin(["FAILED", "INTERRUPTED"])]
    if doomed.empty:
        print("nothing to clean: no FAILED or INTERRUPTED runs")
        return 0
    print(doomed[["family", "id", "status", "named_configs", "path"]].to_string(index=False))
    if not yes and input(f"delete these {len(doomed)} run folders? [y/N] ").strip().lower() \
            not in ("y", "yes"):
        print("nothing deleted")
        return 1
    for path in doomed["path"]:
        shutil.rmtree(path)
    print(f"deleted {len(doomed)} run folders")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qnn", description=__doc__)
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error instead of one line")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_demo(sub)
    _add_emulator(sub)
    _add_run(sub)
    _add_submit(sub)
    _add_collect(sub)
    _add_figures(sub)
    _add_export(sub)
    _add_show(sub)
    _add_runs(sub)
    return parser


# Errors that mean "this input or this environment is wrong": one line, no traceback. Anything
# else is a bug in qnn and keeps its traceback.
USER_ERRORS = (QnnError, ValueError, TypeError, KeyError, OSError, RuntimeError)


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # sacred 0.8
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    debug = args.debug or "--debug" in extra  # Sacred's own --debug counts too
    if args.command in ("run", "submit"):
        args.sacred_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except KeyboardInterrupt as err:
        if debug:
            raise
        print(f"qnn {args.command}: interrupted ({err or 'Ctrl-C'})", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        if debug:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"qnn {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
