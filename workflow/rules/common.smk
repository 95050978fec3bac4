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
from lindiff.pipeline import entries as lde
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.levels import LEVELS, wildcard_constraints as level_wildcard_constraints
from lindiff.pipeline.runs import start as runstart
from lindiff.pipeline.schema import DESIGNED, SPECTRAL

# `overrides` as typed (Snakemake's YAML parsing of --config drops " #..." and strips quotes).
if "overrides" in config:
    config["overrides"] = ldc.snakemake_overrides(config["overrides"], workflow.config_settings.config_args)
validate(config, schema="../schemas/config.schema.yaml")

# Compose + type-check + value-check before any job is scheduled (errors name the key).
LD = ldc.load(config.get("overrides", ""), config_dir=Path(workflow.basedir) / "conf")
RESOLVED = ldc.resolved(LD)
RESOLVED["data"].update(ldd.data_files_digest(LD.data))  # a user's data file: its content is in the params
POINTS = lds.points(LD, "rank")
RESULTS = LD.results_dir

# Once per call, in the main process: the stale locks of a killed Snakemake removed (under
# .snakemake/ only; the results tree is left alone while parsing: a dry run is not known yet).
# Corrupt artifacts are forced to rebuild while the DAG is built (force_rebuild_of_corrupt, an
# input of `all`); when a real run starts (onstart), the W&B "unreachable" note is cleared and
# the jobs of a local run share one W&B service.
if workflow.is_main_process:
    runstart.start_of_run(notes=ldc.notes(LD))


onstart:
    runstart.start_real_run(RESULTS, RESOLVED["wandb"]["mode"], local_jobs=workflow.local_exec)


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
DATA_SHAPE, DATA_THREADS = ldd.data_shape(LD.data), LD.data.threads  # threads: of the multi-threaded rules


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


def log_path(stage, job):
    return os.path.join(RESULTS, "logs", stage, f"{job}.log")


def benchmark_path(stage, job):
    return os.path.join(RESULTS, "benchmarks", stage, f"{job}.tsv")


# Each study's common/<study>.smk registers the function that lists its targets (the inputs of `all`).
STUDY_TARGETS = []


def all_targets():
    return sorted({target for targets in STUDY_TARGETS for target in targets()})


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


def trainset_input(wildcards):
    """The unconditional training set (data/train.npz) of the job's (data, n, seed)."""
    return level_path("trainset", "data", "train.npz").format(**dict(wildcards.items()))


# --------------------------------------------------------------------------- corrupt artifacts


def force_rebuild_of_corrupt(wildcards):
    """Input function of ``all``: it runs while Snakemake builds the DAG, when every rule is
    declared and a dry run is known as one. Each corrupt artifact (only files some rule
    produces are checked) and each sidecar of a job whose params changed becomes a forced file,
    so its job and the jobs after it rerun (in this DAG). Writes nothing."""
    if workflow.is_main_process:
        runstart.force_rebuild(
            RESULTS,
            is_artifact=lambda path: any(rule.is_producer(path) for rule in workflow.rules),
            current_config=lambda path: runstart.sidecar_params(workflow, path),
            forced_files=workflow.dag.forcefiles,
            dryrun=workflow.dryrun,
        )
    return []


# --------------------------------------------------------------------------- provenance sidecars


def points_at(level, family):
    """The points of ``family`` seen at ``level`` (a rank point's learn and data points ...)."""
    fields = set(LEVELS[level].fields)
    return {point.at(level) for point in family if fields <= set(point.as_dict())}


# The rules whose sidecar is a target of `all`, with the points of their jobs, registered by each
# study's common/<study>.smk: Snakemake does not rerun a job whose other outputs are in place, so a
# deleted sidecar would otherwise never be written again. (The A/B study's sidecars come back
# when their jobs next run.)
SIDECARS = []


def sidecar_targets():
    targets = set()
    for name, points in SIDECARS:
        pattern = str(getattr(rules, name).output.sidecar)
        targets.update(pattern.format(**point.as_dict()) for point in points())
    return sorted(targets)
