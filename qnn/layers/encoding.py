"""How input features become beam-splitter angles of a TBI: direct, arctan, re-uploading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..photonics import n_beam_splitters

ENCODINGS = ("direct", "arctan", "reupload")


@dataclass(frozen=True)
class Encoding:
    """Which beam splitters the ``F`` input features drive, and how.

    Beam splitters are numbered in CUDA-Q's order (loop by loop, bin ``i`` rising).

    - ``direct``: feature ``i`` *is* angle ``i``: ``θ_i = scale · x_i`` (ORCA's PTLayer).
    - ``arctan``: ``θ_i = arctan(scale · x_i)``, bounded in ``(-π/2, π/2)``, which still
      reaches every splitting ratio ``cos²θ``.
    - ``reupload``: the features enter every loop again (data re-uploading): beam
      splitter ``i`` of loop ``ℓ`` gets ``θ = w[ℓ, i] · x_i + b``, with trainable
      ``w`` (initialised to ``scale``) and the trainable angle ``b`` of that splitter.

    With ``direct`` and ``arctan`` the encoded angles carry no trainable parameter; every
    other angle is trainable.
    """

    kind: str = "direct"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ENCODINGS:
            raise ValueError(f"encoding kind={self.kind!r}; choose from {list(ENCODINGS)}")
        if not isinstance(self.scale, int | float) or not 0 < abs(self.scale) < float("inf"):
            raise ValueError(f"encoding scale={self.scale!r} must be a finite non-zero number")

    @classmethod
    def parse(cls, value: str | dict | Encoding) -> Encoding:
        """An :class:`Encoding` from its kind, a dict of its fields, or itself."""
        if isinstance(value, Encoding):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"kind", "scale"})
            if unknown:
                raise ValueError(f"encoding has unknown key(s) {unknown}; allowed: kind, scale")
            return cls(**value)
        raise TypeError(f"encoding={value!r} must be a name, a dict or an Encoding")

    @property
    def trains_encoded_angles(self) -> bool:
        return self.kind == "reupload"

    def positions(self, n_modes: int, loop_lengths: Sequence[int], n_features: int) -> Tensor:
        """``(uploads, F)`` beam-splitter indices driven by the features (one upload per loop
        for ``reupload``, else one upload on the first ``F`` splitters)."""
        n_bs = n_beam_splitters(n_modes, loop_lengths)
        if self.kind != "reupload":
            if not 1 <= n_features <= n_bs:
                raise ValueError(f"n_features={n_features} is outside [1, {n_bs}] "
                                 f"(the number of beam splitters)")
            return torch.arange(n_features).unsqueeze(0)
        shortest = min(n_modes - length for length in loop_lengths)
        if not 1 <= n_features <= shortest:
            raise ValueError(f"n_features={n_features} is outside [1, {shortest}]: re-uploading "
                             f"puts every feature on a beam splitter of every loop")
        rows, offset = [], 0
        for length in loop_lengths:
            rows.append(torch.arange(offset, offset + n_features))
            offset += n_modes - length
        return torch.stack(rows)

    def encode(self, x: Tensor, upload_weights: Tensor | None) -> Tensor:
        """``(B, F)`` features -> ``(B, uploads · F)`` angle contributions, upload-major."""
        if self.kind == "direct":
            return self.scale * x
        if self.kind == "arctan":
            return torch.arctan(self.scale * x)
        return (upload_weights.unsqueeze(0) * x.unsqueeze(1)).flatten(1)
