# Helpers shared by the rules: the resolved configuration, path patterns, per-stage params.
# Paths, wildcard constraints, point ids and seeds all derive from the sweep levels declared
# once in lindiff/pipeline/levels.py (LEVELS, FIELDS).
import os
from pathlib import Path

from snakemake.utils import validate

from lindiff import __version__ as LINDIFF_VERSION
from lindiff.pipeline import config as ldc
from lindiff.pipeline import datasets as ldd
from lindiff.pipeline import resources as ldr
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.levels import LEVELS, wildcard_constraints as level_wildcard_constraints
from lindiff.pipeline import runstart
from lindiff.pipeline.schema import DESIGNED, SPECTRAL

# `overrides` as typed (Snakemake's YAML parsing of --config drops " #..." and strips quotes).
if "overrides" in config:
    config["overrides"] = ldc.snakemake_overrides(config["overrides"], workflow.config_settings.config_args)
validate(config, schema="../schemas/config.schema.yaml")

# Compose + type-check + value-check before any job is scheduled (errors name the key).
LD = ldc.load(config.get("overrides", ""), config_dir=Path(workflow.basedir) / "conf")
RESOLVED = ldc.resolved(LD)
POINTS = lds.sweep_points(LD)
RESULTS = LD.results_dir

# Once per call, in the main process: the stale locks of a killed Snakemake removed (under
# .snakemake/ only; the results tree is left alone while parsing: a dry run is not known yet).
# Corrupt artifacts are forced to rebuild while the DAG is built (force_rebuild_of_corrupt, an
# input of `all`), the W&B "unreachable" note is cleared when a real run starts (onstart).
if workflow.is_main_process:
    runstart.start_of_run()


onstart:
    runstart.clear_run_notes(RESULTS)


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
    **level_wildcard_constraints(),


# Cluster execution: the generate and analyze jobs of one sweep point (seconds each) form one
# group job (one SLURM job); the cheap cross-sweep rules run locally (in the Snakemake process).
POINT_GROUP = "point"


localrules:
    all,
    aggregate,
    compare_schedules,
    ab_curve,
    compare_samplers,
    gahb_summary,


# The levels' path patterns (relative to RESULTS): every sweep axis an artifact depends on is
# in its path, and only those.
JOB, LEARN_JOB, RANK_JOB, DEEP_JOB, DEEP_SAMPLE_JOB, TRAINSET_JOB = (
    LEVELS[name].pattern for name in ("data", "learn", "rank", "deep", "deep_sample", "trainset")
)


DATA_SHAPE = ldr.data_shape(LD.data)


def job_mem(stage, floor):
    """A rule's ``mem_mb``: the job's memory estimate (lindiff/pipeline/resources.py, the same
    estimate that refused oversized sweeps before any job), at least ``floor``."""

    known = {}  # (n, T) -> MiB: Snakemake asks once per job, and most jobs share their sizes

    def mem_mb(wildcards):
        n, T = (int(getattr(wildcards, name, 0) or 0) for name in ("n", "T"))
        if (n, T) not in known:
            known[n, T] = max(floor, ldr.job_mem_mb(stage, LD, DATA_SHAPE, n=n, T=T))
        return known[n, T]

    return mem_mb


def level_path(level, *names):
    """results/<the level's pattern>/<names...>, wildcards left in."""
    return LEVELS[level].path(RESULTS, *names)


def deep_path(name):
    """results/{data}/all/n{n}_s{seed}/deep_{size}/<name>: one deep-denoiser model."""
    return level_path("deep", name)


def data_path(name):
    """results/{data}/{cond}/n{n}_s{seed}/<name>: depends on data, class, n and seed."""
    return level_path("data", name)


def learn_path(name):
    """... /{schedule}_T{T}/<name>: adds the schedule and T (not the rank)."""
    return level_path("learn", name)


