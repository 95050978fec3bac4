"""Rule ab_compare: the same-seed A/B comparison at one n (lindiff.studies.generalization.ab_compare)."""

from lindiff import artifacts
from lindiff.pipeline.datasets import load_data
from lindiff.pipeline.jobs import load_halves, rule_job
from lindiff.plots import generalization as gplots
from lindiff.studies.generalization import ab_compare

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    data = load_data(job.cfg("data"))
    idx_a, idx_b = load_halves(inp.halves, data)
    train_a, train_b = data.X[idx_a[: p["n"]]], data.X[idx_b[: p["n"]]]
    samples = artifacts.load_npz(inp.samples, {"samples_a": 2, "samples_b": 2})
    reference = data.X.mean(axis=0) if p["centered"] else None  # cosines of the fluctuations about the data mean
    study = ab_compare(samples["samples_a"], samples["samples_b"], train_a, train_b, reference=reference)
    summary = {**study.summary, "n": p["n"], "model": p["model"], "centered": p["centered"], "d": int(data.d)}
    artifacts.write_json(out.metrics, summary)
    pairs = study.per_sample
    artifacts.write_parquet(out.pairs, pairs)
    shape = data.image_shape or (1, data.d)
    fig = gplots.ab_pairs(samples["samples_a"], samples["samples_b"], train_a[pairs["nn_index_a"]],
                          train_b[pairs["nn_index_b"]], shape, cos_ab=pairs["cos_ab"].to_numpy(),
                          nn_sim_a=pairs["nn_sim_a"].to_numpy(), nn_sim_b=pairs["nn_sim_b"].to_numpy(),
                          title=f"{p['model']}, n={p['n']}: cos(A,B)={summary['cos_ab']:.2f}, "
                                f"closer to train {summary['frac_closer_to_train']:.2f}")
    gplots.save_figure(fig, out.fig)
    job.log.info("n=%d: cos_ab %.3f, nn_sim %.3f, closer to train %.3f, span cos %.4f", p["n"], summary["cos_ab"],
                 summary["nn_sim"], summary["frac_closer_to_train"], summary["span_cos"])
    job.tracker.set_summary(summary)
    job.tracker.log_table("ab_pairs", pairs)
    job.tracker.log_image("ab_pairs_figure", out.fig)
