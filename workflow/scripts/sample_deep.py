"""Rule sample_deep: one sampler run of a deep model, recording the final part of each path.

A blind model is sampled with the coarse-to-fine ascent (``sampler=ascent``), a noise-conditional
one with a DDPM / DDIM / ODE sampler of ``diffusion.samplers`` on a ``diffusion.schedules`` entry
(lindiff.deep.sample.sample_diffusion).  ``deep.paths`` paths are recorded at every step whose
noise level is at most ``deep.record_sigma`` (the Jacobian analysis reads them); the rest of the
``deep.quality.n_samples`` samples are drawn without recording (the quality table reads them all).
A class-conditional model (``model.classes > 0``) draws its samples class by class in turn
(sample ``i`` has label ``i mod classes``) with classifier-free guidance ``deep.guidance``; the
paths' labels are stored with them (the Jacobian analysis uses the same guided denoiser).
"""

import numpy as np

from lindiff import artifacts
from lindiff.deep.sample import SamplePath, sample_ascent, sample_diffusion
from lindiff.deep.train import load_model
from lindiff.errors import DataError
from lindiff.pipeline.entries import sampler_from_params, sampler_levels_from_params
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    deep = p["deep"]
    model = load_model(inp.model, device=deep["device"])
    n_paths, n_samples = int(deep["paths"]), int(deep["quality"]["n_samples"])
    path_seed, rest_seed = job.seed().spawn(2)
    labels = np.arange(n_samples) % model.classes if model.conditional and model.classes else None

    def conditioning(rows: slice) -> dict:
        """A class-conditional model's labels of these samples and its guidance weight."""
        return {} if labels is None else {"labels": labels[rows], "guidance": float(deep["guidance"])}

    if p["sampler"] == "ascent":
        options = dict(deep["sampler"])
        path = sample_ascent(model, n_paths, model.d, seed=np.random.default_rng(path_seed), **options)
        rest = sample_ascent(model, n_samples - n_paths, model.d, seed=np.random.default_rng(rest_seed),
                             record=0, **options) if n_samples > n_paths else None
        first = int(np.argmax(path.sigma.mean(axis=1) <= deep["record_sigma"]))  # the recorded final part
        path = SamplePath(path.path[first:], path.sigma[first:], path.method, path.params)
    else:
        sampler = sampler_from_params(p["sampler"])
        schedule = sampler_levels_from_params(p["schedule"], p["T"])
        clip = bool(deep["clip_denoised"])
        path = sample_diffusion(model, schedule, sampler, n_paths, seed=path_seed, record_sigma=deep["record_sigma"],
                                clip_denoised=clip, **conditioning(slice(0, n_paths)))
        rest = sample_diffusion(model, schedule, sampler, n_samples - n_paths, seed=rest_seed, record=0,
                                clip_denoised=clip, **conditioning(slice(n_paths, None))) if n_samples > n_paths else None
    samples = path.samples if rest is None else np.concatenate([path.samples, rest.samples])
    if not (np.isfinite(samples).all() and np.isfinite(path.path).all()):
        raise DataError(f"sample_deep: the model {inp.model} gave non-finite samples "
                        f"({np.size(samples) - int(np.isfinite(samples).sum())} values); {out.samples} is not written")
    artifacts.save_npz(out.path, points=path.path.astype(np.float32), sigma=path.sigma, **conditioning(slice(0, n_paths)))
    artifacts.save_npz(out.samples, samples=samples.astype(np.float32), **({} if labels is None else {"labels": labels}))
    save_figure(deep_plots.path_snapshots(path, model.image_shape), out.fig)
    save_figure(deep_plots.sample_grid(samples, model.image_shape, title=job.point), out.grid)
    job.write_sidecar(out.sidecar, data_sha256="", recorded_points=int(path.path.shape[0]))
    job.log.info("%s: %d samples, %d paths recorded over %d points (sigma %.3g .. %.3g)", p["sampler"], len(samples),
                 n_paths, path.path.shape[0], float(path.sigma[0].mean()), float(path.sigma[-1].mean()))
    job.tracker.set_summary({"n_samples": len(samples), "recorded_points": int(path.path.shape[0]),
                             "sample_min": float(samples.min()), "sample_max": float(samples.max())})
    job.tracker.log_images({"sample_path": out.fig, "samples": out.grid})
