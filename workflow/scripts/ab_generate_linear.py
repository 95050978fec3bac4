"""Rule ab_generate_linear: same-seed samples of the A and B chains (pixel-space shared noise).

The generation seed depends on the sweep seed and the data only (not on n or the half), so
every n of the curve replays the same noise.
"""

import numpy as np

from lindiff import artifacts
from lindiff.linear.generate import injection_std
from lindiff.pipeline.jobs import rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.studies.generalization import linear_ab_samples

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    bases_a, sigma = artifacts.load_bases(inp.a)
    bases_b, _ = artifacts.load_bases(inp.b)
    noise_std = injection_std(sigma, p["generate"]["injection"], p["generate"]["injection_scale"]) \
        if p["injection"] else None
    seed = derive_seed(p["seed"], "ab_generate_linear", p["data"]["name"])
    samples_a, samples_b = linear_ab_samples(bases_a, bases_b, p["n_samples"], rank=p["rank"],
                                             noise_std=noise_std, seed=seed)
    artifacts.save_npz(out.samples, samples_a=samples_a, samples_b=samples_b,
                       noise_std=np.zeros(0) if noise_std is None else noise_std)
    job.write_sidecar(out.sidecar, data_sha256_a=artifacts.bases_data_checksum(inp.a),
                      data_sha256_b=artifacts.bases_data_checksum(inp.b))
    job.log.info("generated %d same-seed pairs at n=%d, rank %d (injection %s)", p["n_samples"], p["n"], p["rank"],
                 p["injection"])
    job.tracker.set_summary({"n_samples": p["n_samples"], "n": p["n"], "rank": p["rank"]})