def rank_path(name):
    """... /{schedule}_T{T}/r{rank}/<name>: adds the rank."""
    return level_path("rank", name)


def sweep_path(name):
    return level_path("sweep", name)


def log_path(stage, job):
    return os.path.join(RESULTS, "logs", stage, f"{job}.log")


def benchmark_path(stage, job):
    return os.path.join(RESULTS, "benchmarks", stage, f"{job}.tsv")


def level_params(level, wildcards, *sections):
    """The params of a job at ``level``: its typed wildcards, with ``data`` and ``schedule``
    replaced by their resolved config entries, plus the named config ``sections`` (a change
    to any of them reruns the job)."""
    params = LEVELS[level].typed(wildcards)
    if "data" in params:
        params["data"] = RESOLVED["data"]
    if "schedule" in params:
        params["schedule"] = schedule_params(params["schedule"])
    for section in sections:
        params[section] = RESOLVED[section]
    return params


def data_inputs(wildcards):
    """The data set's files (data=file, mnist): replacing them reruns the jobs that read the data."""
    return ldd.data_files(LD.data)


def data_params(wildcards):
    """Resolved config a data job depends on (params: a change reruns the job)."""
    return level_params("data", wildcards)


def schedule_params(name):
    """The resolved entry of schedule ``name`` (``design`` only for the spectral kind, so that
    adding the option changed no other schedule's params)."""
    params = dict(RESOLVED["schedules"][name])
    if params.get("design") is None:
        params.pop("design", None)
    return params


def is_designed(name):
    return RESOLVED["schedules"][name]["name"] == SPECTRAL


def design_input(wildcards):
    """{"design": schedule.npz} for a spectral schedule (designed before the learn), else {}."""
    if not is_designed(wildcards.schedule):
        return {}
    return {"design": learn_path("design/schedule.npz").format(**dict(wildcards.items()))}


def learn_params(wildcards):
    return level_params("learn", wildcards, "learn")


def analyze_bases_params(wildcards):
    return {**level_params("learn", wildcards, "learn"), "max_sin": RESOLVED["analyze"]["max_sin"]}


def generate_params(wildcards):
    return level_params("rank", wildcards, "learn", "generate")


def analyze_params(wildcards):
    return level_params("rank", wildcards, "learn", "generate", "analyze")


def deep_params(wildcards):
    """Resolved config of a deep-denoiser job (the model variant's overrides included)."""
    deep = dict(RESOLVED["deep"])
    sizes = deep.pop("sizes")
    return {**level_params("deep", wildcards), "deep": {**deep, "overrides": sizes[wildcards.size]}}


DEEP_POINTS = lds.deep_points(LD)
# one sampler run of a model: results/.../deep_{size}/{sampler}_{schedule}_T{T} (ascent_adaptive_T<steps> for a
# blind model); the quality table of (data, n, seed) under results/{data}/all/n{n}_s{seed}/quality
DEEP_SAMPLE_POINTS = lds.deep_sample_points(LD)
QUALITY_POINTS = sorted({point.at("trainset") for point in DEEP_SAMPLE_POINTS})


QUALITY_OUTPUTS = ("quality.parquet", "fig_quality.png")


def deep_sample_path(name):
    """results/.../deep_{size}/{sampler}_{schedule}_T{T}/<name>: one sampler run of a deep model."""
    return level_path("deep_sample", name)


def quality_path(name):
    """results/{data}/all/n{n}_s{seed}/quality/<name>: the classifier, references and quality table."""
    return level_path("trainset", "quality", name)


def trainset_input(wildcards):
    """The unconditional training set (data/train.npz) of the job's (data, n, seed)."""
    return os.path.join(RESULTS, LEVELS["data"].fix(cond="all"), "data", "train.npz").format(**dict(wildcards.items()))


