"""Glue for the workflow's rule scripts: rule log, W&B run, provenance sidecars, seeds.

A rule script is thin::

    with rule_job(snakemake, "learn") as job:
        ...  # read job.params, call lindiff, write artifacts with lindiff.artifacts
        job.tracker.log({...})

:func:`rule_job` sends the script's stderr (logging, tqdm progress, warnings) to the rule's
``log:`` file, starts one W&B run for the job (``group`` = the sweep point, ``job_type`` =
the stage, config = the flattened job config) in its own directory under
``<results_dir>/wandb/<stage>/``, and finishes it.  W&B is a side channel: when it cannot
start, the job logs why and goes on.  Nothing here imports Snakemake; ``snakemake`` is the
object Snakemake injects into scripts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from lindiff import __version__, artifacts
from lindiff.pipeline.datasets import load_data
from lindiff.pipeline.levels import derive_seed, job_level
from lindiff.pipeline.runs.integrity import quarantine_corrupt_input
from lindiff.pipeline.runs.processes import seconds_since_start, snakemake_ancestor, watch_parent
from lindiff.pipeline.tracking import Tracker, flatten_config, keep_wandb_state_in, make_run_id, start_run

PACKAGES = ("numpy", "scipy", "pandas", "matplotlib", "wandb", "snakemake", "hydra-core", "torch")


@dataclass
class Job:
    """What a rule script works with."""

    stage: str
    point: str
    seed_key: str  # the point string seeds derive from (levels.Level.seed_key)
    params: dict
    runtime: dict
    tracker: Tracker
    log: logging.Logger

    def cfg(self, key: str):
        """A params sub-dict with attribute access (``job.cfg("data").name``)."""
        return OmegaConf.create(self.params[key])

    def seed(self) -> Any:
        """The job's seed: derived from the sweep seed, the stage and the point's seed key.

        The rank level seeds with its learn point, so chains of different ranks start from
        the same noise.
        """
        return derive_seed(self.params["seed"], self.stage, self.seed_key)

    def write_sidecar(self, path, **extra) -> Path:
        """Provenance next to the artifacts: the job config, versions, and ``extra``."""
        return artifacts.write_yaml(
            path,
            {
                "stage": self.stage,
                "point": self.point,
                "config": self.params,
                "lindiff_version": __version__,
                "packages": package_versions(),
                "python": platform.python_version(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                **extra,
            },
        )


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def remove_stale_offline_runs(run_dir: Path) -> list[str]:
    """Delete the offline W&B runs an earlier execution of this job left in its own directory
    (``<run_dir>/wandb/offline-run-*``), so that a rerun job has one run to sync, not two.
    Returns the names removed."""
    import shutil

    wandb_dir = Path(run_dir) / "wandb"
    removed = []
    for old in sorted(wandb_dir.glob("offline-run-*")):
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    latest = wandb_dir / "latest-run"
    if removed and latest.is_symlink():
        latest.unlink()
    return removed


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


#: glibc's ``mallopt`` settings for a job that asks for them (``rule_job(..., retain_memory=True)``):
#: blocks up to 32 MiB come from the heap rather than a fresh ``mmap`` each, and up to 256 MiB freed
#: at the heap's top stay mapped.  A torch job on the CPU allocates the same large buffers at every
#: batch; fresh pages cost a page fault each.  Measured on Fig. 7's full Jacobians of the MNIST
#: model: system time 3.4-4.7 s -> 0.5 s per 10 points, ~20% less wall time, identical numbers; a
#: training gained nothing and peaked ~25% higher (docs/performance.md).  ``(parameter, value)``.
MALLOC_SETTINGS = {"M_TRIM_THRESHOLD": (-1, 256 * 2**20), "M_MMAP_THRESHOLD": (-3, 32 * 2**20)}


def retain_freed_memory() -> bool:
    """Apply :data:`MALLOC_SETTINGS` to this process; ``False`` where the C library has no
    ``mallopt`` or refuses a setting (not glibc: macOS, musl), which changes nothing else.  Both
    settings go together: either alone (it also turns off glibc's adaptive threshold) is slower."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all([mallopt(code, value) == 1 for code, value in MALLOC_SETTINGS.values()])


@contextmanager
def limit_threads(threads: int):
    """Run with exactly ``threads`` threads in every compute pool: the BLAS and OpenMP pools
    already loaded (threadpoolctl), torch's intra-op pool, and the environment variables that
    pools loaded later read.  So ``--cores N`` does not oversubscribe the machine, and a job's
    numbers (a training run resumed from its checkpoint included) do not depend on how many
    cores the machine has.  Restored on exit."""
    from threadpoolctl import threadpool_limits

    saved_env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    torch = sys.modules.get("torch")
    saved_torch = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(saved_torch)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def logged_levels(T: int, max_points: int = 200):
    """Levels ``t`` logged to W&B as history: all of ``0..T``, or ``max_points`` spread evenly
    (the artifacts keep every level)."""
    import numpy as np

    return np.unique(np.linspace(0, T, min(T + 1, max_points)).round().astype(int))


def wandb_unreachable_marker(results_dir) -> Path:
    """The file in which the first job of a run that cannot reach the W&B server says so (see
    :func:`lindiff.pipeline.tracking.start_run`); the Snakefile removes it when a run starts."""
    return Path(results_dir) / "wandb" / "online-unreachable.json"


def stop_when_orphaned(log: logging.Logger) -> None:
    """End this job as soon as the Snakemake process that started it is gone (killed): its
    outputs are incomplete then, and the next run reruns the job, which must not race an
    orphan still writing the same files."""
    parent = snakemake_ancestor()
    if parent is None:
        return

    def stop() -> None:
        log.error("the Snakemake process (pid %s) that started this job is gone: stopping; "
                  "the next run reruns this job", parent.pid)
        logging.shutdown()
        os._exit(1)

    watch_parent(parent, stop)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


@contextmanager
def rule_job(snakemake, stage: str | None = None, *, extra_config: dict | None = None, retain_memory: bool = False):
    """Run a rule script's body with its log, W&B run and error reporting in place.

    ``stage`` (the W&B job type and the seeds' stage key) defaults to the rule's name, so that a
    script shared by several rules (``use rule ... as ...``) seeds each rule apart.
    ``retain_memory``: apply :func:`retain_freed_memory` first, for a job that runs the same large
    torch batches many times on the CPU (the Jacobian stages: ~18% faster, a higher memory peak).
    """
    stage = stage or snakemake.rule
    log_file = open(snakemake.log[0], "w", buffering=1)
    saved_stderr = sys.stderr
    sys.stderr = log_file
    logging.basicConfig(
        stream=log_file, level=logging.INFO, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.captureWarnings(True)
    log = logging.getLogger(f"lindiff.{stage}")
    runtime = dict(snakemake.config.get("lindiff_runtime", {}))
    params = dict(snakemake.params.cfg) if hasattr(snakemake.params, "cfg") else {}
    if len(snakemake.wildcards):  # the job's level, once: its point id, W&B group and seed key
        level, values = job_level(snakemake.wildcards)
        point, group, key = level.id(**values), level.group(**values), level.seed_key(**values)
    else:
        point = group = key = "sweep"
    wandb_cfg = runtime.get("wandb", {"mode": "disabled"})
    results_dir = Path(runtime.get("results_dir", "results"))
    run_dir = results_dir / "wandb" / stage / _slug(point)
    keep_wandb_state_in(run_dir)  # per job, so parallel jobs (or nodes) share no mutable state
    stale = remove_stale_offline_runs(run_dir)
    tracker = start_run(
        mode=wandb_cfg.get("mode", "offline"),
        project=wandb_cfg.get("project", "lindiff"),
        entity=wandb_cfg.get("entity"),
        group=group,
        job_type=stage,
        tags=[t for t in (runtime.get("sweep"), (params.get("data") or {}).get("name")) if t],
        name=f"{stage}:{point}",
        run_id=make_run_id(stage, point),
        config=flatten_config({**params, **(extra_config or {}), "point": point, "stage": stage,
                               "sweep": runtime.get("sweep"), "lindiff_version": __version__,
                               "slurm_job_id": os.environ.get("SLURM_JOB_ID")}),
        run_dir=run_dir,
        init_timeout=float(wandb_cfg.get("init_timeout", 60.0)),
        logger=log,
        unreachable_marker=wandb_unreachable_marker(results_dir),
        save_requirements=point == "sweep",  # once per sweep (its sweep-level jobs), not per job
    )
    threads = max(1, int(getattr(snakemake, "threads", 1) or 1))
    limits = limit_threads(threads)
    log.info("stage %s, point %s, threads %s (BLAS, OpenMP and torch pools limited to it)", stage, point, threads)
    if retain_memory and not retain_freed_memory():
        log.info("malloc left at its defaults: this C library has no glibc mallopt")
    if stale:
        log.info("replaced the earlier offline W&B run(s) of this job: %s", ", ".join(stale))
    leftovers = artifacts.remove_temporaries(list(snakemake.output))
    if leftovers:
        log.info("removed temporary files an interrupted run of this job left: %s", ", ".join(leftovers))
    stop_when_orphaned(log)
    if os.environ.get("SLURM_JOB_ID"):
        log.info("SLURM job %s on %s", os.environ["SLURM_JOB_ID"], os.environ.get("SLURMD_NODENAME", "?"))
    job = Job(stage=stage, point=point, seed_key=key, params=params, runtime=runtime, tracker=tracker, log=log)
    setup = seconds_since_start()
    if setup is not None:  # the fixed cost a job pays before its work (benchmarks/bench_jobs.py reads it)
        log.info("set-up: %.2f s from interpreter start to the job's work (imports, W&B start)", setup)
    started = time.perf_counter()
    try:
        with limits:
            yield job
    except BaseException as exc:
        log.exception("job failed")
        said = quarantine_corrupt_input(exc, list(getattr(snakemake, "input", [])))
        if said is not None:
            log.error("%s", said)
        tracker.finish(exit_code=1)
        raise
    else:
        work = time.perf_counter() - started
        tracker.log_lineage(inputs=list(getattr(snakemake, "input", [])), outputs=list(snakemake.output),
                            root=results_dir, stage=stage)
        tracker.finish(exit_code=0)
        log.info("work: %.3f s; tracking after it: %.2f s", work, time.perf_counter() - started - work)
        log.info("done")
    finally:
        sys.stderr = saved_stderr
        logging.shutdown()
        log_file.close()


# --------------------------------------------------------------------------- training data
# The selection itself is lindiff.data.training; here: the configured data and the stored files.


def training_pool(data_cfg, cond: str):
    """Load the configured data set and restrict it to class ``cond`` (``all`` = every class)."""
    from lindiff.data.training import training_pool as restrict

    return restrict(load_data(data_cfg), cond)


def load_training_set(data_cfg, train_path, full=None) -> tuple[Any, Any]:
    """``(X (n, d), full data set)`` of a ``train.npz``; the sha256 of X must match.

    ``full``: the configured data set when the job has loaded it already (a second subset of the
    same data, e.g. its held-out rows), so that it is not loaded again."""
    from lindiff.data.training import training_rows

    train = artifacts.load_npz(train_path, {"indices": 1, "labels": 1, "sha256": 0})
    full = load_data(data_cfg) if full is None else full
    return training_rows(full, train["indices"], train["sha256"], str(train_path)), full


def held_out_indices(n_total: int, train_path, count: int, seed) -> Any:
    """Up to ``count`` sorted row indices of a data set of ``n_total`` rows that are not in the
    training set of ``train_path`` (a test set), chosen with ``seed``."""
    from lindiff.data.training import held_out_indices as leave_out

    return leave_out(n_total, artifacts.load_npz(train_path, {"indices": 1})["indices"], count, seed)


def held_out_rows(X_full, train_path, count: int, seed) -> Any:
    """The rows (m, d) of :func:`held_out_indices` (up to ``count``, chosen with ``seed``)."""
    return X_full[held_out_indices(len(X_full), train_path, count, seed)]


def held_out_sets(full, train_path, counts, seed) -> list[tuple[Any, Any]]:
    """Disjoint held-out sets of ``counts`` rows each (outside the training set of ``train_path``,
    chosen together with ``seed``): ``[(X (count, d), labels (count,) or None), ...]``."""
    import numpy as np

    indices = held_out_indices(len(full.X), train_path, int(sum(counts)), seed)
    parts = np.split(indices, np.cumsum(counts)[:-1])
    return [(full.X[part], None if full.labels is None else full.labels[part]) for part in parts]


@dataclass
class TheorySets:
    """What every job of a theory-vs-network run reads of its data: the analytic denoisers' training
    images (the first ``theory.pool`` of the network's) and their labels, the image shape, the
    held-out test and calibration images with their labels, and the held-out seed (the same for
    every job of the run: the same images and noise)."""

    X_pool: Any
    labels_pool: Any
    image_shape: tuple[int, int]
    test: tuple[Any, Any]
    calibration: tuple[Any, Any]
    held_out_seed: Any


def theory_sets(job: Job, train_path) -> TheorySets:
    """The :class:`TheorySets` of a job of the theory study (``job.params``: its ``options`` and seed)."""
    from lindiff.studies.theory import HELD_OUT_STAGE

    options = job.params["options"]
    X, data = load_training_set(job.cfg("data"), train_path)
    labels = artifacts.load_npz(train_path, {}, keys=["labels"]).get("labels")
    pool = slice(None, options["pool"] if "pool" in options else None)
    seed = derive_seed(job.params["seed"], HELD_OUT_STAGE, job.seed_key)
    test, calibration = held_out_sets(data, train_path, [options["n_test"], options["calibration_images"]], seed)
    return TheorySets(X[pool], None if labels is None else labels[pool], data.image_shape, test, calibration, seed)


def load_halves(path, dataset) -> tuple[Any, Any]:
    """The halves ``(idx_a, idx_b)`` of a ``halves.npz`` (written by the workflow's
    ``split_halves``), checked against ``dataset``: same sha256, disjoint, in range."""
    import numpy as np

    from lindiff.data.training import check_halves

    arrays = artifacts.load_npz(path, {"idx_a": 1, "idx_b": 1, "sha256": 0})
    idx_a, idx_b = arrays["idx_a"].astype(np.int64), arrays["idx_b"].astype(np.int64)
    check_halves(idx_a, idx_b, arrays["sha256"], dataset, str(path))
    return idx_a, idx_b
