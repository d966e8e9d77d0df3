"""The Sacred side of every family: the shared ingredients' config scopes, and the experiment."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():  # sacred 0.8 imports the deprecated pkg_resources
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    from sacred import SETTINGS, Experiment, Ingredient
    from sacred.utils import apply_backspaces_and_linefeeds

from qnn.runs.launch import execute, package_versions

# Capture Python-level output only: "fd" capture starts tee processes that outlive a killed
# run and race with child processes (emulators) that share the descriptors.
SETTINGS.CAPTURE_MODE = "sys"

photonics = Ingredient("photonics")
store = Ingredient("store")


@photonics.config
def photonics_config():
    backend = "exact"  # exact | cudaq-sim | orca | pool (ORCA QPUs 0..K-1 behind a QPUPool)
    device = "cpu"  # torch device of the exact backend: cpu | cuda
    noise = {}  # NoiseModel fields, e.g. {"transmission": 0.9, "dark_count_prob": 1e-3}
    urls = None  # orca/pool: QPU URLs (list or comma-separated); None reads ORCA_ACCESS_URL
    retries = 2  # pool: extra attempts per job
    timeout = 600.0  # pool: seconds one job may take


@store.config
def store_config():
    output_dir = None  # where the run's files go when no run folder is observed
    resume_from = None  # a previous run folder: continue from its checkpoint and histograms


def new_experiment(study) -> Experiment:
    """The Sacred experiment of ``study``'s family: the shared ingredients, a
    progress-bar-friendly output filter, the package versions, and the one main."""
    ex = Experiment(study.family, ingredients=[photonics, store])
    ex.captured_out_filter = apply_backspaces_and_linefeeds
    for name, full in package_versions().items():  # Sacred takes public versions only; the
        ex.add_package_dependency(name, full.split("+")[0])  # full ones go to info.json

    @ex.main
    def main(_config, _run):
        execute(study, _config, _run)

    return ex