def deep_sample_params(wildcards):
    """One sampler run: the model's config (deep_params), the sampler and its noise levels
    (diffusion.samplers / diffusion.schedules entries; the ascent's options for sampler=ascent)."""
    params = {**deep_params(wildcards), **LEVELS["deep_sample"].typed(wildcards), "data": RESOLVED["data"]}
    if wildcards.sampler != lds.ASCENT:
        params["sampler"] = {"name": wildcards.sampler, **RESOLVED["diffusion"]["samplers"][wildcards.sampler]}
        params["schedule"] = {"name": wildcards.schedule, **RESOLVED["diffusion"]["schedules"][wildcards.schedule]}
    return params


def quality_params(wildcards):
    """The classifier, the references and the linear chain of (data, n, seed)."""
    deep = RESOLVED["deep"]
    linear = deep["quality"]["linear"]
    return {
        **level_params("trainset", wildcards),
        "quality": deep["quality"],
        "device": deep["device"],
        "linear": {**linear, "schedule": schedule_params(linear["schedule"])},
        "learn": RESOLVED["learn"],
        "generate": RESOLVED["generate"],
    }


def quality_table_rows(wildcards):
    """The sampler runs of (data, n, seed), one row of the quality table each."""
    here = LEVELS["trainset"].point(**LEVELS["trainset"].typed(wildcards))
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS)}
        for point in DEEP_SAMPLE_POINTS
        if point.at("trainset") == here
    ]


def quality_table_inputs(wildcards):
    return sorted(os.path.join(row["dir"], "samples.npz") for row in quality_table_rows(wildcards))


# --------------------------------------------------------------------------- samplers study
# sweep.samplers (rules in samplers.smk; lindiff.diffusion): the training set's Gaussian, each
# sampler's noise levels (designed ones from that Gaussian), one run per denoiser.
#   results/{data}/all/n{n}_s{seed}/gaussian/gaussian.npz
#     .../samplers/{schedule}_T{T}/{sampler}/levels.npz
#     .../samplers/{schedule}_T{T}/{sampler}/{denoiser}/spectrum.parquet, metrics.json, fig_spectrum.png

SAMPLER_POINTS = lds.sampler_points(LD)
SAMPLER_FAMILY = ("sampler_levels", "sampler_point")
SAMPLER_LEVELS_JOB, SAMPLER_JOB = (LEVELS[name].pattern for name in SAMPLER_FAMILY)
SAMPLERS_OUTPUTS = (
    "samplers.parquet",
    "fig_samplers_w2.png",
    "fig_frequency_response.png",
    "fig_sampler_schedules.png",
    "fig_denoisers.png",
)


def is_designed_levels(name):
    return RESOLVED["diffusion"]["schedules"][name]["shape"] == DESIGNED


def gaussian_params(wildcards):
    return {"data": RESOLVED["data"], "n": int(wildcards.n), "seed": int(wildcards.seed)}


def sampler_levels_params(wildcards):
    """A sampler's levels: its schedule entry and sampler (and, designed, the design options)."""
    params = {
        **gaussian_params(wildcards),
        "T": int(wildcards.T),
        "schedule": {"name": wildcards.schedule, **RESOLVED["diffusion"]["schedules"][wildcards.schedule]},
        "sampler": {"name": wildcards.sampler, **RESOLVED["diffusion"]["samplers"][wildcards.sampler]},
    }
    if is_designed_levels(wildcards.schedule):
        params["design"] = RESOLVED["diffusion"]["design"]
    return params


def sampler_levels_inputs(wildcards):
    """{"gaussian": gaussian.npz} for a designed schedule, else {} (a hand schedule needs no data)."""
    if not is_designed_levels(wildcards.schedule):
        return {}
    return {"gaussian": level_path("trainset", "gaussian", "gaussian.npz").format(**dict(wildcards.items()))}


