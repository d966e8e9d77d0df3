"""Tests of the HDF5 store: exact round trips, packed keys, crash safety, corrupt files, secrets."""

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest
import torch

import qnn.store.run as run_module
from qnn.errors import StoreError
from qnn.interrupts import sigterm_interrupts
from qnn.photonics.circuit import TBICircuit
from qnn.photonics.histogram import Histogram
from qnn.store import (
    HISTOGRAM_SCHEMA,
    RunStore,
    circuit_attrs,
    provenance,
    read_attrs,
    read_circuit,
    read_histogram,
    read_probabilities,
    verify_store,
    write_histogram,
    write_probabilities,
)
from qnn.store.provenance import git_state


def random_histogram(rng, n_modes, n_photons, shots, detection="pnr"):
    """``shots`` samples of ``n_photons`` thrown uniformly into ``n_modes`` modes."""
    samples = rng.multinomial(n_photons, np.full(n_modes, 1 / n_modes), size=shots)
    if detection == "threshold":
        samples = np.minimum(samples, 1)
    return Histogram.from_samples(samples, detection)


@pytest.fixture
def mem_file(tmp_path):
    """An HDF5 file held in memory only."""
    with h5py.File(tmp_path / "mem.h5", "w", driver="core", backing_store=False) as f:
        yield f


def round_trip(tmp_path, hist, **attrs):
    with h5py.File(tmp_path / "h.h5", "w") as f:
        write_histogram(f.create_group("h"), hist, **attrs)
    with h5py.File(tmp_path / "h.h5", "r") as f:
        return read_histogram(f["h"]), f["h"].attrs["bits"], sorted(f["h"])


# -- histograms ---------------------------------------------------------------------------


def test_pnr_4_modes_round_trip_packed(tmp_path):
    hist = Histogram.from_dict({(2, 0, 0, 0): 7, (1, 1, 0, 0): 3, (0, 0, 1, 1): 12})
    back, bits, datasets = round_trip(tmp_path, hist)
    assert back == hist
    assert bits == 2 and datasets == ["counts", "keys"]
    with h5py.File(tmp_path / "h.h5", "r") as f:
        assert f["h/keys"].dtype == np.uint64 and f["h/counts"].dtype == np.uint32
        assert f["h"].attrs["schema"] == HISTOGRAM_SCHEMA and f["h"].attrs["shots"] == 22
        for dataset in f["h"].values():
            assert dataset.chunks is not None
            assert dataset.compression == "gzip" and dataset.shuffle


def test_threshold_30_modes_round_trip_packed(tmp_path):
    hist = random_histogram(np.random.default_rng(1), 30, 8, 2000, "threshold")
    back, bits, datasets = round_trip(tmp_path, hist)
    assert back == hist and back.detection == "threshold"
    assert bits == 1 and "keys" in datasets


def test_pnr_30_modes_15_photons_falls_back_to_matrix(tmp_path):
    hist = random_histogram(np.random.default_rng(2), 30, 15, 3000)
    bunched = Histogram.from_dict({(15,) + (0,) * 29: 2, (0,) * 29 + (15,): 1})
    hist = Histogram(np.vstack([hist.patterns, bunched.patterns]),
                     np.concatenate([hist.counts, bunched.counts]))
    back, bits, datasets = round_trip(tmp_path, hist)
    assert back == hist
    assert bits == 0 and datasets == ["counts", "patterns"]
    with h5py.File(tmp_path / "h.h5", "r") as f:
        assert f["h/patterns"].dtype == np.uint8 and f["h/patterns"].shape == (len(hist.counts), 30)


def test_pnr_30_modes_packs_when_the_largest_count_fits(mem_file):
    """Bits follow the largest count seen: counts <= 3 need 2 bits, 60 bits for 30 modes."""
    hist = Histogram.from_dict({(3,) + (0,) * 29: 1, (1,) * 15 + (0,) * 15: 4})
    write_histogram(mem_file.create_group("h"), hist)
    assert mem_file["h"].attrs["bits"] == 2 and mem_file["h/keys"].dtype == np.uint64
    assert read_histogram(mem_file["h"]) == hist


@pytest.mark.parametrize("n_modes", [4, 100])
@pytest.mark.parametrize("detection", ["pnr", "threshold"])
def test_empty_histogram_round_trip(tmp_path, n_modes, detection):
    hist = Histogram.from_samples(np.zeros((0, n_modes)), detection)
    back, _, _ = round_trip(tmp_path, hist)
    assert back == hist and back.n_modes == n_modes and back.shots == 0


