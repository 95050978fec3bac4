"""Rule analyze_bases: sin theta between clean and noisy components vs noise (Fig. 2)."""

from lindiff import analysis, artifacts, plots
from lindiff.jobs import logged_levels, rule_job

with rule_job(snakemake, "analyze_bases") as job:  # noqa: F821 (snakemake is injected by Snakemake)
    out = snakemake.output  # noqa: F821
    bases, _ = artifacts.load_bases(snakemake.input.bases)  # noqa: F821
    table = analysis.sin_theta_table(bases)
    slopes = analysis.small_noise_slopes(bases, max_sin=0.1)
    artifacts.write_parquet(out.sin_theta, table)
    artifacts.write_parquet(out.slopes, slopes)
    plots.save_figure(plots.fig2_sin_theta(table, xscale="log"), out.fig2)

    tracker = job.tracker
    tracker.define_step_metric("sin_theta/*", "sigma_bar")
    wide = table.pivot(index="t", columns="index", values="sin_theta")
    for t, row in wide.loc[logged_levels(bases.T)].iterrows():
        tracker.log({"sigma_bar": float(bases.sigma_bar[t]),
                     **{f"sin_theta/{i}": float(v) for i, v in row.items() if i < 20}}, step=int(t))
    tracker.log_image("fig2_sin_theta", out.fig2)
    tracker.log_table("small_noise_slopes", slopes)
    tracker.set_summary({f"slope_ratio/{int(r.index)}": r.ratio for r in slopes.head(10).itertuples()})
