"""Rule split_halves: two disjoint halves A and B of the data set (indices + data checksum)."""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.pipeline.datasets import load_data
from lindiff.pipeline.jobs import rule_job
from lindiff.studies.generalization import half_indices

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    out = snakemake.output
    data = load_data(job.cfg("data"))
    idx_a, idx_b = half_indices(data, job.seed())
    checksum = sha256_of_array(data.X)
    artifacts.save_npz(out.halves, idx_a=idx_a, idx_b=idx_b, sha256=np.array(checksum))
    job.write_sidecar(out.sidecar, data_sha256=checksum, n_a=len(idx_a), n_b=len(idx_b), d=int(data.d))
    job.log.info("split %d samples into halves of %d and %d; sha256 %s", data.n, len(idx_a), len(idx_b), checksum)
    job.tracker.set_summary({"n_total": int(data.n), "n_a": len(idx_a), "n_b": len(idx_b), "d": int(data.d)})