def test_counts_beyond_uint32_are_refused_not_clipped(tmp_path):
    hist = Histogram.from_dict({(1, 0): 2**32, (0, 1): 1})
    with h5py.File(tmp_path / "h.h5", "w") as f:
        group = f.create_group("h")
        with pytest.raises(ValueError, match="uint32"):
            write_histogram(group, hist)
        assert len(group) == 0 and len(group.attrs) == 0


# -- probability tables -------------------------------------------------------------------


@pytest.mark.parametrize("n_modes", [5, 70])
def test_probabilities_keep_batch_dims_and_order(tmp_path, n_modes):
    rng = np.random.default_rng(3)
    patterns = rng.integers(0, 4, size=(40, n_modes), dtype=np.uint8)  # unsorted on purpose
    probs = rng.random((2, 3, 40))
    with h5py.File(tmp_path / "p.h5", "w") as f:
        write_probabilities(f.create_group("p"), torch.from_numpy(patterns.astype(np.int64)),
                            torch.from_numpy(probs).requires_grad_(), backend="exact")
    with h5py.File(tmp_path / "p.h5", "r") as f:
        back_patterns, back_probs = read_probabilities(f["p"])
        assert ("keys" in f["p"]) == (n_modes == 5)
        assert read_attrs(f["p"], exclude=frozenset(f["p"].attrs) - {"backend"}) == {
            "backend": "exact"}
    assert back_patterns.dtype == np.uint8 and back_probs.dtype == np.float64
    np.testing.assert_array_equal(back_patterns, patterns)
    np.testing.assert_array_equal(back_probs, probs)


def test_probabilities_refuse_non_integer_patterns(mem_file):
    with pytest.raises(TypeError, match="integers"):
        write_probabilities(mem_file.create_group("p"), np.full((2, 3), 0.5), np.ones(2))
    with pytest.raises(ValueError, match=r"expected \(\*batch, 2\)"):
        write_probabilities(mem_file.create_group("q"), np.ones((2, 3), int), np.ones((4, 3)))


# -- circuits and attributes --------------------------------------------------------------


def assert_same_circuit(a, b):
    assert a.input_state == b.input_state and a.loop_lengths == b.loop_lengths
    assert torch.equal(a.bs_angles, b.bs_angles)
    assert (a.ps_angles is None) == (b.ps_angles is None)
    if a.ps_angles is not None:
        assert torch.equal(a.ps_angles, b.ps_angles)


@pytest.mark.parametrize("with_ps", [False, True])
@pytest.mark.parametrize("batch", [(), (2, 3)])
def test_circuit_attrs_round_trip(tmp_path, with_ps, batch):
    generator = torch.Generator().manual_seed(4)
    n_bs = 4 + 3  # 5 modes, loops (1, 2)
    bs = torch.rand(*batch, n_bs, generator=generator, dtype=torch.float64)
    ps = torch.rand(n_bs, generator=generator, dtype=torch.float64) if with_ps else None
    circuit = TBICircuit((1, 0, 1, 0, 1), (1, 2), bs, ps)
    hist = Histogram.from_dict({(1, 1, 1, 0, 0): 5})
    with RunStore(tmp_path / "run.h5", "a") as store:
        store.put_histogram("h", hist, **circuit_attrs(circuit), backend="exact")
    with RunStore(tmp_path / "run.h5", "r") as store:
        assert_same_circuit(store.get_circuit("h"), circuit)
        assert ("ps_angles" in store.get_attrs("h")) == with_ps
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert f["h"].attrs["bs_angles"].shape == (*batch, n_bs)
        assert TBICircuit.from_dict({k: np.asarray(f["h"].attrs[k]).tolist() for k in (
            "input_state", "loop_lengths", "bs_angles")}).n_beam_splitters == n_bs


