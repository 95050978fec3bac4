"""Training sets of a sweep point: the pool it draws from, the rows it draws, the rows it leaves out.

A training set is stored as row indices into the full data set with the sha256 of its rows, so
that a job can check, before it uses them, that the data did not change since they were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindiff.data.dataset import Dataset, sha256_of_array
from lindiff.data.transforms import subset_indices
from lindiff.errors import DataError


@dataclass(frozen=True)
class TrainingPool:
    """The samples a sweep point may draw from: the whole data set or one class of it.

    ``full``: the data set; ``pool``: indices (m,) into ``full.X``; ``dataset``: ``full``
    restricted to the pool."""

    full: Dataset
    pool: np.ndarray
    dataset: Dataset


def training_pool(full: Dataset, cond: str) -> TrainingPool:
    """``full`` restricted to class ``cond`` (``all`` = every class, ``c<label>`` = one label;
    an unlabelled set has no class: an empty pool)."""
    if cond == "all":
        pool = np.arange(full.n)
    else:
        label = int(cond[1:])
        pool = np.flatnonzero(full.labels == label) if full.labels is not None else np.zeros(0, np.int64)
    return TrainingPool(full=full, pool=pool, dataset=Dataset(
        X=full.X[pool], labels=None if full.labels is None else full.labels[pool],
        name=full.name, image_shape=full.image_shape))


def choose_training_set(pool: TrainingPool, n: int, seed) -> np.ndarray:
    """Indices (into ``pool.full``) of ``n`` training samples, stratified when labelled."""
    rng = np.random.default_rng(seed)
    return pool.pool[subset_indices(pool.dataset, n, rng)]


def training_rows(full: Dataset, indices: np.ndarray, sha256: str, where: str) -> np.ndarray:
    """The rows ``full.X[indices]`` (n, d) of a stored training set, refused (naming ``where``)
    when an index is out of range or the rows' sha256 differs from the stored one."""
    if indices.size and (indices.min() < 0 or indices.max() >= full.n):
        raise DataError(f"{where}: indices outside the data set of {full.n} samples")
    X = full.X[indices]
    if sha256_of_array(X) != str(sha256):
        raise DataError(f"{where}: the data set changed since the training set was chosen (sha256 differs)")
    return X


def held_out_indices(n_total: int, train_indices: np.ndarray, count: int, seed) -> np.ndarray:
    """Up to ``count`` sorted row indices of a data set of ``n_total`` rows that are not in
    ``train_indices`` (a test set), chosen with ``seed``."""
    rest = np.setdiff1d(np.arange(n_total), train_indices)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(rest)[:count])


def check_halves(idx_a: np.ndarray, idx_b: np.ndarray, sha256: str, dataset: Dataset, where: str) -> None:
    """Stored halves of ``dataset`` (the A/B study): drawn from the same data (sha256), disjoint,
    in range; a DataError naming ``where`` otherwise."""
    if str(sha256) != sha256_of_array(dataset.X):
        raise DataError(f"{where}: the data set changed since the halves were drawn (sha256 differs)")
    both = np.concatenate([idx_a, idx_b])
    if both.size and (both.min() < 0 or both.max() >= dataset.n):
        raise DataError(f"{where}: indices outside the data set of {dataset.n} samples")
    if len(np.unique(both)) != len(both):
        raise DataError(f"{where}: the halves overlap or repeat indices")
