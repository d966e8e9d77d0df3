"""Cluster settings for ``qnn submit``: how QPUs are requested, their URLs, Slurm defaults.

Read from a TOML file (``--config``, else ``$QNN_HPC_CONFIG``, else ``./hpc.toml`` when it
exists); command-line options override it::

    [qpu]
    resource = "gres"            # "gres": --gres=qpu:K;  "license": -L orca_pt:K
    name = "qpu"                 # the GRES or license name the cluster defines
    urls = ["http://pt1:8080", "http://pt2:8080"]   # QPU i is urls[i] (GRES index i)

    [slurm]
    partition = "gpu"
    time = 60                    # minutes per task
    cpus_per_task = 1
    array_parallelism = 8        # tasks of one sweep running at once
    hdf5_locking = "auto"        # "auto": off on NFS/Lustre/GPFS/...; "on"; "off"

URLs must not carry credentials (they are recorded with the sweep); the token travels in
``ORCA_AUTH_TOKEN`` through the job's environment only. Without ``urls``, the pool is
``ORCA_ACCESS_URL`` as set when submitting.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from qnn.secrets import redact

CONFIG_VARIABLE = "QNN_HPC_CONFIG"
DEFAULT_CONFIG_FILE = "hpc.toml"
QPU_RESOURCES = ("gres", "license")
LOCKING_CHOICES = ("auto", "on", "off")
DEFAULT_QPU_NAMES = {"gres": "qpu", "license": "orca_pt"}


@dataclass(frozen=True)
class ClusterConfig:
    """What every task of a sweep asks Slurm for, and the QPU pool it may draw from."""

    qpu_resource: str = "gres"
    qpu_name: str | None = None  # None: "qpu" for a GRES, "orca_pt" for a license
    qpu_urls: tuple[str, ...] = ()
    qpus: int = 0  # QPUs per task
    gpus: int = 0  # GPUs per task (--gpus-per-node)
    cpus_per_task: int = 1
    partition: str | None = None
    time: int = 60  # minutes per task
    array_parallelism: int = 16
    hdf5_locking: str = "auto"
    additional: dict[str, Any] = field(default_factory=dict)  # further sbatch options

    def __post_init__(self) -> None:
        if self.qpu_resource not in QPU_RESOURCES:
            raise ValueError(f"qpu.resource={self.qpu_resource!r}; choose from "
                             f"{list(QPU_RESOURCES)}")
        if self.hdf5_locking not in LOCKING_CHOICES:
            raise ValueError(f"slurm.hdf5_locking={self.hdf5_locking!r}; choose from "
                             f"{list(LOCKING_CHOICES)}")
        for name in ("qpus", "gpus"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0")
        for name in ("cpus_per_task", "time", "array_parallelism"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 1")
        for i, url in enumerate(self.qpu_urls):
            if redact(url) != url:
                raise ValueError(f"qpu.urls[{i}] carries credentials ({redact(url)}); give "
                                 "plain URLs and put the token in ORCA_AUTH_TOKEN")
        if self.qpu_urls and self.qpus > len(self.qpu_urls):
            raise ValueError(f"qpus={self.qpus} but the QPU pool has only "
                             f"{len(self.qpu_urls)} URL(s): {list(self.qpu_urls)}")

    @property
    def resource_name(self) -> str:
        return self.qpu_name or DEFAULT_QPU_NAMES[self.qpu_resource]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["qpu_urls"] = list(self.qpu_urls)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown cluster setting(s) {unknown}; allowed: {sorted(known)}")
        data = dict(data)
        if "qpu_urls" in data:
            data["qpu_urls"] = split_urls(data["qpu_urls"])
        return cls(**data)

    def updated(self, **changes: Any) -> ClusterConfig:
        """A copy with the non-``None`` ``changes`` applied (command-line overrides)."""
        changes = {key: value for key, value in changes.items() if value is not None}
        if "qpu_urls" in changes:
            changes["qpu_urls"] = split_urls(changes["qpu_urls"])
        return replace(self, **changes)


def split_urls(urls: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"a,b"`` or ``["a", "b"]`` -> ``("a", "b")``, blanks dropped."""
    if urls is None:
        return ()
    parts = urls.split(",") if isinstance(urls, str) else list(urls)
    return tuple(part.strip() for part in parts if part.strip())


def load_config(path: str | Path | None = None) -> ClusterConfig:
    """Settings from ``path``, ``$QNN_HPC_CONFIG`` or ``./hpc.toml``; defaults without one.

    Without configured URLs the pool is ``ORCA_ACCESS_URL`` from the submitting environment.
    """
    named = f"--config {path}" if path else (
        f"{CONFIG_VARIABLE}={os.environ[CONFIG_VARIABLE]}" if os.environ.get(CONFIG_VARIABLE)
        else None)
    file = Path(path) if path else Path(os.environ.get(CONFIG_VARIABLE) or DEFAULT_CONFIG_FILE)
    settings: dict[str, Any] = {}
    if named or file.is_file():  # a file the user named must exist; ./hpc.toml may not
        if not file.is_file():
            raise ValueError(f"{named}: no such file")
        try:
            document = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{file}: not valid TOML: {err}") from None
        settings = _flatten(document, file)
    config = ClusterConfig.from_dict(settings)
    if not config.qpu_urls and os.environ.get("ORCA_ACCESS_URL"):
        config = config.updated(qpu_urls=os.environ["ORCA_ACCESS_URL"])
    return config


_TOML_KEYS = {
    "qpu": {"resource": "qpu_resource", "name": "qpu_name", "urls": "qpu_urls"},
    "slurm": {name: name for name in ("partition", "time", "cpus_per_task", "gpus",
                                      "array_parallelism", "hdf5_locking", "additional")},
}


def _flatten(doc: dict[str, Any], file: Path) -> dict[str, Any]:
    out = {}
    for section, values in doc.items():
        if section not in _TOML_KEYS or not isinstance(values, dict):
            raise ValueError(f"{file}: unknown section [{section}]; use {sorted(_TOML_KEYS)}")
        for key, value in values.items():
            if key not in _TOML_KEYS[section]:
                raise ValueError(f"{file}: unknown key {section}.{key}; allowed: "
                                 f"{sorted(_TOML_KEYS[section])}")
            out[_TOML_KEYS[section][key]] = value
    return out
