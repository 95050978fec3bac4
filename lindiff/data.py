"""Data sets for lindiff: loaders, a synthetic spiked model, and preprocessing.

Every loader returns a :class:`Dataset` whose ``X`` has shape ``(n_samples, d)``
(samples are rows) and dtype float64.  Nothing here keeps hidden state or caches
arrays in memory; the only persistent state is the on-disk MNIST download cache.

Loaders
-------
* :func:`load_digits` -- scikit-learn's bundled 8×8 digits, scaled to ``[0, 1]``.
* :func:`load_mnist` -- MNIST from IDX files (gzip or raw), optionally downloaded
  from public mirrors into a cache directory and always checked by md5.
* :func:`make_spiked` -- the spiked covariance model with a known basis.
* :func:`load_array_file` -- a user's ``.npy`` / ``.npz`` file.
* :func:`load_dataset` -- dispatch on a name (for configs).

Preprocessing (each returns a new :class:`Dataset`)
---------------------------------------------------
:func:`subset`, :func:`select_classes`, :func:`split_by_class`, :func:`scale_unit`,
:func:`split_halves`; plus the array helpers :func:`center` and :func:`sha256_of_array`.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import inspect
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lindiff.errors import ConfigError, DataError

__all__ = [
    "Dataset",
    "SpikedData",
    "MnistFile",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "DATASET_NAMES",
    "load_digits",
    "read_idx",
    "find_mnist_file",
    "default_mnist_cache_dir",
    "download_mnist",
    "load_mnist",
    "make_spiked",
    "load_array_file",
    "load_dataset",
    "subset",
    "subset_indices",
    "select_classes",
    "split_by_class",
    "scale_unit",
    "center",
    "split_halves",
    "sha256_of_array",
]

_CHUNK = 1 << 20  # bytes per read when streaming downloads and checksums


# ---------------------------------------------------------------------------
# Dataset container
# ---------------------------------------------------------------------------


def _nonfinite_problem(X: np.ndarray) -> str | None:
    """Describe the non-finite entries of a 2-D array, or return None if all are finite."""
    bad = ~np.isfinite(X)
    if not bad.any():
        return None
    count = int(bad.sum())
    first_row = int(np.argmax(bad.any(axis=1)))
    return f"holds {count} non-finite value(s) (NaN or inf); the first is in row {first_row}"


def _as_labels(labels: Any, n: int, where: str) -> np.ndarray:
    """Validate labels and return them as an int64 array of shape (n,)."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise DataError(f"{where}: labels must be 1-D with shape (n_samples,), found shape {arr.shape}")
    if arr.shape[0] != n:
        raise DataError(
            f"{where}: labels have length {arr.shape[0]} but X has {n} samples (rows); "
            "they must match one label per sample"
        )
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise DataError(f"{where}: labels must be integers, found dtype {arr.dtype} with non-integer values")


def _as_data_matrix(X: Any, where: str) -> np.ndarray:
    """Validate a data matrix and return it as a float64 array of shape (n, d)."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{where}: X must be a real numeric array, found dtype {arr.dtype}")
    if arr.ndim != 2:
        raise DataError(
            f"{where}: X must be 2-D with shape (n_samples, d) (samples are rows), found shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise DataError(f"{where}: X must have at least one sample and one feature, found shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    problem = _nonfinite_problem(arr)
    if problem is not None:
        raise DataError(f"{where}: X {problem}; remove or impute those values")
    return arr


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set: a float64 matrix with one sample per row, plus metadata.

    Parameters
    ----------
    X : np.ndarray, shape (n, d)
        The samples, float64 and finite (converted on construction).
    labels : np.ndarray or None, shape (n,)
        Integer class labels (int64), or None.
    name : str
        A short name for reports and provenance (e.g. ``"mnist"``).
    image_shape : tuple of int or None
        Shape of one sample as an image (e.g. ``(28, 28)``); its product must be ``d``.

    Raises
    ------
    DataError
        If X is not 2-D, not numeric or not finite, or labels do not match X.
    """

    X: np.ndarray
    labels: np.ndarray | None = None
    name: str = "data"
    image_shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        where = f"data set {self.name!r}"
        X = _as_data_matrix(self.X, where)
        object.__setattr__(self, "X", X)
        if self.labels is not None:
            object.__setattr__(self, "labels", _as_labels(self.labels, X.shape[0], where))
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if any(s < 1 for s in shape) or math.prod(shape) != X.shape[1]:
                raise DataError(
                    f"{where}: image_shape {shape} does not match d={X.shape[1]}; "
                    "its product must equal the number of columns of X, or pass image_shape=None"
                )
            object.__setattr__(self, "image_shape", shape)

    @property
    def n(self) -> int:
        """Number of samples (rows of X)."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Dimension of one sample (columns of X)."""
        return int(self.X.shape[1])

    def __repr__(self) -> str:
        labels = "None" if self.labels is None else f"<{len(np.unique(self.labels))} classes>"
        return (
            f"Dataset(name={self.name!r}, n={self.n}, d={self.d}, labels={labels}, "
            f"image_shape={self.image_shape})"
        )


