"""The data sets of the pipeline, declared once each (:data:`DATA_SETS`): load the configured one,
and what the value checks, the memory estimates, the figures and the rerun triggers need of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lindiff import data as datasets
from lindiff.data.files import array_file_shape, square_image_shape
from lindiff.errors import ConfigError, DataError
from lindiff.pipeline import schema


@dataclass(frozen=True)
class DataInfo:
    """What the value checks need to know about a data set, cheaply."""

    n_total: int
    d: int
    class_counts: dict[int, int]
    source: str = "the data"  # how messages name the data (``data.path='x.npy'``, ``data=digits``)
    rank: dict[str, int] = field(default_factory=dict)  # pool ('all' or a class) -> min(rank, rank_needed)


def mnist_dir(data_cfg) -> Path | None:
    """The configured MNIST directory, ``$LINDIFF_MNIST_DIR``, or None (the download cache)."""
    if data_cfg.dir:
        return Path(data_cfg.dir)
    if os.environ.get("LINDIFF_MNIST_DIR"):
        return Path(os.environ["LINDIFF_MNIST_DIR"])
    return None


def _mnist_files(data_cfg) -> list[str]:
    """The split's two IDX files in ``data.dir``, ``$LINDIFF_MNIST_DIR`` or the download cache
    (none before a download: data.download fetches them in the job)."""
    from lindiff.data.mnist import MNIST_FILES, default_mnist_cache_dir, find_mnist_file

    directory = mnist_dir(data_cfg) or default_mnist_cache_dir()
    files = []
    for kind in ("images", "labels"):
        try:
            files.append(str(find_mnist_file(directory, MNIST_FILES[(str(data_cfg.split), kind)].base_name)))
        except DataError:
            return []
    return files


def _check_mnist_dir(data_cfg) -> None:
    directory = mnist_dir(data_cfg)
    if directory is not None and not directory.is_dir():
        raise DataError(
            f"data.dir={str(directory)!r}: MNIST directory not found. Point data.dir (or "
            "$LINDIFF_MNIST_DIR) at a directory with the four IDX files, or set "
            "data.download=true to fetch them into the cache"
        )


def _file_shape(data_cfg) -> tuple[int, int] | None:
    shape = array_file_shape(data_cfg.path) if data_cfg.path else None
    return (int(shape[0]), int(shape[1])) if shape is not None and len(shape) == 2 else None


def _file_image_shape(data_cfg) -> tuple[int, int] | None:
    shape = _file_shape(data_cfg)
    return None if shape is None else square_image_shape(shape[1])


def _square_side(data_cfg) -> tuple[int, int]:
    return int(data_cfg.size), int(data_cfg.size)


def _none(data_cfg):
    return None


def _no_files(data_cfg) -> list[str]:
    return []


@dataclass(frozen=True)
class DataSet:
    """One data set the pipeline runs on: everything it needs of the set, in one entry.

    ``schema``: the config schema of ``data=<name>`` (its keys, types and bounds);
    ``arguments(data_cfg)``: the keyword arguments of its loader (:func:`lindiff.data.load_dataset`
    under ``name``), from the config; ``shape(data_cfg)``: ``(n_total, d)`` without loading the data
    (the memory check before any job and the rules' ``mem_mb``; None: unknown, the check is
    skipped); ``image_shape(data_cfg)``: ``(h, w)`` of a row drawn as an image in the figures (None:
    flat rows); ``files(data_cfg)``: the files it is read from (the inputs of the jobs that load the
    data: replacing one reruns them); ``digest_files``: their content is part of the jobs' params
    (a file restored with an older mtime is a change; MNIST's files are checked against fixed
    checksums instead); ``source(data_cfg)``: how messages name it (default ``data=<name>``);
    ``check(data_cfg)``: what to check before loading (None: nothing).
    """

    name: str
    schema: type
    arguments: Callable[[Any], dict]
    shape: Callable[[Any], tuple[int, int] | None]
    image_shape: Callable[[Any], tuple[int, int] | None] = _none
    files: Callable[[Any], list[str]] = _no_files
    source: Callable[[Any], str] | None = None
    check: Callable[[Any], None] | None = None
    digest_files: bool = False


#: Every data set of the pipeline (``data=<name>``); adding one is an entry here, its schema in
#: :mod:`lindiff.pipeline.schema`, its loader in :mod:`lindiff.data` and ``conf/data/<name>.yaml``.
DATA_SETS: dict[str, DataSet] = {
    entry.name: entry
    for entry in (
        DataSet("digits", schema.DigitsData, arguments=lambda c: {}, shape=lambda c: (1797, 64),
                image_shape=lambda c: (8, 8)),
        DataSet("mnist", schema.MnistData,
                arguments=lambda c: {"directory": mnist_dir(c), "split": c.split, "download": c.download},
                shape=lambda c: (60000 if str(c.split) == "train" else 10000, 784), image_shape=lambda c: (28, 28),
                files=_mnist_files, source=lambda c: f"data=mnist ({mnist_dir(c) or 'download cache'})",
                check=_check_mnist_dir),
        DataSet("spiked", schema.SpikedData,
                arguments=lambda c: {"d": c.d, "n": c.n_total, "lambdas": list(c.lambdas), "floor": c.floor,
                                     "seed": c.data_seed},
                shape=lambda c: (int(c.n_total), int(c.d))),
        DataSet("calpha", schema.CAlphaData,
                arguments=lambda c: {"n": c.n_total, "size": c.size, "alpha": c.alpha,
                                     "alpha_background": c.alpha_background, "intensities": list(c.intensities),
                                     "contour_amplitude": c.contour_amplitude, "texture": c.texture, "blur": c.blur,
                                     "seed": c.data_seed},
                shape=lambda c: (int(c.n_total), int(c.size) ** 2), image_shape=_square_side),
        DataSet("disks", schema.DisksData,
                arguments=lambda c: {"n": c.n_total, "size": c.size,
                                     "radius": None if c.radius is None else list(c.radius),
                                     "foreground": list(c.foreground), "background": list(c.background),
                                     "edge": c.edge, "seed": c.data_seed},
                shape=lambda c: (int(c.n_total), int(c.size) ** 2), image_shape=_square_side),
        DataSet("file", schema.FileData, arguments=lambda c: {"path": c.path}, shape=_file_shape,
                image_shape=_file_image_shape,
                files=lambda c: [str(c.path)], source=lambda c: f"data.path={str(c.path)!r}", digest_files=True),
    )
}


def data_set(data_cfg) -> DataSet:
    """The registry entry of the configured data set (a ConfigError naming ``data.name``)."""
    name = data_cfg.name if not isinstance(data_cfg, str) else data_cfg
    if name not in DATA_SETS:
        raise ConfigError(f"data.name={name!r} is unknown; allowed: {', '.join(DATA_SETS)}")
    return DATA_SETS[name]


def data_source(data_cfg) -> str:
    """How error messages name the configured data (the file for ``file``, else the data set)."""
    entry = data_set(data_cfg)
    return entry.source(data_cfg) if entry.source else f"data={entry.name}"


def data_shape(data_cfg) -> tuple[int, int] | None:
    """``(n_total, d)`` of the configured data set without loading it (None: unknown)."""
    return data_set(data_cfg).shape(data_cfg)


def image_shape(data_cfg) -> tuple[int, int] | None:
    """``(h, w)`` of the configured data set's rows as images (None: drawn as flat rows)."""
    return data_set(data_cfg).image_shape(data_cfg)


