"""Rule aggregate: cross-sweep tables and figures (summary, Figs. 1, 3, 6, power iteration)."""

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from lindiff import artifacts, plots
from lindiff.pipeline.datasets import image_shape as data_image_shape
from lindiff.pipeline.jobs import rule_job
from lindiff.studies import sweep_table

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    out = snakemake.output
    points = pd.DataFrame(snakemake.params.points)
    sweep = snakemake.params.sweep
    image_shape = data_image_shape(OmegaConf.create(snakemake.params.data))  # None: drawn as flat rows

    metrics = [artifacts.read_json(f"{row.rank_dir}/metrics.json") for row in points.itertuples()]
    summary = sweep_table.summary_table(points, metrics)
    artifacts.write_parquet(out.summary, summary)

    sin_tables = {row.learn_dir: artifacts.read_parquet(f"{row.learn_dir}/sin_theta.parquet") for row in points.itertuples()}
    tables_by_n = sweep_table.dataset_size_tables(points, sin_tables)
    plots.save_figure(plots.fig3_dataset_size(tables_by_n, sweep["fig3_indices"], xscale="log"), out.fig3)

    profiles = {row.rank_dir: artifacts.read_parquet(f"{row.rank_dir}/pc_distribution.parquet") for row in points.itertuples()}
    without, with_noise, best, natural, label = sweep_table.profiles_over_T(points, profiles)
    plots.save_figure(plots.fig6_distributions(without, with_noise, best, natural, label), out.fig6)

    power = sweep_table.power_iteration_table(summary)
    artifacts.write_parquet(out.power_table, power)
    verdicts = sweep_table.power_iteration_verdict(power)
    plots.save_figure(plots.power_iteration_convergence(power, verdicts), out.power)
    for sentence in verdicts.values():
        job.log.info("power iteration: %s", sentence)

    trajectories, labels = sweep_table.class_trajectories(
        points, lambda rank_dir: artifacts.load_npz(f"{rank_dir}/samples.npz", {"trajectory": 3})["trajectory"]
    )
    d = trajectories.shape[-1]
    shape = image_shape if image_shape and np.prod(image_shape) == d else (1, d)
    plots.save_figure(plots.fig1_trajectory_grid(trajectories, shape, row_labels=labels, positive_final=True), out.fig1)

    tracker = job.tracker
    tracker.log_table("summary", summary)
    tracker.log_table("power_iteration", power)
    tracker.log_images({key: out[key] for key in ("fig1", "fig3", "fig6", "power")})
    tracker.set_summary({"n_points": len(points), "best_distance": float(summary["distance_deterministic"].min()),
                         **{f"power_iteration_verdict/{name}": text for name, text in verdicts.items()}})
    job.log.info("aggregated %d sweep points into %s", len(points), out.summary)
