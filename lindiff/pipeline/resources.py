"""Memory a job needs, estimated from the configuration before anything runs.

One estimate per stage serves twice: the Snakefile refuses a sweep whose largest job would
need more than ``max_job_mem_mb`` (default: this machine's memory) before any job runs or the
data are loaded, naming the key that drives it, and the rules declare ``mem_mb`` from it (so
that ``--resources mem_mb=...`` locally and ``--mem`` on SLURM see the real need).

The estimates count the arrays a job holds at its peak (float64 unless noted), plus a fixed
interpreter overhead; they are upper bounds for lindiff's code (tested against the measured
peaks of the smoke sweep, ``tests/workflow/test_resources.py``), not promises about a user's BLAS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from lindiff.errors import ConfigError
from lindiff.pipeline.datasets import data_shape

MIB = 2**20
FLOAT = 8
#: Resident memory of a job's interpreter before it allocates an array (python, numpy,
#: scipy, matplotlib, wandb; torch for the deep stages), MiB.
OVERHEAD_MB = {"numpy": 600, "torch": 1200}


@dataclass(frozen=True)
class Dims:
    """The sizes a job's memory depends on."""

    n_total: int  # samples in the data set
    d: int  # dimension
    n: int = 0  # training samples of the point
    T: int = 0  # chain length
    k: int = 0  # stored components (learn.k)
    n_samples: int = 0  # generated samples
    n_trajectory: int = 0  # generated samples kept along the whole chain
    chunk: int = 0  # rows the empirical denoiser weighs at once (0: no empirical denoiser)


@dataclass(frozen=True)
class Estimate:
    stage: str
    mem_bytes: int
    driver: str  # the term that dominates, with the config key that sets it

    @property
    def mem_mb(self) -> int:
        return int(np.ceil(self.mem_bytes / MIB))


def _largest(stage: str, overhead: str, terms: dict[str, float]) -> Estimate:
    total = OVERHEAD_MB[overhead] * MIB + sum(terms.values())
    driver = max(terms, key=terms.get)
    return Estimate(stage=stage, mem_bytes=int(total), driver=driver)


def estimate(stage: str, dims: Dims) -> Estimate:
    """Peak memory of one job of ``stage`` with these sizes."""
    n_total, d, n, T, k = dims.n_total, dims.d, dims.n, dims.T, dims.k
    data = 3 * FLOAT * n_total * d  # the data set loaded, converted and indexed
    gram = 6 * FLOAT * d * d  # the d x d Gram, its factor, the eigensolver's work space
    bases = 12 * (T + 1) * d * k  # U in float64 plus its float32 copy (stored or loaded)
    if stage in ("config", "prepare_data", "split_halves", "ab_subset"):
        return _largest(stage, "numpy", {f"the data set ({n_total} x {d}: data)": data})
    if stage == "learn":
        return _largest(stage, "numpy", {f"the d x d Gram (d={d}: data)": gram,
                                         f"the bases ((T+1) x d x k = {T + 1} x {d} x {k}: sweep.T, learn.k)": bases,
                                         f"the data set ({n_total} x {d}: data)": data})
    if stage in ("generate", "analyze", "analyze_bases"):
        # generate holds a few copies of the samples; analyze also their projections and spectra
        samples = (4 if stage == "generate" else 6) * FLOAT * dims.n_samples * d
        trajectory = FLOAT * dims.n_trajectory * (T + 1) * d
        return _largest(stage, "numpy", {f"the bases ((T+1) x d x k = {T + 1} x {d} x {k}: sweep.T, learn.k)": bases,
                                         f"the samples ({dims.n_samples} x {d}: generate.n_samples)": samples,
                                         f"the trajectories ({dims.n_trajectory} x {T + 1} x {d}: generate.n_trajectory)":
                                             trajectory,
                                         f"the d x d Gram (d={d}: data)": gram,
                                         f"the data set ({n_total} x {d}: data)": data})
    if stage == "sample_sampler":
        terms = {f"the samples ({dims.n_samples} x {d}: diffusion.n_samples)": 8 * FLOAT * dims.n_samples * d,
                 f"the data set ({n_total} x {d}: data)": data,
                 f"the d x d covariance (d={d}: data)": gram}
        if k:
            terms[f"the projection's bases ((T+1) x d x k = {T + 1} x {d} x {k}: sweep.samplers.T, "
                  "diffusion.projection_rank)"] = bases
        if dims.chunk:
            from lindiff.diffusion.denoisers import EmpiricalDenoiser

            terms[f"the empirical denoiser (n x d = {n} x {d} training rows and {dims.chunk} x {n} weights: "
                  "sweep.samplers.n, diffusion.empirical_chunk)"] = EmpiricalDenoiser.memory_bytes(n, d, dims.chunk)
        return _largest(stage, "torch", terms)
    return _largest(stage, "torch", {f"the data set ({n_total} x {d}: data)": data})


