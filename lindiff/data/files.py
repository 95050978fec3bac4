"""A user's ``.npy`` / ``.npz`` array file as a :class:`~lindiff.data.Dataset` (:func:`load_array_file`)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lindiff.data.dataset import Dataset, _as_data_matrix, _as_labels
from lindiff.errors import DataError

__all__ = ["array_file_shape", "load_array_file"]


_ARRAY_SUFFIXES = (".npy", ".npz")
_MAGIC = {".npy": (b"\x93NUMPY",), ".npz": (b"PK\x03\x04", b"PK\x05\x06")}  # NumPy format, zip archive
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
        for names in (_X_KEYS, _LABEL_KEYS):
            both = [k for k in names if k in keys]
            if len(both) > 1:
                raise DataError(f"file {str(path)!r} holds both {both[0]!r} and {both[1]!r}: which is meant is "
                                f"ambiguous; keep one of {list(names)}")
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


def _check_magic(path: Path, suffix: str) -> None:
    """Refuse a file that is not what its extension says (before numpy guesses at it)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(_MAGIC[suffix]):
        return
    kind = "empty" if not head else ("text" if _looks_like_text(head) else "binary")
    target = f" (a link to {str(path.resolve())!r})" if path.is_symlink() else ""
    raise DataError(
        f"data file {str(path)!r}{target} is not a {suffix} file: it is a {kind} file starting with "
        f"{head[:24]!r}; save the data with {'np.save' if suffix == '.npy' else 'np.savez'}"
    )


def _check_npy_size(path: Path, X: np.ndarray) -> None:
    """A ``.npy`` file is its header and its array, nothing after (trailing bytes: a file written
    over or appended to, whose array is not what was saved)."""
    with open(path, "rb") as fh:
        _npy_header_shape(fh)
        header = fh.tell()
    expected, actual = header + X.nbytes, path.stat().st_size
    if actual != expected:
        raise DataError(f"file {str(path)!r} has {actual - expected} bytes after its array of shape {X.shape}: "
                        "not a file np.save wrote as is; save the data again")


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c >= 32 or c in b"\t\n\r" for c in head)


def _npy_header_shape(fh) -> tuple[int, ...]:
    version = np.lib.format.read_magic(fh)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return tuple(reader(fh)[0])


def array_file_shape(path: str | os.PathLike[str]) -> tuple[int, ...] | None:
    """Shape of the data array :func:`load_array_file` would read (``.npy``, or the ``X`` /
    ``data`` member of an ``.npz``), from its header alone; None when it cannot be read (the
    loader then says why)."""
    import zipfile

    path = Path(path).expanduser()
    if not path.is_file():  # a FIFO or a device would block the read (the loader says what is wrong)
        return None
    try:
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fh:
                return _npy_header_shape(fh)
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            for key in _X_KEYS:
                if f"{key}.npy" in members:
                    with archive.open(f"{key}.npy") as fh:
                        return _npy_header_shape(fh)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    return None


def square_image_shape(d: int) -> tuple[int, int] | None:
    """``(s, s)`` when ``d = s²`` (a file's rows are read as square images), else None."""
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
    _check_magic(path, suffix)
    if suffix == ".npy":
        X, labels = _np_load_member(lambda: np.load(path, allow_pickle=False), path), None
        _check_npy_size(path, X)
    else:
        X, labels = _read_npz(path)
    where = f"data file {str(path)!r}"
    X = _as_data_matrix(X, where)
    if labels is not None:
        labels = _as_labels(labels, X.shape[0], where)
    return Dataset(X=X, labels=labels, name=path.stem, image_shape=square_image_shape(X.shape[1]))
