"""The config sections every family shares: which photonic backend, and where the run's files go."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..photonics import Backend, NoiseModel, get_backend
from ..photonics.backends.base import as_device
from ..secrets import redact

BACKENDS = ("exact", "cudaq-sim", "orca", "pool")


@dataclass(frozen=True)
class PhotonicsSettings:
    """The ``photonics`` section: the backend every task draws from.

    Attributes:
        backend: ``exact`` | ``cudaq-sim`` | ``orca`` | ``pool`` (ORCA QPUs ``0..K-1``
            behind a QPUPool).
        device: torch device of the exact backend (``cpu``, ``cuda``, ``cuda:1``); the
            families that train (``dqnn``) train there too.
        noise: :class:`NoiseModel` fields (exact backend only).
        urls: QPU URLs (a list or comma-separated); ``None`` reads ``ORCA_ACCESS_URL``.
            Never with credentials: configs are recorded for everyone to read.
        retries: pool: extra attempts per job.
        timeout: pool: seconds one job may take.
    """

    backend: str = "exact"
    device: str = "cpu"
    noise: dict = field(default_factory=dict)
    urls: str | tuple[str, ...] | None = None
    retries: int = 2
    timeout: float | None = 600.0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"photonics.backend={self.backend!r}; choose from {list(BACKENDS)}")
        try:
            noise = NoiseModel(**self.noise)
        except (TypeError, ValueError) as err:
            raise ValueError(f"photonics.noise={self.noise}: {err}") from None
        if self.backend != "exact" and not noise.is_ideal:
            raise ValueError(f"photonics.noise={self.noise} applies to the exact backend only, "
                             f"not photonics.backend={self.backend!r}")
        for i, url in enumerate(self.url_list):
            if redact(url) != url:
                raise ValueError(f"photonics.urls[{i}] carries credentials ({redact(url)}); "
                                 "give plain URLs and put the token in ORCA_AUTH_TOKEN")
        try:  # the spelling now; whether this machine has the device, when the task starts
            torch.device(self.device)
        except (RuntimeError, TypeError):
            raise ValueError(f"photonics.device={self.device!r} is not a torch device; give "
                             "e.g. 'cpu', 'cuda' or 'cuda:1'") from None
        if self.retries < 0:
            raise ValueError(f"photonics.retries={self.retries} must be >= 0")
        if self.timeout is not None and not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"photonics.timeout={self.timeout} must be a positive number of "
                             "seconds")

    @property
    def url_list(self) -> list[str]:
        urls = self.urls
        return [] if urls is None else urls.split(",") if isinstance(urls, str) else list(urls)

    def make_backend(self) -> Backend:
        """The configured backend; the bearer token comes from ``ORCA_AUTH_TOKEN`` only."""
        urls = self.url_list or None
        if self.backend == "exact":
            device = as_device(self.device, "photonics.device")
            return get_backend("exact", device=device, noise=NoiseModel(**self.noise))
        options = {"pool": {"urls": urls, "retries": self.retries, "timeout": self.timeout},
                   "orca": {"urls": urls}}.get(self.backend, {})
        return get_backend(self.backend, **options)


@dataclass(frozen=True)
class StoreSettings:
    """The ``store`` section.

    Attributes:
        output_dir: where the run's files go when no run folder is observed (``None``:
            ``runs/tmp``).
        resume_from: an earlier run folder whose checkpoints and histograms this run
            continues (``qnn run --resume`` sets it).
    """

    output_dir: str | None = None
    resume_from: str | None = None

    def __post_init__(self) -> None:
        if self.resume_from is not None and not Path(self.resume_from).is_dir():
            raise ValueError(f"store.resume_from={self.resume_from!r} is not a folder")
