"""The architecture space as a bitstring: fields, encoding and decoding (a bijection)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

# Field name -> the values its bits select. A field of k bits holds 2**k values; bits are
# the value's index, most significant bit first. Fields follow each other in this order.
CHOICES: dict[str, tuple] = {
    "conv_layers": (0, 1, 2, 3),        # 3x3/5x5 'same' convolutions before the dense stack
    "channels": (4, 8, 12, 16),         # channels of every convolution
    "kernel_size": (3, 5),
    "pool": (False, True),              # 2x2 max-pool after the last convolution
    "dense_layers": (0, 1, 2, 3),       # hidden dense layers before the classifier
    "width": (16, 32, 64, 128),         # units of every hidden dense layer
    "activation": ("relu", "tanh", "gelu", "sigmoid"),
    "skip": (False, True),              # residual connection where in and out shapes agree
    "norm": (False, True),              # batch norm after every hidden layer
    "lr": (1e-3, 3e-3, 1e-2, 3e-2),     # Adam learning rate bucket
}
WIDTHS = {name: int(np.log2(len(values))) for name, values in CHOICES.items()}
N_BITS = sum(WIDTHS.values())  # 16


@dataclass(frozen=True)
class Architecture:
    """One point of the search space; every field takes one of :data:`CHOICES`.

    The network (:func:`qnn.nas.model.build_model`) is ``conv_layers`` convolutions of
    ``channels`` channels and ``kernel_size`` ('same' padding, each followed by
    ``norm`` and ``activation``; from the second on, ``skip`` adds the input back), an
    optional 2×2 max-pool, a flatten, ``dense_layers`` hidden layers of ``width`` units
    (same pattern; ``skip`` from the second on) and a linear classifier. ``lr`` is the Adam
    learning rate of its fixed training budget.
    """

    conv_layers: int = 0
    channels: int = 4
    kernel_size: int = 3
    pool: bool = False
    dense_layers: int = 0
    width: int = 16
    activation: str = "relu"
    skip: bool = False
    norm: bool = False
    lr: float = 1e-3

    def __post_init__(self) -> None:
        for name, values in CHOICES.items():
            value = getattr(self, name)
            if value not in values or isinstance(value, bool) != isinstance(values[0], bool):
                raise ValueError(f"Architecture.{name}={value!r}; choose from {list(values)}")

    def to_dict(self) -> dict:
        return asdict(self)


if [f.name for f in fields(Architecture)] != list(CHOICES):
    raise AssertionError("Architecture's fields and CHOICES must list the same names in order")


def decode(bits: np.ndarray | str) -> Architecture:
    """The architecture of an :data:`N_BITS`-bit string (0/1 array or ``"0101…"``)."""
    array = as_bits(bits).tolist()
    values, start = {}, 0
    for name, width in WIDTHS.items():
        index = 0
        for bit in array[start : start + width]:
            index = 2 * index + bit
        values[name] = CHOICES[name][index]
        start += width
    return Architecture(**values)


def encode(architecture: Architecture) -> np.ndarray:
    """``(N_BITS,)`` uint8 bits of ``architecture``: the inverse of :func:`decode`."""
    bits: list[int] = []
    for name, width in WIDTHS.items():
        index = CHOICES[name].index(getattr(architecture, name))
        bits += [(index >> (width - 1 - k)) & 1 for k in range(width)]
    return np.asarray(bits, dtype=np.uint8)


def as_bits(bits: np.ndarray | str) -> np.ndarray:
    """``(N_BITS,)`` uint8 from a 0/1 sequence or string; anything else is a ValueError."""
    array = np.frombuffer(bits.encode(), np.uint8) - ord("0") if isinstance(bits, str) \
        else np.asarray(bits)
    if array.shape != (N_BITS,) or not np.isin(array, (0, 1)).all():
        raise ValueError(f"bits={bits!r} must be {N_BITS} values in {{0, 1}}")
    return array.astype(np.uint8)


def bits_key(bits: np.ndarray | str) -> str:
    """The ``"0101…"`` string of a bitstring: the cache key of its architecture."""
    return "".join(map(str, as_bits(bits)))
