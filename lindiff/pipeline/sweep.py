"""The study declarations and their sweep expansion: the points of each level.

Every study is declared once in :data:`GRID_STUDIES` (its config section, level, axes and
how it turns off); :func:`points` expands them, :meth:`GridStudy.check_axes`,
:meth:`~GridStudy.check_size` and :meth:`~GridStudy.check_paths` check them.  Which path field
an axis feeds and how points sort is declared once in :mod:`lindiff.pipeline.levels`; the
objects a config entry stands for (schedules, samplers, training configs) are built by
:mod:`lindiff.pipeline.entries`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from lindiff.deep.config import TRAINED_CONTROLS
from lindiff.errors import ConfigError
from lindiff.pipeline.entries import deep_train_config
from lindiff.pipeline.levels import FIELDS, LEVELS, Field, Point, ab_linear_model
from lindiff.pipeline.schema import ASCENT
from lindiff.studies.multiscale import ARCHS, FULL, model_names
from lindiff.studies.theory import NETWORK


@dataclass(frozen=True)
class GridStudy:
    """The points of one level of a study: a grid over declared axes, or the union of several grids.

    ``section`` is the study's sweep config key (``sweep``, ``sweep.samplers`` ...): each axis is a
    list under it, and ``<section>.grids`` (optional) is a list of entries that each replace some
    axes.  ``level`` is the level of the points.  ``axes`` maps each axis (its key under
    ``section``, dotted for a nested list: ``deep.n``) to the path field it feeds
    (:data:`~lindiff.pipeline.levels.FIELDS`: its type, bounds, regex and the conversion of a value
    to its path form); by default (None) every field of the level but ``data`` is an axis, keyed
    by the field's ``axis`` (or its name), so that a field added to the level's pattern is an
    axis of the study with no other edit.

    The grid is on when ``enabled_by`` (an axis, or several; None: always) is not empty and the boolean config
    key ``requires`` (None: none) is true.  ``fixed(cfg)`` gives the level's fields that are not
    axes (default: ``data`` from ``data.name``); ``refine(cfg)`` (optional) returns a function that
    maps each grid point's values to the point's (a list of points' values when one grid point
    stands for several, or None to drop it): the one place where a study whose points are not a
    plain product says how.
    """

    name: str
    section: str
    level: str
    axes: dict[str, str] | None = None
    enabled_by: str | tuple[str, ...] | None = None
    requires: str | None = None
    fixed: Callable[[Any], dict[str, Any]] | None = None
    refine: Callable[[Any], Callable[[dict[str, Any]], dict[str, Any] | None]] | None = None

    def axis_fields(self) -> dict[str, str]:
        """``{axis: the name of the path field it feeds}`` (see :attr:`axes`)."""
        if self.axes is not None:
            return dict(self.axes)
        return {FIELDS[f].axis or f: f for f in LEVELS[self.level].fields if f != "data"}

    def fields(self) -> dict[str, Field]:
        """``{axis: its path field}``."""
        return {axis: FIELDS[field] for axis, field in self.axis_fields().items()}

    def key(self, axis: str) -> str:
        """The config key of an axis (``sweep.generalization.deep.n``)."""
        return f"{self.section}.{axis}"

    def values(self, cfg, axis: str) -> list:
        """The configured values of ``axis`` as the axis type holds them."""
        field = FIELDS[self.axis_fields()[axis]]
        return [field.axis_type(v) if field.axis_type in (str, float) else v
                for v in OmegaConf.select(cfg, self.key(axis))]

    def enabled(self, cfg) -> bool:
        if self.requires is not None and not OmegaConf.select(cfg, self.requires):
            return False
        axes = (self.enabled_by,) if isinstance(self.enabled_by, str) else self.enabled_by or ()
        return all(len(OmegaConf.select(cfg, self.key(axis))) > 0 for axis in axes)

    def grids(self, cfg) -> list[dict[str, list]]:
        """The study's grids: the base axes, or the union of ``<section>.grids`` entries over
        them (each value typed by its field: ``5.7`` or ``"abc"`` for ``T`` fail naming the key);
        ``[]`` when the study is off."""
        if not self.enabled(cfg):
            return []
        section = OmegaConf.select(cfg, self.section)
        fields = self.fields()
        base = {axis: self.values(cfg, axis) for axis in fields}
        out = []
        for index, entry in enumerate(list(section.get("grids") or []) or [{}]):
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
        grids = self.grids(cfg)
        if not grids:  # off: fixed and refine may read config the study's own checks skip
            return []
        fields, level, points = self.fields(), LEVELS[self.level], set()
        fixed = self.fixed(cfg) if self.fixed else {"data": cfg.data.name}
        refine = self.refine(cfg) if self.refine else None
        for axes in grids:
            # each axis's values in their path form, converted once per grid rather than once per point
            choices = [[(field.name, _path_value(field, v)) for v in axes[axis]] for axis, field in fields.items()]
            for combo in itertools.product(*choices):
                values = {**fixed, **dict(combo)}
                if refine is not None and (values := refine(values)) is None:
                    continue
                points.update(level.point(**v) for v in (values if isinstance(values, list) else [values]))
        return sorted(points)

    def check_axes(self, cfg) -> None:
        """Every axis of every grid: not empty, no duplicates, within its field's bounds; a
        ConfigError naming ``<section>.<axis>``."""
        for axes in self.grids(cfg):
            for axis, field in self.fields().items():
                key, values = self.key(axis), axes[axis]
                if len(values) == 0:
                    raise ConfigError(f"{key} is empty; give at least one value")
                if len(set(map(str, values))) != len(values):
                    raise ConfigError(f"{key} has duplicate values: {list(values)}")
                for v in values:
                    field.check_bounds(v, key)

    def check_size(self, cfg, limit: int) -> None:
        """At most ``limit`` points, counted from the grids' sizes before any point is made: a
        ConfigError naming each grid's axes and lengths, and ``max_points``."""
        sizes = [{axis: len(axes[axis]) for axis in self.axis_fields()} for axes in self.grids(cfg)]
        count = sum(math.prod(size.values()) for size in sizes)
        if count > limit:
            shown = " + ".join(" x ".join(f"{self.key(axis)}: {n}" for axis, n in size.items() if n > 1) or "1"
                               for size in sizes)
            raise ConfigError(f"{self.section} expands to {count} points ({shown}), more than max_points={limit}: "
                              "split the sweep into runs with their own sweep.name, or raise max_points")

    def check_paths(self, cfg) -> None:
        """Every value of every grid can form its path field, keeps its value there (a number is
        not rounded into another) and no two values share a path (a ConfigError naming the axis)."""
        for axes in self.grids(cfg):
            for axis, field in self.fields().items():
                key, seen = self.key(axis), {}
                for value in axes[axis]:
                    path = _path_value(field, value)
                    field.check(path, key, given=value)
                    if field.axis_type is float and float(path) != float(value):
                        raise ConfigError(f"{key}={value!r} would be stored as {path!r} (its path form rounds "
                                          f"it, and every artifact would claim {path}): give it as {path}")
                    if str(path) in seen:
                        raise ConfigError(f"{key}: {seen[str(path)]!r} and {value!r} collide in paths as {path!r}")
                    seen[str(path)] = value

    def check(self, cfg) -> None:
        """:meth:`check_axes`, :meth:`check_size` (``max_points``) and :meth:`check_paths`."""
        self.check_axes(cfg)
        self.check_size(cfg, cfg.max_points)
        self.check_paths(cfg)


