"""Experiment configuration: Hydra composition, schema, value checks and the sweep grid.

The configuration lives in the repository's ``conf/`` (Hydra config groups ``data/``,
``schedule/``, ``sweep/``, ``wandb/``, ``experiment/``).  :func:`load` composes it with the
compose API (``version_base="1.3"``; no working-directory change, no output directories),
merges it into the typed schema :class:`LindiffConfig` (a wrong type fails naming the key),
and checks values against the data (rank <= d, n <= data size, ...) before anything runs.

Inspect a configuration without running anything::

    python -m lindiff.config sweep=paper data=mnist 'sweep.T=[20,65]'
    python -m lindiff.config --points sweep=smoke
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from lindiff import data as datasets
from lindiff.errors import ConfigError, DataError
from lindiff.schedules import SCHEDULES, Schedule, make_schedule

SWEEP_AXES = ("n", "rank", "T", "schedule", "seed", "classes")
WANDB_MODES = ("offline", "online", "disabled")
SCHEDULE_SCALES = ("sigma_max", "theorem")
SPECTRAL = "spectral"  # schedule kind designed from the data (lindiff.spectral.design_schedule)


# --------------------------------------------------------------------------- schema


@dataclass
class DataConfig:
    name: str = MISSING
    sigma_max: float = 10.0
    dir: Optional[str] = None
    download: bool = False
    split: str = "train"
    path: Optional[str] = None
    d: int = 200
    n_total: int = 2000
    lambdas: List[float] = field(default_factory=lambda: [5.0, 3.0, 2.0])
    floor: float = 0.0
    data_seed: int = 0


@dataclass
class DesignConfig:
    """``schedule=spectral``: options of :func:`lindiff.spectral.design_schedule`."""

    objective: str = "w2"               # w2 | kl
    injection: str = "free"             # free | increment | none
    steps: int = 300
    lr: float = 0.05
    init: str = "linear"                # initial shape of the increments
    sigma_max_bounds: Optional[List[float]] = None   # bounds on sigma_bar_T; null = (0.1, 1) * lambda_0
    free_initial_std: bool = False
    components: Optional[int] = None    # target components; null = learn.k
    seed: int = 0
    # After the learn, re-fit the injected stds and the std of xi_T to the learned chain at each
    # rank (exact second moment, lindiff.spectral.refine_injection); the schedule is unchanged.
    refine: bool = True


@dataclass
class ScheduleConfig:
    name: str = MISSING
    sigma_max: float = 10.0
    scale: str = "sigma_max"
    ratio: float = 100.0
    # Only for name=spectral (designed from the data's spectrum before learning).
    design: Optional[DesignConfig] = None


@dataclass
class DeepSweep:
    n: List[int] = field(default_factory=list)
    size: List[str] = field(default_factory=lambda: ["default"])
    seed: List[int] = field(default_factory=lambda: [0])


@dataclass
class GeneralizationDeep:
    """The deep part of the A/B study (:class:`GeneralizationSweep`); empty ``n`` = none."""

    n: List[int] = field(default_factory=list)
    size: str = "quick"
    n_samples: int = 16
    # Training steps per model, whatever n (None: the steps the size's preset takes on a whole half).
    steps: Optional[int] = None
    # Overrides of deep.sampler for the A/B samples (sample_ascent's sigma_0, sigma_final, h0, ...).
    sampler: Dict[str, Any] = field(default_factory=dict)


@dataclass
class GeneralizationSweep:
    """Memorization vs generalization (Kadkhodaie et al.): models learned on the first ``n``
    samples of two disjoint halves A and B, sampled with the same seeds.  Empty ``n`` = off."""

    n: List[int] = field(default_factory=list)
    seed: List[int] = field(default_factory=lambda: [0])
    schedule: str = "linear"
    T: int = 65
    rank: int = 20
    sigma_max: Optional[float] = None  # None: the schedule's own sigma_max
    n_samples: int = 100
    injection: bool = True  # generate.injection noise between steps (pixel-space, shared by A and B)
    centered: bool = True  # centered chains, cosines about the data mean
    deep: GeneralizationDeep = field(default_factory=GeneralizationDeep)


@dataclass
class DeepConfig:
    enabled: bool = False
    preset: str = "digits"
    device: str = "auto"
    sizes: Dict[str, Any] = field(default_factory=dict)
    sampler: Dict[str, Any] = field(default_factory=dict)
    jacobian: Dict[str, Any] = field(default_factory=dict)
    psnr_sigmas: List[float] = field(default_factory=lambda: [0.1, 0.2, 0.4])
    n_test: int = 500


@dataclass
class SweepConfig:
    name: str = MISSING
    n: List[int] = MISSING
    rank: List[int] = MISSING
    T: List[int] = MISSING
    schedule: List[str] = MISSING
    seed: List[int] = field(default_factory=lambda: [0])
    classes: List[str] = field(default_factory=lambda: ["all"])
    fig3_indices: List[int] = field(default_factory=lambda: [0, 5, 10])
    # Optional union of grids: each entry overrides some axes of the base grid above.
    grids: List[Dict[str, Any]] = field(default_factory=list)
    # Deep-denoiser models (Fig. 7): one per (n, size, seed); empty n = none.
    deep: DeepSweep = field(default_factory=DeepSweep)
    # Memorization vs generalization study (A/B halves); empty n lists = off.
    generalization: GeneralizationSweep = field(default_factory=GeneralizationSweep)


@dataclass
class WandbConfig:
    mode: str = "offline"
    project: str = "lindiff"
    entity: Optional[str] = None
    init_timeout: float = 60.0


@dataclass
class LearnConfig:
    k: int = 30
    method: str = "exact"
    noise: str = "cumulative"
    centered: bool = False


@dataclass
class GenerateConfig:
    n_samples: int = 1000
    n_trajectory: int = 4
    injection: str = "increment"
    injection_scale: float = 1.0


@dataclass
class AnalyzeConfig:
    max_sin: float = 0.1
    taus: List[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 1.0])


@dataclass
class LindiffConfig:
    data: DataConfig = field(default_factory=DataConfig)
    schedules: Dict[str, ScheduleConfig] = field(default_factory=dict)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    wandb: WandbConfig = field(default_factory=WandbConfig)
    learn: LearnConfig = field(default_factory=LearnConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    analyze: AnalyzeConfig = field(default_factory=AnalyzeConfig)
    deep: DeepConfig = field(default_factory=DeepConfig)
    results_dir: str = "results"


# --------------------------------------------------------------------------- composition


def default_config_dir() -> Path:
    """``$LINDIFF_CONF``, else the ``conf/`` of the repository this package lives in."""
    if os.environ.get("LINDIFF_CONF"):
        return Path(os.environ["LINDIFF_CONF"])
    return Path(__file__).resolve().parents[1] / "conf"


def parse_overrides(overrides) -> list[str]:
    """Hydra override strings from a shell-like string or a list (Snakemake's ``--config``)."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return shlex.split(overrides)
    if isinstance(overrides, (list, tuple)):
        return [str(o) for o in overrides]
    raise ConfigError(f"overrides must be a string or a list of strings, got {overrides!r}")


def compose(overrides=(), config_dir: str | os.PathLike | None = None) -> DictConfig:
    """Compose ``config.yaml`` with Hydra's compose API (no side effects on cwd)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException

    config_dir = Path(config_dir or default_config_dir()).resolve()
    if not (config_dir / "config.yaml").is_file():
        raise ConfigError(f"no config.yaml in the config directory {config_dir}")
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
            return hydra_compose(config_name="config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"bad configuration override: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def apply_schema(cfg: DictConfig) -> DictConfig:
    """Merge into :class:`LindiffConfig`; a wrong type or unknown key fails naming the key."""
    try:
        typed = OmegaConf.merge(OmegaConf.structured(LindiffConfig), cfg)
        OmegaConf.resolve(typed)
        OmegaConf.to_container(typed, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "?"
        message = getattr(exc, "msg", None) or _first_line(exc)
        raise ConfigError(f"config key {key}: {message.splitlines()[0]}") from None
    return typed


# --------------------------------------------------------------------------- data


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


def confined_path(key: str, value: str, base: Path | None = None) -> Path:
    """Resolve a path from the config: relative paths must stay inside ``base`` (the working
    directory); reaching elsewhere takes an absolute path, i.e. the user's explicit choice."""
    base = (base or Path.cwd()).resolve()
    path = Path(os.path.expanduser(value))
    if path.is_absolute():
        return path
    resolved = (base / path).resolve()
    if resolved != base and base not in resolved.parents:
        raise ConfigError(
            f"{key}={value!r} leaves the working directory {base}; give an absolute path to use a location outside it"
        )
    return resolved


def check_writable(key: str, path: Path) -> None:
    """The directory ``path`` exists and is writable, or can be created (nothing is created)."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{key}={str(path)!r} cannot be created: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}={str(path)!r} is not writable (no write permission on {probe})")


def check_paths(cfg, base: Path | None = None) -> None:
    """Paths from the config: confined to the working directory unless absolute; results writable."""
    check_writable("results_dir", confined_path("results_dir", cfg.results_dir, base))
    if cfg.data.name == "file" and cfg.data.path:
        confined_path("data.path", cfg.data.path, base)
    if cfg.data.name == "mnist" and cfg.data.dir:
        confined_path("data.dir", cfg.data.dir, base)


# --------------------------------------------------------------------------- sweep


@dataclass(frozen=True, order=True)
class Point:
    """One sweep point (a generate/analyze job); ``rank`` is the only axis learn ignores."""

    data: str
    cond: str  # "all" or "c<label>"
    n: int
    schedule: str
    T: int
    seed: int
    rank: int

    @property
    def label(self) -> int | None:
        return None if self.cond == "all" else int(self.cond[1:])

    @property
    def learn_key(self) -> tuple:
        return (self.data, self.cond, self.n, self.schedule, self.T, self.seed)

    @property
    def id(self) -> str:
        return f"{self.data}/{self.cond}/n{self.n}_s{self.seed}/{self.schedule}_T{self.T}/r{self.rank}"


@dataclass(frozen=True, order=True)
class DeepPoint:
    """One deep-denoiser model: trained on ``n`` samples, model variant ``size``, ``seed``."""

    data: str
    n: int
    size: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.data}/all/n{self.n}_s{self.seed}/deep_{self.size}"


def deep_points(cfg) -> list[DeepPoint]:
    """The deep-denoiser sweep (empty when ``deep.enabled`` is false)."""
    if not cfg.deep.enabled:
        return []
    sweep = cfg.sweep.deep
    return sorted({DeepPoint(cfg.data.name, int(n), str(size), int(seed))
                   for n in sweep.n for size in sweep.size for seed in sweep.seed})


@dataclass(frozen=True, order=True)
class ABPoint:
    """One training-set size of the A/B generalization study for one model family.

    ``model`` is ``linear_<schedule>_T<T>_r<rank>`` or ``deep_<size>``."""

    data: str
    seed: int
    model: str
    n: int

    @property
    def kind(self) -> str:
        return self.model.split("_", 1)[0]

    @property
    def study_id(self) -> str:
        return f"{self.data}/generalization/s{self.seed}/{self.model}"

    @property
    def id(self) -> str:
        return f"{self.study_id}/n{self.n}"


def ab_linear_model(schedule: str, T: int, rank: int) -> str:
    return f"linear_{schedule}_T{int(T)}_r{int(rank)}"


def generalization_points(cfg) -> list[ABPoint]:
    """The A/B study's points: one per (seed, model, n); empty when the study is off."""
    g = cfg.sweep.generalization
    models = []
    if len(g.n):
        models.append((ab_linear_model(g.schedule, g.T, g.rank), list(g.n)))
    if len(g.deep.n) and cfg.deep.enabled:
        models.append((f"deep_{g.deep.size}", list(g.deep.n)))
    return sorted({ABPoint(cfg.data.name, int(seed), model, int(n))
                   for seed in g.seed for model, ns in models for n in ns})


def ab_schedule_params(cfg) -> dict:
    """The study's schedule entry: ``schedules.<sweep.generalization.schedule>`` with its
    ``sigma_max`` replaced by ``sweep.generalization.sigma_max`` when that is set."""
    g = cfg.sweep.generalization
    params = dict(OmegaConf.to_container(cfg.schedules[g.schedule], resolve=True))
    if g.sigma_max is not None:
        params["sigma_max"] = float(g.sigma_max)
    return params


def cond_name(value) -> str:
    return "all" if str(value) == "all" else f"c{int(value)}"


def _grid_axes(sweep, grid: dict) -> dict[str, list]:
    axes = {axis: list(sweep[axis]) for axis in SWEEP_AXES}
    for key, values in grid.items():
        if key not in SWEEP_AXES:
            raise ConfigError(f"sweep.grids: unknown axis {key!r}; allowed: {', '.join(SWEEP_AXES)}")
        axes[key] = list(values) if isinstance(values, (list, tuple)) or OmegaConf.is_list(values) else [values]
    return axes


def grids(cfg) -> list[dict[str, list]]:
    """The sweep's grids: the base axes, or the union of ``sweep.grids`` entries over them."""
    entries = list(cfg.sweep.grids) or [{}]
    return [_grid_axes(cfg.sweep, OmegaConf.to_container(e) if OmegaConf.is_config(e) else dict(e)) for e in entries]


def sweep_points(cfg) -> list[Point]:
    """All sweep points (sorted, no duplicates)."""
    points = set()
    for axes in grids(cfg):
        for cls in axes["classes"]:
            for n in axes["n"]:
                for schedule in axes["schedule"]:
                    for T in axes["T"]:
                        for seed in axes["seed"]:
                            for rank in axes["rank"]:
                                points.add(Point(cfg.data.name, cond_name(cls), int(n), str(schedule), int(T), int(seed), int(rank)))
    return sorted(points)


def schedule_from_params(params, T: int) -> Schedule:
    """A schedule from its config entry (``name, sigma_max, scale, ratio``) with ``T`` steps.

    ``scale: theorem`` is Theorem 4.3's ``sigma_t = sigma_max / T``; ``scale: sigma_max``
    scales the shape so that ``sigma_bar[T] = sigma_max``.  The ``spectral`` schedule depends
    on the data: it is the artifact of the workflow's ``design_schedule`` rule
    (:func:`lindiff.spectral.design_schedule`), not a function of its parameters.
    """
    if params["name"] == SPECTRAL:
        raise ConfigError("the spectral schedule is designed from the data: load it from its design artifact")
    if params["scale"] == "theorem":
        return make_schedule(params["name"], T, step=params["sigma_max"] / T, ratio=params["ratio"])
    return make_schedule(params["name"], T, sigma_max=params["sigma_max"], ratio=params["ratio"])


def schedule_for(cfg, name: str, T: int) -> Schedule:
    """The configured schedule ``name`` with ``T`` steps."""
    return schedule_from_params(cfg.schedules[name], T)


def derive_seed(seed: int, stage: str, *keys) -> np.random.SeedSequence:
    """A per-job seed from the sweep seed, the stage and the point (stable across runs).

    ``SeedSequence(seed, spawn_key=(crc32(stage), crc32(key)...))``: different stages and
    points get independent streams; the same config gives the same numbers.
    """
    spawn_key = tuple(zlib.crc32(str(k).encode()) for k in (stage, *keys))
    return np.random.SeedSequence(int(seed), spawn_key=spawn_key)


# --------------------------------------------------------------------------- value checks


def _check_axis(name: str, values, minimum=None) -> None:
    if len(values) == 0:
        raise ConfigError(f"sweep.{name} is empty; give at least one value")
    if len(set(map(str, values))) != len(values):
        raise ConfigError(f"sweep.{name} has duplicate values: {list(values)}")
    if minimum is not None:
        for v in values:
            if v < minimum:
                raise ConfigError(f"sweep.{name}={v}: must be >= {minimum}")


def check_values(cfg, info: DataInfo | None = None) -> None:
    """Value checks that need no compute; with ``info`` also those against the data."""
    if cfg.data.name not in datasets.DATASET_NAMES:
        raise ConfigError(f"data.name={cfg.data.name!r} is unknown; allowed: {', '.join(datasets.DATASET_NAMES)}")
    if cfg.wandb.mode not in WANDB_MODES:
        raise ConfigError(f"wandb.mode={cfg.wandb.mode!r} is unknown; allowed: {', '.join(WANDB_MODES)}")
    for key, allowed in (("learn.method", ("exact", "naive")), ("learn.noise", ("cumulative", "independent")),
                         ("generate.injection", ("increment", "constant"))):
        value = OmegaConf.select(cfg, key)
        if value not in allowed:
            raise ConfigError(f"{key}={value!r} is unknown; allowed: {', '.join(allowed)}")
    for name, params in cfg.schedules.items():
        if params.name not in SCHEDULES + (SPECTRAL,):
            raise ConfigError(
                f"schedules.{name}.name={params.name!r} is unknown; allowed: {', '.join(SCHEDULES + (SPECTRAL,))}"
            )
        _check_design(name, params, cfg.learn.k)
        if not (math.isfinite(params.sigma_max) and params.sigma_max > 0):
            raise ConfigError(f"schedules.{name}.sigma_max={params.sigma_max}: must be positive and finite")
        if params.scale not in SCHEDULE_SCALES:
            raise ConfigError(f"schedules.{name}.scale={params.scale!r}; allowed: {', '.join(SCHEDULE_SCALES)}")
    if cfg.learn.k < 1:
        raise ConfigError(f"learn.k={cfg.learn.k}: must be >= 1")
    _check_deep(cfg, info)
    _check_generalization(cfg, info)
    if cfg.generate.n_samples < 1:
        raise ConfigError(f"generate.n_samples={cfg.generate.n_samples}: must be >= 1")
    if not 0 <= cfg.generate.n_trajectory <= cfg.generate.n_samples:
        raise ConfigError("generate.n_trajectory must be in [0, generate.n_samples]")
    for axes in grids(cfg):
        _check_axis("n", axes["n"], minimum=2)
        _check_axis("rank", axes["rank"], minimum=1)
        _check_axis("T", axes["T"], minimum=1)
        _check_axis("seed", axes["seed"], minimum=0)
        _check_axis("schedule", axes["schedule"])
        _check_axis("classes", axes["classes"])
        for name in axes["schedule"]:
            if name not in cfg.schedules:
                raise ConfigError(f"sweep.schedule: unknown schedule {name!r}; allowed: {', '.join(cfg.schedules)}")
        for cls in axes["classes"]:
            if str(cls) != "all" and not str(cls).lstrip("-").isdigit():
                raise ConfigError(f"sweep.classes: {cls!r} is neither 'all' nor a class label")
        for rank in axes["rank"]:
            if rank > cfg.learn.k:
                raise ConfigError(
                    f"sweep.rank={rank} exceeds the stored components learn.k={cfg.learn.k}; raise learn.k"
                )
        if info is not None:
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
    from lindiff.spectral import INJECTION_MODES, OBJECTIVES

    if design.objective not in OBJECTIVES:
        raise ConfigError(f"{key}.objective={design.objective!r} is unknown; allowed: {', '.join(OBJECTIVES)}")
    if design.injection not in INJECTION_MODES:
        raise ConfigError(f"{key}.injection={design.injection!r} is unknown; allowed: {', '.join(INJECTION_MODES)}")
    if design.init not in SCHEDULES:
        raise ConfigError(f"{key}.init={design.init!r} is unknown; allowed: {', '.join(SCHEDULES)}")
    if design.steps < 1:
        raise ConfigError(f"{key}.steps={design.steps}: must be >= 1")
    if not (math.isfinite(design.lr) and design.lr > 0):
        raise ConfigError(f"{key}.lr={design.lr}: must be positive")
    bounds = design.sigma_max_bounds
    if bounds is not None and not (len(bounds) == 2 and all(math.isfinite(b) for b in bounds) and 0 < bounds[0] <= bounds[1]):
        raise ConfigError(f"{key}.sigma_max_bounds={list(bounds)}: must be [lo, hi] with 0 < lo <= hi")
    if design.components is not None and not 1 <= design.components <= k:
        raise ConfigError(f"{key}.components={design.components}: must be in [1, learn.k={k}] (or null = learn.k)")


def design_components(params, k: int) -> int:
    """Number of target components of a spectral design: ``design.components`` or ``learn.k``."""
    components = params["design"]["components"] if isinstance(params, dict) else params.design.components
    return int(k if components is None else components)


def _check_deep(cfg, info: DataInfo | None) -> None:
    if not cfg.deep.enabled or not cfg.sweep.deep.n:
        return
    if cfg.deep.device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"deep.device={cfg.deep.device!r} is unknown; allowed: auto, cpu, cuda")
    for key in ("n", "size", "seed"):
        values = list(cfg.sweep.deep[key])
        if len(set(map(str, values))) != len(values):
            raise ConfigError(f"sweep.deep.{key} has duplicate values: {values}")
    for size in cfg.sweep.deep.size:
        if size not in cfg.deep.sizes:
            raise ConfigError(f"sweep.deep.size: unknown model size {size!r}; allowed: {', '.join(cfg.deep.sizes)}")
    for n in cfg.sweep.deep.n:
        if n < 2:
            raise ConfigError(f"sweep.deep.n={n}: must be >= 2")
        if info is not None and n + cfg.deep.n_test > info.n_total:
            raise ConfigError(
                f"sweep.deep.n={n} plus deep.n_test={cfg.deep.n_test} held-out samples exceed the "
                f"{info.n_total} samples of the data set"
            )