@pytest.mark.parametrize("opened", ["w", "a"])
def test_circuit_batches_over_64_kib_are_stored_in_new_and_appended_files(tmp_path, opened):
    # A BBS update at m = 30 stores ~100 parameter sets of 30-mode angles with its batch: over
    # HDF5's 64 KiB limit for an attribute in an object header. Resuming that run appends to
    # its file, and every put failed there ("object header message is too large").
    if opened == "a":
        with RunStore(tmp_path / "run.h5", "w") as store:
            store.put_histogram("before", Histogram.from_dict({(1, 0): 1}))
    n_modes = 30
    bs = torch.rand(300, 2 * n_modes - 3, generator=torch.Generator().manual_seed(5),
                    dtype=torch.float64)
    circuit = TBICircuit((1, 0) * (n_modes // 2), (1, 2), bs)
    assert bs.numel() * 8 > 64 * 1024
    hists = [Histogram.from_dict({(1, 0) * (n_modes // 2): 1})] * 300
    with RunStore(tmp_path / "run.h5", opened) as store:
        store.put_histograms("update0", hists, **circuit_attrs(circuit))
    with RunStore(tmp_path / "run.h5", "r") as store:
        assert_same_circuit(store.get_circuit("update0"), circuit)
    assert verify_store(tmp_path / "run.h5").sealed == 1 + (opened == "a")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_between_moving_an_entry_and_listing_it_waits_for_the_put(
        tmp_path, monkeypatch, signum):
    # A put moves its entry into place, then grows the manifest and writes the entry's line
    # into the new bytes. Ctrl-C or scancel's SIGTERM in between left zero bytes there: the
    # interrupted run's file could no longer be read back or resumed ("the entry manifest is
    # unreadable"). The interrupt now waits for the put, which is stored whole.
    with RunStore(tmp_path / "run.h5", "w") as store:
        store.put_histogram("first", Histogram.from_dict({(1, 0): 3}))
        grow = h5py.Dataset.resize

        def interrupted_after_growing(dataset, size, axis=None):
            grow(dataset, size, axis)
            signal.raise_signal(signum)  # Python runs the handler before this returns

        monkeypatch.setattr(h5py.Dataset, "resize", interrupted_after_growing)
        with sigterm_interrupts(), pytest.raises(KeyboardInterrupt):
            store.put_histogram("second", Histogram.from_dict({(0, 1): 2}))
        monkeypatch.undo()
    assert verify_store(tmp_path / "run.h5").sealed == 2
    with RunStore(tmp_path / "run.h5", "r") as store:
        assert store.get_histogram("second").to_dict() == {(0, 1): 2}


def test_read_circuit_without_circuit_names_the_group(tmp_path):
    with h5py.File(tmp_path / "c.h5", "w") as f:
        group = f.create_group("nothing")
        with pytest.raises(StoreError, match=r"c\.h5:/nothing.*input_state"):
            read_circuit(group)


def test_attribute_types_round_trip(tmp_path):
    attrs = {"theta": 0.25, "seed": 7, "flag": True, "name": "hom", "grid": [[1, 2], [3, 4]],
             "weights": np.linspace(0, 1, 5), "noise": {"loss": 0.1, "modes": [0, 2]}}
    with RunStore(tmp_path / "run.h5", "a") as store:
        store.put_histogram("h", Histogram.from_dict({(1, 0): 1}), **attrs)
        back = store.get_attrs("h")
    assert back.keys() == attrs.keys()
    assert back["theta"] == 0.25 and back["seed"] == 7 and back["flag"] is True
    assert back["name"] == "hom" and back["noise"] == {"loss": 0.1, "modes": [0, 2]}
    np.testing.assert_array_equal(back["grid"], [[1, 2], [3, 4]])
    np.testing.assert_array_equal(back["weights"], attrs["weights"])


@pytest.mark.parametrize("value", [None, object(), ["a", "b"], b"bytes", [[1, 2], [3]], 1j])
def test_unsupported_attribute_types_name_the_key(tmp_path, value):
    with RunStore(tmp_path / "run.h5", "a") as store:
        with pytest.raises(TypeError, match="'odd_value'"):
            store.put_histogram("h", Histogram.from_dict({(1, 0): 1}), odd_value=value)
        assert store.names() == []


def test_reserved_attribute_names_are_refused(tmp_path):
    reserved = pytest.raises(ValueError, match="'shots' is reserved")
    with RunStore(tmp_path / "run.h5", "a") as store, reserved:
        store.put_histogram("h", Histogram.from_dict({(1, 0): 1}), shots=3)


# -- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["token", "ORCA_AUTH_TOKEN", "password", "client_secret",
                                 "api_key", "Credentials", "auth"])
def test_secret_keys_are_refused_without_echoing_the_value(tmp_path, key):
    with RunStore(tmp_path / "run.h5", "a") as store:
        with pytest.raises(ValueError, match=f"'{key}' looks like a credential") as info:
            store.put_histogram("h", Histogram.from_dict({(1, 0): 1}), **{key: "hunter2"})
        assert "hunter2" not in str(info.value)
        assert store.names() == []


def test_secret_keys_inside_dicts_are_refused(mem_file):
    with pytest.raises(ValueError, match=r"'qpu\.auth_token'"):
        write_histogram(mem_file.create_group("h"), Histogram.from_dict({(1,): 1}),
                        qpu={"url": "https://x", "auth_token": "hunter2"})


def test_url_credentials_are_redacted_in_stored_attrs(tmp_path):
    url = "https://alice:hunter2@qpu.example.com/v1/submit?token=abc123&shots=10"
    with RunStore(tmp_path / "run.h5", "a") as store:
        store.put_histogram("h", Histogram.from_dict({(1, 0): 1}), qpu_url=url,
                            backend={"urls": [url]})
        store.set_attrs(endpoint=url)
    raw = (tmp_path / "run.h5").read_bytes()
    assert b"hunter2" not in raw and b"abc123" not in raw
    with RunStore(tmp_path / "run.h5", "r") as store:
        expected = "https://***@qpu.example.com/v1/submit?token=***&shots=10"
        assert store.get_attrs("h")["qpu_url"] == expected
        assert store.get_attrs("h")["backend"] == {"urls": [expected]}
        assert store.get_attrs()["endpoint"] == expected


# -- provenance ---------------------------------------------------------------------------


def test_provenance_outside_a_git_repository(tmp_path):
    info = provenance(repo_dir=tmp_path)
    assert info["git_commit"] == "" and info["git_dirty"] is False
    assert info["numpy_version"] == np.__version__ and info["h5py_version"] == h5py.__version__
    assert git_state(tmp_path / "missing") == ("", False)


def test_new_run_file_carries_provenance(tmp_path):
    with RunStore(tmp_path / "run.h5", "a") as store:
        attrs = store.get_attrs()
    assert re.fullmatch(r"[0-9a-f]{40}|", attrs["git_commit"])
    assert isinstance(attrs["git_dirty"], bool)
    assert attrs["torch_version"] == torch.__version__
    assert attrs["qnn_version"] and attrs["hostname"] and attrs["created_utc"].endswith("+00:00")


# -- the run store ------------------------------------------------------------------------


def three_histograms():
    rng = np.random.default_rng(5)
    return {f"scan/{i}": random_histogram(rng, 6, 3, 200 + i) for i in range(3)}


def test_run_store_puts_gets_and_refuses_silent_overwrite(tmp_path):
    hists = three_histograms()
    with RunStore(tmp_path / "run.h5", "a") as store:
        for name, hist in hists.items():
            store.put_histogram(name, hist, step=int(name[-1]))
        store.put_probabilities("probs", np.eye(3, dtype=int), np.eye(3))
        with pytest.raises(ValueError, match="already exists"):
            store.put_histogram("scan/1", hists["scan/0"])
        with pytest.raises(ValueError, match="inside entry"):
            store.put_histogram("scan/1/x", hists["scan/0"])
        store.put_histogram("scan/1", hists["scan/0"], overwrite=True)
    with RunStore(tmp_path / "run.h5", "r") as store:
        assert store.names() == ["probs", "scan/0", "scan/1", "scan/2"]
        assert store.get_histogram("scan/1") == hists["scan/0"]
        assert store.get_histogram("scan/2") == hists["scan/2"]
        np.testing.assert_array_equal(store.get_probabilities("probs")[1], np.eye(3))
        with pytest.raises(KeyError, match="no entry 'scan/9'"):
            store.get_histogram("scan/9")
        with pytest.raises(ValueError, match="read-only"):
            store.put_histogram("new", hists["scan/0"])
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert ".qnn_tmp" not in f


def test_failed_put_leaves_earlier_entries_and_no_partial_entry(tmp_path, monkeypatch):
    hists = three_histograms()
    with RunStore(tmp_path / "run.h5", "a") as store:
        for name, hist in hists.items():
            store.put_histogram(name, hist)

        def write_then_fail(group, hist, **attrs):
            group.create_dataset("keys", data=np.arange(3, dtype=np.uint64))
            raise RuntimeError("disk full")

        monkeypatch.setattr(run_module, "write_histogram", write_then_fail)
        with pytest.raises(RuntimeError, match="disk full"):
            store.put_histogram("broken", hists["scan/0"])
        assert store.names() == sorted(hists)
        monkeypatch.undo()
        store.put_histogram("after", hists["scan/1"])
    with RunStore(tmp_path / "run.h5", "r") as store:
        assert store.names() == ["after", *sorted(hists)]
        assert all(store.get_histogram(name) == hist for name, hist in hists.items())


CRASH_SCRIPT = """
import os, sys
import numpy as np
import qnn.store.run as run_module
from qnn.photonics.histogram import Histogram
from qnn.store import RunStore, write_histogram

store = RunStore(sys.argv[1], "a")
for i in range(3):
    store.put_histogram(f"h{i}", Histogram.from_dict({(i, 1, 0): 10 + i}), step=i)

def write_and_die(group, hist, **attrs):
    write_histogram(group, hist, **attrs)
    group.file.flush()  # the half-made entry reaches the disk; then the process dies
    os._exit(3)

run_module.write_histogram = write_and_die
store.put_histogram("h3", Histogram.from_dict({(3, 1, 0): 13}))
"""


def test_process_killed_mid_put_leaves_the_file_usable(tmp_path):
    path = tmp_path / "run.h5"
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CRASH_SCRIPT), str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stderr
    with h5py.File(path, "r") as f:
        assert len(f[".qnn_tmp"]) == 1  # the interrupted put's temporary group is on disk
    with RunStore(path, "r") as store:
        assert store.names() == ["h0", "h1", "h2"]
        for i in range(3):
            assert store.get_histogram(f"h{i}") == Histogram.from_dict({(i, 1, 0): 10 + i})
    with RunStore(path, "a") as store:
        store.put_histogram("h3", Histogram.from_dict({(3, 1, 0): 13}))
        assert store.names() == ["h0", "h1", "h2", "h3"]
    with h5py.File(path, "r") as f:
        assert ".qnn_tmp" not in f


def test_locking_option_is_passed_to_h5py(tmp_path):
    with RunStore(tmp_path / "run.h5", "w", locking=False) as store:
        store.put_histogram("h", Histogram.from_dict({(1,): 1}))
    with RunStore(tmp_path / "run.h5", "r", locking="best-effort") as store:
        assert store.names() == ["h"]


# -- bad files ----------------------------------------------------------------------------


def make_run_file(path):
    with RunStore(path, "w") as store:
        for name, hist in three_histograms().items():
            store.put_histogram(name, hist)
    return path


def truncate_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [
    truncate_in_half,
    lambda path: path.write_bytes(np.random.default_rng(6).bytes(4096)),
    lambda path: path.write_bytes(b""),
], ids=["truncated", "random-bytes", "empty"])
@pytest.mark.parametrize("mode", ["r", "a"])
def test_damaged_files_raise_store_error_naming_the_path(tmp_path, damage, mode):
    path = make_run_file(tmp_path / "run.h5")
    damage(path)
    with pytest.raises(StoreError, match=re.escape(str(path))) as info:
        RunStore(path, mode)
    if path.stat().st_size:
        assert isinstance(info.value.__cause__, OSError)
    else:
        assert "empty file" in str(info.value)


def test_missing_file_in_read_mode(tmp_path):
    with pytest.raises(StoreError, match="no such file"):
        RunStore(tmp_path / "absent.h5", "r")


def test_foreign_hdf5_file_is_not_a_run_file(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(StoreError, match=re.escape(f"{path}:/: schema None")):
        RunStore(path)


def test_wrong_or_missing_schema_names_file_and_group(tmp_path):
    path = make_run_file(tmp_path / "run.h5")
    with h5py.File(path, "a") as f:
        f["scan/0"].attrs["schema"] = "qnn.histogram/99"
        del f["scan/1"].attrs["schema"]
    with h5py.File(path, "r") as f:
        bad = re.escape(f"{path}:/scan/0: schema 'qnn.histogram/99'")
        with pytest.raises(StoreError, match=bad):
            read_histogram(f["scan/0"])
        with pytest.raises(StoreError, match=re.escape(f"{path}:/scan/1: schema None")):
            read_histogram(f["scan/1"])
        with pytest.raises(StoreError, match="expected 'qnn.probabilities/1'"):
            read_probabilities(f["scan/2"])


def test_missing_or_inconsistent_datasets(tmp_path):
    path = make_run_file(tmp_path / "run.h5")
    with h5py.File(path, "a") as f:
        del f["scan/0/counts"]
        f["scan/1"].attrs["shots"] = 1
    with RunStore(path, "r") as store:
        missing = re.escape(f"{path}:/scan/0: missing dataset 'counts'")
        with pytest.raises(StoreError, match=missing):
            store.get_histogram("scan/0")
        with pytest.raises(StoreError, match="shots attribute says 1"):
            store.get_histogram("scan/1")


def test_corrupt_chunk_data_raises_store_error(tmp_path):
    path = make_run_file(tmp_path / "run.h5")
    with h5py.File(path, "r") as f:
        offset = f["scan/0/counts"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xff" * 16)
    with RunStore(path, "r") as store, pytest.raises(StoreError, match=re.escape(
            f"{path}:/scan/0")) as info:
        store.get_histogram("scan/0")
    assert isinstance(info.value.__cause__, OSError)


def test_copy_of_a_valid_file_still_reads(tmp_path):
    path = make_run_file(tmp_path / "run.h5")
    shutil.copy(path, tmp_path / "copy.h5")
    os.remove(path)
    with RunStore(tmp_path / "copy.h5", "r") as store:
        assert store.names() == ["scan/0", "scan/1", "scan/2"]


def test_histogram_batches_round_trip_in_one_group(tmp_path):
    rng = np.random.default_rng(3)
    hists = [Histogram.from_samples(rng.integers(0, 2, (n, 12)), "threshold") for n in (5, 0, 40)]
    hists[1] = Histogram.from_dict({}, "threshold", n_modes=12)
    with RunStore(tmp_path / "b.h5", "w") as store:
        store.put_histograms("step/0", hists, step=0)
    with RunStore(tmp_path / "b.h5", "r") as store:
        again = store.get_histograms("step/0")
        assert store.get_attrs("step/0")["step"] == 0
    assert again == hists
    with (pytest.raises(ValueError, match="share n_modes and detection"),
          RunStore(tmp_path / "c.h5", "w") as store):
        store.put_histograms("x", [hists[0], Histogram.from_dict({(1, 0): 1})])


def test_the_readme_recipe_reads_patterns_without_the_package(tmp_path):
    # the layout the README documents: h5py and numpy alone recover every histogram
    rng = np.random.default_rng(3)
    small = [Histogram.from_samples(rng.integers(0, 3, (50, 6))) for _ in range(3)]
    wide = Histogram.from_samples(rng.integers(0, 200, (20, 40)))  # 40 modes x 8 bits: matrix
    with RunStore(tmp_path / "run.h5", "a") as store:
        store.put_histograms("batch", small)
        store.put_histogram("wide", wide)
    with h5py.File(tmp_path / "run.h5", "r") as f:
        for name, expected in (("batch", small), ("wide", [wide])):
            entry = f[name]
            bits, m = int(entry.attrs["bits"]), int(entry.attrs["n_modes"])
            if bits:
                shifts = np.uint64(bits) * np.arange(m - 1, -1, -1, dtype=np.uint64)
                patterns = (entry["keys"][()][:, None] >> shifts) & np.uint64((1 << bits) - 1)
            else:
                patterns = entry["patterns"][:]
            counts = entry["counts"][:]
            offsets = entry["offsets"][:] if "offsets" in entry else [0, len(counts)]
            for b, hist in enumerate(expected):
                rows = slice(offsets[b], offsets[b + 1])
                assert np.array_equal(patterns[rows], hist.patterns)
                assert np.array_equal(counts[rows], hist.counts)
    assert (small[0].patterns.max(), wide.patterns.max()) == (2, 199)  # both layouts exercised


def test_entries_and_to_pandas_tabulate_what_is_stored(tmp_path):
    hist = Histogram.from_dict({(1, 0, 1): 3, (0, 2, 0): 1})
    with RunStore(tmp_path / "run.h5", "a") as store:
        store.put_histogram("a", hist, task="t1")
        store.put_probabilities("p", np.array([[1, 0], [0, 1]]), np.array([0.25, 0.75]))
    before = (tmp_path / "run.h5").read_bytes()
    with RunStore(tmp_path / "run.h5") as store:
        entries = store.entries().set_index("name")
        table = store.get_histogram("a").to_pandas()
    assert (tmp_path / "run.h5").read_bytes() == before  # reading changed nothing
    assert entries.loc["a", "kind"] == "histogram" and entries.loc["a", "shots"] == 4
    assert entries.loc["a", "task"] == "t1" and entries.loc["p", "n_states"] == 2
    assert entries.loc["p", "kind"] == "probabilities"
    assert table.to_dict("list") == {"mode_0": [0, 1], "mode_1": [2, 0], "mode_2": [0, 1],
                                     "count": [1, 3], "frequency": [0.25, 0.75]}
