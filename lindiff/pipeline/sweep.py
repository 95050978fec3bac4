"""Sweep expansion: the points of each level, the schedules they use, and job seeds.

The grids come from the ``sweep`` config group; which path field each sweep axis feeds and
how points sort is declared once in :mod:`lindiff.pipeline.levels`.
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass

import numpy as np
from omegaconf import OmegaConf

from lindiff.errors import ConfigError
from lindiff.linear.schedules import Schedule, make_schedule
from lindiff.pipeline.levels import FIELDS, LEVELS, Field, Point, ab_linear_model
from lindiff.pipeline.schema import ASCENT, DESIGNED, SPECTRAL


@dataclass(frozen=True)
class GridStudy:
    """A study whose points are a grid over declared axes, or the union of several grids.

    ``section`` is its sweep config key (``sweep``, ``sweep.samplers``): each axis is a list under
    it, and ``<section>.grids`` (optional) is a list of entries that each replace some axes.
    ``axes`` maps each axis (its key under ``section`` and in a grids entry) to the path field it
    feeds (:data:`~lindiff.pipeline.levels.FIELDS`: its type, bounds, regex and the conversion of a
    value to its path form); ``level`` is the level of its points, whose other fields
    (``data``) come from the config. ``enabled_by`` names the axis whose empty list turns the
    study off (None: always on).
    """

    name: str
    section: str
    level: str
    axes: dict[str, str]
    enabled_by: str | None = None

    def fields(self) -> dict[str, Field]:
        """``{axis: its path field}``."""
        return {axis: FIELDS[field] for axis, field in self.axes.items()}

    def enabled(self, cfg) -> bool:
        return self.enabled_by is None or len(OmegaConf.select(cfg, self.section)[self.enabled_by]) > 0

    def grids(self, cfg) -> list[dict[str, list]]:
        """The study's grids: the base axes, or the union of ``<section>.grids`` entries over
        them (each value typed by its field: ``5.7`` or ``"abc"`` for ``T`` fail naming the key);
        ``[]`` when the study is off."""
        if not self.enabled(cfg):
            return []
        section = OmegaConf.select(cfg, self.section)
        fields = self.fields()
        base = {axis: [str(v) if field.type is str else v for v in section[axis]] for axis, field in fields.items()}
        out = []
        for index, entry in enumerate(list(section.grids) or [{}]):
            entry = OmegaConf.to_container(entry) if OmegaConf.is_config(entry) else dict(entry)
            axes = dict(base)
            for key, values in entry.items():
                if key not in fields:
                    raise ConfigError(f"{self.section}.grids: unknown axis {key!r}; allowed: {', '.join(fields)}")
                values = list(values) if isinstance(values, (list, tuple)) else [values]
                axes[key] = [_typed_value(fields[key], v, f"{self.section}.grids[{index}].{key}") for v in values]
            out.append(axes)
        return out

    def points(self, cfg) -> list[Point]:
        """Every point of every grid (sorted, no duplicates)."""
        fields, level, points = self.fields(), LEVELS[self.level], set()
        for axes in self.grids(cfg):
            # each axis's values in their path form, converted once per grid rather than once per point
            choices = [[(self.axes[axis], _path_value(field, v)) for v in axes[axis]] for axis, field in fields.items()]
            for combo in itertools.product(*choices):
                points.add(level.point(data=cfg.data.name, **dict(combo)))
        return sorted(points)

    def check_axes(self, cfg) -> None:
        """Every axis of every grid: not empty, no duplicates, within its field's bounds, and
        each value able to form its path field; a ConfigError naming ``<section>.<axis>``."""
        for axes in self.grids(cfg):
            for axis, field in self.fields().items():
                key, values = f"{self.section}.{axis}", axes[axis]
                if len(values) == 0:
                    raise ConfigError(f"{key} is empty; give at least one value")
                if len(set(map(str, values))) != len(values):
                    raise ConfigError(f"{key} has duplicate values: {list(values)}")
                for v in values:
                    if field.minimum is not None and v < field.minimum:
                        raise ConfigError(f"{key}={v}: must be >= {field.minimum}")
                    if field.maximum is not None and v > field.maximum:
                        raise ConfigError(f"{key}={v}: must be <= {field.maximum}")

    def check_size(self, cfg, limit: int) -> None:
        """At most ``limit`` points, counted from the grids' sizes before any point is made: a
        ConfigError naming each grid's axes and lengths, and ``max_points``."""
        sizes = [{axis: len(axes[axis]) for axis in self.axes} for axes in self.grids(cfg)]
        count = sum(math.prod(size.values()) for size in sizes)
        if count > limit:
            shown = " + ".join(" x ".join(f"{self.section}.{axis}: {n}" for axis, n in size.items() if n > 1) or "1"
                               for size in sizes)
            raise ConfigError(f"{self.section} expands to {count} points ({shown}), more than max_points={limit}: "
                              "split the sweep into runs with their own sweep.name, or raise max_points")

    def check_paths(self, cfg) -> None:
        """Every value of every grid can form its path field (a ConfigError naming the axis)."""
        for axes in self.grids(cfg):
            for axis, field in self.fields().items():
                for value in axes[axis]:
                    field.check(_path_value(field, value), f"{self.section}.{axis}", given=value)


