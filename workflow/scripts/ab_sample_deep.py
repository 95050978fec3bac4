"""Rule ab_sample_deep: same-seed samples of the A and B denoisers (same initial and injected noise).

The seed depends on the sweep seed and the data only (not on n), so every n replays the same noise.
"""

import numpy as np

from lindiff import artifacts
from lindiff.deep.train import load_model
from lindiff.pipeline.jobs import rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.studies.generalization import deep_ab_samples

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    model_a, model_b = (load_model(path, device=p["device"]) for path in (inp.a, inp.b))
    seed = derive_seed(p["seed"], "ab_sample_deep", p["data"]["name"])
    samples_a, samples_b, steps_a, steps_b = deep_ab_samples(model_a, model_b, p["n_samples"], model_a.d, seed=seed,
                                                             **p["sampler"])
    artifacts.save_npz(out.samples, samples_a=samples_a, samples_b=samples_b, steps=np.array([steps_a, steps_b]))
    job.write_sidecar(out.sidecar, data_sha256="", steps_a=steps_a, steps_b=steps_b)
    job.log.info("sampled %d same-seed pairs at n=%d: %d and %d steps", p["n_samples"], p["n"], steps_a, steps_b)
    job.tracker.set_summary({"n_samples": p["n_samples"], "n": p["n"], "steps_a": steps_a, "steps_b": steps_b})
