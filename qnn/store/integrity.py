"""Integrity of a run's HDF5 file: checksums that catch flipped bytes, a manifest that catches
vanished entries.

Three layers, because each alone misses something (:mod:`qnn.store.verify` checks them):

* every dataset carries HDF5's ``fletcher32`` checksum, verified by HDF5 on every read;
* every entry carries a ``digest`` attribute, the SHA-256 of its datasets' bytes and its
  attributes (fletcher32 covers neither attributes nor the group structure);
* the file keeps a manifest of its entry names, ``/.qnn_manifest`` (itself checksummed),
  appended at every put, so an entry whose link was destroyed is missed by name.

Files written before these existed (no manifest) are verified for readability only.
"""

from __future__ import annotations

import hashlib

import h5py
import numpy as np

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