def sample_sampler_params(wildcards):
    """One sampler run: the levels' params, the denoiser and only the options it uses."""
    diffusion = RESOLVED["diffusion"]
    params = {**sampler_levels_params(wildcards), "denoiser": wildcards.denoiser, "n_samples": diffusion["n_samples"]}
    if wildcards.denoiser == "empirical":
        params["empirical_chunk"] = diffusion["empirical_chunk"]
    elif wildcards.denoiser == "projection":
        params["projection"] = {
            "rank": diffusion["projection_rank"],
            "method": RESOLVED["learn"]["method"],
            "noise": RESOLVED["learn"]["noise"],
        }
    elif wildcards.denoiser == "deep":
        params["deep"] = {"size": diffusion["deep_size"], "device": RESOLVED["deep"]["device"]}
    return params


def sample_sampler_inputs(wildcards):
    values = dict(wildcards.items())
    inputs = {
        "train": os.path.join(RESULTS, LEVELS["data"].fix(cond="all"), "data", "train.npz").format(**values),
        "gaussian": level_path("trainset", "gaussian", "gaussian.npz").format(**values),
        "levels": level_path("sampler_levels", "levels.npz").format(**values),
    }
    if wildcards.denoiser == "deep":
        inputs["model"] = deep_path("model.pt").format(**values, size=RESOLVED["diffusion"]["deep_size"])
    return inputs


def sampler_mem(wildcards):
    point = LEVELS["sampler_point"].point(**LEVELS["sampler_point"].typed(wildcards))
    return max(1000, ldr.job_mem_mb("sample_sampler", LD, DATA_SHAPE, point=point))


def sampler_table():
    """One row per samplers-study point with its axes and directories (compare_samplers' input)."""
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS), "levels_dir": point.at("sampler_levels").dir(RESULTS)}
        for point in SAMPLER_POINTS
    ]


def compare_samplers_inputs(wildcards):
    files = []
    for row in sampler_table():
        files += [os.path.join(row["dir"], name) for name in ("metrics.json", "spectrum.parquet")]
        files.append(os.path.join(row["levels_dir"], "levels.npz"))
    return sorted(set(files))


def sweep_table():
    """One row per sweep point with its axes and artifact directories (aggregate's input)."""
    return [
        {**point.as_dict(), "id": point.id, "learn_dir": point.at("learn").dir(RESULTS), "rank_dir": point.dir(RESULTS)}
        for point in POINTS
    ]


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
    return sorted(
        {
            os.path.join(row["learn_dir"], "design", name)
            for row in designed_rows()
            for name in ("predicted_spectrum.parquet", "design.json")
        }
    )


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
        targets += [
            os.path.join(row["rank_dir"], name)
            for name in ("fig5_correlations.png", "fig6_distribution.png", "fig6_spectrum.png")
        ]
    targets += [os.path.join(RESULTS, "sweeps", SWEEP, name) for name in AGGREGATE_OUTPUTS]
    if designed_schedules():
        targets += [
            os.path.join(RESULTS, "sweeps", SWEEP, name) for name in ("spectral_schedule.parquet", "fig_spectral_schedule.png")
        ]
    for point in DEEP_POINTS:
        targets.append(os.path.join(point.dir(RESULTS), "train_metrics.json"))
    for point in DEEP_SAMPLE_POINTS:
        targets += [os.path.join(point.dir(RESULTS), name) for name in ("fig7_sin_theta_jacobian.png", "jacobian_metrics.json")]
    for point in QUALITY_POINTS:
        targets += [os.path.join(point.dir(RESULTS), "quality", name) for name in QUALITY_OUTPUTS]
    for point in SAMPLER_POINTS:
        targets += [os.path.join(point.dir(RESULTS), name) for name in ("fig_spectrum.png", "metrics.json")]
    if SAMPLER_POINTS:
        targets += [os.path.join(RESULTS, "sweeps", SWEEP, name) for name in SAMPLERS_OUTPUTS]
    targets += ab_targets()
    targets += gahb_targets()
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


