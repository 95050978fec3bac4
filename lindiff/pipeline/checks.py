"""Value checks of a typed configuration, before any job: declared bounds, paths, cross-key rules.

:func:`check_declared` walks the schema (:mod:`lindiff.pipeline.schema`) and applies the bounds
its fields declare; :func:`check_path_values` checks that every value that forms a path matches
its wildcard (:data:`lindiff.pipeline.levels.FIELDS`); the rest relate several keys or the data.
Every failure is a :class:`~lindiff.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing

from omegaconf import DictConfig, OmegaConf

from lindiff.deep.config import ASCENT_OPTIONS, check_ascent_options
from lindiff.diffusion.denoisers import DENOISERS
from lindiff.diffusion.samplers import Sampler
from lindiff.diffusion.schedules import SAMPLER_SCHEDULES, noise_levels
from lindiff.errors import ConfigError
from lindiff.pipeline.datasets import DATA_SETS, DataInfo
from lindiff.pipeline.entries import deep_train_config
from lindiff.pipeline.levels import FIELDS
from lindiff.pipeline.schema import ASCENT, DESIGNED, SPECTRAL, LindiffConfig
from lindiff.pipeline.sweep import GRID_STUDIES, SAMPLERS, grids


def _nested_schema(tp):
    """``(dataclass, is_dict)`` for a field typed ``X``, ``X | None`` (or ``Optional[X]``) or
    ``dict[str, X]`` with ``X`` a dataclass; None otherwise."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next((a for a in typing.get_args(tp) if a is not type(None)), None)
    if dataclasses.is_dataclass(tp):
        return tp, False
    args = typing.get_args(tp)
    if typing.get_origin(tp) is dict and len(args) == 2 and dataclasses.is_dataclass(args[1]):
        return args[1], True
    return None


def check_declared(node, schema=LindiffConfig, prefix: str = "") -> None:
    """The bounds declared on the schema's fields (``metadata``: ``min``, ``positive``),
    recursively through nested schemas and ``Dict[str, schema]`` entries; ``data`` by the
    schema of its data set."""
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        if f.name not in node:
            continue
        value, key = node[f.name], f"{prefix}{f.name}"
        if schema is LindiffConfig and f.name == "data":
            check_declared(value, DATA_SETS[value.name].schema, "data.")
            continue
        nested = _nested_schema(hints[f.name])
        if nested is not None and isinstance(value, DictConfig):
            inner, is_dict = nested
            for name, entry in (value.items() if is_dict else [(None, value)]):
                check_declared(entry, inner, f"{key}.{name}." if is_dict else f"{key}.")
            continue
        if value is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if {"min", "max", "positive"} & set(f.metadata) and not math.isfinite(value):
            raise ConfigError(f"{key}={value}: must be a finite number")  # NaN passes every comparison
        if "min" in f.metadata and value < f.metadata["min"]:
            raise ConfigError(f"{key}={value}: must be >= {f.metadata['min']}")
        if "max" in f.metadata and value > f.metadata["max"]:
            raise ConfigError(f"{key}={value}: must be <= {f.metadata['max']:g}")
        if f.metadata.get("positive") and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{key}={value}: must be positive and finite")


def check_path_values(cfg) -> None:
    """Every config value that becomes part of an artifact path matches its wildcard, so that a
    name like ``lin_2`` fails here, naming its key, rather than in Snakemake."""
    FIELDS["data"].check(cfg.data.name, "data.name")
    FIELDS["sweep"].check(cfg.sweep.name, "sweep.name")
    for name in cfg.schedules:
        FIELDS["schedule"].check(name, f"schedules.{name} (a schedule key)")
    for name in cfg.deep.sizes:
        FIELDS["size"].check(name, f"deep.sizes.{name} (a model size key)")
    for name in cfg.diffusion.schedules:
        FIELDS["schedule"].check(name, f"diffusion.schedules.{name} (a sampler schedule key)")
    for name in cfg.diffusion.samplers:
        FIELDS["sampler"].check(name, f"diffusion.samplers.{name} (a sampler key)")
    for name in cfg.gahb.sizes:
        FIELDS["size"].check(name, f"gahb.sizes.{name} (a model size key)")
    for key in ("project", "entity"):  # W&B names a local directory and a server path after them
        value = cfg.wandb[key]
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}", str(value)):
            raise ConfigError(f"wandb.{key}={str(value)[:40]!r}: use letters, digits, '_', '-' and '.' "
                              "(not first), at most 128 characters")


