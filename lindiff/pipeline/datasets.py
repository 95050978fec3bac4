"""The configured data set, for the pipeline: load it, and what the value checks need of it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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
    source: str = "the data"  # how messages name the data (``data.path='x.npy'``, ``data=digits``)
    rank: dict[str, int] = field(default_factory=dict)  # pool ('all' or a class) -> min(rank, rank_needed)


def data_source(data_cfg) -> str:
    """How error messages name the configured data: the file for ``file``, else the data set."""
    if data_cfg.name == "file":
        return f"data.path={str(data_cfg.path)!r}"
    if data_cfg.name == "mnist":
        return f"data=mnist ({mnist_dir(data_cfg) or 'download cache'})"
    return f"data={data_cfg.name}"


def mnist_dir(data_cfg) -> Path | None:
    """The configured MNIST directory, ``$LINDIFF_MNIST_DIR``, or None (the download cache)."""
    if data_cfg.dir:
        return Path(data_cfg.dir)
    if os.environ.get("LINDIFF_MNIST_DIR"):
        return Path(os.environ["LINDIFF_MNIST_DIR"])
    return None


def load_data(data_cfg) -> datasets.Dataset:
    """Load the configured data set (samples as rows) through :func:`lindiff.data.load_dataset`."""
    return _call_loader(data_cfg, lambda **arguments: datasets.load_dataset(data_cfg.name, **arguments))


def load_disk_data(data_cfg) -> datasets.DiskData:
    """The configured ``data=disks`` set with its parameters (:func:`lindiff.data.make_disks`):
    the images of :func:`load_data` and each image's coordinates on the manifold."""
    if data_cfg.name != "disks":
        raise ConfigError(f"data.name={data_cfg.name!r}: disk parameters need data=disks")
    return _call_loader(data_cfg, datasets.make_disks)


def _loader_arguments(data_cfg) -> dict:
    """The keyword arguments of the configured data set's loader."""
    name = data_cfg.name
    kwargs = {
        "digits": lambda: {},
        "mnist": lambda: {"directory": mnist_dir(data_cfg), "split": data_cfg.split, "download": data_cfg.download},
        "spiked": lambda: {"d": data_cfg.d, "n": data_cfg.n_total, "lambdas": list(data_cfg.lambdas),
                           "floor": data_cfg.floor, "seed": data_cfg.data_seed},
        "calpha": lambda: {"n": data_cfg.n_total, "size": data_cfg.size, "alpha": data_cfg.alpha,
                           "alpha_background": data_cfg.alpha_background,
                           "intensities": list(data_cfg.intensities),
                           "contour_amplitude": data_cfg.contour_amplitude, "texture": data_cfg.texture,
                           "blur": data_cfg.blur, "seed": data_cfg.data_seed},
        "disks": lambda: {"n": data_cfg.n_total, "size": data_cfg.size,
                          "radius": None if data_cfg.radius is None else list(data_cfg.radius),
                          "foreground": list(data_cfg.foreground), "background": list(data_cfg.background),
                          "edge": data_cfg.edge, "seed": data_cfg.data_seed},
        "file": lambda: {"path": data_cfg.path},
    }
    if name not in kwargs:
        raise ConfigError(f"data.name={name!r} is unknown; allowed: {', '.join(datasets.DATASET_NAMES)}")
    return kwargs[name]()


def _call_loader(data_cfg, loader):
    """``loader(**arguments)`` with a loader's argument error named by its config key."""
    arguments = _loader_arguments(data_cfg)
    try:
        return loader(**arguments)
    except ConfigError as exc:
        message = str(exc)
        argument = message.split("=", 1)[0]
        if argument not in arguments:
            raise
        key = _CONFIG_KEYS.get(argument, argument)
        raise ConfigError(f"data.{key}{message[len(argument):]}") from exc


#: Loader arguments whose config key has another name.
_CONFIG_KEYS = {"n": "n_total", "seed": "data_seed", "directory": "dir"}


def data_info(data_cfg, rank_needed: int = 0, pools=("all",), centered: bool = False) -> DataInfo:
    """Size, dimension, class counts, scale and rank of the configured data set.

    Loads (and so validates: checksums, shapes, finite values, a magnitude whose Gram neither
    overflows nor vanishes) the data set, so that a bad file fails here, before any job runs.
    ``rank``: for each pool in ``pools`` ('all' or a class label present in the data), the
    rank of its samples (centered when ``centered``), capped at ``rank_needed`` (cheap:
    :func:`lindiff.data.rank_at_least`).
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
    source = data_source(data_cfg)
    datasets.check_scale(data.X, source)
    counts = {}
    if data.labels is not None:
        classes, sizes = np.unique(data.labels, return_counts=True)
        counts = dict(zip(classes.tolist(), sizes.tolist()))
    rank = {}
    for pool in dict.fromkeys(str(p) for p in pools):
        if pool == "all":
            X = data.X
        elif data.labels is not None and pool.lstrip("-").isdigit() and int(pool) in counts:
            X = data.X[data.labels == int(pool)]
        else:
            continue  # no such class: the value checks say so
        rank[pool] = datasets.rank_at_least(X - X.mean(axis=0) if centered else X, rank_needed)
    return DataInfo(n_total=data.n, d=data.d, class_counts=counts, source=source, rank=rank)


def data_files(data_cfg) -> list[str]:
    """The files the configured data set is read from: the jobs that load the data list them as
    inputs, so that replacing the data reruns them (Snakemake compares modification times).

    ``file``: ``data.path``; ``mnist``: the split's two IDX files in ``data.dir``,
    ``$LINDIFF_MNIST_DIR`` or the download cache (none before a download); ``digits`` (embedded)
    and the synthetic ``spiked``, ``calpha`` and ``disks`` (every parameter in the job's params):
    none.
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

