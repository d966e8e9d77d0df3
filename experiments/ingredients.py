"""Shared Sacred ingredients: the photonic backend (and noise), the run's HDF5 store, seeding."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from sacred import SETTINGS, Experiment, Ingredient
from sacred.observers import FileStorageObserver
from sacred.utils import apply_backspaces_and_linefeeds

from qnn.photonics import Backend, NoiseModel, get_backend
from qnn.photonics.pool import orca_pool
from qnn.runs import Checkpoint
from qnn.runs.index import RESULTS_FILE
from qnn.secrets import redact
from qnn.store import RunStore

# Capture Python-level output only: "fd" capture starts tee processes that outlive a killed
# run and race with child processes (emulators) that share the descriptors.
SETTINGS.CAPTURE_MODE = "sys"

photonics = Ingredient("photonics")
store = Ingredient("store")

STORE_FILE = "histograms.h5"
CHECKPOINT_FILE = "checkpoint.json"


@photonics.config
def photonics_config():
    backend = "exact"  # exact | cudaq-sim | orca | pool (ORCA QPUs 0..K-1 behind a QPUPool)
    device = "cpu"  # torch device of the exact backend: cpu | cuda
    noise = {}  # NoiseModel fields, e.g. {"transmission": 0.9, "dark_count_prob": 1e-3}
    urls = None  # orca/pool: QPU URLs (list or comma-separated); None reads ORCA_ACCESS_URL
    retries = 2  # pool: extra attempts per job
    timeout = 600.0  # pool: seconds one job may take


@photonics.capture
def make_backend(backend: str, device: str, noise: dict, urls, retries: int,
                 timeout: float) -> Backend:
    """The configured backend; the bearer token comes from ``ORCA_AUTH_TOKEN`` only."""
    check_urls(urls)
    noise_model = NoiseModel(**noise)
    if backend == "exact":
        return get_backend("exact", device=device, noise=noise_model)
    if not noise_model.is_ideal:
        raise ValueError(f"photonics.noise={noise} applies to the exact backend only, not "
                         f"photonics.backend={backend!r}")
    if backend == "pool":
        return orca_pool(urls, retries=retries, timeout=timeout)
    return get_backend(backend, **({"urls": urls} if backend == "orca" else {}))


BACKENDS = ("exact", "cudaq-sim", "orca", "pool")


def check_ingredients(config) -> None:
    """The shared sections of a run's config, checked (named) before any folder exists."""
    settings = config["photonics"]
    if settings["backend"] not in BACKENDS:
        raise ValueError(f"photonics.backend={settings['backend']!r}; choose from "
                         f"{list(BACKENDS)}")
    try:
        NoiseModel(**settings["noise"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"photonics.noise={dict(settings['noise'])}: {err}") from None
    check_urls(settings["urls"])
    retries, timeout = settings["retries"], settings["timeout"]
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"photonics.retries={retries!r} must be an integer >= 0")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"photonics.timeout={timeout!r} must be a positive number of seconds")
    resume_from = config["store"]["resume_from"]
    if resume_from is not None and not Path(resume_from).is_dir():
        raise ValueError(f"store.resume_from={resume_from!r} is not a folder")


def check_urls(urls) -> None:
    """Refuse URLs that carry credentials: configs are recorded in run.json for everyone."""
    parts = [] if urls is None else urls.split(",") if isinstance(urls, str) else list(urls)
    for i, url in enumerate(parts):
        if redact(url) != url:
            raise ValueError(f"photonics.urls[{i}] carries credentials ({redact(url)}); give "
                             "plain URLs and put the token in ORCA_AUTH_TOKEN")


@store.config
def store_config():
    output_dir = None  # where histograms.h5 and checkpoint.json go; None: the run's folder
    resume_from = None  # a previous run folder: continue from its checkpoint and histograms


@store.capture
def run_folder(_run, output_dir) -> Path:
    """The run's folder: the FileStorageObserver's, else ``output_dir``, else ``./runs/tmp``."""
    for observer in _run.observers:
        if isinstance(observer, FileStorageObserver) and observer.dir:
            return Path(observer.dir)
    return Path(output_dir or "runs/tmp")


@store.capture
def open_run(_run, resume_from) -> tuple[RunStore, Checkpoint]:
    """The run's HDF5 store and checkpoint; when resuming, both continue the earlier run's."""
    folder = run_folder(_run)
    folder.mkdir(parents=True, exist_ok=True)
    if resume_from is not None:
        previous = Path(resume_from)
        checkpoints = sorted(previous.glob("checkpoint*"))
        if not checkpoints:
            raise ValueError(f"store.resume_from={resume_from!r} holds no checkpoint files")
        if previous.resolve() != folder.resolve():
            for source in [*checkpoints, previous / STORE_FILE]:
                if source.is_file():
                    shutil.copy2(source, folder / source.name)
        _run.info["resumed_from"] = str(previous)
    _run.info["versions"] = package_versions()
    run_store = RunStore(folder / STORE_FILE, mode="a")
    run_store.set_attrs(sacred_run_id=str(_run._id), experiment=_run.experiment_info["name"])
    return run_store, Checkpoint(folder / CHECKPOINT_FILE)


def package_versions() -> dict[str, str]:
    """Full versions of the packages that decide a run's numbers (local tags like +cpu kept)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("photonic-qnn", "torch", "numpy", "scipy", "h5py", "numba", "cudaq", "ortools"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def record_versions(ex) -> None:
    """Name those packages in every run.json (Sacred accepts only public version numbers:
    the full ones, e.g. torch's ``+cpu``, go into ``info.json`` by :func:`open_run`)."""
    for name, full in package_versions().items():
        ex.add_package_dependency(name, full.split("+")[0])


def new_experiment(name: str) -> Experiment:
    """A Sacred experiment with the shared ingredients, a progress-bar-friendly output
    filter and the package versions recorded."""
    ex = Experiment(name, ingredients=[photonics, store])
    ex.captured_out_filter = apply_backspaces_and_linefeeds
    record_versions(ex)
    return ex


def save_results(**tables: list) -> None:
    """Write the run's result tables to ``results.json`` in its folder (notebooks read it)."""
    import json

    (run_folder() / RESULTS_FILE).write_text(json.dumps(tables))
