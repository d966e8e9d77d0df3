"""A run's checkpoint: one JSON document, replaced atomically, so a kill never corrupts it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SCHEMA = "qnn.checkpoint/1"


class Checkpoint:
    """The latest resumable state of a run, at ``path`` (JSON).

    ``save`` writes a temporary file, fsyncs it and renames it over the old one, so the
    file on disk is always either the previous or the new complete state.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, state: dict[str, Any]) -> None:
        """Replace the checkpoint with ``state`` (JSON-serialisable)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump({"schema": SCHEMA, "state": state}, f, allow_nan=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def load(self) -> dict[str, Any] | None:
        """The saved state, ``None`` if there is none.

        Raises:
            ValueError: the file is not a checkpoint of this schema (names the path).
        """
        if not self.exists():
            return None
        try:
            document = json.loads(self.path.read_text())
        except (ValueError, RecursionError) as err:  # JSON or UTF-8 errors; absurd nesting
            raise ValueError(f"{self.path}: not a readable checkpoint (damaged or not "
                             f"JSON): {err}") from err
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise ValueError(f"{self.path}: not a {SCHEMA} checkpoint")
        if not isinstance(document.get("state"), dict):
            raise ValueError(f"{self.path}: a {SCHEMA} checkpoint without a state mapping")
        return document["state"]


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file, fsync, rename: the file is never half-written."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def torch_load(path: str | Path) -> Any:
    """Load a checkpoint written by :func:`atomic_torch_save`, allowing tensors and plain
    containers only (``weights_only``): a checkpoint file can never run code.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        ValueError: the file is damaged, truncated or not a weights file (names the path).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - any unreadable file gets one clear message
        reason = type(err).__name__
    # Outside the except block, so torch's error is not chained either: its text advises
    # retrying with weights_only=False, i.e. running code from a damaged or foreign file.
    raise ValueError(f"{path}: not a valid weights file (damaged, truncated or not written "
                     f"by qnn; torch raised {reason})")