def _take(dataset: Dataset, index: np.ndarray, name: str | None = None) -> Dataset:
    """Return a new Dataset with the rows ``index`` of ``dataset``."""
    labels = None if dataset.labels is None else dataset.labels[index]
    return Dataset(
        X=dataset.X[index],
        labels=labels,
        name=dataset.name if name is None else name,
        image_shape=dataset.image_shape,
    )


# ---------------------------------------------------------------------------
# scikit-learn digits
# ---------------------------------------------------------------------------


def load_digits() -> Dataset:
    """Load scikit-learn's bundled 8×8 handwritten digits.

    Returns
    -------
    Dataset
        ``X`` of shape (1797, 64) with values in [0, 1] (pixel counts divided by 16),
        ``labels`` of shape (1797,) in 0..9, ``image_shape=(8, 8)``, name ``"digits"``.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    return Dataset(
        X=np.asarray(bunch.data, dtype=np.float64) / 16.0,
        labels=np.asarray(bunch.target, dtype=np.int64),
        name="digits",
        image_shape=(8, 8),
    )


# ---------------------------------------------------------------------------
# MNIST: IDX files, checksums, download
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MnistFile:
    """One of the four standard MNIST files.

    Attributes
    ----------
    base_name : str
        File name without ``.gz`` (e.g. ``"train-images-idx3-ubyte"``).
    md5 : str
        md5 of the **uncompressed** content.
    nbytes : int
        Size of the uncompressed content in bytes.
    """

    base_name: str
    md5: str
    nbytes: int


MNIST_FILES: dict[tuple[str, str], MnistFile] = {
    ("train", "images"): MnistFile("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", 47040016),
    ("train", "labels"): MnistFile("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", 60008),
    ("test", "images"): MnistFile("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", 7840016),
    ("test", "labels"): MnistFile("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", 10008),
}
"""The four MNIST files, keyed by ``(split, kind)``; checksums are of the uncompressed content."""

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Base URLs of public MNIST mirrors; each serves ``<base_name>.gz``."""

_MNIST_BASE_NAMES = tuple(f.base_name for f in MNIST_FILES.values())
_MNIST_SPLITS = ("train", "test")

# IDX type code -> numpy dtype (big-endian for multi-byte types).
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _is_gzip_path(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def _read_raw_bytes(path: Path) -> bytes:
    """Return the (uncompressed) content of ``path``, decompressing ``.gz`` files."""
    if not path.is_file():
        raise DataError(f"IDX file {str(path)!r} does not exist (or is not a regular file)")
    try:
        if _is_gzip_path(path):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"IDX file {str(path)!r} is a corrupt or truncated gzip file ({exc}); "
            "delete it and download it again"
        ) from exc
    except OSError as exc:
        raise DataError(f"IDX file {str(path)!r} could not be read: {exc}") from exc


def _parse_idx(content: bytes, path: Path) -> np.ndarray:
    """Parse the bytes of an IDX file into an array (native byte order)."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in _IDX_DTYPES:
        raise DataError(
            f"{str(path)!r} is not an IDX file (magic {content[:4].hex() or '<empty>'}; "
            "expected 0000 followed by a type code in 08,09,0b,0c,0d,0e and the number of dimensions)"
        )
    dtype = _IDX_DTYPES[content[2]]
    ndim = content[3]
    header_len = 4 + 4 * ndim
    if len(content) < header_len:
        raise DataError(
            f"IDX file {str(path)!r} is truncated: its header declares {ndim} dimensions "
            f"but the file has only {len(content)} bytes; delete it and download it again"
        )
    dims = tuple(int(v) for v in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(dims) * dtype.itemsize
    got = len(content) - header_len
    if got != expected:
        state = "truncated" if got < expected else "longer than its header says"
        raise DataError(
            f"IDX file {str(path)!r} is {state}: dims {dims} of {dtype} need {expected} data bytes, "
            f"found {got}; delete it and download it again"
        )
    data = np.frombuffer(content, dtype=dtype, offset=header_len).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike[str], expected_md5: str | None = None) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed (``.gz``) or raw.

    Parameters
    ----------
    path : path-like
        The file; a name ending in ``.gz`` is decompressed.
    expected_md5 : str, optional
        md5 hex digest of the **uncompressed** content; checked when given.

    Returns
    -------
    np.ndarray
        Array of the shape stored in the header (e.g. (n, 28, 28) for images,
        (n,) for labels), dtype as stored (uint8 for MNIST), native byte order.

    Raises
    ------
    DataError
        If the file is missing, a corrupt/truncated gzip, not an IDX file (bad magic),
        has a data length that does not match its dims, or fails the md5 check.
    """
    path = Path(path)
    content = _read_raw_bytes(path)
    array = _parse_idx(content, path)
    if expected_md5 is not None:
        got = hashlib.md5(content).hexdigest()
        if got != expected_md5.lower():
            raise DataError(
                f"IDX file {str(path)!r} failed its checksum: md5 of the uncompressed content is {got}, "
                f"expected {expected_md5}; the file is corrupt or a different version: "
                "delete it and re-download it (e.g. load_mnist(..., download=True))"
            )
    return array


