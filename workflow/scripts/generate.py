"""Rule generate: deterministic (Eq. 14) and noise-injected (Eq. 25) chains at one rank
(lindiff.studies.linear_chain.generate_point)."""

from lindiff import artifacts
from lindiff.pipeline.jobs import rule_job
from lindiff.studies.linear_chain import generate_point

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    bases, sigma = artifacts.load_bases(inp.bases)
    design = artifacts.load_schedule_design(inp.design, T=bases.T) if "design" in inp.keys() else None
    result = generate_point(bases, sigma, p["rank"], p["generate"], job.seed(), design=design,
                            design_options=p["schedule"].get("design"))
    artifacts.save_npz(out.samples, **result.arrays)
    job.write_sidecar(out.sidecar, data_sha256=artifacts.bases_data_checksum(inp.bases))
    if result.refine:
        job.log.info("refined the injected noise on the learned chain: %s %.4g -> %.4g",
                     p["schedule"]["design"]["objective"], result.refine["refine/objective_initial"],
                     result.refine["refine/objective"])
    job.log.info("generated %d samples at rank %d (mean norm %.3g)", result.summary["n_samples"], p["rank"],
                 result.summary["mean_norm_deterministic"])
    job.tracker.set_summary({**result.refine, **result.summary})
