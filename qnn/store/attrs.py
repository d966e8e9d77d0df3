"""HDF5 attribute encoding: checked, secret-free values; circuits as numeric attributes.

Allowed values: ``str`` (stored after :func:`qnn.secrets.redact`), ``bool``, ``int``,
``float`` (and their numpy scalars), lists/tuples/arrays/tensors of numbers (stored as numeric
arrays, shape kept) and mappings (stored as a JSON string, listed in the ``json_attrs``
attribute so that :func:`read_attrs` gives the mapping back). Keys that look like
credentials (:func:`qnn.secrets.is_secret_key`) are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import h5py
import numpy as np
from torch import Tensor

from qnn.errors import StoreError
from qnn.secrets import is_secret_key, redact

if TYPE_CHECKING:
    from qnn.photonics.circuit import TBICircuit

JSON_ATTRS = "json_attrs"
CIRCUIT_FIELDS = ("input_state", "loop_lengths", "bs_angles", "ps_angles")
_NUMERIC_KINDS = "biuf"


def location(group: h5py.Group | h5py.Dataset) -> str:
    """``"<file path>:<object name>"``, the place that error messages name."""
    return f"{group.file.filename}:{group.name}"


def check_key(key: str) -> None:
    """Raise ``ValueError`` if ``key`` looks like a credential (the value is never shown)."""
    if is_secret_key(key):
        raise ValueError(f"attribute {key!r} looks like a credential; secrets must not be "
                         "stored (pass them through the environment instead)")


def encode_attrs(attrs: Mapping[str, object], reserved: frozenset[str] = frozenset()
                 ) -> dict[str, object]:
    """Check and convert caller attributes into values h5py stores exactly.

    Args:
        attrs: attribute name -> value.
        reserved: names the writer sets itself (a caller giving one is an error).

    Returns:
        name -> encoded value, plus ``json_attrs`` (array of names stored as JSON) if any.

    Raises:
        ValueError: a secret-looking or reserved key, or an out-of-range integer.
        TypeError: a value of another type (the message names the key).
    """
    out: dict[str, object] = {}
    json_keys = []
    for key, value in attrs.items():
        check_key(key)
        if key in reserved or key == JSON_ATTRS:
            raise ValueError(f"attribute {key!r} is reserved by the store")
        if isinstance(value, Mapping):
            out[key] = _encode_json(key, value)
            json_keys.append(key)
        else:
            out[key] = encode_value(key, value)
    if json_keys:
        out[JSON_ATTRS] = np.array(json_keys, dtype=h5py.string_dtype())
    return out


def update_attrs(obj: h5py.Group | h5py.Dataset, encoded: Mapping[str, object]
                 ) -> dict[str, object]:
    """Write attributes from :func:`encode_attrs`, keeping ``json_attrs`` in step with them.

    Returns:
        The values written, ``json_attrs`` included (on a new object: all its attributes).
    """
    json_keys = set(_json_keys(obj.attrs)) - set(encoded) | set(_json_keys(encoded))
    written = {key: value for key, value in encoded.items() if key != JSON_ATTRS}
    if json_keys:
        written[JSON_ATTRS] = np.array(sorted(json_keys), dtype=h5py.string_dtype())
    elif JSON_ATTRS in obj.attrs:
        del obj.attrs[JSON_ATTRS]
    obj.attrs.update(written)
    return written


def _json_keys(attrs: Mapping[str, object]) -> list[str]:
    keys = attrs.get(JSON_ATTRS)
    if keys is None:
        return []
    return [k.decode() if isinstance(k, bytes) else str(k) for k in np.atleast_1d(keys)]


def encode_value(key: str, value: object) -> object:
    """One non-mapping attribute value as str, numpy scalar or numeric array."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | np.bool_):
        return np.bool_(value)
    if isinstance(value, np.integer | np.floating):
        return value  # numpy scalars keep their dtype (a cast could wrap uint64)
    if isinstance(value, int):
        try:
            return np.int64(value)
        except OverflowError:
            raise ValueError(f"attribute {key!r} does not fit in int64") from None
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, list | tuple | np.ndarray | Tensor):
        return _encode_array(key, value)
    raise TypeError(f"attribute {key!r} has type {type(value).__name__}; allowed: str, int, "
                    "float, bool, lists/arrays of numbers, dict (stored as JSON)")


