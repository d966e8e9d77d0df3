"""Corrupt run files are refused: checksums, per-entry digests and the entry manifest catch
flipped bytes and vanished entries; reading never modifies a file."""

import os
import re

import h5py
import numpy as np
import pytest

from qnn.errors import StoreError
from qnn.photonics.histogram import Histogram
from qnn.runs.checkpoint import torch_load
from qnn.store import RunStore, verify_store


def histograms(rng, n):
    return [Histogram.from_dict({tuple(int(v) for v in rng.integers(0, 3, 6)):
                                 int(rng.integers(1, 50)) for _ in range(8)}) for _ in range(n)]


def realistic_store(path, seed=0):
    """~180 entries like a BBS run: single histograms and batches with attributes."""
    rng = np.random.default_rng(seed)
    with RunStore(path, "w") as store:
        for i in range(150):
            store.put_histogram(f"task{i // 10}/update{i % 10:04d}", histograms(rng, 1)[0],
                                step=i, note="x" * (i % 7))
        for i in range(30):
            store.put_histograms(f"batch/{i:03d}", histograms(rng, 5), step=i)
    return path


def content(path):
    """Everything the file says, read with plain h5py (None if any of it fails to read)."""
    out = {}
    try:
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                out[name] = (obj[()].tobytes() if isinstance(obj, h5py.Dataset) else None,
                             {k: np.asarray(v).tobytes() for k, v in obj.attrs.items()})
            f.visititems(visit)
    except Exception:  # noqa: BLE001 - any failure means the damage is visible
        return None
    return out


def test_a_sealed_store_verifies_and_reading_leaves_its_bytes_alone(tmp_path):
    path = realistic_store(tmp_path / "run.h5")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert verify_store(path) == {"entries": 180, "sealed": 180}
    with RunStore(path) as store:  # read-only by default
        store.get_histograms("batch/000")
        assert not store.writable
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("seed", range(8))
def test_two_hundred_flipped_bytes_never_pass_verification(tmp_path, seed):
    path = realistic_store(tmp_path / "run.h5")
    reference = content(path)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for position in rng.choice(np.arange(2048, len(data)), size=200, replace=False):
        data[position] ^= int(rng.integers(1, 256))
    path.write_bytes(bytes(data))
    if content(path) == reference:
        pytest.skip("the flips hit only unused bytes: nothing to detect")
    with pytest.raises(StoreError, match=re.escape(str(path))):
        verify_store(path)


def test_vanished_entries_are_named(tmp_path):
    path = realistic_store(tmp_path / "run.h5")
    with h5py.File(path, "a") as f:  # a destroyed link: the entry is simply not there
        del f["task3/update0004"]
        del f["batch/007"]
    with pytest.raises(StoreError, match=r"2 entries listed in the manifest are missing.*"
                                         r"batch/007.*task3/update0004"):
        verify_store(path)


def test_a_changed_attribute_breaks_the_digest(tmp_path):
    path = realistic_store(tmp_path / "run.h5")
    with h5py.File(path, "a") as f:  # fletcher32 does not cover attributes; the digest does
        f["task1/update0002"].attrs["step"] = 99
    with pytest.raises(StoreError, match=r"entry 'task1/update0002' is corrupt"):
        verify_store(path)


def test_files_without_a_manifest_are_checked_for_readability(tmp_path):
    path = tmp_path / "old.h5"
    realistic_store(path)
    with h5py.File(path, "a") as f:  # as written before digests and manifests existed
        del f[".qnn_manifest"]
        for name in ("task0/update0000", "batch/000"):
            del f[name].attrs["digest"]
    report = verify_store(path)
    assert report == {"entries": 180, "sealed": 178}


def test_garbage_weights_files_never_pass_on_torch_advice(tmp_path):
    path = tmp_path / "network.pt"
    path.write_bytes(os.urandom(512))
    with pytest.raises(ValueError) as info:
        torch_load(path)
    message = str(info.value)
    assert str(path) in message and "weights_only" not in message and "False" not in message