def _candidate_names(base_name: str) -> list[str]:
    """File names accepted for an IDX base name, in order of preference."""
    names = [f"{base_name}.gz", base_name]
    if "-idx" in base_name:  # dotted variant: t10k-images.idx3-ubyte
        dotted = base_name.replace("-idx", ".idx", 1)
        names += [f"{dotted}.gz", dotted]
    return names


def _locate(directory: Path, base_name: str) -> Path | None:
    for name in _candidate_names(base_name):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def default_mnist_cache_dir() -> Path:
    """Default MNIST download directory.

    Returns
    -------
    Path
        ``$LINDIFF_CACHE/mnist`` when the environment variable ``LINDIFF_CACHE`` is set,
        else ``~/.cache/lindiff/mnist``.
    """
    root = os.environ.get("LINDIFF_CACHE")
    if root:
        return Path(root).expanduser() / "mnist"
    return Path.home() / ".cache" / "lindiff" / "mnist"


def _missing_mnist_message(directory: Path, missing: Sequence[str]) -> str:
    where = (
        f"directory {str(directory)!r} does not exist"
        if not directory.is_dir()
        else f"not found in directory {str(directory)!r}"
    )
    files = ", ".join(f"{name}.gz" for name in _MNIST_BASE_NAMES)
    return (
        f"MNIST file(s) {', '.join(repr(m) for m in missing)} (raw or .gz): {where}. "
        "To get the data: pass download=True to fetch it from the public mirrors into cache_dir "
        f"(default $LINDIFF_CACHE/mnist or ~/.cache/lindiff/mnist, now {str(default_mnist_cache_dir())!r}); "
        "or set LINDIFF_CACHE / pass directory= to a place that holds the files; "
        f"or copy the four IDX files ({files}) into {str(directory)!r}."
    )


def find_mnist_file(directory: str | os.PathLike[str], base_name: str) -> Path:
    """Find an MNIST IDX file in a directory.

    Parameters
    ----------
    directory : path-like
        Directory to search.
    base_name : str
        File name without ``.gz``, e.g. ``"t10k-images-idx3-ubyte"``.

    Returns
    -------
    Path
        ``<base_name>.gz`` if present, else ``<base_name>``, else the dotted variant
        (``t10k-images.idx3-ubyte[.gz]``).

    Raises
    ------
    DataError
        If none of these exists; the message says how to get the files.
    """
    directory = Path(directory).expanduser()
    found = _locate(directory, base_name)
    if found is None:
        raise DataError(_missing_mnist_message(directory, [base_name]))
    return found


def _expected_md5(base_name: str, checksums: Mapping[str, str | None] | None) -> str | None:
    if checksums is not None and base_name in checksums:
        return checksums[base_name]
    for entry in MNIST_FILES.values():
        if entry.base_name == base_name:
            return entry.md5
    return None


def _gzip_content_md5(path: Path) -> str:
    """md5 of the uncompressed content of a gzip file (streamed); DataError if corrupt."""
    digest = hashlib.md5()
    try:
        with gzip.open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise DataError(f"{str(path)!r} is not a complete gzip file ({exc})") from exc
    return digest.hexdigest()


def _content_md5(path: Path) -> str:
    """md5 of the uncompressed content of ``path`` (gzip or raw)."""
    if _is_gzip_path(path):
        return _gzip_content_md5(path)
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_present_and_valid(cache_dir: Path, base_name: str, md5: str | None) -> bool:
    found = _locate(cache_dir, base_name)
    if found is None:
        return False
    try:
        return md5 is None or _content_md5(found) == md5.lower()
    except (DataError, OSError):
        return False


def _fetch_to_temp(url: str, cache_dir: Path, base_name: str, timeout: float) -> Path:
    """Download ``url`` into a new temp file in ``cache_dir``; return its path."""
    tmp = tempfile.NamedTemporaryFile(dir=cache_dir, prefix=f".{base_name}.", suffix=".part", delete=False)
    tmp_path = Path(tmp.name)
    try:
        with tmp, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, tmp, _CHUNK)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return tmp_path


