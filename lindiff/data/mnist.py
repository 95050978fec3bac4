"""MNIST: IDX files, checksums, the download from public mirrors, and :func:`load_mnist`.

The only persistent state of :mod:`lindiff.data` is the on-disk download cache
(:func:`default_mnist_cache_dir`); every file is checked by the md5 of its uncompressed content.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lindiff.data.dataset import Dataset
from lindiff.errors import ConfigError, DataError

__all__ = [
    "MnistFile",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "read_idx",
    "find_mnist_file",
    "default_mnist_cache_dir",
    "download_mnist",
    "load_mnist",
]

_CHUNK = 1 << 20  # bytes per read when streaming downloads and checksums


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
