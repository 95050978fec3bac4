"""Rule theory_calibrate: the patch size per noise level of a local or equivariant machine.

On ``theory.calibration_images`` held-out images, noised at ``theory.calibration_levels`` of the
run's noise levels (log-spaced; lindiff.studies.theory.calibration_levels), every candidate of
``theory.patch_sizes`` is scored by its MSE against the network's estimates (``theory.calibrate =
network``: Kamb & Ganguli's calibration) or against the clean images (``heldout``), and the best
per level is kept (lindiff.diffusion.local.calibrate_patch_sizes).  The machine's training images
are the first ``theory.pool`` of the network's (all: null), in per-class pools for a
class-conditional network with ``theory.class_pools``."""

import time

import numpy as np
import pandas as pd

from lindiff import artifacts
from lindiff.deep.config import DATA_SCALE
from lindiff.deep.train import load_model
from lindiff.diffusion.local import calibrate_patch_sizes
from lindiff.pipeline.entries import sampler_levels_from_params
from lindiff.pipeline.jobs import rule_job, theory_sets
from lindiff.studies.theory import analytic_denoiser, calibration_levels, clipped, conditioned

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    theory, deep, name = p["options"], p["deep"], p["theory"]
    model = load_model(inp.model, device=deep["device"])
    clip = (0.0, 1.0) if deep["clip_denoised"] else None
    sets = theory_sets(job, inp.train)
    X_cal, y_cal = sets.calibration
    per_class = bool(model.classes and theory["class_pools"])
    options = {key: theory[key] for key in ("pool_size",) if key in theory}  # the denoiser's own options

    def make(size):
        machines = analytic_denoiser(name, sets.X_pool, sets.labels_pool, sets.image_shape, per_class,
                                     patch_size=size, seed=int(p["seed"]), **options)
        return conditioned(machines, y_cal if per_class else None)

    target = None
    if theory["calibrate"] == "network":
        guidance = float(deep["guidance"]) if model.classes else 0.0
        network_labels = y_cal if model.classes else None
        target = clipped(lambda Y, sigma: model.denoise(Y, sigma, labels=network_labels, guidance=guidance), clip)
    schedule = sampler_levels_from_params(p["schedule"], p["T"])
    levels = calibration_levels(schedule.sigma_bar / DATA_SCALE, theory["calibration_levels"])
    started = time.perf_counter()
    calibration = calibrate_patch_sizes(make, X_cal, levels, theory["patch_sizes"],
                                        seed=int(sets.held_out_seed.generate_state(1)[0]), target=target)
    seconds = time.perf_counter() - started
    artifacts.write_json(out.calibration, {"denoiser": name, "seconds": seconds, "class_pools": per_class,
                                           **calibration.to_dict()})
    job.write_sidecar(out.sidecar)
    chosen = calibration.patch_sizes
    job.log.info("%s: patch sizes %s at sigma %s (against %s, %.1f s)", name, chosen.size.tolist(),
                 np.round(chosen.sigma, 4).tolist(), theory["calibrate"], seconds)
    table = pd.DataFrame(calibration.mse, columns=[f"P{size}" for size in calibration.sizes.tolist()])
    table.insert(0, "sigma", calibration.sigma)
    job.tracker.log_table("calibration_mse", table)
    job.tracker.set_summary({"seconds": seconds, **{f"patch_size/{s:.4g}": int(v)
                                                    for s, v in zip(chosen.sigma.tolist(), chosen.size.tolist())}})
