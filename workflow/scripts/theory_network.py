"""Rule theory_network: the network of a theory-vs-network run, sampled from the run's shared seed.

The noise-conditional deep model's x0-estimate (data units, clipped to [0, 1] with
``deep.clip_denoised``; a class-conditional model conditioned on each sample's label ``i mod
classes`` with guidance ``deep.guidance``) is sampled on the run's sampler and noise levels with
the seed every denoiser of the run shares (lindiff.studies.theory.sample_in_units), the whole path
recorded with the network's estimate at every point (the analytic denoisers are compared with it
there), and its held-out denoising MSE per ``theory.mse_sigmas``."""

import time

import numpy as np

from lindiff import artifacts
from lindiff.deep.config import DATA_CENTER, DATA_SCALE
from lindiff.deep.train import load_model
from lindiff.pipeline.entries import sampler_from_params, sampler_levels_from_params
from lindiff.pipeline.jobs import rule_job, theory_sets
from lindiff.pipeline.levels import derive_seed
from lindiff.studies.theory import NETWORK, SAMPLE_STAGE, clipped, heldout_mse, sample_in_units

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    theory, deep = p["options"], p["deep"]
    model = load_model(inp.model, device=deep["device"])
    clip = (0.0, 1.0) if deep["clip_denoised"] else None
    n_samples = int(theory["n_samples"])
    labels = np.arange(n_samples) % model.classes if model.classes else None
    guidance = float(deep["guidance"]) if model.classes else 0.0

    def network(row_labels):
        """The network's estimate for rows with these labels (None: unconditional)."""
        return clipped(lambda Y, sigma: model.denoise(Y, sigma, labels=row_labels, guidance=guidance), clip)

    sets = theory_sets(job, inp.train)  # the held-out images and seed: the same for every denoiser of the run
    X_test, y_test = sets.test
    schedule = sampler_levels_from_params(p["schedule"], p["T"])
    started = time.perf_counter()
    path = sample_in_units(network(labels), schedule.sigma_bar, sampler_from_params(p["sampler"]), n_samples, model.d,
                           derive_seed(p["seed"], SAMPLE_STAGE, job.seed_key), DATA_CENTER, DATA_SCALE, record=None)
    seconds = time.perf_counter() - started
    sigma = path.sigma[:, 0]
    estimates = np.zeros_like(path.path)  # the network's estimate at every point with sigma > 0 (none at 0)
    for step in np.flatnonzero(sigma > 0):
        estimates[step] = network(labels)(path.path[step], float(sigma[step]))
    mse = heldout_mse({NETWORK: network(y_test if model.classes else None)}, X_test, theory["mse_sigmas"],
                      seed=sets.held_out_seed)
    if not np.isfinite(path.samples).all():
        raise ValueError(f"theory_network: the model {inp.model} gave non-finite samples; {out.samples} is not written")
    conditioning = {} if labels is None else {"labels": labels}
    artifacts.save_npz(out.path, points=path.path, sigma=sigma, estimates=estimates)
    artifacts.save_npz(out.samples, samples=path.samples, **conditioning)
    artifacts.write_json(out.metrics, {"denoiser": NETWORK, "mse": mse, "steps": [], "sample_seconds": seconds,
                                       "n_samples": n_samples, "classes": int(model.classes)})
    job.write_sidecar(out.sidecar)
    job.log.info("network: %d samples over %d steps in %.1f s; held-out MSE %s", n_samples, len(sigma) - 1, seconds,
                 ", ".join(f"{r['sigma']:g}: {r['mse']:.4g}" for r in mse))
    job.tracker.set_summary({"sample_seconds": seconds, **{f"mse/{r['sigma']}": r["mse"] for r in mse}})