def check_values(cfg, info: DataInfo | None = None) -> None:
    """Value checks that need no compute; with ``info`` also those against the data."""
    check_declared(cfg)
    check_path_values(cfg)
    for grid in GRID_STUDIES:  # every study's axes: keys, bounds, sizes (paths last: see below)
        grid.check_axes(cfg)
        grid.check_size(cfg, cfg.max_points)
    for name, params in cfg.schedules.items():
        _check_design(name, params, cfg.learn.k)
    _check_deep(cfg, info)
    _check_generalization(cfg, info)
    _check_samplers(cfg, info)
    _check_gahb(cfg)
    _check_multiscale(cfg, info)
    _check_theory(cfg, info)
    if cfg.generate.n_trajectory > cfg.generate.n_samples:
        raise ConfigError(f"generate.n_trajectory={cfg.generate.n_trajectory} must be in [1, generate.n_samples="
                          f"{cfg.generate.n_samples}]")
    if not len(cfg.sweep.fig3_indices):
        raise ConfigError("sweep.fig3_indices is empty: Fig. 3 draws these components (at least one)")
    taus = list(cfg.analyze.taus)
    if not taus or not all(0.0 <= tau <= 1.0 for tau in taus):
        raise ConfigError(f"analyze.taus={taus}: give fractions of T in [0, 1] (at least one)")
    for index in cfg.sweep.fig3_indices:
        if not 0 <= index < cfg.learn.k:
            raise ConfigError(f"sweep.fig3_indices: {index} is not a stored component (0 <= index < learn.k={cfg.learn.k})")
    for axes in grids(cfg):
        for name in axes["schedule"]:
            if name not in cfg.schedules:
                raise ConfigError(f"sweep.schedule: unknown schedule {name!r}; allowed: {', '.join(cfg.schedules)}")
        for cls in axes["classes"]:
            if str(cls) != "all" and not str(cls).lstrip("-").isdigit():
                raise ConfigError(f"sweep.classes: {cls!r} is neither 'all' nor a class label")
        spanned = min(axes["n"]) - int(cfg.learn.centered)  # directions n training samples span
        for rank in axes["rank"]:
            if rank > cfg.learn.k:
                raise ConfigError(
                    f"sweep.rank={rank} exceeds the stored components learn.k={cfg.learn.k}; raise learn.k"
                )
            if rank > spanned:
                raise ConfigError(
                    f"sweep.rank={rank} exceeds the {spanned} directions n={min(axes['n'])} training samples "
                    f"span{' once centered' if cfg.learn.centered else ''}: the extra components would be "
                    "arbitrary; lower sweep.rank or raise sweep.n"
                )
    for grid in GRID_STUDIES:  # every value must be able to form its path field (after the checks
        grid.check_paths(cfg)  # that name a value the path form cannot convert, such as a class)
    if info is not None:
        for axes in grids(cfg):
            _check_against_data(axes, info, cfg.learn.k)


def _check_design(name: str, params, k: int) -> None:
    """``schedules.<name>.design``: required for (and only for) the spectral schedule."""
    key = f"schedules.{name}.design"
    if params.name != SPECTRAL:
        if params.design is not None:
            raise ConfigError(f"{key} is only used by name={SPECTRAL}; remove it or set schedules.{name}.name={SPECTRAL}")
        return
    design = params.design
    if design is None:
        raise ConfigError(f"{key} is missing: name={SPECTRAL} needs the design options (see conf/schedule/spectral.yaml)")
    bounds = design.sigma_max_bounds
    if bounds is not None and not (len(bounds) == 2 and all(math.isfinite(b) for b in bounds) and 0 < bounds[0] <= bounds[1]):
        raise ConfigError(f"{key}.sigma_max_bounds={list(bounds)}: must be [lo, hi] with 0 < lo <= hi")
    if design.components is not None and not 1 <= design.components <= k:
        raise ConfigError(f"{key}.components={design.components}: must be in [1, learn.k={k}] (or null = learn.k)")