def _encode_array(key: str, value: object) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except ValueError:
        raise TypeError(f"attribute {key!r} is a ragged sequence; give a rectangular "
                        "array of numbers") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"attribute {key!r} holds {array.dtype} values; arrays must hold "
                        "numbers (bool, int, float)")
    return array


def _encode_json(key: str, value: Mapping) -> str:
    _check_nested_keys(key, value)
    try:
        text = json.dumps(_redact_nested(value), sort_keys=True, default=_json_default)
    except (TypeError, ValueError) as err:
        raise TypeError(f"attribute {key!r} is not JSON-serialisable: {err}") from None
    return text


def _check_nested_keys(path: str, value: object) -> None:
    if isinstance(value, Mapping):
        for name, item in value.items():
            check_key(f"{path}.{name}")
            _check_nested_keys(f"{path}.{name}", item)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_nested_keys(f"{path}[{i}]", item)


def _redact_nested(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_nested(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_nested(v) for v in value]
    return value


def _json_default(value: object) -> object:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, Tensor):
        return value.detach().cpu().tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def read_attrs(obj: h5py.Group | h5py.Dataset, exclude: frozenset[str] = frozenset()
               ) -> dict[str, object]:
    """Attributes as Python values: str, bool, int, float, ``np.ndarray`` or decoded dict.

    Args:
        obj: the group or dataset.
        exclude: names to leave out (e.g. the store's own schema attributes).
    """
    json_keys = set(_json_keys(obj.attrs))
    out = {}
    for key, value in obj.attrs.items():
        if key in exclude or key == JSON_ATTRS:
            continue
        out[key] = _decode(obj, key, value, key in json_keys)
    return out


def _decode(obj: h5py.Group | h5py.Dataset, key: str, value: object, is_json: bool) -> object:
    if isinstance(value, bytes):
        value = value.decode()
    if is_json:
        try:
            return json.loads(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as err:
            raise StoreError(f"{location(obj)}: attribute {key!r} is not valid JSON") from err
    if isinstance(value, np.generic):
        return value.item()
    return value


def circuit_attrs(circuit: TBICircuit) -> dict[str, np.ndarray]:
    """A circuit as numeric array attributes, for ``write_histogram(..., **circuit_attrs(c))``.

    Returns:
        ``input_state`` ``(M,)`` int64, ``loop_lengths`` ``(L,)`` int64, ``bs_angles``
        ``(*batch, n_bs)`` float64 and, when the circuit has them, ``ps_angles``
        ``(*batch', n_bs)`` float64 (radians; omitted means no phase shifters). Angles are
        stored as float64 whatever the tensor dtype.
    """
    record = circuit.to_dict()
    out = {
        "input_state": np.asarray(record["input_state"], dtype=np.int64),
        "loop_lengths": np.asarray(record["loop_lengths"], dtype=np.int64),
        "bs_angles": np.asarray(record["bs_angles"], dtype=np.float64),
    }
    if circuit.ps_angles is not None:
        out["ps_angles"] = np.asarray(record["ps_angles"], dtype=np.float64)
    return out


def read_circuit(group: h5py.Group) -> TBICircuit:
    """Rebuild the circuit stored by :func:`circuit_attrs` on ``group``.

    Raises:
        StoreError: a circuit attribute is missing or the values do not form a circuit.
    """
    from qnn.photonics.circuit import TBICircuit

    missing = [name for name in CIRCUIT_FIELDS[:3] if name not in group.attrs]
    if missing:
        raise StoreError(f"{location(group)}: no circuit stored (missing attribute(s) {missing})")
    record = {name: np.asarray(group.attrs[name]).tolist()
              for name in CIRCUIT_FIELDS if name in group.attrs}
    try:
        return TBICircuit.from_dict(record)
    except (TypeError, ValueError) as err:
        raise StoreError(f"{location(group)}: stored circuit is invalid: {err}") from err
