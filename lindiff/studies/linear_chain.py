"""The computations of the workflow's stages, on arrays: what a rule script calls.

Each function takes loaded arrays and the job's settings and returns what the stage writes
(arrays, tables, metrics, figures), so that a stage is unit-testable without Snakemake and a
rule script only reads its inputs, calls one function, writes the outputs and logs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lindiff.linear import analysis, spectral
from lindiff.linear.design import refine_injection
from lindiff.linear.generate import injection_std, run_chain
from lindiff.linear.learn import Bases
from lindiff.linear.power import energy_on_leading_predicted, power_iteration_energy_predicted

if TYPE_CHECKING:  # pandas is imported where a table is made (a job that makes none does not pay for it)
    import pandas as pd

CHAINS = ("deterministic", "injected")


# --------------------------------------------------------------------------- generate


@dataclass
class GeneratedChains:
    """``arrays``: the ``samples.npz`` members; ``summary``: scalars for the tracker;
    ``refine``: the re-fit of a designed schedule's injected noise (empty when not refined)."""

    arrays: dict[str, np.ndarray]
    summary: dict[str, Any]
    refine: dict[str, float] = field(default_factory=dict)


def generate_point(bases: Bases, sigma: np.ndarray, rank: int, generate: Mapping[str, Any], seed,
                   design: Mapping[str, Any] | None = None, design_options: Mapping[str, Any] | None = None
                   ) -> GeneratedChains:
    """The deterministic (Eq. 14) and noise-injected (Eq. 25) chains of one sweep point.

    Parameters
    ----------
    bases, sigma : the learned bases and the schedule's increments (``bases.npz``).
    rank : the chain's rank.
    generate : ``n_samples, n_trajectory, injection, injection_scale`` (the ``generate`` config).
    seed : SeedSequence (or int): both chains start from the same ``xi_T``.
    design, design_options : for a designed (``spectral``) schedule, its ``schedule.npz``
        (``noise_std``, ``initial_std``) and the ``design`` options (``refine``, ``objective``);
        with ``refine`` the injected stds and the std of ``xi_T`` are re-fitted to the learned
        chain at this rank (:func:`lindiff.linear.design.refine_injection`).
    """
    extra, refine = {}, {}
    if design is not None:
        noise_std, initial_std = generate["injection_scale"] * design["noise_std"], design["initial_std"]
        if design_options["refine"]:
            noise_std, initial_std, refined_variance, history = refine_injection(
                bases, bases.eigvals[0, :rank], rank, noise_std, initial_std,
                objective=design_options["objective"], free_initial_std=True)
            extra["predicted_variance"] = refined_variance
            refine = {"refine/objective_initial": float(history[0]), "refine/objective": float(history.min())}
    else:
        noise_std = injection_std(sigma, generate["injection"], generate["injection_scale"])
        initial_std = float(bases.sigma_bar[-1])
    n_samples, n_trajectory = generate["n_samples"], generate["n_trajectory"]
    deterministic = run_chain(bases, n_samples, rank=rank, initial_std=initial_std,
                              seed=np.random.default_rng(seed), n_trajectory=n_trajectory)
    injected = run_chain(bases, n_samples, rank=rank, noise_std=noise_std, initial_std=initial_std,
                         seed=np.random.default_rng(seed), n_trajectory=n_trajectory)
    arrays = {
        "deterministic": deterministic.samples.astype(np.float32),
        "injected": injected.samples.astype(np.float32),
        "initial_noise": deterministic.initial_noise.astype(np.float32),
        "trajectory": deterministic.trajectory.astype(np.float32),
        "trajectory_injected": injected.trajectory.astype(np.float32),
        "noise_std": noise_std,
        "initial_std": np.float64(initial_std),
        **extra,
    }
    summary = {"n_samples": n_samples, "rank": rank,
               "mean_norm_deterministic": float(np.linalg.norm(deterministic.samples, axis=1).mean()),
               "mean_norm_injected": float(np.linalg.norm(injected.samples, axis=1).mean())}
    return GeneratedChains(arrays=arrays, summary=summary, refine=refine)


# --------------------------------------------------------------------------- analyze


@dataclass
class PointAnalysis:
    """What the ``analyze`` stage writes for one point: ``metrics`` (``metrics.json``), the
    ``pc_distribution`` and ``spectrum`` tables, and the figures by output name (``fig1``,
    ``fig5``, ``fig6``, ``fig6_spectrum``)."""

    metrics: dict[str, Any]
    pc_distribution: pd.DataFrame
    spectrum: pd.DataFrame
    figures: dict[str, Any]