def _check_sampler_schedule(d, name: str, key: str):
    """``name`` is a ``diffusion.schedules`` key whose entry is valid (``key``: where it was named)."""
    if name not in d.schedules:
        raise ConfigError(f"{key}.schedule: unknown sampler schedule {name!r}; allowed: {', '.join(d.schedules)}")
    entry = d.schedules[name]
    if entry.shape == DESIGNED:
        if len(entry.params):
            raise ConfigError(f"diffusion.schedules.{name}.params: a designed schedule takes none (see diffusion.design)")
        return entry
    try:
        noise_levels(str(entry.shape), 1, **dict(entry.params))
    except ConfigError as error:
        raise ConfigError(f"diffusion.schedules.{name}: {error}") from None
    return entry


def _check_sampler_entry(d, name: str, key: str):
    """``name`` is a ``diffusion.samplers`` key whose entry is valid (``key``: where it was named)."""
    if name not in d.samplers:
        raise ConfigError(f"{key}.sampler: unknown sampler {name!r}; allowed: {', '.join(d.samplers)}")
    entry = d.samplers[name]
    Sampler(str(entry.kind), eta=entry.eta, solver=str(entry.solver))
    return entry


def _check_deep(cfg, info: DataInfo | None) -> None:
    if not cfg.deep.enabled or not cfg.sweep.deep.n:
        return
    key, sweep, deep = "sweep.deep", cfg.sweep.deep, cfg.deep
    for size in sweep.size:
        if size not in deep.sizes:
            raise ConfigError(f"{key}.size: unknown model size {size!r}; allowed: {', '.join(deep.sizes)}")
    trained = {size: deep_train_config(cfg, size) for size in deep.sizes}  # every variant, swept or not
    conditional = {size: trained[size].model.conditional for size in sweep.size}
    diffusion_samplers = [name for name in sweep.sampler if name != ASCENT]
    for name in diffusion_samplers:
        if _check_sampler_entry(cfg.diffusion, name, key).kind == "ve_chain":
            raise ConfigError(f"{key}.sampler={name}: the chain (ve_chain) is the linear model's sampler; "
                              "a diffusion model takes ddpm, ddim or ode samplers")
    for name in sweep.schedule:
        if _check_sampler_schedule(cfg.diffusion, name, key).shape == DESIGNED:
            raise ConfigError(f"{key}.schedule={name}: designed schedules belong to the samplers study (sweep.samplers)")
    for size, is_conditional in conditional.items():
        if is_conditional and not diffusion_samplers:
            raise ConfigError(f"{key}.sampler={list(sweep.sampler)}: the noise-conditional size {size!r} needs a "
                              f"diffusion sampler (a diffusion.samplers key: {', '.join(cfg.diffusion.samplers)})")
        if not is_conditional and ASCENT not in sweep.sampler:
            raise ConfigError(f"{key}.sampler={list(sweep.sampler)}: the blind size {size!r} is sampled with "
                              f"{ASCENT!r}; add it (or drop the size)")
    _check_positive_list("deep.psnr_sigmas", deep.psnr_sigmas)
    _check_ascent(deep.sampler, "deep.sampler")
    jac = deep.jacobian
    if jac.sigma_max > deep.record_sigma:
        raise ConfigError(f"deep.jacobian.sigma_max={jac.sigma_max} exceeds deep.record_sigma={deep.record_sigma}: "
                          "the Jacobians are taken on the recorded part of the paths")
    if deep.paths > deep.quality.n_samples:
        raise ConfigError(f"deep.paths={deep.paths} exceeds deep.quality.n_samples={deep.quality.n_samples} "
                          "(the recorded paths are among the generated samples)")
    linear = deep.quality.linear
    if linear.schedule not in cfg.schedules or cfg.schedules[linear.schedule].name == SPECTRAL:
        allowed = [name for name in cfg.schedules if cfg.schedules[name].name != SPECTRAL]
        raise ConfigError(f"deep.quality.linear.schedule={linear.schedule!r}: allowed: {', '.join(allowed)}")
    if info is None:
        return
    if deep.jacobian.K > info.d:
        raise ConfigError(f"deep.jacobian.K={deep.jacobian.K} exceeds the dimension d={info.d} of the data")
    if not info.class_counts:
        raise ConfigError(f"sweep.deep: the sample-quality classifier and the class-conditioned chain need labels; "
                          f"{info.source} has none")
    for size in sweep.size:
        classes = trained[size].model.classes
        if classes and max(info.class_counts) >= classes:
            raise ConfigError(f"deep.sizes.{size}.model.classes={classes}: {info.source} has labels up to "
                              f"{max(info.class_counts)}; the class-conditional model needs classes > that")
    if deep.quality.linear.rank > info.d:
        raise ConfigError(f"deep.quality.linear.rank={deep.quality.linear.rank} exceeds the data dimension d={info.d} "
                          "(the class chains would run with fewer components)")
    held_out = max(deep.n_test, 2 * deep.quality.n_samples)
    for n in sweep.n:
        if n + held_out > info.n_total:
            raise ConfigError(f"sweep.deep.n={n} plus {held_out} held-out samples (max(deep.n_test={deep.n_test}, "
                              f"2 x deep.quality.n_samples={deep.quality.n_samples})) exceed the {info.n_total} "
                              f"samples of {info.source}")


