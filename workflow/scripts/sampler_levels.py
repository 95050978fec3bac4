"""Rule sampler_levels: the noise levels of one (schedule, T, sampler): a hand schedule, or one
designed from the training set's spectrum (lindiff.diffusion.design)."""

import numpy as np

from lindiff import artifacts
from lindiff.diffusion.design import design_levels
from lindiff.pipeline.entries import sampler_from_params, sampler_levels_from_params
from lindiff.pipeline.jobs import rule_job
from lindiff.pipeline.schema import DESIGNED
from lindiff.studies.samplers import support_size

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    sampler = sampler_from_params(p["sampler"])
    metrics = {"schedule": p["schedule"]["name"], "sampler": sampler.label, "T": p["T"]}
    if p["schedule"]["shape"] == DESIGNED:
        gaussian = artifacts.load_npz(inp.gaussian, {"mean": 1, "eigvals": 1, "basis": 2})
        m = support_size(gaussian["eigvals"])
        design = p["design"]
        result = design_levels(gaussian["eigvals"][:m], p["T"], sampler, objective=design["objective"],
                               bounds=design["bounds"], init=design["init"], steps=design["steps"], lr=design["lr"],
                               mean_coords=gaussian["basis"][:, :m].T @ gaussian["mean"])
        sigma_bar = result.schedule.sigma_bar
        metrics.update({"objective": result.objective, "loss_initial": result.loss_initial,
                        "loss_final": result.loss_final, "components": m})
        job.log.info("designed %s levels for %s, T=%d: %s %.4g -> %.4g", p["schedule"]["name"], sampler.label, p["T"],
                     result.objective, result.loss_initial, result.loss_final)
        for step in range(0, len(result.history), max(1, len(result.history) // 100)):
            job.tracker.log({"design/step": step, "design/loss": float(result.history[step])}, step=step)
    else:
        sigma_bar = sampler_levels_from_params(p["schedule"], p["T"]).sigma_bar
    artifacts.save_npz(out.levels, sigma_bar=sigma_bar)
    metrics.update({"sigma_min": float(sigma_bar[1]), "sigma_max": float(sigma_bar[-1])})
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, sigma_bar=np.round(sigma_bar, 6).tolist())
    job.log.info("levels sigma_1=%.4g ... sigma_T=%.4g", sigma_bar[1], sigma_bar[-1])
    job.tracker.set_summary(metrics)
