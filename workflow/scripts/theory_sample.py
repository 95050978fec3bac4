"""Rule theory_sample: one analytic denoiser of a theory-vs-network run.

The denoiser (lindiff.studies.theory.build_denoiser: local, equivariant, locality, wiener or
empirical) of the first ``theory.pool`` training images of the network (all: null; per-class pools
for a class-conditional network with ``theory.class_pools``, each sample in its label's pool), with
its calibrated patch sizes where it has them, clipped as the network's estimates are:

* sampled from the run's shared seed (the network's initial noise and noise draws);
* at every point of the network's path, compared with the network's estimate there (median
  pixelwise r² and Pearson r per step);
* its held-out denoising MSE per ``theory.mse_sigmas`` (the network's held-out images and noise)."""

import time

import numpy as np

from lindiff import artifacts
from lindiff.deep.config import DATA_CENTER, DATA_SCALE
from lindiff.diffusion.local import PatchSizes
from lindiff.pipeline.entries import sampler_from_params, sampler_levels_from_params
from lindiff.pipeline.jobs import rule_job, theory_sets
from lindiff.pipeline.levels import derive_seed
from lindiff.studies.theory import (
    SAMPLE_STAGE,
    analytic_denoiser,
    clipped,
    conditioned,
    heldout_mse,
    path_agreement,
    sample_in_units,
)

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    theory, deep, name = p["options"], p["deep"], p["theory"]
    clip = (0.0, 1.0) if deep["clip_denoised"] else None
    sets = theory_sets(job, inp.train)
    X_test, y_test = sets.test
    network = artifacts.load_npz(inp.network_samples, {"samples": 2})
    path = artifacts.load_npz(inp.network_path, {"points": 3, "sigma": 1, "estimates": 3})
    labels = network.get("labels")  # a class-conditional network's sample labels
    per_class = labels is not None and bool(theory["class_pools"])
    options = {key: theory[key] for key in ("pool_size", "threshold") if key in theory}  # the denoiser's own options
    if "calibration" in inp.keys():
        options["patch_size"] = PatchSizes.from_dict(artifacts.read_json(inp.calibration)["patch_sizes"])
    machines = analytic_denoiser(name, sets.X_pool, sets.labels_pool, sets.image_shape, per_class, seed=int(p["seed"]),
                                 **options)

    def denoiser(row_labels):
        return clipped(conditioned(machines, row_labels if per_class else None), clip)

    n_samples, d = network["samples"].shape
    schedule = sampler_levels_from_params(p["schedule"], p["T"])
    started = time.perf_counter()
    samples = sample_in_units(denoiser(labels), schedule.sigma_bar, sampler_from_params(p["sampler"]), n_samples, d,
                              derive_seed(p["seed"], SAMPLE_STAGE, job.seed_key), DATA_CENTER, DATA_SCALE).samples
    seconds = time.perf_counter() - started
    steps = path_agreement(denoiser(labels), path["points"], path["sigma"], path["estimates"])
    mse = heldout_mse({name: denoiser(y_test)}, X_test, theory["mse_sigmas"], seed=sets.held_out_seed)
    artifacts.save_npz(out.samples, samples=samples)
    artifacts.write_json(out.metrics, {"denoiser": name, "mse": mse, "steps": steps, "sample_seconds": seconds,
                                       "n_samples": n_samples, "pool": len(sets.X_pool), "class_pools": per_class})
    job.write_sidecar(out.sidecar)
    job.log.info("%s: %d samples in %.1f s; per-step median r2 %s; held-out MSE %s", name, n_samples, seconds,
                 ", ".join(f"{r['sigma']:.3g}: {r['r2']:.3f}" for r in steps),
                 ", ".join(f"{r['sigma']:g}: {r['mse']:.4g}" for r in mse))
    job.tracker.set_summary({"sample_seconds": seconds, **{f"mse/{r['sigma']}": r["mse"] for r in mse},
                             "r2_final_step": steps[-1]["r2"] if steps else np.nan})