def _check_ascent(options, key: str) -> None:
    """Options of the coarse-to-fine ascent (``deep.sampler``), checked as the sampler checks them."""
    try:
        check_ascent_options(OmegaConf.to_container(options) if OmegaConf.is_config(options) else options)
    except ConfigError as exc:
        message = str(exc)
        name = message.split(" ", 1)[0]
        raise ConfigError(f"{key}.{message}" if name in ASCENT_OPTIONS else f"{key}: {message}") from None


def _check_generalization(cfg, info: DataInfo | None) -> None:
    """sweep.generalization: sizes in [2, floor(N/2)] (the half size), known schedule/size, ..."""
    g = cfg.sweep.generalization
    key = "sweep.generalization"
    if not len(g.n) and not len(g.deep.n):
        return
    half = None if info is None else info.n_total // 2
    for name, values in (("n", g.n), ("deep.n", g.deep.n)):
        for n in values:
            if half is not None and n > half:
                raise ConfigError(
                    f"{key}.{name}={n} exceeds the half size {half} (floor of {info.n_total} samples / 2)"
                )
    if len(g.n):
        if g.schedule not in cfg.schedules:
            raise ConfigError(f"{key}.schedule: unknown schedule {g.schedule!r}; allowed: {', '.join(cfg.schedules)}")
        if cfg.schedules[g.schedule].name == "spectral":
            raise ConfigError(f"{key}.schedule={g.schedule!r}: a data-designed (spectral) schedule is not "
                              "supported by the A/B study; pick a fixed-shape schedule")
        if info is not None and g.rank > info.d:
            raise ConfigError(f"{key}.rank={g.rank} exceeds the data dimension d={info.d}")
    if len(g.deep.n):
        if not cfg.deep.enabled:
            raise ConfigError(f"{key}.deep.n: no deep denoiser for data {cfg.data.name!r} (deep.enabled=false)")
        if g.deep.size not in cfg.deep.sizes:
            raise ConfigError(
                f"{key}.deep.size: unknown model size {g.deep.size!r}; allowed: {', '.join(cfg.deep.sizes)}"
            )
        _check_ascent({**cfg.deep.sampler, **g.deep.sampler}, f"{key}.deep.sampler")


def _check_positive_list(key: str, values) -> None:
    values = list(values)
    if not values:
        raise ConfigError(f"{key} is empty; give at least one value")
    for value in values:
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{key}={values}: every value must be positive and finite (got {value})")


