"""Sweep levels: the one declaration of how a sweep point maps to its artifact paths.

A *field* is one path wildcard (``n``, ``rank``, ``schedule`` ...): its regex (Snakemake's
wildcard constraint and the config-time check that a value can form a path), its type, the
sweep axis it comes from and that axis's minimum.  A *level* is a directory pattern made of
fields (the data → learn → rank chain, a deep model, the A/B study's levels): every artifact of
a job at that level lives under ``<results_dir>/<pattern>/``, its W&B group and point id is the
formatted pattern, and its seed is keyed by the id of its ``seed_level`` (the rank level seeds
with the learn level's id, so chains of different ranks start from the same noise).

Everything else derives from :data:`LEVELS` and :data:`FIELDS`: the ``wildcard_constraints``,
path helpers and params of ``workflow/rules/common.smk``, the studies' points and axis checks
(:data:`lindiff.pipeline.sweep.GRID_STUDIES`), :func:`point_id` and the seeds of rule jobs
(:mod:`lindiff.pipeline.jobs`), the sweep table of the aggregate rule, and the tests.

Adding a sweep axis: a field here (and its place in a level's pattern), the axis in the sweep
schema (:mod:`lindiff.pipeline.schema`), and its use in the rule script; see
``docs/extending.md``.
"""

from __future__ import annotations

import math
import os
import re
import string
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lindiff.deep.config import FIG7_CONTROLS, TRAINED_CONTROLS
from lindiff.errors import ConfigError
from lindiff.studies.multiscale import ARCHS, SCALE_PATTERN
from lindiff.studies.multiscale import FULL as MULTISCALE_FULL
from lindiff.studies.theory import NETWORK, THEORY_DENOISERS


def cond_name(value) -> str:
    """The ``cond`` path field of a ``sweep.classes`` value: ``all`` or ``c<label>``."""
    return "all" if str(value) == "all" else f"c{int(value)}"


def alpha_name(value) -> str:
    """The ``alpha`` path field of a ``sweep.gahb.alpha`` value: ``2`` for 2.0, ``1.5`` for 1.5."""
    return format(float(value), "g")


#: the longest value a path field may take (a directory name, with room for its prefix)
MAX_PATH_FIELD = 100


@dataclass(frozen=True)
class Field:
    """One wildcard of the path patterns.

    ``axis`` is the linear chain's sweep axis (``sweep.<axis>``) whose values it takes;
    ``axis_type`` is the type of an axis value (default: ``type``), ``from_axis`` maps an axis
    value to the path value; ``minimum`` and ``maximum`` bound the axis values (None: no bound),
    ``positive`` requires them positive and finite.
    """

    name: str
    regex: str
    type: Callable[[str], Any] = str
    axis: str | None = None
    from_axis: Callable[[Any], Any] | None = None
    minimum: int | None = None
    maximum: int | None = None
    positive: bool = False
    axis_type: Callable[[Any], Any] | None = None

    def __post_init__(self):
        if self.axis_type is None:
            object.__setattr__(self, "axis_type", self.type)

    def check_bounds(self, value, key: str) -> None:
        """An axis value within the declared bounds, else a ConfigError naming ``key``."""
        if self.positive and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{key}={value}: must be positive and finite")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{key}={value}: must be >= {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{key}={value}: must be <= {self.maximum}")

    def check(self, value, key: str, given=None) -> None:
        """``value`` (as it goes into a path) must match :attr:`regex`, else a ConfigError
        naming ``key`` (and the ``given`` config value it came from): a value that cannot form a
        path fails at config time, not in Snakemake."""
        if not re.fullmatch(self.regex, str(value)):
            shown = f"{given!r} (in paths {value!r})" if given is not None and str(given) != str(value) else repr(value)
            raise ConfigError(f"{key}={shown} cannot form the path field {{{self.name}}}: it must match {self.regex!r}")
        if len(str(value)) > MAX_PATH_FIELD:
            raise ConfigError(f"{key}={str(value)[:20]}... ({len(str(value))} characters) cannot form the path field "
                              f"{{{self.name}}}: at most {MAX_PATH_FIELD} characters (a file name's limit is 255)")


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("data", "[a-z]+"),
        Field("cond", "all|c[0-9]+", axis="classes", from_axis=cond_name),
        Field("n", "[0-9]+", int, axis="n", minimum=2),
        Field("seed", "[0-9]+", int, axis="seed", minimum=0, maximum=2**63 - 1),  # int64 in the tables
        Field("schedule", "[a-z]+", axis="schedule"),
        Field("T", "[0-9]+", int, axis="T", minimum=1),
        Field("rank", "[0-9]+", int, axis="rank", minimum=1),
        Field("size", "[A-Za-z0-9]+"),
        Field("sweep", "[A-Za-z0-9_-]+"),
        Field("abseed", "[0-9]+", int, minimum=0, maximum=2**63 - 1),
        Field("abmodel", "linear_[a-z]+_T[0-9]+_r[0-9]+|deep_[A-Za-z0-9]+"),
        Field("half", "A|B"),
        Field("sampler", "[a-z]+"),  # a diffusion.samplers key
        Field("control", "|".join(FIG7_CONTROLS)),
        Field("variant", "|".join(TRAINED_CONTROLS)),  # a network trained beside a deep model (a Fig. 7 control)
        Field("denoiser", "projection|wiener|empirical|deep"),
        # sweep.gahb.alpha (the C^α regularity)
        Field("alpha", r"[0-9]+(\.[0-9]+)?", axis_type=float, from_axis=alpha_name, positive=True),
        # the receptive-field study (sweep.multiscale): an orthogonal wavelet of PyWavelets, a model's
        # band (flat: the pixels; low: the coarsest low-pass; j<j>: the details of scale j), the
        # receptive field (a side in pixels of its grid; full: it covers the image) and a synthesis
        Field("wavelet", "haar|db[0-9]+|sym[0-9]+|coif[0-9]+"),
        Field("scale", SCALE_PATTERN),
        Field("rf", f"[0-9]+|{MULTISCALE_FULL}", axis_type=int, from_axis=str, minimum=1),
        Field("arch", "|".join(ARCHS)),
        # the theory-vs-network study (sweep.theory): the network, or an analytic denoiser beside it
        Field("theory", "|".join((NETWORK, *THEORY_DENOISERS))),
    )
}


