"""Rule ab_subset: the training set of one A/B model (the first n images of its half) and its
held-out rows (the other half's last ones), as indices + sha256 like prepare_data's train.npz."""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.pipeline.datasets import load_data
from lindiff.pipeline.jobs import load_halves, rule_job

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, out = job.params, snakemake.output
    data = load_data(job.cfg("data"))
    idx_a, idx_b = load_halves(snakemake.input.halves, data)
    own, other = (idx_a, idx_b) if p["half"] == "A" else (idx_b, idx_a)
    subsets = {"train": own[: p["n"]], "test": other[-min(p["n_test"], len(other)):]}
    for name, indices in subsets.items():
        labels = np.zeros(0, np.int64) if data.labels is None else data.labels[indices]
        artifacts.save_npz(out[name], indices=indices, labels=labels, sha256=np.array(sha256_of_array(data.X[indices])),
                           reference_n=np.int64(min(len(idx_a), len(idx_b))))
    checksum = sha256_of_array(data.X[subsets["train"]])
    job.write_sidecar(out.sidecar, data_sha256=checksum, n_train=len(subsets["train"]), n_test=len(subsets["test"]))
    job.log.info("half %s: %d training rows, %d held out; sha256 %s", p["half"], len(subsets["train"]),
                 len(subsets["test"]), checksum)
    job.tracker.set_summary({"n_train": len(subsets["train"]), "n_test": len(subsets["test"])})
