"""Integrity of a run's HDF5 file: checksums that catch flipped bytes, a manifest that catches
vanished entries, and the scan that checks both.

Four layers, because each alone misses something:

* new files use HDF5's 1.8 object formats (``libver="v108"``), whose metadata (object
  headers, link and attribute indexes) carries checksums that HDF5 checks on every read;
* every dataset carries HDF5's ``fletcher32`` checksum, also checked on every read;
* every entry carries a ``digest`` attribute, the SHA-256 of its datasets and attributes
  (fletcher32 covers neither attributes nor the group structure);
* the file keeps a manifest, ``/.qnn_manifest``: one JSON line ``[name, digest]`` appended
  per put (a later line for a name replaces an earlier one), so an entry whose link or
  ``digest`` attribute was destroyed is still missed by name.

Files written before these existed (no manifest, no digests) are checked for readability.

The module imports only the standard library, numpy and h5py, so that it also runs as a
script (``python integrity.py FILE RUN_SCHEMA ENTRY_SCHEMA...``, printing one JSON object):
:func:`qnn.store.verify_store` scans in a child process, because a damaged file can crash the
HDF5 C library itself, and that crash must become an error message, not the caller's end.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence

import h5py
import numpy as np

MANIFEST = ".qnn_manifest"
DIGEST = "digest"
SCANNER = __file__  # this module's path, run as a script by qnn.store.verify_store
_MANIFEST_CHUNK = 4096  # bytes; an append rewrites (and re-checksums) one chunk
# What a damaged file makes h5py/numpy raise while reading (MemoryError: a corrupt shape)
READ_ERRORS = (OSError, RuntimeError, LookupError, ValueError, TypeError, OverflowError,
               MemoryError)


def digest(datasets: Mapping[str, np.ndarray], attrs: Mapping[str, object]) -> str:
    """SHA-256 hex digest of an entry: datasets and attributes (``digest`` excluded), each
    as name, numpy dtype, shape and bytes (arrays of strings: their repr), in name order.

    Writers pass the arrays and encoded attributes they store; :func:`entry_digest` passes
    what it reads back. Both give equal digests because h5py round-trips these types exactly.
    """
    sha = hashlib.sha256()
    for name in sorted(datasets):
        data = np.ascontiguousarray(datasets[name])
        sha.update(f"{name}|{data.dtype.str}|{data.shape}|".encode())
        sha.update(data.tobytes())
    for key in sorted(k for k in attrs if k != DIGEST):
        value = np.asarray(attrs[key])
        sha.update(f"@{key}|{value.dtype.str}|{value.shape}|".encode())
        sha.update(value.tobytes() if value.dtype.kind != "O" else repr(value.tolist()).encode())
    return sha.hexdigest()


def entry_digest(group: h5py.Group) -> str:
    """:func:`digest` of an entry as stored, reading every dataset fully (which also runs
    HDF5's fletcher32 checks)."""
    datasets = {name: group[name][()] for name in group}
    return digest(datasets, {key: group.attrs[key] for key in group.attrs})


def entry_names(group: h5py.Group, schemas: Sequence[str], prefix: str = "") -> list[str]:
    """Entries (groups whose ``schema`` is one of ``schemas``) below ``group``, recursing
    through plain groups and skipping hidden (``.``-prefixed) ones.

    Raises:
        OSError: a group cannot be listed or a schema read; the message names the group.
    """
    found, plain = [], []
    where = group.name
    try:
        for key, obj in group.items():
            where = f"{group.name.rstrip('/')}/{key}"
            if key.startswith(".") or not isinstance(obj, h5py.Group):
                continue
            if _text(obj.attrs.get("schema")) in schemas:
                found.append(prefix + key)
            else:
                plain.append((key, obj))
    except READ_ERRORS as err:
        raise OSError(f"group {where!r} is unreadable (corrupt): {err}") from err
    for key, obj in plain:
        found.extend(entry_names(obj, schemas, f"{prefix}{key}/"))
    return found


def _text(value: object) -> str | None:
    return value.decode() if isinstance(value, bytes) else None if value is None else str(value)


# -- the manifest ------------------------------------------------------------------------


def start_manifest(file: h5py.File, listed: Mapping[str, str] | None = None) -> None:
    """Create the (checksummed) manifest, listing ``listed`` (name -> digest, ``""`` for an
    entry written before digests existed, checked for readability only)."""
    lines = "".join(_line(name, value) for name, value in (listed or {}).items())
    file.create_dataset(MANIFEST, data=np.frombuffer(lines.encode(), dtype=np.uint8),
                        maxshape=(None,), chunks=(_MANIFEST_CHUNK,), fletcher32=True)


def has_current_manifest(file: h5py.File) -> bool:
    """Whether the file has a manifest in the current format (JSON lines as bytes)."""
    return MANIFEST in file and file[MANIFEST].dtype == np.uint8


def add_to_manifest(file: h5py.File, name: str, hexdigest: str) -> None:
    """Append ``[name, digest]`` to the manifest (one line; the latest line for a name wins)."""
    line = np.frombuffer(_line(name, hexdigest).encode(), dtype=np.uint8)
    log = file[MANIFEST]
    end = log.shape[0]
    log.resize((end + len(line),))
    log[end:] = line


def _line(name: str, hexdigest: str) -> str:
    return json.dumps([name, hexdigest]) + "\n"


def read_manifest(file: h5py.File) -> dict[str, str] | None:
    """Entry name -> digest (``""``: listed without one) from the manifest; ``None`` if the
    file has none. Reads the names-only manifest (fixed-length rows) of early files too.

    Raises:
        ValueError: a line is not a JSON ``[name, digest]`` pair.
    """
    if MANIFEST not in file:
        return None
    data = file[MANIFEST][()]
    if data.dtype.kind == "S":  # the first format: one fixed-length name per row
        return {row.decode(): "" for row in data}
    listed = {}
    for line in data.tobytes().decode().splitlines():
        name, hexdigest = json.loads(line)
        if not isinstance(name, str) or not isinstance(hexdigest, str):
            raise ValueError(f"manifest line {line[:80]!r} is not a [name, digest] pair")
        listed[name] = hexdigest
    return listed


# -- the scan ----------------------------------------------------------------------------


class Damage(Exception):
    """A problem :func:`scan` found, in one line naming the entry or group to blame (only
    ever printed by :func:`main`)."""


def scan(file: h5py.File, schemas: Sequence[str]) -> dict[str, object]:
    """Read every entry fully and check digests and manifest; see :func:`check_entry`.

    Returns:
        ``{"entries": n, "sealed": n_with_digest, "manifest": bool}``.

    Raises:
        Damage: the first problem found.
    """
    try:
        names = entry_names(file, schemas)
    except READ_ERRORS as err:
        raise Damage(str(err)) from err
    try:
        listed = read_manifest(file)
    except READ_ERRORS as err:
        raise Damage(f"the entry manifest is unreadable (corrupt file): {err}") from err
    sealed = sum(check_entry(file, name, (listed or {}).get(name, "")) for name in names)
    if listed is None and sealed:
        raise Damage(f"its entry manifest {MANIFEST!r} is missing although {sealed} entries "
                     "carry digests (corrupt file)")
    missing = sorted(set(listed or ()) - set(names))
    if missing:
        more = " ..." if len(missing) > 5 else ""
        raise Damage(f"{len(missing)} entries listed in the manifest are missing "
                     f"(corrupt file): {missing[:5]}{more}")
    return {"entries": len(names), "sealed": sealed, "manifest": listed is not None}


def check_entry(file: h5py.File, name: str, listed: str) -> bool:
    """Read entry ``name`` fully; True if it carries a digest (and it matched).

    Args:
        listed: the digest the manifest records for it (``""``: none recorded).

    Raises:
        Damage: unreadable data, or content that does not match its digest.
    """
    try:
        group = file[name]
        stored = _text(group.attrs.get(DIGEST))
        actual = entry_digest(group)
    except READ_ERRORS as err:
        raise Damage(f"entry {name!r} is unreadable (corrupt or truncated): {err}") from err
    if listed and stored != listed:
        raise Damage(f"entry {name!r} is corrupt (its digest attribute is "
                     f"{'missing' if stored is None else 'changed'})")
    if stored is not None and stored != actual:
        raise Damage(f"entry {name!r} is corrupt (checksum mismatch)")
    return stored is not None


def main(argv: Sequence[str]) -> int:
    """``FILE RUN_SCHEMA ENTRY_SCHEMA...``: print ``{"report": ...}`` or ``{"problem": ...}``."""
    path, run_schema, *schemas = argv
    try:
        with h5py.File(path, "r", locking="best-effort") as file:
            found = _text(file.attrs.get("schema"))
            if found != run_schema:
                raise Damage(f"schema {found!r}, expected {run_schema!r} (not a run file, "
                             "or its root is corrupt)")
            result = {"report": scan(file, schemas)}
    except Damage as err:
        result = {"problem": str(err)}
    except BlockingIOError as err:  # not damage: another process holds the file
        result = {"problem": f"is locked by another process (a run still writing it?): {err}"}
    except READ_ERRORS as err:
        result = {"problem": f"not a readable HDF5 file (truncated or corrupt): {err}"}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