def wildcard_constraints() -> dict[str, str]:
    """``{field: regex}``: the workflow's global ``wildcard_constraints``."""
    return {name: f.regex for name, f in FIELDS.items()}


@dataclass(frozen=True)
class Level:
    """A directory pattern of the results tree (relative to ``results_dir``).

    ``order`` lists the fields in the order points sort by (and sweep-table columns appear
    in); default: the pattern's order.  ``id_pattern`` is the point id (W&B group, log and
    benchmark file names); default: the pattern.  ``seed_level`` names the level whose id
    keys the job seeds; default: this level.  ``group_level`` names the level whose id is the
    W&B group of its jobs (a learn point's learn, generate and analyze runs share a group, the
    rank in their config); default: this level.
    """

    name: str
    pattern: str
    order: tuple[str, ...] = ()
    id_pattern: str | None = None
    seed_level: str | None = None
    group_level: str | None = None

    def __post_init__(self):
        if self.order and set(self.order) != set(self.fields):
            raise ValueError(f"level {self.name}: order {self.order} must list exactly the fields {self.fields}")
        unknown = [f for f in self.fields if f not in FIELDS]
        if unknown:
            raise ValueError(f"level {self.name}: undeclared field(s) {unknown}; add them to FIELDS")

    @property
    def fields(self) -> tuple[str, ...]:
        """The wildcards of the pattern, in path order."""
        return tuple(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(self.pattern) if f))

    @property
    def sort_fields(self) -> tuple[str, ...]:
        return self.order or self.fields

    def format(self, **values) -> str:
        """The relative directory of one point."""
        return self.pattern.format(**values)

    def id(self, **values) -> str:
        return (self.id_pattern or self.pattern).format(**values)

    def seed_key(self, **values) -> str:
        """The point string a job's seed derives from (see :func:`derive_seed`)."""
        level = LEVELS[self.seed_level] if self.seed_level else self
        return level.id(**values)

    def group(self, **values) -> str:
        """The W&B group of this level's jobs (the id of its ``group_level``)."""
        level = LEVELS[self.group_level] if self.group_level else self
        return level.id(**values)

    def path(self, results_dir: str, *names: str) -> str:
        """``<results_dir>/<pattern>/<names...>`` with the wildcards left in (a Snakemake pattern)."""
        return os.path.join(results_dir, self.pattern, *names)

    def fix(self, **values) -> str:
        """The pattern with some wildcards filled in, the others left as ``{name}``."""
        keep = {f: "{" + f + "}" for f in self.fields if f not in values}
        return self.pattern.format(**keep, **{k: v for k, v in values.items() if k in self.fields})

    def typed(self, wildcards: Mapping[str, Any]) -> dict[str, Any]:
        """The level's wildcard values converted to their field types (``n`` → int ...)."""
        return {f: FIELDS[f].type(wildcards[f]) for f in self.fields}

    def point(self, **values) -> Point:
        missing = [f for f in self.fields if f not in values]
        if missing:
            raise ConfigError(f"a {self.name} point needs {missing}")
        return Point(self.name, tuple((f, values[f]) for f in self.sort_fields))


