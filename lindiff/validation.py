"""Validation of array arguments: one place for the shape, dtype and finiteness checks.

Modelled on scikit-learn's ``check_array``: each function takes the value and the name of
the argument it came from, the constraints as keyword arguments, and returns the array
converted to the requested dtype, or raises ``error`` (``DataError`` unless told
otherwise) with a message that starts with the argument's name.

* :func:`check_matrix` -- a 2-D array ``(n_samples, d)``, samples as rows.
* :func:`check_vector` -- a 1-D array.
* :func:`check_image_shape` -- an image shape ``(h, w)``, optionally of ``h · w = d`` pixels.

Unless ``copy=True``, nothing is copied that need not be: an ndarray that already has
``dtype`` comes back as the same object, and a converted one keeps its memory layout.
Without ``require_real`` the input is converted with ``np.asarray(X, dtype=dtype)``, so
anything numpy can cast is accepted and numpy's own ``ValueError``/``TypeError`` is raised
for what it cannot; with ``require_real=True`` only real numbers (bool, integer, unsigned,
float) are accepted, and anything else (strings, Python objects, complex) raises ``error``.
``dtype=None`` (keep the input's dtype) is meant to go with ``require_real=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lindiff.errors import ConfigError, DataError

__all__ = ["check_image_shape", "check_keys", "check_matrix", "check_vector"]

_REAL_KINDS = "biuf"  # numpy dtype kinds of real numbers: bool, int, uint, float


def _as_array(X: Any, name: str, dtype: Any, require_real: bool, copy: bool, error: type[Exception]) -> np.ndarray:
    """``X`` as an ndarray of ``dtype`` (None: its own), copied only if needed or if ``copy``."""
    if not require_real:
        return np.array(X, dtype=dtype, copy=True) if copy else np.asarray(X, dtype=dtype)
    arr = np.asarray(X)
    if arr.dtype.kind not in _REAL_KINDS:
        raise error(f"{name} must be a real numeric array, found dtype {arr.dtype}")
    if dtype is None:
        return arr.copy(order="K") if copy else arr
    return arr.astype(dtype, copy=copy)


def _check_finite(arr: np.ndarray, name: str, error: type[Exception]) -> None:
    """Raise ``error`` counting the non-finite entries of ``arr`` (1-D or 2-D) and locating the first."""
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    count = int(bad.sum())
    where = f"row {int(np.argmax(bad.any(axis=1)))}" if arr.ndim == 2 else f"index {int(np.argmax(bad))}"
    raise error(f"{name} holds {count} non-finite value(s) (NaN or inf); the first is in {where}")


def check_matrix(
    X: Any,
    name: str,
    *,
    d: int | None = None,
    dtype: Any = np.float64,
    require_real: bool = False,
    min_rows: int = 0,
    min_cols: int = 0,
    finite: bool = True,
    copy: bool = False,
    error: type[Exception] = DataError,
) -> np.ndarray:
    """Validate a data matrix with one sample per row.

    Parameters
    ----------
    X : array-like
        The value to check.
    name : str
        The argument's name as the user knows it (e.g. ``"X_test"``, or
        ``"data set 'digits': X"``); every message starts with it.
    d : int, optional
        Required number of columns.
    dtype : numpy dtype or None
        dtype of the result (default float64); None keeps the input's dtype.
    require_real : bool
        Accept only arrays that already hold real numbers (dtype kind bool, int, uint or
        float), rather than anything numpy can cast to ``dtype``.
    min_rows, min_cols : int
        Least number of rows (samples) and columns (features).
    finite : bool
        Reject NaN and infinite values (the message counts them and names the first row).
    copy : bool
        Always return a new array, never ``X`` itself or a view of it.
    error : exception class
        What to raise (``DataError``, or ``ConfigError`` for a parameter).

    Returns
    -------
    np.ndarray, shape (n, d)
        ``X`` converted to ``dtype``, with the memory layout of ``X``.

    Raises
    ------
    error
        If ``X`` is not real numeric (with ``require_real``), not 2-D, has too few rows or
        columns, has other than ``d`` columns, or holds a NaN or inf (with ``finite``).
    """
    arr = _as_array(X, name, dtype, require_real, copy, error)
    if arr.ndim != 2:
        raise error(f"{name} must be 2-D with shape (n_samples, d) (samples are rows), found shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise error(f"{name} must have at least {min_rows} sample(s) (rows), found shape {arr.shape}")
    if arr.shape[1] < min_cols:
        raise error(f"{name} must have at least {min_cols} feature(s) (columns), found shape {arr.shape}")
    if d is not None and arr.shape[1] != d:
        raise error(f"{name} must have d={d} columns, found shape {arr.shape}")
    if finite:
        _check_finite(arr, name, error)
    return arr


def check_vector(
    x: Any,
    name: str,
    *,
    length: int | None = None,
    dtype: Any = np.float64,
    require_real: bool = False,
    finite: bool = True,
    copy: bool = False,
    error: type[Exception] = DataError,
) -> np.ndarray:
    """Validate a 1-D array.

    Parameters
    ----------
    x : array-like
        The value to check.
    name : str
        The argument's name; every message starts with it.
    length : int, optional
        Required length.
    dtype, require_real, finite, copy, error
        As for :func:`check_matrix` (the message for a non-finite value names its index).

    Returns
    -------
    np.ndarray, shape (length,)
        ``x`` converted to ``dtype``.

    Raises
    ------
    error
        If ``x`` is not real numeric (with ``require_real``), not 1-D, not of length
        ``length``, or holds a NaN or inf (with ``finite``).
    """
    arr = _as_array(x, name, dtype, require_real, copy, error)
    if arr.ndim != 1:
        raise error(f"{name} must be 1-D, found shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise error(f"{name} must have length {length}, found length {arr.shape[0]}")
    if finite:
        _check_finite(arr, name, error)
    return arr


def check_keys(data: Any, allowed, what: str, error: type[Exception] = DataError) -> dict:
    """``data`` must be a dict whose keys are all in ``allowed`` (e.g. a dataclass's field
    names, for a ``from_dict``); returns it, else raises ``error`` naming ``what``, the unknown
    keys and the allowed ones."""
    if not isinstance(data, dict):
        raise error(f"{what} must be a dict, got {type(data).__name__}")
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise error(f"unknown {what} key(s) {unknown}; allowed: {sorted(allowed)}")
    return data


def check_image_shape(image_shape: Any, d: int | None = None) -> tuple[int, int]:
    """An image shape: a pair of positive ints ``(h, w)``; with ``d``, ``h · w`` must equal ``d``
    (the row length of the flattened images).  Raises ConfigError naming ``image_shape``."""
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"image_shape must be a pair (h, w), got {image_shape!r}") from None
    if len(shape) != 2 or min(shape) < 1:
        raise ConfigError(f"image_shape must be a pair of positive ints (h, w), got {image_shape!r}")
    if d is not None and shape[0] * shape[1] != d:
        raise ConfigError(f"image_shape {shape} has {shape[0] * shape[1]} pixels, but the rows have d={d}")
    return shape  # type: ignore[return-value]