def _download_one(
    cache_dir: Path, base_name: str, md5: str | None, mirrors: Sequence[str], timeout: float
) -> Path:
    """Try each mirror in turn; move a verified download to ``cache_dir/<base_name>.gz``."""
    final = cache_dir / f"{base_name}.gz"
    errors: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + f"{base_name}.gz"
        tmp_path: Path | None = None
        try:
            tmp_path = _fetch_to_temp(url, cache_dir, base_name, timeout)
            got = _gzip_content_md5(tmp_path)
            if md5 is not None and got != md5.lower():
                raise DataError(f"md5 of the uncompressed content is {got}, expected {md5}")
            os.replace(tmp_path, final)
            tmp_path = None
            return final
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            errors.append(f"  {url}: {type(exc).__name__}: {exc}")
        finally:
            if tmp_path is not None:
                tmp_path.unlink(missing_ok=True)
    tried = "\n".join(errors)
    raise DataError(
        f"could not download {base_name}.gz into cache_dir {str(cache_dir)!r}: "
        f"all {len(mirrors)} mirror(s) failed:\n{tried}\n"
        "Check the network connection or the mirrors= list, or download the file yourself and "
        f"copy it (raw or .gz) into {str(cache_dir)!r}."
    )


def _check_mirrors(mirrors: Sequence[str]) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    mirrors = tuple(mirrors)
    if not mirrors or not all(isinstance(m, str) and m for m in mirrors):
        raise ConfigError(
            f"mirrors={mirrors!r}: give a non-empty sequence of base URLs, "
            f"e.g. {MNIST_MIRRORS[0]!r} (each serving <name>.gz)"
        )
    return mirrors


def _check_files(files: Iterable[str] | None) -> tuple[str, ...]:
    if files is None:
        return _MNIST_BASE_NAMES
    if isinstance(files, str):
        files = (files,)
    files = tuple(files)
    unknown = [f for f in files if f not in _MNIST_BASE_NAMES]
    if unknown:
        raise ConfigError(f"files: unknown MNIST file(s) {unknown}; allowed: {list(_MNIST_BASE_NAMES)}")
    return files


def download_mnist(
    cache_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    files: Iterable[str] | None = None,
    timeout: float = 30,
    checksums: Mapping[str, str | None] | None = None,
) -> Path:
    """Download MNIST IDX files into a cache directory, verifying each one.

    Files already present (raw or ``.gz``) with a valid checksum are kept.  Each
    missing file is fetched from the mirrors in turn into a temp file in
    ``cache_dir``; the md5 of its uncompressed content is checked before it is
    moved atomically (``os.replace``) to ``cache_dir/<base_name>.gz``.  A failed
    or corrupt download is deleted, so nothing half-written is ever left at the
    final path.

    Parameters
    ----------
    cache_dir : path-like, optional
        Target directory (created if needed); default :func:`default_mnist_cache_dir`.
    mirrors : sequence of str
        Base URLs tried in order; ``<mirror>/<base_name>.gz`` is fetched.
    files : iterable of str, optional
        Base names to fetch (default: all four of :data:`MNIST_FILES`).
    timeout : float
        Socket timeout in seconds per request.
    checksums : mapping, optional
        ``base_name -> md5`` of the uncompressed content, overriding the standard
        ones (``None`` skips the md5 check but still requires a valid gzip).

    Returns
    -------
    Path
        The cache directory.

    Raises
    ------
    DataError
        If every mirror fails for a file (the message lists each mirror and error),
        or ``cache_dir`` cannot be created.
    ConfigError
        If ``mirrors``, ``files`` or ``timeout`` is invalid.
    """
    mirrors = _check_mirrors(mirrors)
    names = _check_files(files)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ConfigError(f"timeout={timeout!r}: must be a positive number of seconds")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_mnist_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cache_dir {str(cache)!r} could not be created: {exc}; pass a writable cache_dir") from exc
    for name in names:
        md5 = _expected_md5(name, checksums)
        if not _is_present_and_valid(cache, name, md5):
            _download_one(cache, name, md5, mirrors, timeout)
    return cache


def _check_split(split: str) -> str:
    if split not in _MNIST_SPLITS:
        raise ConfigError(f"split={split!r}: must be one of {list(_MNIST_SPLITS)}")
    return split