def _typed_value(field: Field, value, where: str):
    """A ``grids`` entry value with its field's type (the entries are untyped dicts): integers
    stay integers; a class (the ``cond`` field) is ``'all'`` or an integer label."""
    if field.name == "cond":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ConfigError(f"{where}={value!r}: a class is 'all' or an integer label")
        return str(value)
    if field.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}={value!r}: must be an integer")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where}={value!r}: must be a string")
    return value


def _path_value(field: Field, value):
    """An axis value as its path field holds it (``classes=3`` is ``cond=c3``)."""
    return (field.from_axis or field.type)(value)


#: the linear chain: one chain per (class, n, seed, schedule, T, rank); ``sweep.<axis>`` and
#: ``sweep.grids`` (the axes are the fields of the ``rank`` level that declare a sweep axis)
LINEAR = GridStudy("linear", "sweep", "rank", {FIELDS[f].axis: f for f in LEVELS["rank"].fields if FIELDS[f].axis})
#: the samplers study: one run per (n, seed, schedule, T, sampler, denoiser); off when
#: ``sweep.samplers.n`` is empty
SAMPLERS = GridStudy("samplers", "sweep.samplers", "sampler_point",
                     {axis: axis for axis in ("n", "seed", "schedule", "T", "sampler", "denoiser")}, enabled_by="n")

#: the sweep axes of the linear chain (``sweep.<axis>`` and keys of ``sweep.grids`` entries)
SWEEP_AXES = tuple(LINEAR.axes)


def grids(cfg) -> list[dict[str, list]]:
    """The linear chain's grids (:meth:`GridStudy.grids` of :data:`LINEAR`)."""
    return LINEAR.grids(cfg)


def sweep_points(cfg) -> list[Point]:
    """All points of the linear chain (``rank`` level; sorted, no duplicates)."""
    return LINEAR.points(cfg)


def deep_points(cfg) -> list[Point]:
    """The deep-denoiser models (``deep`` level), empty when ``deep.enabled`` is false."""
    if not cfg.deep.enabled:
        return []
    sweep = cfg.sweep.deep
    return sorted({LEVELS["deep"].point(data=cfg.data.name, n=int(n), size=str(size), seed=int(seed))
                   for n in sweep.n for size in sweep.size for seed in sweep.seed})


#: the schedule field of a blind model's ascent runs (its T field is deep.sampler.max_steps)
ADAPTIVE = "adaptive"


def deep_train_config(cfg, size: str, section: str = "deep"):
    """The :class:`lindiff.deep.config.TrainConfig` of the model variant ``<section>.sizes.<size>``
    (``deep`` or ``gahb``; a ConfigError naming that key when its overrides are not valid)."""
    from lindiff.deep.config import preset_config

    models = cfg[section]
    overrides = OmegaConf.to_container(models.sizes[size], resolve=True) if models.sizes[size] else {}
    try:
        return preset_config(str(models.preset), overrides)
    except ConfigError as exc:
        raise ConfigError(f"{section}.sizes.{size}: {exc}") from None


