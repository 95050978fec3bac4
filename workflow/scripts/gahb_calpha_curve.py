"""Rule gahb_calpha_curve: the denoising curve of one C^α model against the Wiener filter of its
training set (lindiff.studies.gahb.denoising_curve), both PSNR slopes over
``gahb.calpha.slope_range`` beside the optimal α/(α+1), and the deep model's smallest PSNR lead
over the Wiener filter in that range (``deep_margin_db``)."""

import pandas as pd

from lindiff import artifacts
from lindiff.deep.evaluate import apply_denoiser
from lindiff.deep.train import load_model
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.plots import gahb as gahb_plots
from lindiff.plots import save_figure
from lindiff.studies import gahb

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    measure, alpha = p["measure"], float(p["data"]["alpha"])
    model = load_model(inp.model, device=p["device"])
    X, full = load_training_set(job.cfg("data"), inp.train)
    X_test, _ = load_training_set(job.cfg("data"), inp.test, full)
    wiener = fit_wiener(X)
    denoisers = {"deep": lambda Y, sigma: apply_denoiser(model, Y, sigma), "wiener": wiener.denoise}
    curve = pd.concat([gahb.denoising_curve(denoise, X_test, measure["sigmas"], seed=job.seed()).assign(denoiser=name)
                       for name, denoise in denoisers.items()], ignore_index=True).assign(alpha=alpha)
    slope_range = tuple(measure["slope_range"])
    slopes = {f"{name}_slope": gahb.psnr_slope(curve[curve["denoiser"] == name], slope_range) for name in denoisers}
    margin = gahb.psnr_margin(curve[curve["denoiser"] == "deep"], curve[curve["denoiser"] == "wiener"], slope_range)
    metrics = {"alpha": alpha, "optimal_slope": gahb.optimal_calpha_slope(alpha), **slopes,
               "deep_margin_db": margin, "n_train": len(X), "n_test": len(X_test)}
    for _, row in curve.iterrows():
        metrics[f"output_psnr_{row['denoiser']}/{row['sigma']:g}"] = float(row["output_psnr"])
    artifacts.write_parquet(out.curve, curve)
    artifacts.write_json(out.metrics, metrics)
    title = (f"C^α, α={alpha:g} ({job.point}): slope deep {slopes['deep_slope']:.3f}, Wiener "
             f"{slopes['wiener_slope']:.3f}, optimal {metrics['optimal_slope']:.3f}")
    save_figure(gahb_plots.calpha_curves(curve, pd.DataFrame([metrics]), slope_range, title=title), out.fig)
    job.write_sidecar(out.sidecar)
    job.log.info("alpha=%g: slope over sigma in %s: deep %.3f, Wiener %.3f, optimal %.3f; deep - Wiener PSNR >= %.2f dB",
                 alpha, slope_range, slopes["deep_slope"], slopes["wiener_slope"], metrics["optimal_slope"], margin)
    job.tracker.set_summary(metrics)
    job.tracker.log_table("denoising_curve", curve)
    job.tracker.log_image("denoising_curve", out.fig)