AB_POINTS = lds.generalization_points(LD)
AB_DIR, AB_TRAIN, AB_LINEAR, AB_LINEAR_HALF, AB_DEEP, AB_DEEP_HALF, AB_POINT, AB_STUDY = (
    LEVELS[name].pattern
    for name in ("ab_split", "ab_train", "ab_linear", "ab_linear_half", "ab_deep", "ab_deep_half", "ab_point", "ab_study")
)
AB_N_TEST = 500  # held-out rows of a deep A/B model: the last ones of the other half
AB_CURVE_OUTPUTS = ("generalization_curve.parquet", "fig_generalization.png")


def ab_path(pattern, name):
    """results/<pattern>/<name> for one of the AB_* patterns."""
    return os.path.join(RESULTS, pattern, name)


def ab_split_params(wildcards):
    return {"data": RESOLVED["data"], "seed": int(wildcards.abseed)}


def ab_train_path(name):
    """The training subset of one A/B model, at the ``ab_train`` level with the model's n and half."""
    return ab_path(AB_TRAIN, name)


def ab_subset_params(wildcards):
    return {**ab_split_params(wildcards), "n": int(wildcards.n), "half": wildcards.half, "n_test": AB_N_TEST}


def ab_linear_params(wildcards):
    """Resolved config of a linear A/B job: the learn of one half (the shared ``learn`` stage,
    ``learn.k`` = the chain rank, centered as the study says), or the same-seed generation."""
    g = RESOLVED["sweep"]["generalization"]
    params = {
        **ab_split_params(wildcards),
        "n": int(wildcards.n),
        "schedule": lds.ab_schedule_params(LD),
        "T": int(wildcards.T),
        "rank": int(wildcards.rank),
    }
    if "half" in wildcards.keys():
        learn = {
            "k": int(wildcards.rank),
            "method": RESOLVED["learn"]["method"],
            "noise": RESOLVED["learn"]["noise"],
            "centered": g["centered"],
        }
        return {**params, "half": wildcards.half, "learn": learn}
    return {
        **params,
        "centered": g["centered"],
        "n_samples": g["n_samples"],
        "injection": g["injection"],
        "generate": {k: RESOLVED["generate"][k] for k in ("injection", "injection_scale")},
    }


def ab_deep_params(wildcards):
    """Resolved config of a deep A/B job: the training of one half (the shared
    ``train_denoiser`` stage with a step budget), or the same-seed sampling."""
    g = RESOLVED["sweep"]["generalization"]["deep"]
    deep = RESOLVED["deep"]
    params = {**ab_split_params(wildcards), "n": int(wildcards.n), "size": wildcards.size}
    if "half" in wildcards.keys():
        return {
            **params,
            "half": wildcards.half,
            "budget": {"steps": g["steps"]},
            "deep": {
                "preset": deep["preset"],
                "device": deep["device"],
                "psnr_sigmas": deep["psnr_sigmas"],
                "overrides": deep["sizes"][wildcards.size],
            },
        }
    sampler = {k: v for k, v in deep["sampler"].items() if k != "n_samples"}
    return {**params, "n_samples": g["n_samples"], "device": deep["device"], "sampler": {**sampler, **g["sampler"]}}


def ab_compare_params(wildcards):
    return {
        **ab_split_params(wildcards),
        "n": int(wildcards.n),
        "model": wildcards.abmodel,
        "centered": RESOLVED["sweep"]["generalization"]["centered"],
    }


def ab_study_points(wildcards):
    points = [p for p in AB_POINTS if (p.data, p.abseed, p.abmodel) == (wildcards.data, int(wildcards.abseed), wildcards.abmodel)]
    if not points:
        raise ValueError(f"no A/B study {wildcards.data}/s{wildcards.abseed}/{wildcards.abmodel} in this config")
    return points


def ab_curve_params(wildcards):
    return {**ab_split_params(wildcards), "model": wildcards.abmodel, "n": [p.n for p in ab_study_points(wildcards)]}