def ascent_steps(cfg) -> int:
    """The T field of an ascent run: its most steps (``deep.sampler.max_steps``, default of
    :func:`lindiff.deep.sample.sample_ascent`: 1000)."""
    return int(cfg.deep.sampler.get("max_steps", 1000))


def deep_sample_points(cfg) -> list[Point]:
    """The sampler runs of the deep models (``deep_sample`` level): ``ascent`` for a blind size,
    every non-ascent ``sweep.deep.sampler`` × ``schedule`` × ``T`` for a noise-conditional one."""
    sweep, points, models = cfg.sweep.deep, set(), deep_points(cfg)
    if not models:
        return []
    conditional = {size: deep_train_config(cfg, size).model.conditional for size in sweep.size}
    for model in models:
        values = model.as_dict()
        if not conditional[model.size]:
            if ASCENT in sweep.sampler:
                points.add(LEVELS["deep_sample"].point(**values, sampler=ASCENT, schedule=ADAPTIVE, T=ascent_steps(cfg)))
            continue
        points |= {LEVELS["deep_sample"].point(**values, sampler=str(sampler), schedule=str(schedule), T=int(T))
                   for sampler in sweep.sampler if sampler != ASCENT for schedule in sweep.schedule for T in sweep.T}
    return sorted(points)


def generalization_points(cfg) -> list[Point]:
    """The A/B study's points (``ab_point`` level): one per (seed, model, n); empty when off."""
    g = cfg.sweep.generalization
    models = []
    if len(g.n):
        models.append((ab_linear_model(g.schedule, g.T, g.rank), list(g.n)))
    if len(g.deep.n) and cfg.deep.enabled:
        models.append((f"deep_{g.deep.size}", list(g.deep.n)))
    return sorted({LEVELS["ab_point"].point(data=cfg.data.name, abseed=int(seed), abmodel=model, n=int(n))
                   for seed in g.seed for model, ns in models for n in ns})


#: the GAHB study's two families: (sweep.gahb axis, data level, model level)
GAHB_FAMILIES = {"calpha": ("alpha", "gahb_calpha_data", "gahb_calpha"), "disks": ("n", "gahb_disks_data", "gahb_disks")}


def gahb_data_points(cfg) -> list[Point]:
    """The GAHB study's data splits (``gahb_calpha_data``, ``gahb_disks_data`` levels): one per
    ``sweep.gahb.alpha`` (or ``n``) and seed; empty when the study is off."""
    g = cfg.sweep.gahb
    points = set()
    for axis, data_level, _ in GAHB_FAMILIES.values():
        convert = FIELDS[axis].from_axis or FIELDS[axis].type
        points |= {LEVELS[data_level].point(seed=int(seed), **{axis: convert(value)}) for value in g[axis] for seed in g.seed}
    return sorted(points)


def gahb_points(cfg) -> list[Point]:
    """The GAHB study's models (``gahb_calpha`` and ``gahb_disks`` levels): every data split of
    :func:`gahb_data_points` × ``sweep.gahb.size``."""
    levels = {data_level: model_level for _, data_level, model_level in GAHB_FAMILIES.values()}
    return sorted(LEVELS[levels[p.level]].point(**p.as_dict(), size=str(size))
                  for p in gahb_data_points(cfg) for size in cfg.sweep.gahb.size)


def gahb_data_config(cfg, family: str, value) -> dict:
    """The data config (a ``data=calpha`` or ``data=disks`` entry, plain dict) of one GAHB split.

    C^α: ``gahb.calpha.data`` with ``alpha`` (and ``alpha_background`` when null) set to the
    point's regularity and ``n_total = sweep.gahb.n_train + gahb.calpha.n_test``.  Disks:
    ``gahb.disks.data`` with ``n_total = max(sweep.gahb.n) + sweep.gahb.disk_images``, so that
    every training set is a prefix of one generated set and the test images (its last rows) are
    the same for every ``n``.
    """
    data = OmegaConf.to_container(cfg.gahb[family].data, resolve=True, enum_to_str=True)
    n_train, n_test = gahb_sizes(cfg, family, value)
    if family == "calpha":
        data.update(alpha=float(value), n_total=n_train + n_test)
        if data.get("alpha_background") is None:
            data["alpha_background"] = float(value)
    else:
        data["n_total"] = max(int(n) for n in cfg.sweep.gahb.n) + n_test
    return data


