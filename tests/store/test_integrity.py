"""Corrupt run files are refused: checksums, per-entry digests and the entry manifest catch
flipped bytes, changed values and vanished entries; reading never modifies a file."""

import json
import re
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import qnn.store.verify as verify_module
from qnn.errors import StoreError
from qnn.photonics.circuit import TBICircuit
from qnn.photonics.histogram import Histogram
from qnn.store import RunStore, StoreReport, circuit_attrs, verify_store, write_histogram
from qnn.store.hdf5 import SCHEMAS
from qnn.store.integrity import DIGEST, MANIFEST, entry_digest, entry_names, read_manifest


def histograms(rng, n):
    return [Histogram.from_dict({tuple(int(v) for v in rng.integers(0, 3, 6)):
                                 int(rng.integers(1, 50)) for _ in range(8)}) for _ in range(n)]


def realistic_store(path, seed=0):
    """185 entries like a BBS run: single histograms, batches and probability tables."""
    rng = np.random.default_rng(seed)
    with RunStore(path, "w") as store:
        for i in range(150):
            store.put_histogram(f"task{i // 10}/update{i % 10:04d}", histograms(rng, 1)[0],
                                step=i, note="x" * (i % 7))
        for i in range(30):
            store.put_histograms(f"batch/{i:03d}", histograms(rng, 5), step=i)
        for i in range(5):
            probs = rng.dirichlet(np.ones(4), size=3)
            store.put_probabilities(f"probs/{i}", np.eye(4, dtype=int), probs, theta=0.1 * i)
    return path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The bytes of one realistic store (built once: the damage tests copy them)."""
    return realistic_store(tmp_path_factory.mktemp("pristine") / "run.h5").read_bytes()


@pytest.fixture
def store_path(tmp_path, pristine):
    path = tmp_path / "run.h5"
    path.write_bytes(pristine)
    return path


# What plain h5py reads (every dataset and attribute), hashed; in a child process, because a
# damaged file can crash the HDF5 library.
CONTENT_SCRIPT = """
import hashlib, sys
import h5py, numpy as np
sha = hashlib.sha256()
def visit(name, obj):
    sha.update(name.encode())
    if isinstance(obj, h5py.Dataset):
        sha.update(np.asarray(obj[()]).tobytes())
    for key in sorted(obj.attrs):
        sha.update(key.encode() + repr(np.asarray(obj.attrs[key]).tolist()).encode())
try:
    with h5py.File(sys.argv[1], "r") as f:
        f.visititems(visit)
except Exception:
    print("unreadable")
else:
    print(sha.hexdigest())
"""


def plain_content(path):
    """A hash of everything plain h5py reads from ``path``, "unreadable" or "crashed"."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CONTENT_SCRIPT), str(path)],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "crashed"