def sampler_dims(cfg, shape: tuple[int, int], point) -> Dims:
    """The sizes of one samplers-study job (a ``sampler_point``)."""
    d = cfg.diffusion
    return Dims(n_total=shape[0], d=shape[1], n=int(point.n), T=int(point.T),
                k=int(d.projection_rank) if point.denoiser == "projection" else 0, n_samples=int(d.n_samples),
                chunk=min(int(d.empirical_chunk), int(d.n_samples)) if point.denoiser == "empirical" else 0)


def machine_mem_mb() -> int | None:
    """Physical memory of this machine, MiB (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MIB)
    except (ValueError, OSError, AttributeError):
        return None


def job_dims(cfg, shape: tuple[int, int], n: int = 0, T: int = 0) -> Dims:
    """The sizes of one job: the data's shape, the point's ``n`` and ``T``, the config's
    ``learn.k`` and ``generate`` sizes."""
    return Dims(n_total=shape[0], d=shape[1], n=int(n), T=int(T), k=int(cfg.learn.k),
                n_samples=int(cfg.generate.n_samples), n_trajectory=int(cfg.generate.n_trajectory))


def sweep_estimates(cfg, points, shape: tuple[int, int], sampler_points=()) -> list[tuple[Estimate, str]]:
    """The largest estimate of each stage over the sweep's ``points`` (rank-level points) and the
    samplers study's ``sampler_points``, with the point it belongs to."""
    largest: dict[str, tuple[Estimate, str]] = {}

    def keep(est: Estimate, where: str) -> None:
        if est.stage not in largest or est.mem_bytes > largest[est.stage][0].mem_bytes:
            largest[est.stage] = (est, where)

    keep(estimate("config", job_dims(cfg, shape)), "building the workflow (the Snakefile loads the data)")
    for point in points:
        dims = job_dims(cfg, shape, n=point.n, T=point.T)
        for stage in ("learn", "generate", "analyze"):
            keep(estimate(stage, dims), point.id)
    for point in sampler_points:
        keep(estimate("sample_sampler", sampler_dims(cfg, shape, point)), point.id)
    order = ("config", "learn", "generate", "analyze", "sample_sampler")
    return sorted(largest.values(), key=lambda item: order.index(item[0].stage))


def check_memory(cfg, points, sampler_points=()) -> None:
    """Refuse, before anything runs, a sweep whose largest job would need more than
    ``max_job_mem_mb`` (default: this machine's memory), naming the stage, the point and the
    configuration key that drives the estimate."""
    shape = data_shape(cfg.data)
    limit = cfg.max_job_mem_mb or machine_mem_mb()
    if shape is None or not limit:
        return
    for est, where in sweep_estimates(cfg, points, shape, sampler_points):
        if est.mem_mb > limit:
            raise ConfigError(
                f"{est.stage} of {where} would need about {est.mem_mb / 1024:.1f} GiB, mostly for {est.driver}; "
                f"the limit is {limit / 1024:.1f} GiB (max_job_mem_mb={limit}; default: this machine's memory). "
                "Make that key smaller, or raise max_job_mem_mb for a bigger machine"
            )


def job_mem_mb(stage: str, cfg, shape: tuple[int, int] | None, n: int = 0, T: int = 0, point=None) -> int:
    """``mem_mb`` for one job of ``stage`` (the rules' ``resources``); ``point``: a samplers-study job's."""
    if shape is None:
        return OVERHEAD_MB["numpy"] * 2
    dims = sampler_dims(cfg, shape, point) if point is not None else job_dims(cfg, shape, n=n, T=T)
    return estimate(stage, dims).mem_mb
