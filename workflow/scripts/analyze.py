"""Rule analyze: Figs. 1, 5, 6, the predicted-vs-measured spectrum and the power-iteration
comparison of one sweep point."""

import numpy as np
import pandas as pd

from lindiff import analysis, artifacts, plots, spectral
from lindiff.jobs import load_training_set, rule_job

with rule_job(snakemake, "analyze") as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, inp, out = job.params, snakemake.input, snakemake.output  # noqa: F821
    rank, T = p["rank"], p["T"]
    X, full = load_training_set(job.cfg("data"), inp.train)
    bases, _ = artifacts.load_bases(inp.bases)
    samples = artifacts.load_npz(inp.samples, {"deterministic": 2, "injected": 2, "initial_noise": 2, "trajectory": 3,
                                               "noise_std": 1})
    initial_std = float(samples["initial_std"]) if "initial_std" in samples else float(bases.sigma_bar[-1])
    reference = bases.U[0]  # clean principal components of the training set

    natural = analysis.pc_distribution(X, reference, bases.mean)
    profiles = {
        chain: analysis.pc_distribution(samples[chain].astype(np.float64), reference, bases.mean)
        for chain in ("deterministic", "injected")
    }
    distances = {chain: analysis.distribution_distance(prof, natural) for chain, prof in profiles.items()}
    table = [natural.assign(source="natural", chain="", distance=np.nan)]
    table += [prof.assign(source="generated", chain=chain, distance=distances[chain]) for chain, prof in profiles.items()]
    profile_table = pd.concat(table, ignore_index=True)
    artifacts.write_parquet(out.pc_distribution, profile_table)

    # Fig. 6 as variances: the closed-form spectrum of the chain against the generated one.
    chain_noise = {"deterministic": None, "injected": samples["noise_std"]}
    spectra = {
        chain: spectral.spectrum_comparison(bases, samples[chain].astype(np.float64), rank, noise_std, initial_std)
        for chain, noise_std in chain_noise.items()
    }
    spectrum_table = pd.concat([table.assign(chain=chain) for chain, table in spectra.items()], ignore_index=True)
    artifacts.write_parquet(out.spectrum, spectrum_table)
    spectrum_metrics = {f"spectral/{chain}/{key}": value
                        for chain, table in spectra.items() for key, value in spectral.spectrum_errors(table).items()}

    power = analysis.power_iteration_comparison(
        bases, rank, samples["initial_noise"].astype(np.float64), samples["deterministic"].astype(np.float64)
    )
    # Closed-form predictions of the same energies (independent Gaussian coordinates).
    power["chain_energy_u0_predicted"] = spectral.energy_on_leading_predicted(
        spectra["deterministic"]["predicted_measured_cos"].clip(lower=0))
    power["chain_energy_u0_exact"] = spectral.energy_on_leading_predicted(spectra["deterministic"]["exact"].clip(lower=0))
    power["power_energy_u0_predicted"] = spectral.power_iteration_energy_predicted(np.maximum(bases.eigvals[0], 0.0), T)
    power["power_retention_ratio"] = float(power["power_rate"] ** T)
    taus = sorted({min(int(round(f * (T - 1))), T - 1) for f in p["analyze"]["taus"]})
    pairs = analysis.basis_correlations(bases, rank, taus)
    slopes = analysis.small_noise_slopes(bases, max_sin=p["analyze"]["max_sin"])
    metrics = {
        "point": job.point,
        "rank": rank, "T": T, "n": p["n"], "schedule": p["schedule"]["name"], "seed": p["seed"], "cond": p["cond"],
        "distance_deterministic": distances["deterministic"],
        "distance_injected": distances["injected"],
        "energy_u0_deterministic": float(analysis.leading_energy(samples["deterministic"], reference[:, 0], bases.mean).mean()),
        "energy_u0_injected": float(analysis.leading_energy(samples["injected"], reference[:, 0], bases.mean).mean()),
        "c0_deterministic": float(profiles["deterministic"]["c_mean"].iloc[0]),
        "c0_natural": float(natural["c_mean"].iloc[0]),
        "slope_ratio_index0": float(slopes["ratio"].iloc[0]),
        **{f"power/{k}": v for k, v in power.items()},
        **spectrum_metrics,
    }
    artifacts.write_json(out.metrics, metrics)

    image_shape = full.image_shape or (1, bases.d)
    plots.save_figure(plots.fig1_trajectory_grid(samples["trajectory"], image_shape, positive_final=True), out.fig1)
    plots.save_figure(plots.fig5_correlations(pairs), out.fig5)
    best = min(distances, key=distances.get)
    fig6 = plots.fig6_distributions({T: profiles["deterministic"]}, {T: profiles["injected"]},
                                    profiles[best], natural, f"T = {T}, {best} chain")
    plots.save_figure(fig6, out.fig6)
    plots.save_figure(plots.fig6_spectrum(spectra, f"{job.point}: predicted vs generated spectrum"), out.fig6_spectrum)
    job.write_sidecar(out.sidecar, data_sha256=artifacts.bases_data_checksum(snakemake.input.bases))  # noqa: F821

    tracker = job.tracker
    tracker.set_summary(metrics)
    for key in ("fig1", "fig5", "fig6", "fig6_spectrum"):
        tracker.log_image(key, out[key])
    tracker.log_table("pc_distribution", profile_table)
    tracker.log_table("spectrum", spectrum_table)
    job.log.info("distances: %s; energy on u0: %.3f", distances, metrics["energy_u0_deterministic"])
    job.log.info("spectrum error (closed form): deterministic %.3f, injected %.3f",
                 metrics["spectral/deterministic/spectrum_err/predicted_asymptotic"],
                 metrics["spectral/injected/spectrum_err/predicted_asymptotic"])