def flip_bytes(path, seed, n=200):
    """XOR ``n`` bytes at seeded random positions past the superblock with non-zero values."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for position in rng.choice(np.arange(2048, len(data)), size=n, replace=False):
        data[position] ^= int(rng.integers(1, 256))
    path.write_bytes(bytes(data))


def strip_integrity(path):
    """Make ``path`` look written before digests and manifests existed."""
    with h5py.File(path, "a") as f:
        del f[MANIFEST]
        for name in entry_names(f, SCHEMAS):
            del f[name].attrs[DIGEST]


# -- what is written ----------------------------------------------------------------------


def test_every_dataset_is_checksummed_and_every_entry_sealed(store_path):
    with h5py.File(store_path, "r") as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(obj)
                     if isinstance(obj, h5py.Dataset) else None)
        assert {d.name.rpartition("/")[2] for d in datasets} == {
            "keys", "counts", "offsets", "probs", MANIFEST}
        assert all(d.fletcher32 and d.chunks for d in datasets)
        listed = read_manifest(f)
    with RunStore(store_path) as store:
        names = store.names()
    assert len(names) == 185 and sorted(listed) == names
    with h5py.File(store_path, "r") as f:
        assert all(listed[name] == f[name].attrs[DIGEST] == entry_digest(f[name])
                   for name in names)


def test_the_digest_written_from_memory_equals_the_digest_read_back(tmp_path):
    """Writers hash their in-memory arrays (no read-back); h5py must store them exactly."""
    circuit = TBICircuit(input_state=(1, 0, 1, 0), loop_lengths=(1, 2),
                         bs_angles=((0.1, 0.2, 0.3, 0.4, 0.5),) * 2)
    attrs = {"theta": -0.0, "nan": float("nan"), "seed": 7, "big": np.uint64(2**64 - 1),
             "flag": True, "name": "hom é☃", "grid": [[1, 2], [3, 4]], "none": [],
             "mask": np.array([True, False]), "noise": {"loss": 0.1, "modes": [0, 2]},
             **circuit_attrs(circuit)}
    wide = Histogram.from_dict({(15,) * 30: 2, (0,) * 30: 1})  # stored as a uint8 matrix
    with RunStore(tmp_path / "run.h5", "w") as store:
        store.put_histogram("h", Histogram.from_dict({(1, 0): 3}), **attrs)
        store.put_histogram("empty", Histogram.from_dict({}, "threshold", n_modes=3))
        store.put_histogram("wide", wide, run="x")
        store.put_histograms("batch", [wide, wide], **attrs)
        store.put_probabilities("p", np.eye(3, dtype=int), np.full((2, 2, 3), 1 / 3), **attrs)
    with h5py.File(tmp_path / "run.h5", "r") as f:
        for name in ("h", "empty", "wide", "batch", "p"):
            assert f[name].attrs[DIGEST] == entry_digest(f[name]), name
    assert verify_store(tmp_path / "run.h5") == StoreReport(entries=5, sealed=5, manifest=True)


def test_writers_refuse_a_non_empty_group_and_a_caller_digest(tmp_path):
    hist = Histogram.from_dict({(1, 0): 3})
    with h5py.File(tmp_path / "h.h5", "w") as f:
        group = f.create_group("h")
        group.attrs["before"] = 1  # would be outside the digest the writer computes
        with pytest.raises(ValueError, match=r"/h is not empty"):
            write_histogram(group, hist)
        with pytest.raises(ValueError, match="'digest' is reserved"):
            write_histogram(f.create_group("g"), hist, digest="0" * 64)


# -- verification -------------------------------------------------------------------------


def test_verification_and_read_mode_leave_the_file_untouched(store_path):
    before, mtime = store_path.read_bytes(), store_path.stat().st_mtime_ns
    report = verify_store(store_path)
    assert report == StoreReport(entries=185, sealed=185, manifest=True)
    assert str(report) == "185 entries read, 185 matched their checksums"
    with RunStore(store_path) as store:  # read-only by default
        assert not store.writable
        for name in store.names():
            store.get_attrs(name)
        store.get_histograms("batch/000")
        store.get_probabilities("probs/1")
    assert store_path.read_bytes() == before and store_path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("seed", range(12))
def test_two_hundred_flipped_bytes_never_pass_verification(store_path, seed):
    """Not vacuous: for every seed the damage is real (plain h5py reads different content
    or fails), and every time verification refuses the file, naming it."""
    reference = plain_content(store_path)
    flip_bytes(store_path, seed)
    assert plain_content(store_path) != reference
    with pytest.raises(StoreError, match=re.escape(f"{store_path}: ")) as info:
        verify_store(store_path)
    assert "\n" not in str(info.value)


def test_a_value_rewritten_with_valid_fletcher32_breaks_the_digest(store_path):
    """HDF5 recomputes fletcher32 on a write, so only the digest sees a changed count."""
    with h5py.File(store_path, "a") as f:
        f["task4/update0007/counts"][0] += 1
        f["task4/update0007"].attrs["shots"] += 1  # consistent: the reader accepts it
    with RunStore(store_path) as store:
        store.get_histogram("task4/update0007")  # reading alone does not notice
    with pytest.raises(StoreError, match=re.escape(
            f"{store_path}: entry 'task4/update0007' is corrupt (checksum mismatch)")):
        verify_store(store_path)


def test_a_changed_attribute_breaks_the_digest(store_path):
    with h5py.File(store_path, "a") as f:  # fletcher32 does not cover attributes
        f["task1/update0002"].attrs["step"] = 99
    with pytest.raises(StoreError, match=r"entry 'task1/update0002' is corrupt"):
        verify_store(store_path)


def test_a_lost_digest_attribute_is_caught_by_the_manifest(store_path):
    with h5py.File(store_path, "a") as f:
        del f["batch/004"].attrs[DIGEST]
        f["batch/004"].attrs["step"] = 99
    with pytest.raises(StoreError, match=r"entry 'batch/004' is corrupt \(its digest "
                                         r"attribute is missing\)"):
        verify_store(store_path)


def test_vanished_entries_are_named(store_path):
    with h5py.File(store_path, "a") as f:  # a destroyed link: the entry is simply not there
        del f["task3/update0004"]
        del f["batch/007"]
    with RunStore(store_path) as store:
        assert len(store.names()) == 183  # reading alone does not notice
    with pytest.raises(StoreError, match=re.escape(
            f"{store_path}: 2 entries listed in the manifest are missing (corrupt file): "
            "['batch/007', 'task3/update0004']")):
        verify_store(store_path)


def test_a_lost_manifest_is_noticed(store_path):
    with h5py.File(store_path, "a") as f:
        del f[MANIFEST]
    with pytest.raises(StoreError, match=f"manifest '{MANIFEST}' is missing although 185"):
        verify_store(store_path)
    with pytest.raises(StoreError, match="manifest is missing although entries carry"):
        RunStore(store_path, "a")  # a new manifest would hide entries lost with the old
    with pytest.raises(StoreError, match="is missing although 185"):
        verify_store(store_path)


@pytest.mark.parametrize(("how", "error", "message"), [
    ("SIGSEGV", StoreError, "reading it crashed the HDF5 library (SIGSEGV): the file is corrupt"),
    ("SIGKILL", RuntimeError, "failed (killed by SIGKILL)"),  # e.g. the OOM killer: no verdict
])
def test_a_crash_of_the_hdf5_library_is_reported_as_corruption(store_path, tmp_path,
                                                               monkeypatch, how, error, message):
    """Damaged files can crash HDF5 itself (a segfault, seen in fuzzing): the child's death
    becomes a StoreError. Here the child kills itself the same way."""
    crashing = tmp_path / "crash.py"
    crashing.write_text(f"import os, signal\nos.kill(os.getpid(), signal.{how})\n")
    monkeypatch.setattr(verify_module, "SCANNER", str(crashing))
    with pytest.raises(error, match=re.escape(message)):
        verify_store(store_path)


@pytest.mark.parametrize("content", [b"", b"not hdf5" * 100])
def test_empty_missing_and_foreign_files(tmp_path, content):
    path = tmp_path / "run.h5"
    with pytest.raises(StoreError, match=re.escape(f"{path}: no such file")):
        verify_store(path)
    path.write_bytes(content)
    with pytest.raises(StoreError, match=re.escape(f"{path}: not a readable HDF5 file")):
        verify_store(path)
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(StoreError, match=re.escape(f"{path}: schema None, expected")):
        verify_store(path)


# -- files from before digests and manifests ----------------------------------------------


def test_files_from_before_checksums_are_checked_for_readability(store_path):
    strip_integrity(store_path)
    before, mtime = store_path.read_bytes(), store_path.stat().st_mtime_ns
    report = verify_store(store_path)
    assert report == StoreReport(entries=185, sealed=0, manifest=False)
    assert "185 written before checksums (checked for readability only)" in str(report)
    with RunStore(store_path) as store:  # read-only: no manifest is added
        store.get_histogram("task0/update0000")
    assert store_path.read_bytes() == before and store_path.stat().st_mtime_ns == mtime


def test_appending_to_an_old_file_lists_its_entries(store_path):
    strip_integrity(store_path)
    with RunStore(store_path, "a") as store:
        store.put_histogram("new", Histogram.from_dict({(1, 0): 3}))
    assert verify_store(store_path) == StoreReport(entries=186, sealed=1, manifest=True)
    with h5py.File(store_path, "a") as f:
        del f["task0/update0003"]  # an old entry vanishes: the manifest now knows it
    with pytest.raises(StoreError, match=r"1 entries listed .* \['task0/update0003'\]"):
        verify_store(store_path)


def test_the_first_names_only_manifest_is_read_and_upgraded(store_path):
    with h5py.File(store_path, "a") as f:  # as written by the first integrity release
        names = sorted(json.loads(line)[0] for line in
                       f[MANIFEST][()].tobytes().decode().splitlines())
        del f[MANIFEST]
        f.create_dataset(MANIFEST, data=np.array([n.encode() for n in names], dtype="S1024"),
                         maxshape=(None,), chunks=(64,), fletcher32=True)
    assert verify_store(store_path) == StoreReport(entries=185, sealed=185, manifest=True)
    with RunStore(store_path, "a") as store:
        store.put_histogram("new", Histogram.from_dict({(1, 0): 3}))
    with h5py.File(store_path, "r") as f:  # upgraded, keeping the digests entries carry
        listed = read_manifest(f)
        assert f[MANIFEST].dtype == np.uint8 and len(listed) == 186
        assert listed["batch/000"] == f["batch/000"].attrs[DIGEST]
    assert verify_store(store_path).sealed == 186
