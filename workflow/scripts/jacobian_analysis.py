"""Rule jacobian_analysis: Fig. 7, the Jacobian eigenbasis of a deep denoiser along its sampling paths.

The Jacobians are taken at ``deep.jacobian.n_points`` points of each recorded path, log-spaced in
the noise level from the final iteration up to ``deep.jacobian.sigma_max``
(lindiff.studies.fig7.analysis_points); a noise-conditional model is analysed as its x₀-estimate
``D(y, σ)`` at each point's level (a class-conditional one as the guided estimate of the path's
label, as it was sampled).  Beside it, the linear Fig. 2 on the model's training set at the
same noise levels (lindiff.studies.fig7.linear_reference), with the same statistics: the noise
level at which sin θ(i) crosses 0.5 against i (Spearman), and the small-σ slope against the
eigenvalue (the Eq. 12 analogue).  Against the optimal linear shrinkage
(lindiff.studies.fig7_shrinkage): each Jacobian eigenvalue beside the Wiener shrinkage along its
eigenvector, and, for a DDPM / DDIM / ODE sampler, the product of the per-step gains over the
analysed range beside the same product with the Wiener shrinkage and Benita's closed form on
the data spectrum.
"""

import time

import numpy as np
import pandas as pd

from lindiff import artifacts
from lindiff.deep.jacobian import path_jacobian_analysis
from lindiff.deep.models import DATA_SCALE
from lindiff.deep.train import load_model
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.pipeline.entries import sampler_from_params, sampler_levels_from_params
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure
from lindiff.studies import fig7, fig7_shrinkage

with rule_job(snakemake, retain_memory=True) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    settings = p["deep"]["jacobian"]
    model = load_model(inp.model, device=p["deep"]["device"])
    stored = artifacts.load_npz(inp.path, {"points": 3, "sigma": 2})
    # a class-conditional model's paths carry their labels and guidance weight
    conditioning = {"labels": stored["labels"], "guidance": float(stored["guidance"])} if "labels" in stored else {}
    chosen = fig7.analysis_points(stored["sigma"].T, int(settings["n_points"]), float(settings["sigma_max"]))
    K = min(int(settings["K"]), model.d)
    start = time.perf_counter()
    result = path_jacobian_analysis(model, stored["points"][chosen].astype(np.float64), K,
                                    sigma=stored["sigma"][chosen], method=settings["method"], progress=True,
                                    **conditioning)
    seconds = time.perf_counter() - start
    eigvals = fig7.reference_eigvals(result.eigvals, K)
    deep_stats = fig7.fig7_statistics(result.sigma, result.sin_theta, eigvals)
    subspace_stats = fig7.fig7_statistics(result.sigma, result.sin_theta_subspace, eigvals)
    X, _ = load_training_set(job.cfg("data"), inp.train)
    linear_sigma, linear_sin, linear_eigvals = fig7.linear_reference(
        X, np.median(result.sigma, axis=0), min(K, *X.shape), seed=job.seed())
    linear_stats = fig7.fig7_statistics(linear_sigma, linear_sin, linear_eigvals)

    wiener = fit_wiener(X)
    shrinkage = fig7_shrinkage.shrinkage_table(result.sigma, result.eigvals, result.vectors, wiener)
    if p["sampler"] == "ascent":  # no one-step form: no transfer function
        transfer = pd.DataFrame(columns=list(fig7_shrinkage.TRANSFER_COLUMNS))
        job.log.info("the ascent sampler has no one-step form: transfer.parquet has no rows")
    else:
        # the schedule's levels in data units, as the paths' (the step coefficients k_t are ratios of levels)
        levels = sampler_levels_from_params(p["schedule"], p["T"]).sigma_bar / DATA_SCALE
        local = shrinkage["wiener"].to_numpy().reshape(result.sin_theta.shape)
        transfer = fig7_shrinkage.transfer_table(sampler_from_params(p["sampler"]), levels, result.sigma,
                                                 result.eigvals[:, :, :K], local, wiener.eigvals[::-1])

    artifacts.write_parquet(out.table, result.table())
    artifacts.write_parquet(out.shrinkage_table, shrinkage)
    artifacts.write_parquet(out.transfer, transfer)
    artifacts.save_npz(out.spectra, t=result.t, sigma=result.sigma, sin_theta=result.sin_theta,
                       sin_theta_subspace=result.sin_theta_subspace, eigvals=result.eigvals,
                       asymmetry=result.asymmetry, homogeneity=result.homogeneity, path_steps=chosen,
                       linear_sigma=linear_sigma, linear_sin_theta=linear_sin, linear_eigvals=linear_eigvals)
    deep_summary = fig7.index_summary(result.sigma, result.sin_theta)
    linear_summary = fig7.index_summary(linear_sigma, linear_sin)
    title = f"Fig. 7, {job.point}: deep Jacobian ({len(chosen)} points x {result.sigma.shape[0]} paths) | linear PCA"
    save_figure(deep_plots.fig7_panels(deep_summary, linear_summary, fig7.verdict(deep_stats),
                                        fig7.verdict(linear_stats), title=title), out.fig7)
    save_figure(deep_plots.fig7_index_statistics(
        fig7.crossing_sigma(result.sigma, result.sin_theta), fig7.small_sigma_slopes(result.sigma, result.sin_theta, eigvals),
        fig7.crossing_sigma(linear_sigma, linear_sin), fig7.small_sigma_slopes(linear_sigma, linear_sin, linear_eigvals)),
        out.statistics)
    save_figure(deep_plots.shrinkage_spectra(result), out.shrinkage)
    save_figure(deep_plots.eigenvector_images(result, model.image_shape), out.eigenvectors)
    save_figure(deep_plots.shrinkage_against_wiener(shrinkage, transfer, title=f"{job.point}: the Jacobian's "
                                                    "shrinkage against the Wiener filter's"), out.wiener)
    n_jacobians = result.sin_theta.shape[0] * len(chosen)
    metrics = {
        "n_points": int(len(chosen)), "n_paths": int(result.sin_theta.shape[0]), "K": result.K,
        "jacobian_seconds_total": seconds, "jacobian_seconds_per_point": seconds / max(1, n_jacobians),
        "asymmetry_mean": float(result.asymmetry.mean()), "homogeneity_error_mean": float(result.homogeneity.mean()),
        **{f"deep/{k}": v for k, v in deep_stats.items()},
        **{f"deep_subspace/{k}": v for k, v in subspace_stats.items()},
        **{f"linear/{k}": v for k, v in linear_stats.items()},
        "verdict/deep": fig7.verdict(deep_stats), "verdict/linear": fig7.verdict(linear_stats),
        **fig7_shrinkage.shrinkage_metrics(shrinkage, transfer),
    }
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256="")
    job.tracker.set_summary({k: v for k, v in metrics.items() if not isinstance(v, str)})
    job.tracker.log_images({key: out[key] for key in ("fig7", "statistics", "shrinkage", "eigenvectors", "wiener")})
    if len(transfer):
        job.tracker.log_table("transfer", transfer)
    job.log.info("Jacobians at %d points x %d paths in %.1f s (%.2f s each); asymmetry %.3f, homogeneity error %.2e",
                 len(chosen), result.sin_theta.shape[0], seconds, metrics["jacobian_seconds_per_point"],
                 metrics["asymmetry_mean"], metrics["homogeneity_error_mean"])
    job.log.info("deep: %s", metrics["verdict/deep"])
    job.log.info("linear: %s", metrics["verdict/linear"])
