"""Provenance attributes for stored runs: code version, git state, library versions, host, time."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import h5py

import qnn

_PACKAGES = ("numpy", "torch", "h5py")
_GIT_TIMEOUT_S = 10
PROVENANCE_KEYS = frozenset({"qnn_version", "git_commit", "git_dirty", "python_version",
                             *(f"{name}_version" for name in _PACKAGES), "hdf5_version",
                             "hostname", "created_utc"})


def provenance(repo_dir: str | Path | None = None) -> dict[str, str | bool]:
    """Where and with what a result was made, as attribute-ready values.

    Args:
        repo_dir: directory whose git working tree is described; defaults to the directory
            of the installed ``qnn`` package (the code that ran, wherever it was run from).

    Returns:
        ``qnn_version``, ``git_commit`` (``""`` outside a git repository, without git, or
        before the first commit), ``git_dirty`` (tracked files modified; ``False`` when
        unknown), ``python_version``, ``numpy_version``, ``torch_version``, ``h5py_version``
        (``""`` for one not installed), ``hdf5_version``, ``hostname`` and ``created_utc``
        (ISO 8601).
    """
    where = Path(qnn.__file__).resolve().parent if repo_dir is None else Path(repo_dir)
    commit, dirty = git_state(where)
    info: dict[str, str | bool] = {"qnn_version": qnn.__version__, "git_commit": commit,
                                   "git_dirty": dirty,
                                   "python_version": platform.python_version()}
    info.update({f"{name}_version": _package_version(name) for name in _PACKAGES})
    info["hdf5_version"] = h5py.version.hdf5_version
    info["hostname"] = socket.gethostname()
    info["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    return info


def git_state(directory: Path) -> tuple[str, bool]:
    """``(commit, dirty)`` of the git working tree holding ``directory``; ``("", False)`` if none.

    Read-only: optional index locks are disabled, so this never rewrites the index of a
    working tree others are editing.
    """
    commit = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD")
    if commit is None:
        return "", False
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return commit, bool(status)


def _git(directory: Path, *args: str) -> str | None:
    """Output of ``git args`` run in ``directory``, or ``None`` if it fails for any reason."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", *args], cwd=directory, env=env, capture_output=True,
                              text=True, timeout=_GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""