def _check_multiscale(cfg, info: DataInfo | None) -> None:
    """sweep.multiscale and the multiscale.* entries (only when the study is on): wavelets, the
    training config of every model (its RF, bands, the full-RF reference), the low-pass model's
    RF against its grid, noise levels, the ascent, and the training and held-out rows."""
    from lindiff.data.wavelets import check_wavelet
    from lindiff.deep.multiscale import scale_shapes
    from lindiff.pipeline.datasets import image_shape
    from lindiff.pipeline.entries import multiscale_train_config
    from lindiff.studies.multiscale import FULL, model_names, padded_shape

    sweep, ms = cfg.sweep.multiscale, cfg.multiscale
    if not sweep.n or not cfg.deep.enabled:
        return
    for wavelet in sweep.wavelet:
        check_wavelet(wavelet, "sweep.multiscale.wavelet")
    configs = {name: multiscale_train_config(cfg, *name) for name in model_names(list(sweep.rf), ms.levels)}
    if configs[("flat", FULL)].model.conditional:
        raise ConfigError("multiscale.full: the flat reference is a blind denoiser (kind bfcnn or unet), got kind=ddpm")
    _check_positive_list("multiscale.psnr_sigmas", ms.psnr_sigmas)
    if ms.synthesis.sigma_final >= configs[("flat", FULL)].sigma_max:  # the pixels' range: the study's base
        raise ConfigError(f"multiscale.synthesis.sigma_final={ms.synthesis.sigma_final} must be below "
                          f"multiscale.train.sigma_max, where each synthesis starts")
    shape = image_shape(cfg.data)
    if shape is None:
        raise ConfigError(f"sweep.multiscale: data={cfg.data.name} has no image shape; the study transforms images")
    grid = scale_shapes(padded_shape(shape, ms.levels), ms.levels)[0]
    rf = configs[("low", FULL)].model.field_side
    if rf < 2 * max(grid) - 1:
        raise ConfigError(f"multiscale.train.model: the low-pass model's receptive field {rf} does not cover its "
                          f"{grid[0]}x{grid[1]} grid (multiscale.levels={ms.levels}); it needs {2 * max(grid) - 1}: "
                          f"deepen the model or add levels")
    if info is not None:
        for n in sweep.n:
            if n + ms.n_test > info.n_total:
                raise ConfigError(f"sweep.multiscale.n={n} + multiscale.n_test={ms.n_test} held-out images exceed "
                                  f"the {info.n_total} samples of {info.source}")


def _check_theory(cfg, info: DataInfo | None) -> None:
    """sweep.theory and the theory.* entries (only when the study is on): noise-conditional model
    sizes and their diffusion samplers and schedules, the denoisers, patch sizes, the pools, noise
    levels, and the training, held-out and calibration rows against the data."""
    from lindiff.diffusion.local import check_patch_size
    from lindiff.pipeline.datasets import image_shape

    sweep, theory, key = cfg.sweep.theory, cfg.theory, "sweep.theory"
    if not sweep.n or not cfg.deep.enabled:
        return
    for size in sweep.size:
        if size not in cfg.deep.sizes:
            raise ConfigError(f"{key}.size: unknown model size {size!r}; allowed: {', '.join(cfg.deep.sizes)}")
        if not deep_train_config(cfg, size).model.conditional:
            raise ConfigError(f"{key}.size={size!r}: the study samples a noise-conditional network (model.kind=ddpm) "
                              "with the analytic denoisers on its noise levels; a blind model has none")
    for name in sweep.sampler:
        if _check_sampler_entry(cfg.diffusion, name, key).kind == "ve_chain":
            raise ConfigError(f"{key}.sampler={name}: the study samples with ddpm, ddim or ode samplers, not ve_chain")
    for name in sweep.schedule:
        if _check_sampler_schedule(cfg.diffusion, name, key).shape == DESIGNED:
            raise ConfigError(f"{key}.schedule={name}: designed schedules belong to the samplers study (sweep.samplers)")
    if len(set(theory.denoisers)) != len(theory.denoisers):
        raise ConfigError(f"theory.denoisers has duplicates: {list(theory.denoisers)}")
    sizes = [check_patch_size(size, "theory.patch_sizes") for size in theory.patch_sizes]
    if not sizes or len(set(sizes)) != len(sizes):
        raise ConfigError(f"theory.patch_sizes={sizes}: give distinct odd patch sides (at least one)")
    _check_positive_list("theory.mse_sigmas", theory.mse_sigmas)
    if image_shape(cfg.data) is None:
        raise ConfigError(f"{key}: data={cfg.data.name} has no image shape; the local denoisers take patches of images")
    if info is None:
        return
    for n in sweep.n:
        if theory.pool is not None and theory.pool > n:
            raise ConfigError(f"theory.pool={theory.pool} exceeds the network's training images sweep.theory.n={n}")
        held_out = theory.n_test + theory.calibration_images
        if n + held_out > info.n_total:
            raise ConfigError(f"sweep.theory.n={n} + theory.n_test={theory.n_test} + theory.calibration_images="
                              f"{theory.calibration_images} held-out images exceed the {info.n_total} samples of "
                              f"{info.source}")


