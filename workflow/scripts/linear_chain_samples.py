"""Rule linear_chain_samples: the class-conditioned linear chain of the quality table (Fig. 1's chain).

One chain of PCA projections per class of the training set of (data, n, seed)
(lindiff.linear.learn.learn_per_class, ``deep.quality.linear``: rank, T, schedule, and the
``learn`` options), ``deep.quality.n_samples / classes`` samples per class, deterministic
(Eq. 14) and noise-injected (Eq. 25, the ``generate`` injection), from the same initial noise.
"""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.linear.generate import injection_std, run_chain_per_class
from lindiff.linear.learn import learn_per_class
from lindiff.pipeline.entries import schedule_from_params
from lindiff.pipeline.jobs import load_training_set, rule_job

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    linear, learn, generate = p["linear"], p["learn"], p["generate"]
    X, _ = load_training_set(job.cfg("data"), inp.train)
    labels = artifacts.load_npz(inp.train, {"labels": 1})["labels"]
    schedule = schedule_from_params(linear["schedule"], linear["T"])
    learn_seed, chain_seed = (int(s.generate_state(1)[0]) for s in job.seed().spawn(2))
    classes, counts = np.unique(labels, return_counts=True)
    rank = min(int(linear["rank"]), X.shape[1], int(counts.min()))
    if rank < int(linear["rank"]):
        job.log.warning("deep.quality.linear.rank=%d lowered to %d: class %d has only %d training samples",
                        linear["rank"], rank, classes[counts.argmin()], counts.min())
    bases = learn_per_class(X, labels, schedule, rank, seed=learn_seed, method=learn["method"],
                            noise=learn["noise"], centered=learn["centered"])
    per_class = max(1, p["quality"]["n_samples"] // len(classes))
    noise_std = injection_std(schedule.sigma, generate["injection"], generate["injection_scale"])
    deterministic, chain_labels = run_chain_per_class(bases, per_class, seed=chain_seed, rank=rank)
    injected, _ = run_chain_per_class(bases, per_class, seed=chain_seed, rank=rank, noise_std=noise_std)
    artifacts.save_npz(out.samples, deterministic=deterministic.astype(np.float32),
                       injected=injected.astype(np.float32), labels=chain_labels)
    job.write_sidecar(out.sidecar, data_sha256=sha256_of_array(X), rank=rank)
    job.log.info("linear chains: %d classes x %d samples, rank %d, T=%d (%s)", len(classes), per_class, rank,
                 linear["T"], linear["schedule"]["name"])
    job.tracker.set_summary({"rank": rank, "n_samples": int(len(deterministic))})
