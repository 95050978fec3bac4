"""The configured data set, for the pipeline: load it, and what the value checks need of it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lindiff import data as datasets
from lindiff.errors import ConfigError, DataError


@dataclass(frozen=True)
class DataInfo:
    """What the value checks need to know about a data set, cheaply."""

    n_total: int
    d: int
    class_counts: dict[int, int]


def mnist_dir(data_cfg) -> Path | None:
    """The configured MNIST directory, ``$LINDIFF_MNIST_DIR``, or None (the download cache)."""
    if data_cfg.dir:
        return Path(data_cfg.dir)
    if os.environ.get("LINDIFF_MNIST_DIR"):
        return Path(os.environ["LINDIFF_MNIST_DIR"])
    return None


def load_data(data_cfg) -> datasets.Dataset:
    """Load the configured data set (samples as rows) through :func:`lindiff.data.load_dataset`."""
    name = data_cfg.name
    kwargs = {
        "digits": lambda: {},
        "mnist": lambda: {"directory": mnist_dir(data_cfg), "split": data_cfg.split, "download": data_cfg.download},
        "spiked": lambda: {"d": data_cfg.d, "n": data_cfg.n_total, "lambdas": list(data_cfg.lambdas),
                           "floor": data_cfg.floor, "seed": data_cfg.data_seed},
        "file": lambda: {"path": data_cfg.path},
    }
    if name not in kwargs:
        raise ConfigError(f"data.name={name!r} is unknown; allowed: {', '.join(datasets.DATASET_NAMES)}")
    return datasets.load_dataset(name, **kwargs[name]())


def data_info(data_cfg) -> DataInfo:
    """Size, dimension and class counts of the configured data set.

    Loads (and so validates: checksums, shapes, finite values) the data set, so that a bad
    file fails here, before any job runs.
    """
    if data_cfg.name == "mnist":
        directory = mnist_dir(data_cfg)
        if directory is not None and not directory.is_dir():
            raise DataError(
                f"data.dir={str(directory)!r}: MNIST directory not found. Point data.dir (or "
                "$LINDIFF_MNIST_DIR) at a directory with the four IDX files, or set "
                "data.download=true to fetch them into the cache"
            )
    data = load_data(data_cfg)
    if data.labels is None:
        return DataInfo(n_total=data.n, d=data.d, class_counts={})
    classes, counts = np.unique(data.labels, return_counts=True)
    return DataInfo(n_total=data.n, d=data.d, class_counts=dict(zip(classes.tolist(), counts.tolist())))


def data_files(data_cfg) -> list[str]:
    """The files the configured data set is read from: the jobs that load the data list them as
    inputs, so that replacing the data reruns them (Snakemake compares modification times).

    ``file``: ``data.path``; ``mnist``: the split's two IDX files in ``data.dir``,
    ``$LINDIFF_MNIST_DIR`` or the download cache (none before a download); ``digits`` (embedded)
    and ``spiked`` (synthetic, every parameter in the job's params): none.
    """
    if data_cfg.name == "file":
        return [str(data_cfg.path)]
    if data_cfg.name == "mnist":
        from lindiff.data.mnist import MNIST_FILES, default_mnist_cache_dir, find_mnist_file

        directory = mnist_dir(data_cfg) or default_mnist_cache_dir()
        files = []
        for kind in ("images", "labels"):
            try:
                files.append(str(find_mnist_file(directory, MNIST_FILES[(str(data_cfg.split), kind)].base_name)))
            except DataError:
                return []  # not there yet: data.download fetches it in the job
        return files
    return []