def _check_gahb(cfg) -> None:
    """sweep.gahb and the gahb.* entries it uses (only when the study is on): regularities and
    sizes, blind model sizes, noise levels, and the data options (checked by generating two
    images of each family, so that an error names its ``gahb.<family>.data`` key)."""
    g, gahb, key = cfg.sweep.gahb, cfg.gahb, "sweep.gahb"
    if not len(g.alpha) and not len(g.n):
        return
    for size in g.size:
        if size not in gahb.sizes:
            raise ConfigError(f"{key}.size: unknown model size {size!r}; allowed: {', '.join(gahb.sizes)}")
        if deep_train_config(cfg, size, "gahb").model.conditional:
            raise ConfigError(f"gahb.sizes.{size}: the GAHB study trains blind denoisers (its Jacobian is the "
                              "denoiser's); a noise-conditional model kind is not supported")
    _check_positive_list("gahb.psnr_sigmas", gahb.psnr_sigmas)
    for family, values in (("calpha", g.alpha), ("disks", g.n)):
        if len(values):
            _check_gahb_data(cfg, family)
    if len(g.alpha):
        calpha = gahb.calpha
        _check_positive_list("gahb.calpha.sigmas", calpha.sigmas)
        if len(calpha.slope_range) != 2 or not 0 < calpha.slope_range[0] < calpha.slope_range[1]:
            raise ConfigError(f"gahb.calpha.slope_range={list(calpha.slope_range)}: give [low, high] with "
                              "0 < low < high")
        inside = [s for s in calpha.sigmas if calpha.slope_range[0] <= s <= calpha.slope_range[1]]
        if len(inside) < 2:
            raise ConfigError(f"gahb.calpha.slope_range={list(calpha.slope_range)} holds {len(inside)} of "
                              f"gahb.calpha.sigmas={list(calpha.sigmas)}; the slope fit needs two")
    if len(g.n):
        disks = gahb.disks
        _check_positive_list("gahb.disks.sigmas", disks.sigmas)
        d = int(disks.data.size) ** 2
        for name in ("K", "n_vectors"):
            if disks[name] > d:
                raise ConfigError(f"gahb.disks.{name}={disks[name]} exceeds the dimension d={d} of the disk images")
        if disks.K < disks.n_vectors:
            raise ConfigError(f"gahb.disks.n_vectors={disks.n_vectors} exceeds gahb.disks.K={disks.K} "
                              "(the eigenvectors drawn are titled with their eigenvalues)")


def _check_gahb_data(cfg, family: str) -> None:
    """The data options of one GAHB family: generate two images (an error names its key)."""
    from omegaconf import OmegaConf

    from lindiff.pipeline.datasets import load_data
    from lindiff.pipeline.entries import gahb_data_config

    node = cfg.gahb[family].data
    if node.name != family:
        raise ConfigError(f"gahb.{family}.data.name={node.name!r}: the {family} study needs data={family}")
    value = cfg.sweep.gahb.alpha[0] if family == "calpha" else cfg.sweep.gahb.n[0]
    data = {**gahb_data_config(cfg, family, value), "n_total": 2}
    try:
        load_data(OmegaConf.create(data))
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(f"gahb.{family}.{message}" if message.startswith("data.") else message) from None


def rank_requirement(cfg) -> dict:
    """What :func:`lindiff.pipeline.datasets.data_info` must establish about the data's rank:
    ``rank_needed`` (the largest sweep rank, and learn.k: every stored component must be a
    direction of the data), the pools (classes) and whether the learn centers."""
    axes = grids(cfg)
    ranks = [int(r) for a in axes for r in a["rank"]]
    return {"rank_needed": max([int(cfg.learn.k), *ranks]),
            "pools": sorted({str(c) for a in axes for c in a["classes"]}),
            "centered": bool(cfg.learn.centered)}


def _check_rank_against_data(axes: dict, info: DataInfo, k: int) -> None:
    for cls in axes["classes"]:
        available = info.rank.get(str(cls))
        if available is None:
            continue
        where = info.source if str(cls) == "all" else f"class {cls} of {info.source}"
        for rank in axes["rank"]:
            if rank > available:
                raise ConfigError(
                    f"sweep.rank={rank}: {where} spans only {available} dimensions (constant or duplicated "
                    "samples?); the extra components would be arbitrary. Lower sweep.rank or check the data"
                )
        if k > available:
            raise ConfigError(
                f"learn.k={k}: {where} spans only {available} dimensions (constant or duplicated samples?); "
                f"the stored components beyond {available} would be arbitrary. Set learn.k <= {available}"
            )