def load_mnist(
    directory: str | os.PathLike[str] | None = None,
    split: str = "train",
    download: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    verify: bool = True,
    checksums: Mapping[str, str | None] | None = None,
) -> Dataset:
    """Load one split of MNIST from IDX files.

    Parameters
    ----------
    directory : path-like, optional
        Directory holding the IDX files (``<name>.gz`` or raw).  Default: the cache dir.
    split : {"train", "test"}
        ``"train"`` (60000 images) or ``"test"`` (10000 images, the ``t10k`` files).
    download : bool
        If a file is missing, download it into ``cache_dir`` (see :func:`download_mnist`).
    cache_dir : path-like, optional
        Download directory; default ``$LINDIFF_CACHE/mnist`` or ``~/.cache/lindiff/mnist``.
    mirrors : sequence of str
        Mirrors for downloading.
    verify : bool
        Check the md5 of the uncompressed content of each file.
    checksums : mapping, optional
        ``base_name -> md5`` overriding the standard checksums (e.g. for test files).

    Returns
    -------
    Dataset
        ``X`` of shape (n, 784), float64 in [0, 1] (pixels / 255); ``labels`` (n,) int64;
        ``image_shape=(28, 28)``; name ``"mnist"``.

    Raises
    ------
    ConfigError
        If ``split`` is not "train" or "test".
    DataError
        If a file is missing and ``download`` is False (the message says how to get
        it), a download fails, or a file is corrupt.
    """
    _check_split(split)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_mnist_cache_dir()
    folder = Path(directory).expanduser() if directory is not None else cache
    names = [MNIST_FILES[(split, kind)].base_name for kind in ("images", "labels")]
    paths = {name: _locate(folder, name) for name in names}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        if not download:
            raise DataError(_missing_mnist_message(folder, missing))
        download_mnist(cache, mirrors=mirrors, files=missing, checksums=checksums)
        paths.update({name: find_mnist_file(cache, name) for name in missing})
    images_path, labels_path = (paths[name] for name in names)
    assert images_path is not None and labels_path is not None
    md5s = [_expected_md5(name, checksums) if verify else None for name in names]
    images = read_idx(images_path, expected_md5=md5s[0])
    labels = read_idx(labels_path, expected_md5=md5s[1])
    return _mnist_dataset(images, labels, images_path, labels_path)


def _mnist_dataset(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path) -> Dataset:
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{str(images_path)!r}: MNIST images must be uint8 of shape (n, rows, cols), "
            f"found {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{str(labels_path)!r}: expected {images.shape[0]} labels (one per image in "
            f"{str(images_path)!r}), found shape {labels.shape}"
        )
    n, rows, cols = images.shape
    return Dataset(
        X=images.reshape(n, rows * cols).astype(np.float64) / 255.0,
        labels=labels.astype(np.int64),
        name="mnist",
        image_shape=(rows, cols),
    )


# ---------------------------------------------------------------------------
# Spiked covariance model
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SpikedData:
    """Samples of the spiked covariance model and its ground truth.

    Attributes
    ----------
    dataset : Dataset
        The samples, ``X`` of shape (n, d).
    basis : np.ndarray, shape (d, rank)
        Orthonormal spike directions ``u_i`` (columns), ordered as ``lambdas``.
    lambdas : np.ndarray, shape (rank,)
        Standard deviation along each spike (non-increasing).
    floor : float
        Standard deviation of the isotropic noise floor.
    """

    dataset: Dataset
    basis: np.ndarray
    lambdas: np.ndarray
    floor: float = 0.0

    def covariance(self) -> np.ndarray:
        """Population covariance ``Σ λ_i² u_i u_iᵀ + floor² I``, shape (d, d)."""
        d = self.basis.shape[0]
        return (self.basis * self.lambdas**2) @ self.basis.T + self.floor**2 * np.eye(d)


def _check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name}={value!r}: must be an integer >= {minimum}")
    return int(value)


def _check_lambdas(lambdas: Any, d: int) -> np.ndarray:
    try:
        lam = np.atleast_1d(np.asarray(lambdas, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"lambdas={lambdas!r}: must be a sequence of positive numbers") from exc
    if lam.ndim != 1 or lam.size == 0:
        raise ConfigError(f"lambdas={lambdas!r}: must be a non-empty 1-D sequence of positive numbers")
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ConfigError(f"lambdas={lam.tolist()}: every value must be positive and finite")
    if np.any(np.diff(lam) > 0):
        raise ConfigError(f"lambdas={lam.tolist()}: must be sorted non-increasing (largest spike first)")
    if lam.size > d:
        raise ConfigError(f"lambdas: {lam.size} spikes but d={d}; the number of spikes (rank) must be <= d")
    return lam


SPIKED_STREAM = 0x5B1CED  # spawn key of the data-generation stream of make_spiked


def make_spiked(
    d: int,
    n: int,
    lambdas: Sequence[float] | np.ndarray,
    floor: float = 0.0,
    seed: int | np.random.Generator = 0,
) -> SpikedData:
    """Draw samples of the spiked covariance model.

    ``x_j = Σ_i λ_i g_ij u_i + floor · z_j`` with ``g``, ``z`` iid N(0, 1) and
    ``u_i`` a random orthonormal basis (QR of a Gaussian matrix).

    Parameters
    ----------
    d : int
        Dimension (>= 1).
    n : int
        Number of samples (>= 1).
    lambdas : sequence of float, shape (rank,)
        Std along each spike: positive, finite, non-increasing, ``rank <= d``.
    floor : float
        Std of the isotropic noise floor (>= 0).
    seed : int or np.random.Generator
        The output is deterministic given it.  An int seeds a stream reserved for data
        generation (``SeedSequence(seed, spawn_key=(SPIKED_STREAM,))``), so the same integer
        used as a learn seed never reproduces the Gaussian that generated the spikes (with
        ``default_rng(seed)`` for both, the first noise column of the learn would be exactly
        ``u_0``).

    Returns
    -------
    SpikedData
        ``dataset.X`` of shape (n, d) (name ``"spiked"``, no labels), ``basis`` (d, rank),
        ``lambdas`` (rank,), ``floor``.

    Raises
    ------
    ConfigError
        For invalid ``d``, ``n``, ``lambdas`` or ``floor``.
    """
    d = _check_positive_int(d, "d")
    n = _check_positive_int(n, "n")
    lam = _check_lambdas(lambdas, d)
    if isinstance(floor, bool) or not isinstance(floor, (int, float, np.floating, np.integer)):
        raise ConfigError(f"floor={floor!r}: must be a finite number >= 0")
    if not (math.isfinite(floor) and floor >= 0):
        raise ConfigError(f"floor={floor!r}: must be a finite number >= 0")
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SPIKED_STREAM,)))
    q, r = np.linalg.qr(rng.standard_normal((d, lam.size)))
    basis = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # unique signs: Haar-distributed basis
    X = (rng.standard_normal((n, lam.size)) * lam) @ basis.T
    if floor > 0:
        X = X + float(floor) * rng.standard_normal((n, d))
    dataset = Dataset(X=X, labels=None, name="spiked", image_shape=None)
    return SpikedData(dataset=dataset, basis=basis, lambdas=lam, floor=float(floor))


