"""Verify a run's HDF5 file: read every entry, check checksums, digests and the manifest."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from qnn.errors import StoreError

from .hdf5 import SCHEMAS
from .integrity import SCANNER
from .run import RUN_SCHEMA

# Signals by which reading a damaged file kills the reader (others, e.g. SIGKILL from the
# out-of-memory killer or a user, say nothing about the file)
_CRASHES = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGFPE,
                      signal.SIGILL})


@dataclass(frozen=True)
class StoreReport:
    """What :func:`verify_store` checked.

    Attributes:
        entries: entries read in full.
        sealed: those carrying a digest, checked against it; the others were written
            before digests existed and were checked for readability only.
        manifest: whether the file has an entry manifest (checked for missing entries).
    """

    entries: int
    sealed: int
    manifest: bool

    def __str__(self) -> str:
        unsealed = self.entries - self.sealed
        text = f"{self.entries} entries read, {self.sealed} matched their checksums"
        if unsealed:
            text += f", {unsealed} written before checksums (checked for readability only)"
        if not self.manifest:
            text += "; no entry manifest (written before manifests: missing entries undetectable)"
        return text


def verify_store(path: str | Path) -> StoreReport:
    """Read every entry of the run file at ``path`` fully and check it; read-only, the file
    is left untouched (bytes and modification time).

    The reading happens in a child process, because a damaged file can crash the HDF5 C
    library (seen in fuzzing: a segmentation fault reading damaged attributes); such a
    crash is reported like any other damage.

    Raises:
        StoreError: the first problem, in one line naming the file and, where one is to
            blame, the entry: unreadable data (truncated, a checksum mismatch), content that
            does not match its digest, entries the manifest lists that are gone, a missing
            manifest where entries carry digests, or a file that is not a run file.
        RuntimeError: the verifier itself could not run or was killed (not a verdict on
            the file).
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such file")
    # -P: the script's folder (qnn/store, holding e.g. attrs.py) must not shadow packages;
    # the environment is kept (PYTHONPATH may be how an HPC module provides h5py)
    command = [sys.executable, "-P", SCANNER, str(path), RUN_SCHEMA, *SCHEMAS]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if -done.returncode in _CRASHES:
        raise StoreError(f"{path}: reading it crashed the HDF5 library "
                         f"({signal.Signals(-done.returncode).name}): the file is corrupt")
    try:
        result = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        result = None
    if not isinstance(result, dict):
        rc = done.returncode
        how = f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exit status {rc}"
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"verifying {path} failed ({how}): {tail[0]}")
    if "problem" in result:
        raise StoreError(f"{path}: {' '.join(str(result['problem']).split())}")
    return StoreReport(**result["report"])
