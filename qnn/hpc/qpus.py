"""Inside a job: which QPUs it holds, and ``ORCA_ACCESS_URL`` set to just their URLs.

With a GRES whose units have (placeholder) files, ``scontrol show job -d`` names the units a
job holds (``GRES=qpu:2(IDX:0-1)``): QPU ``i`` is the pool's ``urls[i]``. A license, a
countless GRES (``qpu(CNT:1)``) or the local executor says only how many: then the job claims
that many pool entries with claim files (``O_EXCL`` creation, atomic on NFS and Lustre), taking
over claims whose owner is gone, and releases them when it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ACCESS_VARIABLE = "ORCA_ACCESS_URL"
IDS_VARIABLE = "QNN_QPU_IDS"

_GRES_DETAIL = re.compile(r"GRES=(?P<body>\S*)")


def parse_index_list(text: str) -> list[int]:
    """``"0-1,3"`` -> ``[0, 1, 3]`` (Slurm's index-list syntax)."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def gres_indices(job_detail: str, name: str) -> list[int] | None:
    """The GRES ``name`` units of ``scontrol show job -d`` output: ``[0, 1]`` from
    ``GRES=qpu:2(IDX:0-1)``; ``None`` where only a count is shown (``qpu(CNT:1)``)."""
    found: list[int] = []
    for match in _GRES_DETAIL.finditer(job_detail):
        for entry in re.finditer(rf"(?:^|,){re.escape(name)}(?::[^(,]*)?\(([^)]*)\)",
                                 match["body"]):
            inside = entry[1]
            if not inside.startswith("IDX:"):
                return None
            found.extend(parse_index_list(inside[4:]))
    return sorted(found) if found else None


def slurm_gres_indices(job_id: str, name: str) -> list[int] | None:
    """:func:`gres_indices` of a running Slurm job (``None`` when scontrol cannot tell)."""
    try:
        detail = subprocess.run(["scontrol", "show", "job", "-d", job_id], check=True,
                                capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return gres_indices(detail, name)


def slurm_job_alive(job_id: str) -> bool:
    """Whether Slurm still runs (or queues) ``job_id``; unknown jobs count as ended."""
    try:
        out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return True  # cannot ask: do not steal the claim
    live = {"PENDING", "CONFIGURING", "REQUEUED", "RUNNING", "COMPLETING", "SUSPENDED"}
    return out.returncode == 0 and bool(set(out.stdout.split()) & live)


def owner_alive(owner: dict) -> bool:
    """Whether the holder of a claim runs: its Slurm job, or its process on this host."""
    if owner.get("slurm_job_id"):
        return slurm_job_alive(owner["slurm_job_id"])
    if owner.get("host") != socket.gethostname():
        return True  # another machine's process: we cannot look
    try:
        os.kill(int(owner["pid"]), 0)
    except (ProcessLookupError, ValueError, KeyError):
        return False
    except PermissionError:
        return True
    return True


class QPUClaims:
    """Claim ``count`` of ``pool_size`` QPUs through files ``qpu<i>.claim`` in ``folder``."""

    def __init__(self, folder: str | Path, pool_size: int, *,
                 alive: Callable[[dict], bool] = owner_alive, poll: float = 0.5) -> None:
        self.folder = Path(folder)
        self.pool_size = pool_size
        self.alive = alive
        self.poll = poll
        self.held: list[int] = []

    def acquire(self, count: int, owner: dict, timeout: float | None = None) -> list[int]:
        """Block until ``count`` QPUs are claimed; returns their indices (sorted)."""
        if not 0 <= count <= self.pool_size:
            raise ValueError(f"qpus={count} but the QPU pool has {self.pool_size}")
        self.folder.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for index in range(self.pool_size):
                if len(self.held) < count and self._try(index, owner):
                    self.held.append(index)
            if len(self.held) == count:
                return sorted(self.held)
            self.release()  # all or nothing: two half-served jobs must not wait on each other
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"could not claim {count} of {self.pool_size} QPUs in "
                                   f"{timeout} s (claims in {self.folder})")
            time.sleep(self.poll)

    def release(self) -> None:
        for index in self.held:
            with contextlib.suppress(FileNotFoundError):
                self._file(index).unlink()
        self.held = []

    def _file(self, index: int) -> Path:
        return self.folder / f"qpu{index}.claim"

    def _try(self, index: int, owner: dict) -> bool:
        file = self._file(index)
        try:
            fd = os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(file.read_text() or "{}")
            except (OSError, ValueError):
                return False  # being written right now
            if holder and not self.alive(holder):
                with contextlib.suppress(FileNotFoundError):
                    file.unlink()  # stale: its job is gone; the next pass may take it
            return False
        with os.fdopen(fd, "w") as out:
            json.dump(owner, out)
        return True


@contextlib.contextmanager
def qpu_environment(ids: list[int], urls: tuple[str, ...]) -> Iterator[list[str]]:
    """Set ``ORCA_ACCESS_URL`` to the URLs of QPUs ``ids`` (unset without any) and
    ``QNN_QPU_IDS`` to the ids, for the duration; ``ORCA_AUTH_TOKEN`` is left as it is."""
    chosen = [urls[i] for i in ids] if urls else []
    saved = {name: os.environ.get(name) for name in (ACCESS_VARIABLE, IDS_VARIABLE)}
    os.environ[IDS_VARIABLE] = ",".join(map(str, ids))
    if chosen:
        os.environ[ACCESS_VARIABLE] = ",".join(chosen)
    else:
        os.environ.pop(ACCESS_VARIABLE, None)  # a task without QPUs must not reach any
    try:
        yield chosen
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