def data_files(data_cfg) -> list[str]:
    """The files the configured data set is read from: the jobs that load the data list them as
    inputs, so that replacing the data reruns them (Snakemake compares modification times).
    Embedded and synthetic sets have none (every parameter is in the jobs' params)."""
    return data_set(data_cfg).files(data_cfg)


def data_files_digest(data_cfg) -> dict[str, str]:
    """``{"files_sha256": <sha256 of the data files' bytes>}`` for a data set whose files are a
    user's (``digest_files``), else ``{}``: added to the jobs' data params, so that a file
    replaced by other content reruns them whatever its modification time."""
    import hashlib

    entry = data_set(data_cfg)
    files = entry.files(data_cfg) if entry.digest_files else []
    if not files:
        return {}
    digest = hashlib.sha256()
    for name in files:
        with open(name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return {"files_sha256": digest.hexdigest()}


def load_data(data_cfg) -> datasets.Dataset:
    """Load the configured data set (samples as rows) through :func:`lindiff.data.load_dataset`."""
    return _call_loader(data_cfg, lambda **arguments: datasets.load_dataset(data_cfg.name, **arguments))


def load_disk_data(data_cfg) -> datasets.DiskData:
    """The configured ``data=disks`` set with its parameters (:func:`lindiff.data.make_disks`):
    the images of :func:`load_data` and each image's coordinates on the manifold."""
    if data_cfg.name != "disks":
        raise ConfigError(f"data.name={data_cfg.name!r}: disk parameters need data=disks")
    return _call_loader(data_cfg, datasets.make_disks)


def _call_loader(data_cfg, loader):
    """``loader(**arguments)`` with a loader's argument error named by its config key."""
    arguments = data_set(data_cfg).arguments(data_cfg)
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
    entry = data_set(data_cfg)
    if entry.check is not None:
        entry.check(data_cfg)
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
