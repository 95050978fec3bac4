"""Rule compare_samplers: the samplers study across the sweep: one row per point, W2 against T,
frequency responses, the schedules (hand and designed) and the denoisers side by side."""

import os

import pandas as pd

from lindiff import artifacts
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import samplers as splots

AXES = ("data", "n", "seed", "schedule", "T", "sampler", "denoiser")

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    points, out = snakemake.params.points, snakemake.output
    rows = []
    for point in points:
        metrics = artifacts.read_json(os.path.join(point["dir"], "metrics.json"))
        rows.append({**{axis: point[axis] for axis in AXES}, "sampler_label": metrics["sampler"],
                     **{k: v for k, v in metrics.items() if k not in ("sampler", "denoiser", "schedule", "T")}})
    summary = pd.DataFrame(rows).sort_values(list(AXES)).reset_index(drop=True)
    artifacts.write_parquet(out.table, summary)
    splots.save_figure(splots.w2_against_T(summary), out.w2)

    wiener = summary[summary["denoiser"] == "wiener"]
    reference_T = 10 if (wiener["T"] == 10).any() else int(summary["T"].max())
    spectra = {}
    for point in points:
        if point["denoiser"] == "wiener" and point["T"] == reference_T:
            table = artifacts.read_parquet(os.path.join(point["dir"], "spectrum.parquet"))
            spectra.setdefault(point["sampler"], {})[point["schedule"]] = table
    splots.save_figure(splots.frequency_response(spectra, f"Wiener denoiser, T={reference_T}"), out.response)

    levels = {}
    for point in points:
        label = point["schedule"] + (f" ({point['sampler']})" if point["schedule"] == "designed" else "")
        if label not in levels.setdefault(point["T"], {}):
            path = os.path.join(point["levels_dir"], "levels.npz")
            levels[point["T"]][label] = artifacts.load_npz(path, {"sigma_bar": 1})["sigma_bar"]
    splots.save_figure(splots.schedules_figure(levels), out.schedules)
    splots.save_figure(splots.denoiser_comparison(summary, reference_T), out.denoisers)

    columns = ["schedule", "T", "sampler", "denoiser", "w2_predicted", "w2_measured", "max_rel_error_variance"]
    job.log.info("samplers study (%d points):\n%s", len(summary), summary[columns].to_string(index=False))
    job.tracker.log_table("samplers", summary)
    job.tracker.log_images({"fig_samplers_w2": out.w2, "fig_frequency_response": out.response,
                            "fig_sampler_schedules": out.schedules, "fig_denoisers": out.denoisers})
    best = wiener.loc[wiener.groupby(["sampler", "T"])["w2_measured"].idxmin()]
    job.tracker.set_summary({"points": len(summary), **{f"best_schedule/{r.sampler}/T{r.T}": r.schedule
                                                         for r in best.itertuples()}})
