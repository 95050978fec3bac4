"""Rule analyze_bases: sin theta between clean and noisy components vs noise (Fig. 2)."""

from lindiff import artifacts, plots
from lindiff.pipeline.jobs import logged_levels, rule_job
from lindiff.studies.linear_chain import analyze_bases

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    out = snakemake.output
    bases, _ = artifacts.load_bases(snakemake.input.bases)
    result = analyze_bases(bases, max_sin=job.params["max_sin"])
    artifacts.write_parquet(out.sin_theta, result.sin_theta)
    artifacts.write_parquet(out.slopes, result.slopes)
    plots.save_figure(result.figure, out.fig2)

    tracker = job.tracker
    tracker.define_step_metric("sin_theta/*", "sigma_bar")
    wide = result.sin_theta.pivot(index="t", columns="index", values="sin_theta")
    for t, row in wide.loc[logged_levels(bases.T)].iterrows():
        tracker.log({"sigma_bar": float(bases.sigma_bar[t]),
                     **{f"sin_theta/{i}": float(v) for i, v in row.items() if i < 20}}, step=int(t))
    tracker.log_image("fig2_sin_theta", out.fig2)
    tracker.log_table("small_noise_slopes", result.slopes)
    tracker.set_summary({f"slope_ratio/{int(r.index)}": r.ratio for r in result.slopes.head(10).itertuples()})
