"""Preprocessing: subsets, class selection and splits, scaling, centering.

Each function that takes a :class:`~lindiff.data.Dataset` returns a new one; none changes its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lindiff.data.dataset import Dataset, _as_data_matrix, _take
from lindiff.errors import ConfigError, DataError

__all__ = [
    "subset",
    "subset_indices",
    "select_classes",
    "split_by_class",
    "scale_unit",
    "center",
    "split_halves",
]


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
