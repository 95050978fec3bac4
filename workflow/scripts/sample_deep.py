"""Rule sample_deep: generate with the deep denoiser (coarse-to-fine ascent), recording the path."""

import numpy as np

from lindiff import artifacts
from lindiff.plots import deep as deep_plots
from lindiff.deep.sample import sample_ascent
from lindiff.deep.train import load_model
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import save_figure

with rule_job(snakemake) as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, inp, out = job.params, snakemake.input, snakemake.output  # noqa: F821
    sampler = dict(p["deep"]["sampler"])
    model = load_model(inp.model, device=p["deep"]["device"])
    n_samples = int(sampler.pop("n_samples", 2))
    path = sample_ascent(model, n_samples, model.d, seed=np.random.default_rng(job.seed()), **sampler)
    artifacts.save_npz(out.path, points=path.path.astype(np.float32), sigma=path.sigma)
    save_figure(deep_plots.path_snapshots(path, model.image_shape), out.fig)
    job.write_sidecar(out.sidecar, data_sha256="", steps=path.steps)
    job.log.info("sampled %d paths of %d steps; final sigma %s", n_samples, path.steps, path.sigma[-1])
    job.tracker.set_summary({"steps": path.steps, "final_sigma_mean": float(np.mean(path.sigma[-1]))})
    job.tracker.log_image("sample_path", out.fig)
