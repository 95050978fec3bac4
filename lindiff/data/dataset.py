"""The :class:`Dataset` container: a float64 matrix with one sample per row, plus metadata.

Also the row selection shared by the loaders and transforms (``_take``), the checks of
labels and data matrices, and :func:`sha256_of_array` (checksums for provenance).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lindiff.errors import ConfigError, DataError
from lindiff.validation import check_matrix

__all__ = ["SCALE_RANGE", "Dataset", "check_integer", "check_scale", "rank_at_least", "sha256_of_array"]

#: Largest magnitudes of data the float64 algebra handles (the Gram ``XᵀX`` of n ≤ 10⁸ rows of
#: d ≤ 10⁶ entries neither overflows nor underflows to zero).
SCALE_RANGE = (1e-100, 1e100)


def check_integer(value: Any, name: str, minimum: int = 1) -> int:
    """A generator's integer parameter (a count, a size): an int (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name}={value!r}: must be an integer >= {minimum}")
    return int(value)


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
    """Validate a data matrix and return it as a float64 array of shape (n, d), n, d >= 1."""
    return check_matrix(X, f"{where}: X", require_real=True, min_rows=1, min_cols=1)


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


def sorted_pixels_sha256(X: np.ndarray) -> str:
    """:func:`sha256_of_array` of every row of ``X`` (n, d) sorted: equal for a data set and any
    permutation of its columns (pixel positions), different when a pixel value changes."""
    return sha256_of_array(np.sort(np.asarray(X), axis=1))


def check_scale(X: np.ndarray, where: str) -> float:
    """The largest magnitude of ``X`` (n, d); raises DataError naming ``where`` when it is zero
    or outside :data:`SCALE_RANGE` (the Gram would overflow, or vanish: rescale the data)."""
    scale = float(np.max(np.abs(X))) if X.size else 0.0
    low, high = SCALE_RANGE
    if scale == 0.0:
        raise DataError(f"{where}: every value is zero; there is nothing to learn")
    if not low <= scale <= high:
        problem = "overflow" if scale > high else "underflow to zero"
        raise DataError(
            f"{where}: the largest magnitude is {scale:.3g}, outside [{low:g}, {high:g}]: the Gram XᵀX "
            f"would {problem}; rescale the data (e.g. divide by its largest magnitude)"
        )
    return scale


def _numeric_rank(X: np.ndarray) -> int:
    """Rank of ``X`` (m, d): singular values above ``max(m, d)·eps·σ_max`` (NumPy's rule)."""
    scale = float(np.max(np.abs(X))) if X.size else 0.0
    if scale == 0.0:
        return 0
    singular = np.linalg.svd(X / scale, compute_uv=False)
    return int(np.sum(singular > max(X.shape) * np.finfo(np.float64).eps * singular[0]))


def rank_at_least(X: np.ndarray, needed: int, seed: int = 0) -> int:
    """``min(needed, rank(X))`` for ``X`` (n, d), cheaply.

    The rank of a random subset of rows bounds the rank of ``X`` from below, so a subset of
    ``max(4·needed, 256)`` rows settles it for well-spread data; only a deficient subset costs
    the full computation (the singular values of all rows).
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    needed = min(int(needed), n, d)
    if needed <= 0:
        return 0
    rows = min(n, max(4 * needed, 256))
    if rows < n:
        sample = X[np.sort(np.random.default_rng(seed).choice(n, rows, replace=False))]
        if _numeric_rank(sample) >= needed:
            return needed
    return min(needed, _numeric_rank(X))