def _typed_value(field: Field, value, where: str):
    """A ``grids`` entry value with its field's axis type (the entries are untyped dicts):
    integers stay integers; a class (the ``cond`` field) is ``'all'`` or an integer label."""
    if field.name == "cond":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ConfigError(f"{where}={value!r}: a class is 'all' or an integer label")
        return str(value)
    if field.axis_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}={value!r}: must be an integer")
        return value
    if field.axis_type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}={value!r}: must be a number")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}={value!r}: must be a string")
    return value


def _path_value(field: Field, value):
    """An axis value as its path field holds it (``classes=3`` is ``cond=c3``)."""
    return (field.from_axis or field.type)(value)


# --------------------------------------------------------------------------- the studies' grids

#: the schedule field of a blind model's ascent runs (its T field is deep.sampler.max_steps)
ADAPTIVE = "adaptive"


def ascent_steps(cfg) -> int:
    """The T field of an ascent run: its most steps (``deep.sampler.max_steps``, default of
    :func:`lindiff.deep.sample.sample_ascent`: 1000)."""
    return int(cfg.deep.sampler.get("max_steps", 1000))


def _deep_sample_runs(cfg):
    """A deep model's sampler runs: ``ascent`` (with the adaptive schedule and its most steps)
    for a blind size; every non-ascent sampler × schedule × T for a noise-conditional one."""
    conditional = {size: deep_train_config(cfg, size).model.conditional for size in cfg.sweep.deep.size}
    steps = ascent_steps(cfg)

    def refine(values):
        if conditional[values["size"]]:
            return None if values["sampler"] == ASCENT else values
        return {**values, "schedule": ADAPTIVE, "T": steps} if values["sampler"] == ASCENT else None

    return refine


