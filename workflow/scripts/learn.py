"""Rules learn and ab_learn_linear: the PCA bases of the noisy training data at every level
(learn.k components)."""

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.errors import DataError
from lindiff.linear.learn import learn_bases
from lindiff.pipeline.entries import schedule_from_params
from lindiff.pipeline.jobs import load_training_set, logged_levels, rule_job

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, out = job.params, snakemake.output
    X, _ = load_training_set(job.cfg("data"), snakemake.input.train)
    if "design" in snakemake.input.keys():  # (schedule=spectral: designed from the data)
        design = artifacts.load_schedule_design(snakemake.input.design, T=p["T"])
        if design["data_sha256"] != sha256_of_array(X):
            raise DataError(f"{snakemake.input.design}: designed for another training set (sha256 differs)")
        schedule = design["schedule"]
    else:
        schedule = schedule_from_params(p["schedule"], p["T"])
    k = min(p["learn"]["k"], X.shape[1])
    job.log.info("learn: n=%d d=%d T=%d k=%d method=%s noise=%s", *X.shape, p["T"], k,
                 p["learn"]["method"], p["learn"]["noise"])
    bases = learn_bases(
        X, schedule, k,
        method=p["learn"]["method"], noise=p["learn"]["noise"], centered=p["learn"]["centered"],
        seed=job.seed(), progress=True,
    )
    checksum = sha256_of_array(X)
    artifacts.save_bases(out.bases, bases, schedule.sigma, data_sha256=checksum)
    job.write_sidecar(out.sidecar, data_sha256=checksum, sigma_bar_T=float(schedule.sigma_bar[-1]))
    job.tracker.define_step_metric("eigval/*", "sigma_bar")
    for t in logged_levels(bases.T):
        job.tracker.log({"sigma_bar": float(bases.sigma_bar[t]),
                         **{f"eigval/{i}": float(v) for i, v in enumerate(bases.eigvals[t, :10])}}, step=int(t))
    job.tracker.set_summary({"n_train": bases.n_train, "d": bases.d, "k": bases.k, "T": bases.T,
                             "sigma_bar_T": float(bases.sigma_bar[-1]), "top_eigval": float(bases.eigvals[0, 0])})
