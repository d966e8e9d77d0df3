"""Integrity of a run's HDF5 file: checksums that catch flipped bytes, a manifest that catches
vanished entries, and :func:`verify_store`, which reads everything and says what is wrong.

Three layers, because each alone misses something:

* every dataset carries HDF5's ``fletcher32`` checksum, verified by HDF5 on every read;
* every entry carries a ``digest`` attribute, the SHA-256 of its datasets' bytes and its
  attributes (fletcher32 covers neither attributes nor the group structure);
* the file keeps a manifest of its entry names, ``/.qnn_manifest`` (itself checksummed),
  appended at every put, so an entry whose link was destroyed is missed by name.

Files written before these existed (no manifest) are verified for readability only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np

from qnn.errors import StoreError

MANIFEST = ".qnn_manifest"
DIGEST = "digest"
# HDF5 filters (checksums) need fixed-size elements: names as fixed-length bytes, compressed
NAME_BYTES = 1024


def entry_digest(group: h5py.Group) -> str:
    """SHA-256 over an entry's datasets (name, dtype, shape, bytes) and attributes (but
    ``digest``), in sorted order; reading the datasets also runs their fletcher32 checks."""
    sha = hashlib.sha256()
    for name in sorted(group):
        data = np.asarray(group[name][()])
        sha.update(f"{name}|{data.dtype.str}|{data.shape}|".encode())
        sha.update(np.ascontiguousarray(data).tobytes())
    for key in sorted(k for k in group.attrs if k != DIGEST):
        value = np.asarray(group.attrs[key])
        sha.update(f"@{key}|{value.dtype.str}|{value.shape}|".encode())
        sha.update(value.tobytes() if value.dtype.kind != "O" else repr(value.tolist()).encode())
    return sha.hexdigest()


def seal(group: h5py.Group) -> None:
    """Store the entry's digest on it (after everything else is written)."""
    group.attrs[DIGEST] = entry_digest(group)


def add_to_manifest(file: h5py.File, name: str, listed: set[str]) -> None:
    """Record ``name`` in the file's manifest once (overwriting an entry keeps its line).

    ``listed`` is the caller's copy of the manifest (:func:`manifest_names`), kept in step,
    so a put costs one appended element, not a read of the whole manifest.
    """
    if name in listed:
        return
    encoded = name.encode()
    if len(encoded) > NAME_BYTES:
        raise ValueError(f"entry name of {len(encoded)} bytes exceeds {NAME_BYTES}: {name[:60]}...")
    if MANIFEST not in file:
        file.create_dataset(MANIFEST, shape=(0,), maxshape=(None,), dtype=f"S{NAME_BYTES}",
                            chunks=(64,), compression="gzip", fletcher32=True)
    names = file[MANIFEST]
    names.resize((names.shape[0] + 1,))
    names[-1] = encoded
    listed.add(name)


def manifest_names(file: h5py.File) -> set[str]:
    """The entry names the file's manifest lists (empty for a file without one)."""
    return _manifest_names(file[MANIFEST]) if MANIFEST in file else set()


def _manifest_names(names: h5py.Dataset) -> set[str]:
    return {n.decode() if isinstance(n, bytes) else str(n) for n in names[()]}


def verify_store(path: str | Path) -> dict[str, int]:
    """Read every entry of the run file at ``path`` and check it; the file is opened
    read-only and left untouched.

    Returns:
        ``{"entries": n, "sealed": n_with_digest}``.

    Raises:
        StoreError: the first problem, naming the file and the entry: unreadable data
            (truncated, or a fletcher32 mismatch), a digest mismatch, or entries the
            manifest lists that are gone.
    """
    from .run import RunStore

    path = Path(path)
    with RunStore(path, "r") as store:
        file, names = store._file, store.names()
        sealed = 0
        for name in names:
            try:
                group = file[name]
                digest = group.attrs.get(DIGEST)
                actual = entry_digest(group)
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
                raise StoreError(f"{path}: entry {name!r} is unreadable (corrupt or "
                                 f"truncated): {err}") from err
            if digest is not None:
                sealed += 1
                if (digest.decode() if isinstance(digest, bytes) else str(digest)) != actual:
                    raise StoreError(f"{path}: entry {name!r} is corrupt (its checksum does "
                                     "not match its content)")
        if MANIFEST in file:
            try:
                listed = _manifest_names(file[MANIFEST])
            except (OSError, RuntimeError, ValueError) as err:
                raise StoreError(f"{path}: the entry manifest is unreadable: {err}") from err
            missing = sorted(listed - set(names))
            if missing:
                raise StoreError(f"{path}: {len(missing)} entries listed in the manifest are "
                                 f"missing (corrupt file): {missing[:5]}"
                                 f"{' ...' if len(missing) > 5 else ''}")
    return {"entries": len(names), "sealed": sealed}