def _trained_controls(cfg):
    """The networks a deep model's controls train beside it: one per (model, trained control)."""

    def refine(values):
        control = values.pop("control")
        return {**values, "variant": control} if control in TRAINED_CONTROLS else None

    return refine


def _ab_linear_model(cfg) -> dict:
    g = cfg.sweep.generalization
    return {"data": cfg.data.name, "abmodel": ab_linear_model(g.schedule, g.T, g.rank)}


def _ab_deep_model(cfg) -> dict:
    return {"data": cfg.data.name, "abmodel": f"deep_{cfg.sweep.generalization.deep.size}"}


def _no_data(cfg) -> dict:
    return {}


def _multiscale_models(cfg):
    """The models of one (wavelet, n, seed, rf) (:func:`lindiff.studies.multiscale.model_names`: the
    flat one and each scale's at that RF, the flat full-RF reference and the low-pass model, the same
    for every RF)."""
    levels = int(cfg.multiscale.levels)

    def refine(values):
        rf = values.pop("rf")
        return [{**values, "scale": scale, "rf": model_rf} for scale, model_rf in model_names([rf], levels)]

    return refine


def _multiscale_syntheses(cfg):
    """The syntheses of one (wavelet, n, seed, rf): each of ``ARCHS`` at that RF, and the flat
    full-RF reference."""

    def refine(values):
        rf = values.pop("rf")
        return [{**values, "arch": arch, "rf": rf} for arch in ARCHS] + [{**values, "arch": "flat", "rf": FULL}]

    return refine


def _theory_denoisers(cfg):
    """The denoisers of one sampler run of the theory study: the network and each of ``theory.denoisers``."""
    names = [NETWORK, *(str(name) for name in cfg.theory.denoisers)]

    def refine(values):
        return [{**values, "theory": name} for name in names]

    return refine


#: the receptive-field study's axes (sweep.multiscale.<axis>) and the path fields they feed
MULTISCALE_AXES = {"wavelet": "wavelet", "n": "n", "seed": "seed", "rf": "rf"}

#: the theory study's axes (sweep.theory.<axis>): a deep model's and its sampler run's
THEORY_AXES = {axis: axis for axis in ("n", "size", "seed", "sampler", "schedule", "T")}

