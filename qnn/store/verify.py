"""Verify a run's HDF5 file: read every entry, check its checksums, digest and the manifest."""

from __future__ import annotations

from pathlib import Path

from qnn.errors import StoreError

from .integrity import DIGEST, MANIFEST, entry_digest, manifest_names
from .run import RunStore


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
                listed = manifest_names(file)
            except (OSError, RuntimeError, ValueError) as err:
                raise StoreError(f"{path}: the entry manifest is unreadable: {err}") from err
            missing = sorted(listed - set(names))
            if missing:
                raise StoreError(f"{path}: {len(missing)} entries listed in the manifest are "
                                 f"missing (corrupt file): {missing[:5]}"
                                 f"{' ...' if len(missing) > 5 else ''}")
    return {"entries": len(names), "sealed": sealed}