# ---------------------------------------------------------------------------
# User array files
# ---------------------------------------------------------------------------

_ARRAY_SUFFIXES = (".npy", ".npz")
_X_KEYS = ("X", "data")
_LABEL_KEYS = ("labels", "y")


def _np_load_member(loader: Callable[[], Any], path: Path) -> np.ndarray:
    """Run ``loader`` (an np.load access) and turn numpy's errors into DataError."""
    try:
        return np.asarray(loader())
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"file {str(path)!r} holds Python objects (needs pickle); lindiff loads arrays only "
                "with allow_pickle=False; save a numeric array (e.g. np.save(path, X.astype(float)))"
            ) from exc
        raise DataError(f"file {str(path)!r} could not be read as a numpy array: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"file {str(path)!r} could not be read as a numpy array: {exc}") from exc


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    import zipfile

    try:
        npz = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"file {str(path)!r} could not be read as a .npz archive: {exc}") from exc
    with npz:
        keys = list(npz.files)
        x_key = next((k for k in _X_KEYS if k in keys), None)
        if x_key is None:
            raise DataError(
                f"file {str(path)!r} has no data array: expected a key 'X' (or 'data'), found keys {keys}; "
                "save it with np.savez(path, X=X, labels=labels)"
            )
        X = _np_load_member(lambda: npz[x_key], path)
        y_key = next((k for k in _LABEL_KEYS if k in keys), None)
        labels = None if y_key is None else _np_load_member(lambda: npz[y_key], path)
    return X, labels


def _square_image_shape(d: int) -> tuple[int, int] | None:
    side = math.isqrt(d)
    return (side, side) if side * side == d else None


def load_array_file(path: str | os.PathLike[str]) -> Dataset:
    """Load a user's data file.

    Parameters
    ----------
    path : path-like
        A ``.npy`` file holding an array of shape (n_samples, d), or a ``.npz``
        archive with key ``X`` (or ``data``) and optional ``labels`` (or ``y``) of
        shape (n_samples,).  Loaded with ``allow_pickle=False``.

    Returns
    -------
    Dataset
        ``X`` (n, d) float64; ``labels`` (n,) int64 or None; name = file stem;
        ``image_shape=(s, s)`` when ``d = s²``, else None.

    Raises
    ------
    DataError
        Missing file, unsupported extension, object array (needs pickle), array not
        2-D, NaN/inf values, labels length mismatch, or ``.npz`` without ``X``/``data``.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist (or is not a regular file); check the path")
    suffix = path.suffix.lower()
    if suffix not in _ARRAY_SUFFIXES:
        raise DataError(
            f"data file {str(path)!r} has unsupported extension {path.suffix!r}; "
            f"allowed: {list(_ARRAY_SUFFIXES)} (save with np.save or np.savez)"
        )
    if suffix == ".npy":
        X, labels = _np_load_member(lambda: np.load(path, allow_pickle=False), path), None
    else:
        X, labels = _read_npz(path)
    where = f"data file {str(path)!r}"
    X = _as_data_matrix(X, where)
    if labels is not None:
        labels = _as_labels(labels, X.shape[0], where)
    return Dataset(X=X, labels=labels, name=path.stem, image_shape=_square_image_shape(X.shape[1]))


# ---------------------------------------------------------------------------
# Dispatch by name
# ---------------------------------------------------------------------------


def _load_spiked(**kwargs: Any) -> Dataset:
    return make_spiked(**kwargs).dataset


def _load_file(path: str | os.PathLike[str] | None = None) -> Dataset:
    if path is None:
        raise ConfigError("path: data='file' needs path=<.npy or .npz file>")
    return load_array_file(path)


_LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "spiked": _load_spiked,
    "file": _load_file,
}
_SIGNATURES: dict[str, Callable[..., Any]] = {"spiked": make_spiked}

DATASET_NAMES: tuple[str, ...] = tuple(_LOADERS)
"""Names accepted by :func:`load_dataset`."""


def load_dataset(name: str, **kwargs: Any) -> Dataset:
    """Load a data set by name.

    Parameters
    ----------
    name : {"digits", "mnist", "spiked", "file"}
        ``"digits"``: :func:`load_digits`; ``"mnist"``: :func:`load_mnist`;
        ``"spiked"``: :func:`make_spiked` (its ``.dataset``); ``"file"``:
        :func:`load_array_file` (requires ``path``).
    **kwargs
        Passed to the loader.

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        Unknown name, or keyword arguments the loader does not accept.
    """
    loader = _LOADERS.get(name) if isinstance(name, str) else None
    if loader is None:
        raise ConfigError(f"data={name!r} is not a known data set; allowed: {list(DATASET_NAMES)}")
    params = inspect.signature(_SIGNATURES.get(name, loader)).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ConfigError(
            f"data={name!r} does not accept parameter(s) {unknown}; allowed: {list(params) or 'none'}"
        )
    return loader(**kwargs)


# ---------------------------------------------------------------------------
# Preprocessing
# ---------------------------------------------------------------------------


def _largest_remainder(counts: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` into integer quotas proportional to ``counts`` (largest-remainder rounding).

    When ``n >= len(counts)`` every class gets at least one; quotas never exceed counts.
    """
    exact = n * counts / counts.sum()
    quotas = np.floor(exact).astype(np.int64)
    short = n - int(quotas.sum())
    order = np.argsort(-(exact - quotas), kind="stable")
    quotas[order[:short]] += 1
    if n >= counts.size:
        for k in np.flatnonzero(quotas == 0):
            donors = np.flatnonzero(quotas >= 2)
            donor = donors[np.argmax((quotas - exact)[donors])]
            quotas[donor] -= 1
            quotas[k] = 1
    return quotas


