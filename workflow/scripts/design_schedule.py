"""Rule design_schedule: the spectral schedule of one (data, n, T) point, from the data's spectrum."""

import numpy as np

from lindiff import artifacts, plots
from lindiff.data import sha256_of_array
from lindiff.linear import design as linear_design
from lindiff.linear import spectral
from lindiff.linear.schedules import make_schedule
from lindiff.pipeline.entries import design_components
from lindiff.pipeline.jobs import load_training_set, rule_job

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, out = job.params, snakemake.output
    design_cfg = p["schedule"]["design"]
    X, _ = load_training_set(job.cfg("data"), snakemake.input.train)
    components = min(design_components(p["schedule"], p["learn"]["k"]), X.shape[1])
    eigvals, n_noise = spectral.data_spectrum(X, components, centered=p["learn"]["centered"])
    bounds = design_cfg["sigma_max_bounds"]
    job.log.info("design: n=%d d=%d T=%d components=%d objective=%s injection=%s bounds=%s",
                 *X.shape, p["T"], components, design_cfg["objective"], design_cfg["injection"], bounds)
    design = linear_design.design_schedule(
        eigvals, X.shape[1], n_noise, p["T"],
        sigma_max_bounds=None if bounds is None else tuple(bounds),
        objective=design_cfg["objective"], steps=design_cfg["steps"], lr=design_cfg["lr"],
        seed=design_cfg["seed"], injection=design_cfg["injection"], init=design_cfg["init"],
        free_initial_std=design_cfg["free_initial_std"],
    )
    checksum = sha256_of_array(X)
    artifacts.save_schedule_design(out.schedule, design, eigvals, data_sha256=checksum)
    artifacts.write_parquet(out.predicted, design.predicted)
    summary = {
        "point": job.point, "n": int(X.shape[0]), "d": int(X.shape[1]), "T": p["T"], "components": components,
        "objective_name": design_cfg["objective"], "injection": design_cfg["injection"],
        "objective_initial": float(design.history[0]), "objective": design.objective,
        "sigma_bar_T": float(design.schedule.sigma_bar[-1]), "initial_std": design.initial_std,
        "w2_predicted": spectral.w2_to_data(design.predicted, eigvals),
        "kl_predicted": spectral.gaussian_kl(design.predicted, eigvals),
    }
    artifacts.write_json(out.metrics, summary)
    linear = make_schedule("linear", p["T"], sigma_max=summary["sigma_bar_T"])
    fig = plots.spectral_design(design.schedule.sigma_bar, design.noise_std, design.history, design.predicted,
                                references={"linear, same sigma_bar_T": linear.sigma_bar})
    plots.save_figure(fig, out.fig)
    job.write_sidecar(out.sidecar, data_sha256=checksum)
    job.log.info("objective %.4g -> %.4g; sigma_bar_T %.3g", summary["objective_initial"], design.objective,
                 summary["sigma_bar_T"])
    tracker = job.tracker
    tracker.define_step_metric("design/*", "adam_step")
    for step in np.unique(np.linspace(0, len(design.history) - 1, min(len(design.history), 200)).astype(int)):
        tracker.log({"adam_step": int(step), "design/objective": float(design.history[step])}, step=int(step))
    tracker.set_summary(summary)
    tracker.log_image("design", out.fig)
    tracker.log_table("predicted_spectrum", design.predicted)