def _check_against_data(axes: dict, info: DataInfo, k: int) -> None:
    if info.d < 2:
        raise ConfigError(f"{info.source} has d={info.d} column: a basis, its angles and the power-iteration "
                          "rates need at least two dimensions")
    for rank in axes["rank"]:
        if rank > info.d:
            raise ConfigError(f"sweep.rank={rank} exceeds the data dimension d={info.d}")
    if k > info.d:
        raise ConfigError(f"learn.k={k} exceeds the data dimension d={info.d}; set learn.k <= {info.d}")
    for cls in axes["classes"]:
        if str(cls) == "all":
            available, where = info.n_total, "the data set"
        else:
            if not info.class_counts:
                raise ConfigError(f"sweep.classes={cls}: the data set has no labels; use classes: [all]")
            if int(cls) not in info.class_counts:
                raise ConfigError(
                    f"sweep.classes={cls}: class absent from the data; classes present: {sorted(info.class_counts)}"
                )
            available, where = info.class_counts[int(cls)], f"class {cls}"
        for n in axes["n"]:
            if n > available:
                raise ConfigError(f"sweep.n={n} exceeds the {available} samples of {where}")
    _check_rank_against_data(axes, info, k)


def _check_samplers(cfg, info: DataInfo | None) -> None:
    """sweep.samplers and the diffusion.* entries it names (only when the study is on)."""
    key = "sweep.samplers"
    for axes in SAMPLERS.grids(cfg):
        unknown = sorted(set(axes["denoiser"]) - set(DENOISERS))
        if unknown:
            raise ConfigError(f"{key}.denoiser: unknown denoiser(s) {unknown}; allowed: {', '.join(DENOISERS)}")
        _check_sampler_axes(cfg, axes, info)


def _check_sampler_axes(cfg, s: dict, info: DataInfo | None) -> None:
    key = "sweep.samplers"
    d = cfg.diffusion
    if d.n_samples < 2:
        raise ConfigError(f"diffusion.n_samples={d.n_samples}: a variance needs at least 2 samples")
    for name in s["schedule"]:
        _check_sampler_schedule(d, name, key)
    for name in s["sampler"]:
        entry = _check_sampler_entry(d, name, key)
        if entry.kind == "ve_chain" and any(d.schedules[n].shape == DESIGNED for n in s["schedule"]):
            raise ConfigError(f"{key}: diffusion.samplers.{name} is the chain, whose schedule design is the linear "
                              f"sweep's (schedule=spectral); drop the designed schedule or the chain")
    if any(d.schedules[n].shape == DESIGNED for n in s["schedule"]):
        lo_hi = list(d.design.bounds)
        if not (len(lo_hi) == 2 and all(math.isfinite(b) for b in lo_hi) and 0 < lo_hi[0] < lo_hi[1]):
            raise ConfigError(f"diffusion.design.bounds={lo_hi}: must be [lo, hi] with 0 < lo < hi")
        if d.design.init not in (*SAMPLER_SCHEDULES, "best"):
            raise ConfigError(f"diffusion.design.init={d.design.init!r}: allowed: {', '.join(SAMPLER_SCHEDULES)}, best")
    if "projection" in s["denoiser"]:
        for n in s["n"]:
            limit = n if info is None else min(n, info.d)
            if d.projection_rank > limit:
                raise ConfigError(f"diffusion.projection_rank={d.projection_rank} exceeds the {limit} components "
                                  f"the projection can store (min(n={n}, d)); lower it")
    if "deep" in s["denoiser"]:
        if not cfg.deep.enabled:
            raise ConfigError(f"{key}.denoiser=deep: no deep denoiser for data {cfg.data.name!r} (deep.enabled=false)")
        if d.deep_size not in cfg.deep.sizes:
            raise ConfigError(f"diffusion.deep_size: unknown model size {d.deep_size!r}; allowed: {', '.join(cfg.deep.sizes)}")
    if info is not None:
        for n in s["n"]:
            held_out = cfg.deep.n_test if "deep" in s["denoiser"] else 0
            if n + held_out > info.n_total:
                raise ConfigError(f"{key}.n={n}{f' plus deep.n_test={held_out}' if held_out else ''} exceeds the "
                                  f"{info.n_total} samples of the data set")