def ab_curve_inputs(wildcards):
    return [os.path.join(p.dir(RESULTS), "ab_metrics.json") for p in ab_study_points(wildcards)]


def ab_targets():
    """The curve (table + figure) of every (data, seed, model) of the A/B study."""
    studies = sorted({p.at("ab_study") for p in AB_POINTS})
    return [os.path.join(study.dir(RESULTS), name) for study in studies for name in AB_CURVE_OUTPUTS]


# --------------------------------------------------------------------------- GAHB study
# sweep.gahb (rules in gahb.smk; lindiff.studies.gahb): per C^alpha regularity and per disk
# training-set size, the generated data's split and one blind denoiser per size, its measurement,
# and one summary per (seed, size).

GAHB_DATA_POINTS = lds.gahb_data_points(LD)
GAHB_POINTS = lds.gahb_points(LD)
GAHB_STUDIES = sorted({point.at("gahb_study") for point in GAHB_POINTS})
GAHB_LEVELS = ("gahb_calpha_data", "gahb_calpha", "gahb_disks_data", "gahb_disks", "gahb_study")
GAHB_JOBS = {name: LEVELS[name].pattern for name in GAHB_LEVELS}
GAHB_SUMMARY_OUTPUTS = ("calpha_slopes.parquet", "disks_alignment.parquet", "fig_calpha_psnr.png", "fig_disks_alignment.png")


def gahb_split_of(wildcards):
    """(family, axis value) of a GAHB job: ("calpha", alpha) or ("disks", n)."""
    family = "calpha" if "alpha" in wildcards.keys() else "disks"
    return family, (float(wildcards.alpha) if family == "calpha" else int(wildcards.n))


def gahb_data_params(wildcards):
    """The split's generated data (a data=calpha or data=disks config) and its sizes."""
    family, value = gahb_split_of(wildcards)
    n_train, n_test = lds.gahb_sizes(LD, family, value)
    return {
        "seed": int(wildcards.seed),
        "family": family,
        "data": lds.gahb_data_config(LD, family, value),
        "n_train": n_train,
        "n_test": n_test,
    }


def gahb_train_params(wildcards):
    """A GAHB model: the shared train_denoiser stage with the study's step budget."""
    gahb = RESOLVED["gahb"]
    return {
        **gahb_data_params(wildcards),
        "size": wildcards.size,
        "budget": {"steps": RESOLVED["sweep"]["gahb"]["steps"]},
        "deep": {
            "preset": gahb["preset"],
            "device": gahb["device"],
            "psnr_sigmas": gahb["psnr_sigmas"],
            "overrides": gahb["sizes"][wildcards.size],
        },
    }


def gahb_measure_params(wildcards):
    """The measurement of a GAHB model: its family's options (gahb.calpha or gahb.disks)."""
    params = gahb_data_params(wildcards)
    return {
        **params,
        "size": wildcards.size,
        "device": RESOLVED["gahb"]["device"],
        "measure": {k: v for k, v in RESOLVED["gahb"][params["family"]].items() if k != "data"},
    }


def gahb_rows(level, wildcards):
    """The GAHB models of ``level`` in the study (seed, size) of ``wildcards``, with their directories."""
    here = (int(wildcards.seed), wildcards.size)
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS)}
        for point in GAHB_POINTS
        if point.level == level and (point.seed, point.size) == here
    ]


def gahb_summary_inputs(level, *names):
    def inputs(wildcards):
        return sorted(os.path.join(row["dir"], name) for row in gahb_rows(level, wildcards) for name in names)

    return inputs


def gahb_summary_params(wildcards):
    return {
        "seed": int(wildcards.seed),
        "size": wildcards.size,
        "calpha": gahb_rows("gahb_calpha", wildcards),
        "disks": gahb_rows("gahb_disks", wildcards),
        "slope_range": RESOLVED["gahb"]["calpha"]["slope_range"],
    }


