"""Rules gahb_calpha_subset and gahb_disks_subset: one GAHB data split, the first ``n_train``
rows of the generated set for training and its last ``n_test`` rows held out, as indices +
sha256 like prepare_data's train.npz (the train_denoiser stage reads them)."""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.pipeline.datasets import load_data
from lindiff.pipeline.jobs import rule_job

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, out = job.params, snakemake.output
    data = load_data(job.cfg("data"))
    subsets = {"train": np.arange(p["n_train"]), "test": np.arange(data.n - p["n_test"], data.n)}
    for name, indices in subsets.items():
        artifacts.save_npz(out[name], indices=indices, labels=np.zeros(0, np.int64),
                           sha256=np.array(sha256_of_array(data.X[indices])), reference_n=np.int64(p["n_train"]))
    checksum = sha256_of_array(data.X[subsets["train"]])
    job.write_sidecar(out.sidecar, data_sha256=checksum, n_train=p["n_train"], n_test=p["n_test"])
    job.log.info("%s: %d training rows, %d held out of %d generated; sha256 %s", p["family"], p["n_train"],
                 p["n_test"], data.n, checksum)
    job.tracker.set_summary({"n_train": p["n_train"], "n_test": p["n_test"]})