def analyze_point(X: np.ndarray, bases: Bases, samples: Mapping[str, np.ndarray], rank: int, taus, max_sin: float,
                  image_shape, point: Mapping[str, Any]) -> PointAnalysis:
    """Figs. 1, 5, 6, the predicted-vs-generated spectrum and the power-iteration comparison.

    Parameters
    ----------
    X : (n, d) the training set.
    bases : the learned bases (``T + 1`` levels).
    samples : the ``samples.npz`` of :func:`generate_point` (``deterministic``, ``injected``
        (n_samples, d), ``initial_noise``, ``trajectory``, ``noise_std``, ``initial_std``).
    rank : the chain's rank.
    taus : fractions of T where Fig. 5's correlation matrices are taken.
    max_sin : the small-noise regime of the Eq. 12 slope fit.
    image_shape : the samples' image shape, or None (shown as one row).
    point : the point's identity (``point``, ``n``, ``schedule``, ``seed``, ``cond``), copied
        into the metrics.
    """
    import pandas as pd

    from lindiff import plots

    T = bases.T
    initial_std = float(samples["initial_std"]) if "initial_std" in samples else float(bases.sigma_bar[-1])
    reference = bases.U[0]  # clean principal components of the training set
    generated = {chain: samples[chain].astype(np.float64) for chain in CHAINS}

    natural = analysis.pc_distribution(X, reference, bases.mean)
    profiles = {chain: analysis.pc_distribution(generated[chain], reference, bases.mean) for chain in CHAINS}
    distances = {chain: analysis.distribution_distance(prof, natural) for chain, prof in profiles.items()}
    table = [natural.assign(source="natural", chain="", distance=np.nan)]
    table += [prof.assign(source="generated", chain=chain, distance=distances[chain]) for chain, prof in profiles.items()]
    profile_table = pd.concat(table, ignore_index=True)

    # Fig. 6 as variances: the closed-form spectrum of the chain against the generated one.
    chain_noise = {"deterministic": None, "injected": samples["noise_std"]}
    spectra = {chain: spectral.spectrum_comparison(bases, generated[chain], rank, noise_std, initial_std)
               for chain, noise_std in chain_noise.items()}
    spectrum_table = pd.concat([t.assign(chain=chain) for chain, t in spectra.items()], ignore_index=True)
    spectrum_metrics = {f"spectral/{chain}/{key}": value
                        for chain, t in spectra.items() for key, value in spectral.spectrum_errors(t).items()}

    power = analysis.power_iteration_comparison(bases, rank, samples["initial_noise"].astype(np.float64),
                                                generated["deterministic"])
    # Closed-form predictions of the same energies (independent Gaussian coordinates).
    power["chain_energy_u0_predicted"] = energy_on_leading_predicted(
        spectra["deterministic"]["predicted_measured_cos"].clip(lower=0))
    power["chain_energy_u0_exact"] = energy_on_leading_predicted(spectra["deterministic"]["exact"].clip(lower=0))
    power["power_energy_u0_predicted"] = power_iteration_energy_predicted(np.maximum(bases.eigvals[0], 0.0), T)
    power["power_retention_ratio"] = float(power["power_rate"] ** T)
    pairs = analysis.basis_correlations(bases, rank, sorted({min(int(round(f * (T - 1))), T - 1) for f in taus}))
    slopes = analysis.small_noise_slopes(bases, max_sin=max_sin)
    metrics = {
        **point, "rank": rank, "T": T,
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

    best = min(distances, key=distances.get)
    figures = {
        "fig1": plots.fig1_trajectory_grid(samples["trajectory"], image_shape or (1, bases.d), positive_final=True),
        "fig5": plots.fig5_correlations(pairs),
        "fig6": plots.fig6_distributions({T: profiles["deterministic"]}, {T: profiles["injected"]},
                                         profiles[best], natural, f"T = {T}, {best} chain"),
        "fig6_spectrum": plots.fig6_spectrum(spectra, f"{point.get('point', '')}: predicted vs generated spectrum"),
    }
    return PointAnalysis(metrics=metrics, pc_distribution=profile_table, spectrum=spectrum_table, figures=figures)


@dataclass
class BasesAnalysis:
    """The ``analyze_bases`` stage: Fig. 2's table, the Eq. 12 slopes and the figure."""

    sin_theta: pd.DataFrame
    slopes: pd.DataFrame
    figure: Any


def analyze_bases(bases: Bases, max_sin: float) -> BasesAnalysis:
    """sin theta between clean and noisy components at every level (Fig. 2) and its
    small-noise slopes against Eq. 12 (fitted where sin theta <= ``max_sin``)."""
    from lindiff import plots

    table = analysis.sin_theta_table(bases)
    return BasesAnalysis(sin_theta=table, slopes=analysis.small_noise_slopes(bases, max_sin=max_sin),
                         figure=plots.fig2_sin_theta(table, xscale="log"))