def gahb_targets():
    """The summary of every (seed, size) of the GAHB study, and each model's measurement."""
    targets = [os.path.join(study.dir(RESULTS), name) for study in GAHB_STUDIES for name in GAHB_SUMMARY_OUTPUTS]
    for point in GAHB_POINTS:
        names = ("fig_curve.png",) if point.level == "gahb_calpha" else ("fig_eigenvectors.png",)
        targets += [os.path.join(point.dir(RESULTS), name) for name in names]
    return targets


# --------------------------------------------------------------------------- corrupt artifacts


def force_rebuild_of_corrupt(wildcards):
    """Input function of ``all``: it runs while Snakemake builds the DAG, when every rule is
    declared and a dry run is known as one. Each corrupt artifact (only files some rule
    produces are checked) becomes a forced file, so its job and the jobs after it rerun (in
    this DAG; one outside it is forced whenever a later run needs it). Writes nothing."""
    if workflow.is_main_process:
        runstart.force_rebuild_of_corrupt(
            RESULTS,
            is_artifact=lambda path: any(rule.is_producer(path) for rule in workflow.rules),
            forced_files=workflow.dag.forcefiles,
            dryrun=workflow.dryrun,
        )
    return []


# --------------------------------------------------------------------------- provenance sidecars


def points_at(level):
    """Every point of this configuration (sweep, deep and A/B points) seen at ``level``: those
    whose fields reach it (a rank point's learn and data points ...)."""
    fields = set(LEVELS[level].fields)
    if level in SAMPLER_FAMILY:
        family = SAMPLER_POINTS
    elif level in GAHB_LEVELS:  # their fields are a subset of other levels' (no data field)
        family = [*GAHB_DATA_POINTS, *GAHB_POINTS]
    else:
        family = [*POINTS, *DEEP_POINTS, *DEEP_SAMPLE_POINTS, *AB_POINTS, *SAMPLER_POINTS]
    return {point.at(level) for point in family if fields <= set(point.as_dict())}


# The rules whose sidecar is a target of `all`, by the level of their jobs: Snakemake does not
# rerun a job whose other outputs are in place, so a deleted sidecar would otherwise never be
# written again. (The A/B study's sidecars come back when their jobs next run.)
SIDECAR_RULES = {
    "data": ("prepare_data",),
    "learn": ("learn",),
    "rank": ("generate", "analyze"),
    "deep": ("train_denoiser",),
    "deep_sample": ("sample_deep", "jacobian_analysis"),
    "sampler_levels": ("sampler_levels",),
    "sampler_point": ("sample_sampler",),
    "gahb_calpha_data": ("gahb_calpha_subset",),
    "gahb_disks_data": ("gahb_disks_subset",),
    "gahb_calpha": ("gahb_calpha_train", "gahb_calpha_curve"),
    "gahb_disks": ("gahb_disks_train", "gahb_disks_jacobian"),
}
# the rules at the training-set level, with the points that have them (a linear point has neither)
TRAINSET_SIDECAR_RULES = {
    "fit_gaussian": lambda: {p.at("trainset") for p in SAMPLER_POINTS},
    "train_classifier": lambda: QUALITY_POINTS,
    "linear_chain_samples": lambda: QUALITY_POINTS,
}


def sidecar_targets():
    targets = set()
    jobs = [(name, points_at(level)) for level, names in SIDECAR_RULES.items() for name in names]
    jobs += [(name, points()) for name, points in TRAINSET_SIDECAR_RULES.items()]
    for name, points in jobs:
        pattern = str(getattr(rules, name).output.sidecar)
        targets.update(pattern.format(**point.as_dict()) for point in points)
    for point in {p.at("learn") for p in POINTS if is_designed(p.schedule)}:
        targets.add(str(rules.design_schedule.output.sidecar).format(**point.as_dict()))
    return sorted(targets)
