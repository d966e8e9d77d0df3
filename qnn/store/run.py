"""One HDF5 file per run: named histograms and probability tables, each put crash-safely.

A put writes the entry into a temporary group under ``/.qnn_tmp``, moves it to its final
name and flushes, so an interrupted put never leaves a half-written entry under its name
and earlier entries stay readable. Leftover temporary groups are invisible to
:meth:`RunStore.names` and removed when the file is next opened for writing. HDF5 has no
journal: this protects against a process dying between flushes (the usual crash), not
against the storage itself failing during a flush. Damage after the fact (flipped bytes,
lost links) is caught by checksums, digests and the manifest (:mod:`qnn.store.integrity`);
:func:`qnn.store.verify_store` checks a whole file.

File locking fails on Lustre and NFS: pass ``locking=False`` or set the environment variable
``HDF5_USE_FILE_LOCKING=FALSE`` before h5py is imported. Use one file per task (no
concurrent writers to one file) and merge afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal
from uuid import uuid4

import h5py
import numpy as np
from torch import Tensor

from qnn.errors import StoreError
from qnn.interrupts import signals_held
from qnn.photonics.histogram import Histogram

from .attrs import encode_attrs, read_attrs, read_circuit, update_attrs
from .hdf5 import (
    SCHEMAS,
    read_histogram,
    read_histograms,
    read_probabilities,
    schema_of,
    write_histogram,
    write_histograms,
    write_probabilities,
)
from .integrity import (
    DIGEST,
    MANIFEST,
    add_to_manifest,
    entry_names,
    has_current_manifest,
    read_manifest,
    start_manifest,
)
from .provenance import PROVENANCE_KEYS, provenance

if TYPE_CHECKING:
    from qnn.photonics.circuit import TBICircuit

RUN_SCHEMA = "qnn.run/1"
TMP_GROUP = ".qnn_tmp"
_ENTRY_ATTRS = frozenset({"schema", "n_modes", "bits", "detection", "shots", "n_states",
                          "n_histograms", DIGEST})
Mode = Literal["r", "a", "w", "x"]


class RunStore:
    """The HDF5 file of one run, used as a context manager.

    Args:
        path: file path.
        mode: ``"r"`` read-only (the default: reading never modifies a file); ``"a"``
            read/write, creating the file if absent; ``"w"`` create, truncating an existing
            file; ``"x"`` create, failing if it exists.
        locking: h5py's ``locking`` (``True``, ``False`` or ``"best-effort"``); ``None``
            keeps HDF5's default, which honours ``HDF5_USE_FILE_LOCKING``. Use ``False`` on
            Lustre/NFS.

    A new file gets ``schema`` "qnn.run/1" and :func:`~qnn.store.provenance.provenance`
    attributes on its root group. Entry names may hold ``/`` (``"scan/3"``); components
    may not start with ``.``.

    Raises:
        StoreError: the file is missing (``"r"``), truncated, corrupt, not HDF5, or not a
            run file; the message names the path.
    """

    def __init__(self, path: str | Path, mode: Mode = "r", *,
                 locking: bool | str | None = None) -> None:
        if mode not in ("r", "a", "w", "x"):
            raise ValueError(f"mode={mode!r}; choose from ['r', 'a', 'w', 'x']")
        self.path = Path(path)
        self.mode = mode
        self._file, created = _open(self.path, mode, locking)
        try:
            self._prepare(created)
        except BaseException:
            self._file.close()
            raise

    def _prepare(self, created: bool) -> None:
        if created:
            update_attrs(self._file, {"schema": RUN_SCHEMA, **encode_attrs(provenance())})
            start_manifest(self._file)
        else:
            with _wrap_os_error(self.path, "/"):
                found = schema_of(self._file)
            if found != RUN_SCHEMA:
                raise StoreError(f"{self.path}:/: schema {found!r}, expected {RUN_SCHEMA!r}")
        if self.writable:
            if not has_current_manifest(self._file):
                self._start_manifest()
            self._reset_tmp()
            self._file.flush()

    def _start_manifest(self) -> None:
        """List the entries of a file from before manifests (or with the first, names-only
        manifest) in a new one, with the digests they carry, so that later puts append."""
        with _wrap_os_error(self.path, f"/{MANIFEST}"):
            earlier = read_manifest(self._file)
            digests = {name: str(self._file[name].attrs.get(DIGEST, ""))
                       for name in self.names()}
            if earlier is not None:
                del self._file[MANIFEST]
        if earlier is None and any(digests.values()):
            # entries with digests were written with a manifest: it was lost, and a new one
            # would hide the entries lost with it
            raise StoreError(f"{self.path}:/{MANIFEST}: the entry manifest is missing "
                             "although entries carry digests (corrupt file)")
        start_manifest(self._file, dict.fromkeys(earlier or {}, "") | digests)

    def _reset_tmp(self) -> None:
        """Drop temporary groups a crashed put left behind, and start an empty one."""
        if TMP_GROUP in self._file:
            with _wrap_os_error(self.path, f"/{TMP_GROUP}"):
                del self._file[TMP_GROUP]
        self._file.create_group(TMP_GROUP)

    @property
    def writable(self) -> bool:
        return self.mode != "r"

    # -- entries -------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Sorted names of the stored histograms and probability tables."""
        with _wrap_os_error(self.path, "/"):
            return sorted(entry_names(self._file, SCHEMAS))

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def put_histogram(self, name: str, hist: Histogram, /, *, overwrite: bool = False,
                      **attrs: object) -> None:
        """Store ``hist`` as ``name`` (see :func:`~qnn.store.write_histogram` for ``attrs``).

        Raises:
            ValueError: ``name`` exists and ``overwrite`` is false, or bad ``attrs``.
        """
        self._put(name, overwrite, lambda group: write_histogram(group, hist, **attrs))

    def get_histogram(self, name: str) -> Histogram:
        """The histogram stored as ``name`` (``KeyError`` if there is none)."""
        return read_histogram(self._entry(name))

    def put_histograms(self, name: str, hists: Sequence[Histogram], /, *,
                       overwrite: bool = False, **attrs: object) -> None:
        """Store several histograms as one entry (see :func:`write_histograms`)."""
        self._put(name, overwrite, lambda group: write_histograms(group, hists, **attrs))

    def get_histograms(self, name: str) -> list[Histogram]:
        return read_histograms(self._entry(name))

    def put_probabilities(self, name: str, patterns: np.ndarray | Tensor,
                          probs: np.ndarray | Tensor, /, *, overwrite: bool = False,
                          **attrs: object) -> None:
        """Store ``(S, M)`` patterns and ``(*batch, S)`` probabilities as ``name``."""
        self._put(name, overwrite,
                  lambda group: write_probabilities(group, patterns, probs, **attrs))

    def get_probabilities(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(S, M)`` uint8 patterns and ``(*batch, S)`` float64 probabilities of ``name``."""
        return read_probabilities(self._entry(name))

    def get_circuit(self, name: str) -> TBICircuit:
        """The circuit stored in the attributes of entry ``name`` (see ``circuit_attrs``)."""
        return read_circuit(self._entry(name))

    def entries(self):
        """A ``pandas.DataFrame`` with one row per entry: ``name``, ``kind`` (histogram,
        histograms, probabilities), ``n_modes``, ``detection``, ``shots`` (histograms),
        ``n_states`` (probability tables), ``n_histograms`` (batches) and the entry's own
        attributes (e.g. ``task``, ``tag``) as further columns."""
        import pandas as pd

        kinds = {"qnn.histogram/1": "histogram", "qnn.histogram_batch/1": "histograms",
                 "qnn.probabilities/1": "probabilities"}
        rows = []
        for name in self.names():
            group = self._entry(name)
            with _wrap_os_error(self.path, group.name):
                own = {key: group.attrs[key] for key in ("n_modes", "detection", "shots",
                                                          "n_states", "n_histograms")
                       if key in group.attrs}
                rows.append({"name": name, "kind": kinds[schema_of(group)],
                             **{k: v.item() if hasattr(v, "item") else v for k, v in own.items()},
                             **read_attrs(group, exclude=_ENTRY_ATTRS)})
        columns = ["name", "kind", "n_modes", "detection", "shots", "n_states", "n_histograms"]
        table = pd.DataFrame(rows)
        return table.reindex(columns=[c for c in columns if c in table.columns or not rows]
                             + [c for c in table.columns if c not in columns])

    def get_attrs(self, name: str = "/") -> dict[str, object]:
        """Caller attributes of entry ``name``, or the file's (provenance) attributes for "/"."""
        group = self._file if name == "/" else self._entry(name)
        with _wrap_os_error(self.path, group.name):
            return read_attrs(group, exclude=_ENTRY_ATTRS)

    def set_attrs(self, **attrs: object) -> None:
        """Add run-level attributes to the root group (same rules as entry attributes)."""
        self._check_writable()
        encoded = encode_attrs(attrs, reserved=PROVENANCE_KEYS | {"schema"})
        with signals_held():
            update_attrs(self._file, encoded)
            self._file.flush()

    # -- writing -------------------------------------------------------------------------

    def _put(self, name: str, overwrite: bool, write: Callable[[h5py.Group], None]) -> None:
        """Write (and seal) into a temporary group, then move it to ``name``, list it in the
        manifest and flush. Ctrl-C and SIGTERM wait for the put to end: one between the move
        and the manifest line left a manifest that no reader can parse."""
        self._check_writable()
        name = _check_name(name)
        self._check_free(name, overwrite)
        tmp = f"{TMP_GROUP}/{uuid4().hex}"
        with signals_held():
            try:
                group = self._file.create_group(tmp)
                write(group)
                digest = str(group.attrs[DIGEST])
            except BaseException:
                with contextlib.suppress(OSError, KeyError):
                    del self._file[tmp]
                raise
            self._commit(tmp, name, digest)

    def _commit(self, tmp: str, name: str, digest: str) -> None:
        old = None
        if name in self._file:
            old = f"{TMP_GROUP}/{uuid4().hex}"
            self._file.move(name, old)
        parent = name.rpartition("/")[0]
        if parent:
            self._file.require_group(parent)
        self._file.move(tmp, name)
        if old is not None:
            del self._file[old]
        add_to_manifest(self._file, name, digest)
        self._file.flush()  # the entry and its manifest line reach the disk together

    def _check_free(self, name: str, overwrite: bool) -> None:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            obj = self._file.get(prefix)
            if obj is not None and (not isinstance(obj, h5py.Group) or schema_of(obj)):
                raise ValueError(f"{self.path}: cannot put {name!r} inside entry {prefix!r}")
        obj = self._file.get(name)
        if obj is None:
            return
        if not isinstance(obj, h5py.Group) or schema_of(obj) not in SCHEMAS:
            raise ValueError(f"{self.path}: {name!r} exists and is not a stored entry")
        if not overwrite:
            raise ValueError(f"{self.path}: entry {name!r} already exists; pass "
                             "overwrite=True to replace it")

    def _check_writable(self) -> None:
        if not self.writable:
            raise ValueError(f"{self.path} is open read-only (mode='r')")
        if not self._file:
            raise ValueError(f"{self.path} is closed")

    def _entry(self, name: str) -> h5py.Group:
        key = _check_name(name)
        with _wrap_os_error(self.path, f"/{key}"):
            obj = self._file.get(key)
        if not isinstance(obj, h5py.Group) or schema_of(obj) not in SCHEMAS:
            raise KeyError(f"{self.path}: no entry {name!r}")
        return obj

    # -- life cycle ----------------------------------------------------------------------

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Remove the (empty) temporary group and close the file; closing twice is fine."""
        if not self._file:
            return
        if self.writable and TMP_GROUP in self._file and len(self._file[TMP_GROUP]) == 0:
            del self._file[TMP_GROUP]
        self._file.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._file else "closed"
        return f"RunStore({str(self.path)!r}, mode={self.mode!r}, {state})"


def _open(path: Path, mode: Mode, locking: bool | str | None) -> tuple[h5py.File, bool]:
    """Open or create the file; returns ``(file, created)``. h5py errors become StoreError."""
    exists = path.exists()
    if mode == "x" and exists:
        raise FileExistsError(f"{path} exists (mode='x')")
    if mode == "r" and not exists:
        raise StoreError(f"{path}: no such file")
    if mode in ("r", "a") and exists and path.stat().st_size == 0:
        # HDF5 2.0 would silently turn a 0-byte file opened for writing into a new file.
        raise StoreError(f"{path}:/: empty file (0 bytes), not a qnn HDF5 file")
    h5_mode = ("r+" if exists else "x") if mode == "a" else mode
    created = h5_mode in ("w", "x")
    # Whatever is written gets HDF5 1.8 object formats: their metadata is checksummed, and
    # an attribute over 64 KiB (a batch of circuits' angles) goes to dense storage instead
    # of failing. The bounds belong to each open, not to the file, so an append must ask
    # again: under the default bounds the groups it adds have the old headers. Reading
    # leaves the file as it is.
    libver = None if h5_mode == "r" else ("v108", "latest")
    with _wrap_os_error(path, "/"):
        return h5py.File(path, h5_mode, locking=locking, libver=libver), created


@contextlib.contextmanager
def _wrap_os_error(path: Path, where: str) -> Iterator[None]:
    """Re-raise h5py's OSError as a StoreError naming the file and group."""
    try:
        yield
    # h5py: RuntimeError for damaged link tables; UnicodeDecodeError for damaged text
    except (OSError, RuntimeError, UnicodeDecodeError) as err:
        if isinstance(err, FileNotFoundError | PermissionError | FileExistsError):
            raise
        raise StoreError(f"{path}:{where}: not a readable qnn HDF5 file "
                         f"(truncated, corrupt or not HDF5): {err}") from err


def _check_name(name: str) -> str:
    """Validate an entry name (``a`` or ``a/b``) and return it without outer slashes."""
    if not isinstance(name, str):
        raise TypeError(f"entry name must be a str, got {type(name).__name__}")
    key = name.strip("/")
    parts = key.split("/")
    if not key or any(not part or part.startswith(".") for part in parts):
        raise ValueError(f"entry name {name!r} is empty or has an empty or '.'-prefixed part")
    return key