def subset_indices(dataset: Dataset, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Sorted indices of ``n`` samples chosen without replacement (see :func:`subset`).

    Returns
    -------
    ndarray of shape (n,), int64, increasing.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ConfigError(f"n={n!r}: n must be >= 2 (an integer number of samples)")
    if n > dataset.n:
        raise ConfigError(
            f"n={n}: larger than data set {dataset.name!r}, which has {dataset.n} samples; choose n <= {dataset.n}"
        )
    if n == dataset.n:
        return np.arange(dataset.n)
    rng = np.random.default_rng(seed)
    if dataset.labels is None:
        index = rng.choice(dataset.n, size=int(n), replace=False)
    else:
        classes, counts = np.unique(dataset.labels, return_counts=True)
        quotas = _largest_remainder(counts, int(n))
        index = np.concatenate(
            [
                rng.choice(np.flatnonzero(dataset.labels == c), size=q, replace=False)
                for c, q in zip(classes, quotas)
            ]
        )
    return np.sort(index).astype(np.int64)


def subset(dataset: Dataset, n: int, seed: int | np.random.Generator = 0) -> Dataset:
    """Choose ``n`` samples without replacement.

    Stratified by class when the data set has labels (per-class counts proportional to
    class frequencies, largest-remainder rounding, every class at least once when
    ``n`` >= number of classes), uniform otherwise.  The chosen samples keep their
    original relative order.

    Parameters
    ----------
    dataset : Dataset
        Source, ``X`` of shape (N, d).
    n : int
        Number of samples, ``2 <= n <= N``.
    seed : int or np.random.Generator
        Seed; the result is deterministic given it.

    Returns
    -------
    Dataset
        ``X`` of shape (n, d).

    Raises
    ------
    ConfigError
        If ``n`` < 2 or ``n`` > N.
    """
    return _take(dataset, subset_indices(dataset, n, seed))


def _check_classes(classes: int | Sequence[int]) -> list[int]:
    values = [classes] if isinstance(classes, (int, np.integer)) else list(classes)
    if not values:
        raise ConfigError("classes=[]: give at least one class label")
    bad = [c for c in values if isinstance(c, bool) or not isinstance(c, (int, np.integer))]
    if bad:
        raise ConfigError(f"classes={values!r}: class labels must be integers, found {bad}")
    return [int(c) for c in values]


def select_classes(dataset: Dataset, classes: int | Sequence[int]) -> Dataset:
    """Keep the samples whose label is in ``classes`` (original order kept).

    Parameters
    ----------
    dataset : Dataset
        Source with labels.
    classes : int or sequence of int
        Class label(s) to keep.

    Returns
    -------
    Dataset
        The selected rows, shape (m, d).

    Raises
    ------
    ConfigError
        If the data set has no labels, or a requested class is absent.
    """
    wanted = _check_classes(classes)
    if dataset.labels is None:
        raise ConfigError(
            f"class selection classes={wanted}: data set {dataset.name!r} has no labels; "
            "drop the class option for unlabeled data"
        )
    present = np.unique(dataset.labels).tolist()
    absent = [c for c in wanted if c not in present]
    if absent:
        raise ConfigError(
            f"class {absent[0] if len(absent) == 1 else absent} not present in data set "
            f"{dataset.name!r}; classes present: {present}"
        )
    return _take(dataset, np.flatnonzero(np.isin(dataset.labels, wanted)))


def split_by_class(dataset: Dataset) -> dict[int, Dataset]:
    """Split a labeled data set into one Dataset per class.

    Parameters
    ----------
    dataset : Dataset
        Source with labels.

    Returns
    -------
    dict of int to Dataset
        ``{label: rows with that label}`` in increasing label order; each name is
        ``"<name>-class<label>"``.

    Raises
    ------
    ConfigError
        If the data set has no labels.
    """
    if dataset.labels is None:
        raise ConfigError(
            f"per-class split (class): data set {dataset.name!r} has no labels; per-class learning needs labels"
        )
    return {
        int(c): _take(dataset, np.flatnonzero(dataset.labels == c), name=f"{dataset.name}-class{int(c)}")
        for c in np.unique(dataset.labels)
    }


def scale_unit(dataset: Dataset) -> Dataset:
    """Min-max scale all values (globally, not per feature) to [0, 1].

    Parameters
    ----------
    dataset : Dataset
        Source, ``X`` of shape (n, d).

    Returns
    -------
    Dataset
        ``(X - X.min()) / (X.max() - X.min())``, shape (n, d).

    Raises
    ------
    DataError
        If all values are equal.
    """
    lo, hi = float(dataset.X.min()), float(dataset.X.max())
    if not hi > lo:
        raise DataError(
            f"data set {dataset.name!r} is constant (every value is {lo}); it cannot be scaled to [0, 1]"
        )
    X = np.clip((dataset.X - lo) / (hi - lo), 0.0, 1.0)
    return Dataset(X=X, labels=dataset.labels, name=dataset.name, image_shape=dataset.image_shape)


def center(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the per-feature mean.

    Parameters
    ----------
    X : np.ndarray, shape (n, d)
        Samples as rows.

    Returns
    -------
    X_centered : np.ndarray, shape (n, d)
        ``X - mean`` (a new float64 array).
    mean : np.ndarray, shape (d,)
        The per-feature mean.

    Raises
    ------
    DataError
        If X is not a 2-D finite numeric array.
    """
    X = _as_data_matrix(X, "center()")
    mean = X.mean(axis=0)
    return X - mean, mean


def split_halves(dataset: Dataset, seed: int | np.random.Generator = 0) -> tuple[Dataset, Dataset]:
    """Split into two disjoint halves covering all samples.

    Stratified when labels exist (per class, the halves differ by at most one
    sample); sizes ``ceil(N/2)`` and ``floor(N/2)``.  Each half keeps the original
    sample order.

    Parameters
    ----------
    dataset : Dataset
        Source with ``N >= 2`` samples.
    seed : int or np.random.Generator
        Seed; deterministic given it.

    Returns
    -------
    (Dataset, Dataset)
        Named ``"<name>-half0"`` and ``"<name>-half1"``.

    Raises
    ------
    DataError
        If the data set has fewer than 2 samples.
    """
    if dataset.n < 2:
        raise DataError(f"data set {dataset.name!r} has {dataset.n} sample(s); split_halves needs at least 2")
    rng = np.random.default_rng(seed)
    if dataset.labels is None:
        order = rng.permutation(dataset.n)
    else:
        # Class blocks, each shuffled; alternating assignment then balances every class
        # and, since parity carries over between blocks, the totals too.
        order = np.concatenate(
            [rng.permutation(np.flatnonzero(dataset.labels == c)) for c in np.unique(dataset.labels)]
        )
    first, second = np.sort(order[0::2]), np.sort(order[1::2])
    return (
        _take(dataset, first, name=f"{dataset.name}-half0"),
        _take(dataset, second, name=f"{dataset.name}-half1"),
    )


def sha256_of_array(X: np.ndarray) -> str:
    """Checksum of an array for provenance.

    Parameters
    ----------
    X : np.ndarray
        Any numeric array.

    Returns
    -------
    str
        Hex sha256 of the dtype, the shape and the C-contiguous bytes; equal arrays of
        equal dtype and shape give equal digests regardless of memory layout.

    Raises
    ------
    DataError
        If X holds Python objects.
    """
    arr = np.ascontiguousarray(X)
    if arr.dtype.hasobject:
        raise DataError(f"sha256_of_array: X has dtype {arr.dtype} (Python objects); pass a numeric array")
    digest = hashlib.sha256()
    digest.update(f"{arr.dtype.str}|{arr.shape}|".encode())
    digest.update(memoryview(arr.reshape(-1)).cast("B"))
    return digest.hexdigest()