AB_SAMPLER_KEYS = ("sigma_0", "sigma_final", "h0", "beta", "init_mean", "max_steps")


def _check_generalization(cfg, info: DataInfo | None) -> None:
    """sweep.generalization: sizes in [2, floor(N/2)] (the half size), known schedule/size, ..."""
    g = cfg.sweep.generalization
    key = "sweep.generalization"
    if not len(g.n) and not len(g.deep.n):
        return
    for name, values in (("n", list(g.n)), ("seed", list(g.seed)), ("deep.n", list(g.deep.n))):
        if len(set(values)) != len(values):
            raise ConfigError(f"{key}.{name} has duplicate values: {values}")
    if not len(g.seed):
        raise ConfigError(f"{key}.seed is empty; give at least one seed")
    for seed in g.seed:
        if seed < 0:
            raise ConfigError(f"{key}.seed={seed}: must be >= 0")
    half = None if info is None else info.n_total // 2
    for name, values in (("n", g.n), ("deep.n", g.deep.n)):
        for n in values:
            if n < 2:
                raise ConfigError(f"{key}.{name}={n}: must be >= 2 (learning needs two training samples)")
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
        if g.T < 1:
            raise ConfigError(f"{key}.T={g.T}: must be >= 1")
        if g.rank < 1:
            raise ConfigError(f"{key}.rank={g.rank}: must be >= 1")
        if info is not None and g.rank > info.d:
            raise ConfigError(f"{key}.rank={g.rank} exceeds the data dimension d={info.d}")
        if g.sigma_max is not None and not (math.isfinite(g.sigma_max) and g.sigma_max > 0):
            raise ConfigError(f"{key}.sigma_max={g.sigma_max}: must be positive and finite (or null)")
        if g.n_samples < 1:
            raise ConfigError(f"{key}.n_samples={g.n_samples}: must be >= 1")
    if len(g.deep.n):
        if not cfg.deep.enabled:
            raise ConfigError(f"{key}.deep.n: no deep denoiser for data {cfg.data.name!r} (deep.enabled=false)")
        if g.deep.size not in cfg.deep.sizes:
            raise ConfigError(
                f"{key}.deep.size: unknown model size {g.deep.size!r}; allowed: {', '.join(cfg.deep.sizes)}"
            )
        if g.deep.n_samples < 1:
            raise ConfigError(f"{key}.deep.n_samples={g.deep.n_samples}: must be >= 1")
        if g.deep.steps is not None and g.deep.steps < 1:
            raise ConfigError(f"{key}.deep.steps={g.deep.steps}: must be >= 1 (or null)")
        unknown = sorted(set(g.deep.sampler) - set(AB_SAMPLER_KEYS))
        if unknown:
            raise ConfigError(f"{key}.deep.sampler: unknown key(s) {unknown}; allowed: {', '.join(AB_SAMPLER_KEYS)}")


def _check_against_data(axes: dict, info: DataInfo, k: int) -> None:
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


def load(overrides=(), config_dir=None, check_data: bool = True) -> DictConfig:
    """Compose, type-check and value-check the configuration.  Raises :class:`ConfigError`."""
    cfg = apply_schema(compose(parse_overrides(overrides), config_dir))
    check_values(cfg)
    check_paths(cfg)
    if check_data:
        check_values(cfg, data_info(cfg.data))
    return cfg


def to_yaml(cfg) -> str:
    return OmegaConf.to_yaml(cfg, resolve=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lindiff.config", description="Print the resolved configuration.")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. sweep=paper data=mnist 'sweep.T=[20,65]'")
    parser.add_argument("--points", action="store_true", help="also list the sweep points")
    parser.add_argument("--config-dir", default=None)
    parser.add_argument("--no-data-check", action="store_true", help="skip the checks that read the data")
    args = parser.parse_args(argv)
    try:
        cfg = load(args.overrides, args.config_dir, check_data=not args.no_data_check)
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(to_yaml(cfg), end="")
    points = sweep_points(cfg)
    print(f"# {len(points)} sweep points, {len({p.learn_key for p in points})} learn jobs")
    if args.points:
        for p in points:
            print(f"#   {p.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