def gahb_sizes(cfg, family: str, value) -> tuple[int, int]:
    """``(n_train, n_test)`` of a GAHB split: its training rows are the first ``n_train`` of the
    generated data, its test rows the last ``n_test``."""
    g = cfg.sweep.gahb
    if family == "calpha":
        return int(g.n_train), int(cfg.gahb.calpha.n_test)
    return int(value), int(g.disk_images)


def sampler_grids(cfg) -> list[dict[str, list]]:
    """The samplers study's grids (:meth:`GridStudy.grids` of :data:`SAMPLERS`); ``[]`` when off."""
    return SAMPLERS.grids(cfg)


def sampler_points(cfg) -> list[Point]:
    """The samplers study's points (``sampler_point`` level); empty when ``sweep.samplers.n`` is."""
    return SAMPLERS.points(cfg)


def sampler_levels_from_params(params, T: int) -> Schedule:
    """The noise levels of a hand schedule entry (``diffusion.schedules.<name>``) with ``T`` steps;
    a ``designed`` one is the artifact of the workflow's ``sampler_levels`` rule."""
    from lindiff.diffusion.schedules import noise_levels

    if params["shape"] == DESIGNED:
        raise ConfigError("a designed sampler schedule comes from the data: load it from its levels artifact")
    return noise_levels(str(params["shape"]), int(T), **dict(params["params"]))


def sampler_from_params(params):
    """The :class:`lindiff.diffusion.samplers.Sampler` of a ``diffusion.samplers.<name>`` entry."""
    from lindiff.diffusion.samplers import Sampler

    return Sampler(str(params["kind"]), eta=float(params["eta"]), solver=str(params["solver"]))


def ab_schedule_params(cfg) -> dict:
    """The study's schedule entry: ``schedules.<sweep.generalization.schedule>`` with its
    ``sigma_max`` replaced by ``sweep.generalization.sigma_max`` when that is set."""
    g = cfg.sweep.generalization
    params = dict(OmegaConf.to_container(cfg.schedules[g.schedule], resolve=True, enum_to_str=True))
    if g.sigma_max is not None:
        params["sigma_max"] = float(g.sigma_max)
    return params


def schedule_from_params(params, T: int) -> Schedule:
    """A schedule from its config entry (``name, sigma_max, scale, ratio``) with ``T`` steps.

    ``scale: theorem`` is Theorem 4.3's ``sigma_t = sigma_max / T``; ``scale: sigma_max``
    scales the shape so that ``sigma_bar[T] = sigma_max``.  The ``spectral`` schedule depends
    on the data: it is the artifact of the workflow's ``design_schedule`` rule
    (:func:`lindiff.linear.spectral.design_schedule`), not a function of its parameters.
    """
    if params["name"] == SPECTRAL:
        raise ConfigError("the spectral schedule is designed from the data: load it from its design artifact")
    if params["scale"] == "theorem":
        return make_schedule(params["name"], T, step=params["sigma_max"] / T, ratio=params["ratio"])
    return make_schedule(params["name"], T, sigma_max=params["sigma_max"], ratio=params["ratio"])


def schedule_for(cfg, name: str, T: int) -> Schedule:
    """The configured schedule ``name`` with ``T`` steps."""
    return schedule_from_params(cfg.schedules[name], T)


def design_components(params, k: int) -> int:
    """Number of target components of a spectral design: ``design.components`` or ``learn.k``."""
    components = params["design"]["components"] if isinstance(params, dict) else params.design.components
    return int(k if components is None else components)


def derive_seed(seed: int, stage: str, *keys) -> np.random.SeedSequence:
    """A per-job seed from the sweep seed, the stage and the point (stable across runs).

    ``SeedSequence(seed, spawn_key=(crc32(stage), crc32(key)...))``: different stages and
    points get independent streams; the same config gives the same numbers.
    """
    spawn_key = tuple(zlib.crc32(str(k).encode()) for k in (stage, *keys))
    return np.random.SeedSequence(int(seed), spawn_key=spawn_key)