#: Every study's grids, one entry per (study, level): the points, their axis checks (keys, bounds,
#: path forms, ``max_points``) and every target and params slice that lists points derive from here.
#: The axes are the levels' fields (see :attr:`GridStudy.axes`) except where a study names them.
GRID_STUDIES: tuple[GridStudy, ...] = (
    # the linear chain: one chain per (class, n, seed, schedule, T, rank): sweep.<axis>, sweep.grids
    LINEAR := GridStudy("linear", "sweep", "rank"),
    # the samplers study: one run per (n, seed, schedule, T, sampler, denoiser)
    SAMPLERS := GridStudy("samplers", "sweep.samplers", "sampler_point", enabled_by="n"),
    # the deep study: one model per (n, size, seed), its sampler runs (see _deep_sample_runs)
    GridStudy("deep", "sweep.deep", "deep", enabled_by="n", requires="deep.enabled"),
    GridStudy("deep", "sweep.deep", "deep_sample", enabled_by="n", requires="deep.enabled", refine=_deep_sample_runs),
    GridStudy("deep", "sweep.deep", "deep_control", enabled_by=("n", "control"), requires="deep.enabled",
              refine=_deep_sample_runs),
    GridStudy("deep", "sweep.deep", "deep_variant", {"n": "n", "size": "size", "seed": "seed", "control": "control"},
              enabled_by=("n", "control"), requires="deep.enabled", refine=_trained_controls),
    # the A/B study: one point per (seed, model, n); its linear and its deep family
    GridStudy("generalization", "sweep.generalization", "ab_point", {"seed": "abseed", "n": "n"}, enabled_by="n",
              fixed=_ab_linear_model),
    GridStudy("generalization", "sweep.generalization", "ab_point", {"seed": "abseed", "deep.n": "n"},
              enabled_by="deep.n", requires="deep.enabled", fixed=_ab_deep_model),
    # the GAHB study: per C^α regularity and per disk training-set size, the data split and one
    # blind model per size
    GridStudy("gahb", "sweep.gahb", "gahb_calpha_data", enabled_by="alpha", fixed=_no_data),
    GridStudy("gahb", "sweep.gahb", "gahb_calpha", enabled_by="alpha", fixed=_no_data),
    GridStudy("gahb", "sweep.gahb", "gahb_disks_data", enabled_by="n", fixed=_no_data),
    GridStudy("gahb", "sweep.gahb", "gahb_disks", enabled_by="n", fixed=_no_data),
    # the receptive-field study: per (wavelet, n, seed) and RF, the flat and per-scale models and
    # the flat and wavelet syntheses (with the full-RF flat reference and the shared low-pass model)
    GridStudy("multiscale", "sweep.multiscale", "ms_model", MULTISCALE_AXES, enabled_by="n", requires="deep.enabled",
              refine=_multiscale_models),
    GridStudy("multiscale", "sweep.multiscale", "ms_synth", MULTISCALE_AXES, enabled_by="n", requires="deep.enabled",
              refine=_multiscale_syntheses),
    # the theory-vs-network study: per deep model (n, size, seed) and sampler run, the network and
    # each analytic denoiser (see _theory_denoisers)
    GridStudy("theory", "sweep.theory", "theory_denoiser", THEORY_AXES, enabled_by="n", requires="deep.enabled",
              refine=_theory_denoisers),
)

#: the sweep axes of the linear chain (``sweep.<axis>`` and keys of ``sweep.grids`` entries)
SWEEP_AXES = tuple(LINEAR.axis_fields())


def points(cfg, *levels: str) -> list[Point]:
    """Every point at these levels (sorted, no duplicates): the union of their grid studies."""
    unknown = [level for level in levels if level not in {g.level for g in GRID_STUDIES}]
    if unknown:
        raise ValueError(f"no grid study declares the level(s) {unknown}")
    return sorted({p for g in GRID_STUDIES if g.level in levels for p in g.points(cfg)})


def grids(cfg) -> list[dict[str, list]]:
    """The linear chain's grids (:meth:`GridStudy.grids` of :data:`LINEAR`)."""
    return LINEAR.grids(cfg)


def sweep_points(cfg) -> list[Point]:
    """All points of the linear chain (``rank`` level)."""
    return points(cfg, "rank")
