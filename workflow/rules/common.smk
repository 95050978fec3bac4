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


def designed_rows():
    """Sweep-table rows of the designed points."""
    return [row for row in sweep_table() if is_designed(row["schedule"])]


def designed_inputs(wildcards):
    """Design artifacts of the designed sweep points (compare_schedules' input)."""
    return sorted({os.path.join(row["learn_dir"], "design", name) for row in designed_rows()
                   for name in ("predicted_spectrum.parquet", "design.json")})


def designed_samples(wildcards):
    """Samples of the designed sweep points (their refined injected noise and its prediction)."""
    return sorted(os.path.join(row["rank_dir"], "samples.npz") for row in designed_rows())


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
    targets += ab_targets()
    return sorted(set(targets))


# --------------------------------------------------------------------------- A/B generalization study
# sweep.generalization (rules in generalization.smk): two disjoint halves A and B of the data,
# one model per (half, n), same-seed samples from both, compared per n, one curve per model.
#   results/{data}/generalization/s{abseed}/halves.npz
#     .../linear_{schedule}_T{T}_r{rank}/n{n}/{half}/bases.npz     .../n{n}/samples.npz
#     .../deep_{size}/n{n}/{half}/model.pt                          .../n{n}/samples.npz
#     .../{abmodel}/n{n}/ab_metrics.json, ab_pairs.parquet, fig_ab_pairs.png
#     .../{abmodel}/generalization_curve.parquet, fig_generalization.png

wildcard_constraints:
    abseed="[0-9]+",
    abmodel="linear_[a-z]+_T[0-9]+_r[0-9]+|deep_[A-Za-z0-9]+",
    half="A|B",

AB_POINTS = ldc.generalization_points(LD)
AB_DIR = os.path.join("{data}", "generalization", "s{abseed}")
AB_LINEAR = os.path.join(AB_DIR, "linear_{schedule}_T{T}_r{rank}", "n{n}")
AB_DEEP = os.path.join(AB_DIR, "deep_{size}", "n{n}")
AB_POINT = os.path.join(AB_DIR, "{abmodel}", "n{n}")
AB_STUDY = os.path.join(AB_DIR, "{abmodel}")
AB_CURVE_OUTPUTS = ("generalization_curve.parquet", "fig_generalization.png")


def ab_path(pattern, name):
    """results/<pattern>/<name> for one of the AB_* patterns."""
    return os.path.join(RESULTS, pattern, name)


def ab_split_params(wildcards):
    return {"data": RESOLVED["data"], "seed": int(wildcards.abseed)}


def ab_linear_params(wildcards):
    """Resolved config of a linear A/B job (per n; the learn jobs add the half)."""
    g = RESOLVED["sweep"]["generalization"]
    params = {
        **ab_split_params(wildcards),
        "n": int(wildcards.n),
        "schedule": ldc.ab_schedule_params(LD),
        "T": int(wildcards.T),
        "rank": int(wildcards.rank),
        "learn": {"method": RESOLVED["learn"]["method"], "noise": RESOLVED["learn"]["noise"]},
        "centered": g["centered"],
    }
    if "half" in wildcards.keys():
        return {**params, "half": wildcards.half}
    return {**params, "n_samples": g["n_samples"], "injection": g["injection"],
            "generate": {k: RESOLVED["generate"][k] for k in ("injection", "injection_scale")}}


def ab_deep_params(wildcards):
    """Resolved config of a deep A/B job (the size's overrides of the preset included)."""
    g = RESOLVED["sweep"]["generalization"]["deep"]
    deep = RESOLVED["deep"]
    params = {**ab_split_params(wildcards), "n": int(wildcards.n), "size": wildcards.size}
    if "half" in wildcards.keys():
        return {**params, "half": wildcards.half, "steps": g["steps"], "psnr_sigmas": deep["psnr_sigmas"],
                "deep": {"preset": deep["preset"], "device": deep["device"], "overrides": deep["sizes"][wildcards.size]}}
    sampler = {k: v for k, v in deep["sampler"].items() if k != "n_samples"}
    return {**params, "n_samples": g["n_samples"], "sampler": {**sampler, **g["sampler"]}}


def ab_compare_params(wildcards):
    return {**ab_split_params(wildcards), "n": int(wildcards.n), "model": wildcards.abmodel,
            "centered": RESOLVED["sweep"]["generalization"]["centered"]}


def ab_study_points(wildcards):
    points = [p for p in AB_POINTS if (p.data, p.seed, p.model) == (wildcards.data, int(wildcards.abseed), wildcards.abmodel)]
    if not points:
        raise ValueError(f"no A/B study {wildcards.data}/s{wildcards.abseed}/{wildcards.abmodel} in this config")
    return points


def ab_curve_params(wildcards):
    return {**ab_split_params(wildcards), "model": wildcards.abmodel, "n": [p.n for p in ab_study_points(wildcards)]}


def ab_curve_inputs(wildcards):
    return [os.path.join(RESULTS, p.id, "ab_metrics.json") for p in ab_study_points(wildcards)]


def ab_targets():
    """The curve (table + figure) of every (data, seed, model) of the A/B study."""
    studies = sorted({p.study_id for p in AB_POINTS})
    return [os.path.join(RESULTS, study, name) for study in studies for name in AB_CURVE_OUTPUTS]
