"""Rule ab_curve: the memorization-to-generalization transition over n (table + figure)."""

from lindiff import artifacts
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import generalization as gplots
from lindiff.studies.generalization import ab_curve_table

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    table = ab_curve_table(artifacts.read_json(path) for path in inp.metrics)
    halves = artifacts.load_npz(inp.halves, {"idx_a": 1, "idx_b": 1})
    half_size = min(len(halves["idx_a"]), len(halves["idx_b"]))
    artifacts.write_parquet(out.table, table)
    fig = gplots.generalization_curve(table, title=f"{p['data']['name']}, {p['model']}, seed {p['seed']}",
                                      half_size=half_size, dimension=int(table["d"].iloc[0]))
    gplots.save_figure(fig, out.fig)
    columns = ["n", "cos_ab", "nn_sim", "frac_closer_to_train", "span_cos"]
    job.log.info("transition curve:\n%s", table[columns].to_string(index=False))
    tracker = job.tracker
    tracker.define_step_metric("curve/*", "n")
    for step, row in enumerate(table.itertuples(index=False)):
        tracker.log({"n": int(row.n), **{f"curve/{c}": float(getattr(row, c)) for c in columns[1:]}}, step=step)
    tracker.log_table("generalization_curve", table)
    tracker.log_image("fig_generalization", out.fig)
    tracker.set_summary({"half_size": half_size, **{f"{c}_at_max_n": float(table[c].iloc[-1]) for c in columns[1:]},
                         **{f"{c}_at_min_n": float(table[c].iloc[0]) for c in columns[1:]}})
