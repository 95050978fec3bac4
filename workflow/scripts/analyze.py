"""Rule analyze: Figs. 1, 5, 6, the predicted-vs-measured spectrum and the power-iteration
comparison of one sweep point (lindiff.studies.linear_chain.analyze_point)."""

from lindiff import artifacts, plots
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.studies.linear_chain import analyze_point

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    X, full = load_training_set(job.cfg("data"), inp.train)
    bases, _ = artifacts.load_bases(inp.bases)
    samples = artifacts.load_npz(inp.samples, {"deterministic": 2, "injected": 2, "initial_noise": 2, "trajectory": 3,
                                               "noise_std": 1})
    point = {"point": job.point, "n": p["n"], "schedule": p["schedule"]["name"], "seed": p["seed"], "cond": p["cond"]}
    result = analyze_point(X, bases, samples, p["rank"], p["analyze"]["taus"], p["analyze"]["max_sin"],
                           full.image_shape, point)
    artifacts.write_parquet(out.pc_distribution, result.pc_distribution)
    artifacts.write_parquet(out.spectrum, result.spectrum)
    artifacts.write_json(out.metrics, result.metrics)
    for key, fig in result.figures.items():
        plots.save_figure(fig, out[key])
    job.write_sidecar(out.sidecar, data_sha256=artifacts.bases_data_checksum(inp.bases))

    metrics, tracker = result.metrics, job.tracker
    tracker.set_summary(metrics)
    tracker.log_images({key: out[key] for key in result.figures})
    tracker.log_table("pc_distribution", result.pc_distribution)
    tracker.log_table("spectrum", result.spectrum)
    job.log.info("distances: deterministic %.4g, injected %.4g; energy on u0: %.3f", metrics["distance_deterministic"],
                 metrics["distance_injected"], metrics["energy_u0_deterministic"])
    job.log.info("spectrum error (closed form): deterministic %.3f, injected %.3f",
                 metrics["spectral/deterministic/spectrum_err/predicted_asymptotic"],
                 metrics["spectral/injected/spectrum_err/predicted_asymptotic"])
