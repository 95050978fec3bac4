"""Rule generate: deterministic (Eq. 14) and noise-injected (Eq. 25) chains at one rank."""

import numpy as np

from lindiff import artifacts, spectral
from lindiff.generate import injection_std, run_chain
from lindiff.jobs import rule_job

with rule_job(snakemake, "generate") as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, out = job.params, snakemake.output  # noqa: F821
    gen = p["generate"]
    bases, sigma = artifacts.load_bases(snakemake.input.bases)  # noqa: F821
    extra = {}
    if "design" in snakemake.input.keys():  # noqa: F821 (schedule=spectral: its designed injected noise)
        design = artifacts.load_schedule_design(snakemake.input.design, T=bases.T)  # noqa: F821
        noise_std, initial_std = gen["injection_scale"] * design["noise_std"], design["initial_std"]
        design_cfg = p["schedule"]["design"]
        if design_cfg["refine"]:  # re-fit the injected noise to the learned chain at this rank (exact)
            noise_std, initial_std, refined_variance, history = spectral.refine_injection(
                bases, bases.eigvals[0, : p["rank"]], p["rank"], noise_std, initial_std,
                objective=design_cfg["objective"], free_initial_std=True)
            extra["predicted_variance"] = refined_variance
            job.tracker.set_summary({"refine/objective_initial": float(history[0]),
                                     "refine/objective": float(history.min())})
            job.log.info("refined the injected noise on the learned chain: %s %.4g -> %.4g",
                         design_cfg["objective"], history[0], history.min())
    else:
        noise_std = injection_std(sigma, gen["injection"], gen["injection_scale"])
        initial_std = float(bases.sigma_bar[-1])
    # Both chains start from the same xi_T (same seed); the injected noise comes after it.
    deterministic = run_chain(bases, gen["n_samples"], rank=p["rank"], initial_std=initial_std,
                              seed=np.random.default_rng(job.seed()), n_trajectory=gen["n_trajectory"])
    injected = run_chain(bases, gen["n_samples"], rank=p["rank"], noise_std=noise_std, initial_std=initial_std,
                         seed=np.random.default_rng(job.seed()), n_trajectory=gen["n_trajectory"])
    artifacts.save_npz(
        out.samples,
        deterministic=deterministic.samples.astype(np.float32),
        injected=injected.samples.astype(np.float32),
        initial_noise=deterministic.initial_noise.astype(np.float32),
        trajectory=deterministic.trajectory.astype(np.float32),
        trajectory_injected=injected.trajectory.astype(np.float32),
        noise_std=noise_std,
        initial_std=np.float64(initial_std),
        **extra,
    )
    job.write_sidecar(out.sidecar, data_sha256=artifacts.bases_data_checksum(snakemake.input.bases))  # noqa: F821
    norms = np.linalg.norm(deterministic.samples, axis=1)
    job.log.info("generated %d samples at rank %d (mean norm %.3g)", gen["n_samples"], p["rank"], norms.mean())
    job.tracker.set_summary({"n_samples": gen["n_samples"], "rank": p["rank"],
                             "mean_norm_deterministic": float(norms.mean()),
                             "mean_norm_injected": float(np.linalg.norm(injected.samples, axis=1).mean())})
