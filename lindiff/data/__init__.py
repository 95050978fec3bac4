"""Data sets for lindiff: loaders, a synthetic spiked model, and preprocessing.

Every loader returns a :class:`Dataset` whose ``X`` has shape ``(n_samples, d)``
(samples are rows) and dtype float64.  Nothing here keeps hidden state or caches
arrays in memory; the only persistent state is the on-disk MNIST download cache.

Every public name is importable from ``lindiff.data``; the code lives in one module per source.

Modules
-------
* :mod:`lindiff.data.dataset` -- the :class:`Dataset` container and :func:`sha256_of_array`.
* :mod:`lindiff.data.digits` -- :func:`load_digits`: scikit-learn's bundled 8×8 digits,
  scaled to ``[0, 1]``.
* :mod:`lindiff.data.mnist` -- :func:`load_mnist`: MNIST from IDX files (gzip or raw),
  optionally downloaded from public mirrors into a cache directory (:func:`download_mnist`)
  and always checked by md5; :func:`read_idx`, :func:`find_mnist_file`.
* :mod:`lindiff.data.spiked` -- :func:`make_spiked`: the spiked covariance model with a
  known basis (:class:`SpikedData`).
* :mod:`lindiff.data.geometric` -- synthetic images with known geometry (Kadkhodaie et al.):
  :func:`make_calpha` (C^α contour images), :func:`make_disks` (the five-parameter disk manifold,
  with its exact tangents :func:`disk_tangents`), and :func:`subspace_alignment`.
* :mod:`lindiff.data.wavelets` -- orthonormal 2-D wavelet transforms of image batches
  (PyWavelets, periodized): :func:`wavelet_decompose`, :func:`wavelet_reconstruct` and one level
  :func:`wavelet_analysis` / :func:`wavelet_synthesis`; :func:`pad_images`.
* :mod:`lindiff.data.files` -- :func:`load_array_file`: a user's ``.npy`` / ``.npz`` file.
* :mod:`lindiff.data.transforms` -- preprocessing, each returning a new :class:`Dataset`:
  :func:`subset` (:func:`subset_indices`), :func:`select_classes`, :func:`split_by_class`,
  :func:`scale_unit`, :func:`split_halves`; plus the array helper :func:`center`.
* :mod:`lindiff.data.training` -- a sweep point's training set: :func:`training_pool` (a class
  of the data), :func:`choose_training_set`, the checks of stored rows and halves, held-out rows.
* this package -- :func:`load_dataset`: dispatch on a name (for configs), over
  :data:`DATASET_NAMES`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from lindiff.data.dataset import SCALE_RANGE, Dataset, check_scale, rank_at_least, sha256_of_array, sorted_pixels_sha256
from lindiff.data.digits import load_digits
from lindiff.data.files import array_file_shape, load_array_file
from lindiff.data.geometric import (
    DISK_PARAMETERS,
    DiskData,
    disk_images,
    disk_tangents,
    make_calpha,
    make_disks,
    subspace_alignment,
)
from lindiff.data.mnist import (
    MNIST_FILES,
    MNIST_MIRRORS,
    MnistFile,
    default_mnist_cache_dir,
    download_mnist,
    find_mnist_file,
    load_mnist,
    read_idx,
)
from lindiff.data.spiked import SPIKED_STREAM, SpikedData, make_spiked
from lindiff.data.transforms import (
    center,
    scale_unit,
    select_classes,
    split_by_class,
    split_halves,
    subset,
    subset_indices,
)
from lindiff.data.wavelets import (
    check_levels,
    check_wavelet,
    pad_images,
    wavelet_analysis,
    wavelet_decompose,
    wavelet_reconstruct,
    wavelet_synthesis,
)
from lindiff.errors import ConfigError

__all__ = [
    "SCALE_RANGE",
    "check_scale",
    "rank_at_least",
    "Dataset",
    "SpikedData",
    "SPIKED_STREAM",
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
    "make_calpha",
    "make_disks",
    "DiskData",
    "DISK_PARAMETERS",
    "disk_images",
    "disk_tangents",
    "subspace_alignment",
    "load_array_file",
    "array_file_shape",
    "load_dataset",
    "subset",
    "subset_indices",
    "select_classes",
    "split_by_class",
    "scale_unit",
    "center",
    "split_halves",
    "sha256_of_array",
    "sorted_pixels_sha256",
    "check_levels",
    "check_wavelet",
    "pad_images",
    "wavelet_analysis",
    "wavelet_decompose",
    "wavelet_reconstruct",
    "wavelet_synthesis",
]

# ---------------------------------------------------------------------------
# Dispatch by name
# ---------------------------------------------------------------------------


def _load_spiked(**kwargs: Any) -> Dataset:
    return make_spiked(**kwargs).dataset


def _load_disks(**kwargs: Any) -> Dataset:
    return make_disks(**kwargs).dataset


def _load_file(path: str | os.PathLike[str] | None = None) -> Dataset:
    if path is None:
        raise ConfigError("path: data='file' needs path=<.npy or .npz file>")
    return load_array_file(path)


_LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "spiked": _load_spiked,
    "calpha": make_calpha,
    "disks": _load_disks,
    "file": _load_file,
}
_SIGNATURES: dict[str, Callable[..., Any]] = {"spiked": make_spiked, "disks": make_disks}

DATASET_NAMES: tuple[str, ...] = tuple(_LOADERS)
"""Names accepted by :func:`load_dataset`."""


def load_dataset(name: str, **kwargs: Any) -> Dataset:
    """Load a data set by name.

    Parameters
    ----------
    name : {"digits", "mnist", "spiked", "calpha", "disks", "file"}
        ``"digits"``: :func:`load_digits`; ``"mnist"``: :func:`load_mnist`;
        ``"spiked"``: :func:`make_spiked` (its ``.dataset``); ``"calpha"``:
        :func:`make_calpha`; ``"disks"``: :func:`make_disks` (its ``.dataset``); ``"file"``:
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
