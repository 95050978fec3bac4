"""Rule prepare_data: choose the training set of a sweep point (indices into the data set)."""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.data.training import choose_training_set
from lindiff.pipeline.jobs import rule_job, training_pool

with rule_job(snakemake, "data") as job:  # snakemake: injected by Snakemake
    out = snakemake.output
    pool = training_pool(job.cfg("data"), job.params["cond"])
    indices = choose_training_set(pool, job.params["n"], job.seed())
    X = pool.full.X[indices]
    checksum = sha256_of_array(X)
    labels = np.zeros(0, np.int64) if pool.full.labels is None else pool.full.labels[indices]
    artifacts.save_npz(out.train, indices=indices, labels=labels, sha256=np.array(checksum))
    job.write_sidecar(out.sidecar, data_sha256=checksum, n_available=int(pool.dataset.n), d=int(X.shape[1]))
    job.log.info("chose %d of %d samples (%s); sha256 %s", len(indices), pool.dataset.n, job.params["cond"], checksum)
    job.tracker.set_summary({"n_train": len(indices), "n_available": int(pool.dataset.n), "d": int(X.shape[1])})
