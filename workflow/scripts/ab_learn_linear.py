"""Rule ab_learn_linear: the PCA bases of the first n images of one half (rank components)."""

from lindiff import artifacts
from lindiff.config import load_data, schedule_from_params
from lindiff.data import sha256_of_array
from lindiff.generalization import load_halves
from lindiff.jobs import rule_job
from lindiff.learn import learn_bases

with rule_job(snakemake, "ab_learn_linear") as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, out = job.params, snakemake.output  # noqa: F821
    data = load_data(job.cfg("data"))
    idx_a, idx_b = load_halves(snakemake.input.halves, data)  # noqa: F821
    X = data.X[(idx_a if p["half"] == "A" else idx_b)[: p["n"]]]
    schedule = schedule_from_params(p["schedule"], p["T"])
    job.log.info("half %s: n=%d d=%d T=%d rank=%d centered=%s sigma_bar_T=%.3g", p["half"], *X.shape, p["T"],
                 p["rank"], p["centered"], schedule.sigma_bar[-1])
    bases = learn_bases(X, schedule, p["rank"], method=p["learn"]["method"], noise=p["learn"]["noise"],
                        centered=p["centered"], seed=job.seed())
    checksum = sha256_of_array(X)
    artifacts.save_bases(out.bases, bases, schedule.sigma, data_sha256=checksum)
    job.write_sidecar(out.sidecar, data_sha256=checksum, sigma_bar_T=float(schedule.sigma_bar[-1]))
    job.tracker.set_summary({"n_train": bases.n_train, "d": bases.d, "k": bases.k, "T": bases.T,
                             "sigma_bar_T": float(schedule.sigma_bar[-1]), "top_eigval": float(bases.eigvals[0, 0])})
