# Helpers shared by the rules: the resolved configuration, path patterns, per-stage params.
import os
from pathlib import Path

from snakemake.utils import validate

from lindiff import __version__ as LINDIFF_VERSION
from lindiff import config as ldc
from omegaconf import OmegaConf

validate(config, schema="../schemas/config.schema.yaml")

# Compose + type-check + value-check before any job is scheduled (errors name the key).
LD = ldc.load(config.get("overrides", ""), config_dir=Path(workflow.basedir) / "conf")
RESOLVED = OmegaConf.to_container(LD, resolve=True)
POINTS = ldc.sweep_points(LD)
LEARN_KEYS = sorted({p.learn_key for p in POINTS})
RESULTS = LD.results_dir
SWEEP = LD.sweep.name

# Runtime settings that must not trigger reruns (W&B, output roots) travel in the
# Snakemake config, not in params.
config["lindiff_runtime"] = {
    "wandb": RESOLVED["wandb"],
    "results_dir": RESULTS,
    "sweep": SWEEP,
    "lindiff_version": LINDIFF_VERSION,
}

wildcard_constraints:
    data="[a-z]+",
    cond="all|c[0-9]+",
    n="[0-9]+",
    seed="[0-9]+",
    schedule="[a-z]+",
    T="[0-9]+",
    rank="[0-9]+",
    size="[A-Za-z0-9]+",
    sweep="[A-Za-z0-9_-]+",

# Every sweep axis an artifact depends on is in its path, and only those.
JOB = os.path.join("{data}", "{cond}", "n{n}_s{seed}")
LEARN_JOB = os.path.join(JOB, "{schedule}_T{T}")
RANK_JOB = os.path.join(LEARN_JOB, "r{rank}")


DEEP_JOB = os.path.join("{data}", "all", "n{n}_s{seed}", "deep_{size}")


def deep_path(name):
    """results/{data}/all/n{n}_s{seed}/deep_{size}/<name>: one deep-denoiser model."""
    return os.path.join(RESULTS, DEEP_JOB, name)


def data_path(name):
    """results/{data}/{cond}/n{n}_s{seed}/<name>: depends on data, class, n and seed."""
    return os.path.join(RESULTS, JOB, name)


def learn_path(name):
    """... /{schedule}_T{T}/<name>: adds the schedule and T (not the rank)."""
    return os.path.join(RESULTS, LEARN_JOB, name)


def rank_path(name):
    """... /{schedule}_T{T}/r{rank}/<name>: adds the rank."""
    return os.path.join(RESULTS, RANK_JOB, name)


def sweep_path(name):
    return os.path.join(RESULTS, "sweeps", "{sweep}", name)


def log_path(stage, job):
    return os.path.join(RESULTS, "logs", stage, f"{job}.log")


def benchmark_path(stage, job):
    return os.path.join(RESULTS, "benchmarks", stage, f"{job}.tsv")


def data_params(wildcards):
    """Resolved config a data job depends on (params: a change reruns the job)."""
    return {
        "data": RESOLVED["data"],
        "cond": wildcards.cond,
        "n": int(wildcards.n),
        "seed": int(wildcards.seed),
    }


def schedule_params(name):
    """The resolved entry of schedule ``name`` (``design`` only for the spectral kind, so that
    adding the option changed no other schedule's params)."""
    params = dict(RESOLVED["schedules"][name])
    if params.get("design") is None:
        params.pop("design", None)
    return params


def is_designed(name):
    return RESOLVED["schedules"][name]["name"] == ldc.SPECTRAL


def design_input(wildcards):
    """{"design": schedule.npz} for a spectral schedule (designed before the learn), else {}."""
    if not is_designed(wildcards.schedule):
        return {}
    return {"design": learn_path("design/schedule.npz").format(**dict(wildcards.items()))}


def learn_params(wildcards):
    return {
        **data_params(wildcards),
        "schedule": schedule_params(wildcards.schedule),
        "T": int(wildcards.T),
        "learn": RESOLVED["learn"],
    }


def generate_params(wildcards):
    return {**learn_params(wildcards), "rank": int(wildcards.rank), "generate": RESOLVED["generate"]}


def analyze_params(wildcards):
    return {**generate_params(wildcards), "analyze": RESOLVED["analyze"]}


def deep_params(wildcards):
    """Resolved config of a deep-denoiser job (the model variant's overrides included)."""
    deep = dict(RESOLVED["deep"])
    sizes = deep.pop("sizes")
    return {
        "data": RESOLVED["data"],
        "n": int(wildcards.n),
        "seed": int(wildcards.seed),
        "size": wildcards.size,
        "deep": {**deep, "overrides": sizes[wildcards.size]},
    }


DEEP_POINTS = ldc.deep_points(LD)


def point_paths(point):
    fields = dict(
        data=point.data, cond=point.cond, n=point.n, seed=point.seed,
        schedule=point.schedule, T=point.T, rank=point.rank,
    )
    return {
        "learn_dir": os.path.join(RESULTS, LEARN_JOB.format(**fields)),
        "rank_dir": os.path.join(RESULTS, RANK_JOB.format(**fields)),
    }


def sweep_table():
    """One row per sweep point with its axes and artifact directories (aggregate's input)."""
    return [{**point.__dict__, "id": point.id, **point_paths(point)} for point in POINTS]


def aggregate_inputs(wildcards):
    files = []
    for row in sweep_table():
        files.append(os.path.join(row["learn_dir"], "sin_theta.parquet"))
        files += [os.path.join(row["rank_dir"], name) for name in ("metrics.json", "pc_distribution.parquet", "samples.npz")]
    return sorted(set(files))


def designed_schedules():
    """Schedule keys of the sweep that are designed from the data (schedule=spectral)."""
    return sorted({p.schedule for p in POINTS if is_designed(p.schedule)})


def designed_inputs(wildcards):
    """Design artifacts of the designed sweep points (compare_schedules' input)."""
    rows = [row for row in sweep_table() if is_designed(row["schedule"])]
    return sorted({os.path.join(row["learn_dir"], "design", name) for row in rows
                   for name in ("predicted_spectrum.parquet", "design.json")})


AGGREGATE_OUTPUTS = [
    "summary.parquet",
    "fig1_trajectories.png",
    "fig3_dataset_size.png",
    "fig6_distributions.png",
    "power_iteration.png",
    "power_iteration.parquet",
]


def all_targets():
    targets = []
    for row in sweep_table():
        targets.append(os.path.join(row["learn_dir"], "fig2_sin_theta.png"))
        targets += [os.path.join(row["rank_dir"], name) for name in ("fig5_correlations.png", "fig6_distribution.png", "fig6_spectrum.png")]
    targets += [os.path.join(RESULTS, "sweeps", SWEEP, name) for name in AGGREGATE_OUTPUTS]
    if designed_schedules():
        targets += [os.path.join(RESULTS, "sweeps", SWEEP, name)
                    for name in ("spectral_schedule.parquet", "fig_spectral_schedule.png")]
    for point in DEEP_POINTS:
        folder = os.path.join(RESULTS, point.id)
        targets += [os.path.join(folder, name) for name in ("fig7_sin_theta_jacobian.png", "train_metrics.json")]
    return sorted(set(targets))
