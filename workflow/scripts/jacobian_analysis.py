"""Rule jacobian_analysis: Jacobian eigenbasis of the deep denoiser along the sampling path (Fig. 7)."""

import time

import numpy as np

from lindiff import artifacts
from lindiff.plots import deep as deep_plots
from lindiff.deep.jacobian import path_jacobian_analysis
from lindiff.deep.train import load_model
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import save_figure

with rule_job(snakemake) as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, inp, out = job.params, snakemake.input, snakemake.output  # noqa: F821
    settings = p["deep"]["jacobian"]
    model = load_model(inp.model, device=p["deep"]["device"])
    stored = artifacts.load_npz(inp.path, {"points": 3, "sigma": 2})
    steps = stored["points"].shape[0]
    chosen = np.unique(np.linspace(0, steps - 1, min(steps, int(settings["n_points"]))).round().astype(int))
    start = time.perf_counter()
    result = path_jacobian_analysis(model, stored["points"][chosen].astype(np.float64), int(settings["K"]),
                                    sigma=stored["sigma"][chosen], method=settings["method"], progress=True)
    seconds = time.perf_counter() - start
    table = result.table()
    artifacts.write_parquet(out.table, table)
    artifacts.save_npz(out.spectra, t=result.t, sigma=result.sigma, sin_theta=result.sin_theta,
                       eigvals=result.eigvals, asymmetry=result.asymmetry, homogeneity=result.homogeneity,
                       path_steps=chosen)
    save_figure(deep_plots.fig7_sin_theta_jacobian(result), out.fig7)
    save_figure(deep_plots.shrinkage_spectra(result), out.shrinkage)
    save_figure(deep_plots.eigenvector_images(result, model.image_shape), out.eigenvectors)
    metrics = {
        "n_points": int(len(chosen)), "K": result.K, "jacobian_seconds_total": seconds,
        "jacobian_seconds_per_point": seconds / max(1, result.sin_theta.shape[0] * len(chosen)),
        "asymmetry_mean": float(result.asymmetry.mean()), "homogeneity_error_mean": float(result.homogeneity.mean()),
        "sin_theta_first_index_at_noisiest": float(result.sin_theta[:, 0, 0].mean()),
    }
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256="")
    job.tracker.set_summary(metrics)
    job.tracker.log_images({key: out[key] for key in ("fig7", "shrinkage", "eigenvectors")})
    job.log.info("Jacobians at %d points in %.1f s; asymmetry %.3f, homogeneity error %.2e",
                 len(chosen), seconds, metrics["asymmetry_mean"], metrics["homogeneity_error_mean"])