_DATA = "{data}/{cond}/n{n}_s{seed}"
_LEARN = _DATA + "/{schedule}_T{T}"
_AB = "{data}/generalization/s{abseed}"
_TRAINSET = "{data}/all/n{n}_s{seed}"
_DEEP = _TRAINSET + "/deep_{size}"
_SAMPLER = "{data}/all/n{n}_s{seed}/samplers/{schedule}_T{T}/{sampler}"
_GAHB = "gahb/s{seed}"
_MULTISCALE = "{data}/multiscale/{wavelet}/n{n}_s{seed}"

LEVELS: dict[str, Level] = {
    level.name: level
    for level in (
        # the linear chain: the training set, its bases along a schedule, a chain of one rank
        Level("data", _DATA, order=("data", "cond", "n", "seed")),
        Level("learn", _LEARN, order=("data", "cond", "n", "schedule", "T", "seed")),
        Level("rank", _LEARN + "/r{rank}", order=("data", "cond", "n", "schedule", "T", "seed", "rank"),
              seed_level="learn", group_level="learn"),
        # the unconditional training set of (n, seed) (the data level's cond=all directory): its
        # Gaussian (samplers study, gaussian/), the digit classifier and the quality table (quality/)
        Level("trainset", _TRAINSET),
        # one deep denoiser trained on that set; one sampler run of it (ascent_adaptive_T<steps> for
        # a blind model, <sampler>_<schedule>_T<T> for a noise-conditional one): its recorded
        # paths, samples, Fig. 7 Jacobians and sample quality (the runs of one model share its W&B group)
        Level("deep", _DEEP, order=("data", "n", "size", "seed")),
        Level("deep_sample", _DEEP + "/{sampler}_{schedule}_T{T}",
              order=("data", "n", "size", "seed", "sampler", "schedule", "T"), group_level="deep"),
        # a network trained beside the model for Fig. 7's controls (on pixel-permuted data, or
        # with another training seed)
        Level("deep_variant", _DEEP + "/variant_{variant}", order=("data", "n", "size", "seed", "variant"),
              group_level="deep"),
        # a Fig. 7 control at that run's path points (its Jacobians, statistics, figure)
        Level("deep_control", _DEEP + "/{sampler}_{schedule}_T{T}/control_{control}",
              order=("data", "n", "size", "seed", "sampler", "schedule", "T", "control"), group_level="deep",
              seed_level="deep_sample"),  # every control resamples the same paths (a paired bootstrap)
        # the samplers study: a sampler's noise levels (designed ones from the training set's
        # Gaussian), one sampler run with one denoiser; the denoisers of one (schedule, T, sampler)
        # share their noise (seed) and their W&B group
        Level("sampler_levels", _SAMPLER, order=("data", "n", "seed", "schedule", "T", "sampler")),
        Level("sampler_point", _SAMPLER + "/{denoiser}", order=("data", "n", "seed", "schedule", "T", "sampler", "denoiser"),
              seed_level="sampler_levels", group_level="sampler_levels"),
        # cross-sweep outputs
        Level("sweep", "sweeps/{sweep}", id_pattern="{sweep}"),
        # the A/B generalization study: the halves, one model per (family, n[, half]), the curve
        Level("ab_split", _AB),
        Level("ab_train", _AB + "/train/n{n}/{half}"),  # the training subset of one model (and its test rows)
        Level("ab_linear", _AB + "/linear_{schedule}_T{T}_r{rank}/n{n}"),
        Level("ab_linear_half", _AB + "/linear_{schedule}_T{T}_r{rank}/n{n}/{half}"),
        Level("ab_deep", _AB + "/deep_{size}/n{n}"),
        Level("ab_deep_half", _AB + "/deep_{size}/n{n}/{half}"),
        Level("ab_point", _AB + "/{abmodel}/n{n}", order=("data", "abseed", "abmodel", "n")),
        Level("ab_study", _AB + "/{abmodel}"),
        # the GAHB study (sweep.gahb): per C^α regularity and per disk training-set size, the
        # generated data's split (train/test rows) and one blind denoiser per model size; one
        # summary (tables, figures) per (seed, size)
        Level("gahb_calpha_data", _GAHB + "/calpha/a{alpha}", order=("seed", "alpha")),
        Level("gahb_calpha", _GAHB + "/calpha/a{alpha}/deep_{size}", order=("seed", "size", "alpha"),
              group_level="gahb_study"),
        Level("gahb_disks_data", _GAHB + "/disks/n{n}", order=("seed", "n")),
        Level("gahb_disks", _GAHB + "/disks/n{n}/deep_{size}", order=("seed", "size", "n"), group_level="gahb_study"),
        Level("gahb_study", _GAHB + "/deep_{size}", order=("seed", "size")),
        # the receptive-field study (sweep.multiscale), on a training set of the sweep's data: one
        # model per (band, RF), one synthesis per (flat | wavelet, RF), the study's table and figures
        # (every job of a study seeds with the study's id: the same held-out images for every model)
        Level("ms_model", _MULTISCALE + "/model_{scale}_rf{rf}", order=("data", "wavelet", "n", "seed", "scale", "rf"),
              group_level="ms_study", seed_level="ms_study"),
        Level("ms_synth", _MULTISCALE + "/{arch}_rf{rf}", order=("data", "wavelet", "n", "seed", "arch", "rf"),
              group_level="ms_study", seed_level="ms_study"),
        Level("ms_study", _MULTISCALE, order=("data", "wavelet", "n", "seed")),
        # the theory-vs-network study (sweep.theory): per sampler run of a noise-conditional deep model,
        # the network or one analytic denoiser (its calibration, samples and measurements); every
        # denoiser of a run seeds with the run's id (the same noise draws); the run's comparison
        # table and figures are in the run's theory/ directory
        Level("theory_denoiser", _DEEP + "/{sampler}_{schedule}_T{T}/theory/{theory}",
              order=("data", "n", "size", "seed", "sampler", "schedule", "T", "theory"), group_level="deep",
              seed_level="deep_sample"),
    )
}

