"""HDF5 file locking on shared file systems: detect NFS/Lustre/GPFS/... and turn locking off.

HDF5 locks every file it opens (``flock``/``fcntl``). On Lustre mounted without ``flock``, on
NFS without a lock daemon and on several parallel file systems the lock call fails, and
h5py raises ``OSError: Unable to lock file`` although nothing else holds the file. Our runs
never share a file between writers (one HDF5 file per task, merged afterwards by external
links), so locking protects nothing there and can be switched off: ``locking=False`` in
:class:`~qnn.store.RunStore` / ``h5py.File``, or ``HDF5_USE_FILE_LOCKING=FALSE`` in the
environment before the first file is opened (what ``qnn submit`` does in each job).
"""

from __future__ import annotations

import os
from pathlib import Path

LOCKING_VARIABLE = "HDF5_USE_FILE_LOCKING"

# File-system types (as /proc/mounts names them) where HDF5's locks fail or mean nothing.
SHARED_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "lustre", "gpfs", "beegfs", "cifs", "smb3", "smbfs", "ceph", "cephfs",
    "fuse.cephfs", "glusterfs", "fuse.glusterfs", "panfs", "orangefs", "pvfs2", "wekafs",
    "fuse.sshfs", "9p", "afs", "virtiofs",
})


def filesystem_type(path: str | Path, mounts: str | None = None) -> str:
    """The type of the file system holding ``path`` (the longest matching mount point).

    Args:
        path: a file or folder; it need not exist yet (its nearest existing parent counts).
        mounts: the text of ``/proc/mounts`` (read from there when ``None``).

    Returns:
        e.g. ``"ext4"``, ``"nfs4"``, ``"lustre"``; ``"unknown"`` where mounts are unreadable.
    """
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text()
        except OSError:
            return "unknown"
    target = Path(os.path.abspath(path))
    best, best_type = -1, "unknown"
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        if (target == Path(point) or Path(point) in target.parents) and len(point) > best:
            best, best_type = len(point), parts[2]
    return best_type


def is_shared_filesystem(path: str | Path, mounts: str | None = None) -> bool:
    """Whether ``path`` lies on a network or parallel file system (see SHARED_FILESYSTEMS)."""
    return filesystem_type(path, mounts) in SHARED_FILESYSTEMS


def hdf5_locking(path: str | Path, setting: str = "auto", mounts: str | None = None) -> bool:
    """Whether HDF5 files under ``path`` should be locked.

    Args:
        setting: ``"on"``, ``"off"``, or ``"auto"``: off on a shared file system, else on.
    """
    if setting not in ("auto", "on", "off"):
        raise ValueError(f"hdf5_locking={setting!r}; choose from ['auto', 'on', 'off']")
    if setting == "auto":
        return not is_shared_filesystem(path, mounts)
    return setting == "on"


def effective_locking(path: str | Path, setting: str = "auto") -> bool:
    """``HDF5_USE_FILE_LOCKING`` where the user set it, else :func:`hdf5_locking`."""
    if LOCKING_VARIABLE in os.environ:
        return os.environ[LOCKING_VARIABLE].upper() not in ("FALSE", "0")
    return hdf5_locking(path, setting)


def apply_locking_environment(path: str | Path, setting: str = "auto") -> bool:
    """Set ``HDF5_USE_FILE_LOCKING`` for this process (and its children) from
    :func:`effective_locking`; returns whether files will be locked. Call before opening
    files: a job does this first thing."""
    locking = effective_locking(path, setting)
    os.environ[LOCKING_VARIABLE] = "TRUE" if locking else "FALSE"
    return locking