_BY_FIELDS = {frozenset(level.fields): level for level in LEVELS.values()}
assert len(_BY_FIELDS) == len(LEVELS), "two levels with the same wildcards cannot be told apart"


def level_of(wildcard_names) -> Level:
    """The level whose pattern has exactly these wildcards."""
    key = frozenset(wildcard_names)
    if key not in _BY_FIELDS:
        raise ConfigError(f"no sweep level has the wildcards {sorted(key)}")
    return _BY_FIELDS[key]


def job_level(wildcards: Mapping[str, Any]) -> tuple[Level, dict[str, Any]]:
    """A job's level and wildcard values (a mapping or Snakemake's Wildcards object)."""
    values = dict(wildcards.items()) if hasattr(wildcards, "items") else dict(wildcards)
    return level_of(values), values


def point_id(wildcards: Mapping[str, Any]) -> str:
    """The point id of a job from its wildcards (its level's formatted ``id_pattern``)."""
    level, values = job_level(wildcards)
    return level.id(**values)


def group_id(wildcards: Mapping[str, Any]) -> str:
    """The W&B group of a job from its wildcards (see :attr:`Level.group_level`)."""
    level, values = job_level(wildcards)
    return level.group(**values)


def seed_key(wildcards: Mapping[str, Any]) -> str:
    """The point string a job's seeds derive from (see :attr:`Level.seed_level`)."""
    level, values = job_level(wildcards)
    return level.seed_key(**values)


def ab_linear_model(schedule: str, T: int, rank: int) -> str:
    """The ``abmodel`` of the linear A/B family (the directory of ``ab_linear``)."""
    return f"linear_{schedule}_T{int(T)}_r{int(rank)}"


@dataclass(frozen=True, order=True)
class Point:
    """One point of a level: its field values, sorted by the level's ``order``.

    Field values read as attributes (``point.n``); :attr:`id` is the W&B group and log name,
    :meth:`dir` its directory, :meth:`at` the same point at a coarser level (a rank point's
    learn point)."""

    level: str
    values: tuple[tuple[str, Any], ...]

    def __getattr__(self, name: str) -> Any:
        for key, value in object.__getattribute__(self, "values"):
            if key == name:
                return value
        raise AttributeError(name)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def id(self) -> str:
        return LEVELS[self.level].id(**self.as_dict())

    def dir(self, results_dir: str) -> str:
        return os.path.join(results_dir, LEVELS[self.level].format(**self.as_dict()))

    def at(self, level: str) -> Point:
        return LEVELS[level].point(**self.as_dict())

    # linear-chain conveniences
    @property
    def label(self) -> int | None:
        """The class label of a conditional point (``cond = c<label>``), else None."""
        return None if self.cond == "all" else int(self.cond[1:])

    # A/B conveniences
    @property
    def kind(self) -> str:
        """``linear`` or ``deep`` (the A/B model family)."""
        return self.abmodel.split("_", 1)[0]

    @property
    def study_id(self) -> str:
        return self.at("ab_study").id


def derive_seed(seed: int, stage: str, *keys) -> np.random.SeedSequence:
    """A per-job seed from the sweep seed, the stage and the point (stable across runs).

    ``SeedSequence(seed, spawn_key=(crc32(stage), crc32(key)...))``: different stages and
    points get independent streams; the same config gives the same numbers.
    """
    spawn_key = tuple(zlib.crc32(str(k).encode()) for k in (stage, *keys))
    return np.random.SeedSequence(int(seed), spawn_key=spawn_key)
