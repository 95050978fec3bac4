"""The samplers study: a sampler's generated spectrum, predicted by the closed form and measured.

For one training set, its Gaussian (mean ``μ``, covariance eigenvalues ``λ_i`` and eigenvectors,
the Wiener filter of :func:`lindiff.diffusion.denoisers.fit_wiener`) is the reference: generated
samples are measured in that eigenbasis (their variance ``v_i`` and the error of their mean),
and the closed form of :mod:`lindiff.diffusion.transfer` predicts both for the Wiener denoiser.
For the other denoisers (empirical, projection, deep) the same prediction is what the Gaussian
theory says; the measured numbers say how far the real denoiser is from it.

Components: the data's support, ``λ_i > 1e-9 λ_0`` (constant pixels, e.g. MNIST's border, have
``λ = 0`` and no ratio ``v/λ``).  Distances (W2², KL) are between Gaussians in this basis, mean
included (``_cov`` variants: covariances only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lindiff.diffusion.design import spectrum_distance
from lindiff.diffusion.transfer import Transfer
from lindiff.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

SUPPORT_TOLERANCE = 1e-9

__all__ = ["SUPPORT_TOLERANCE", "chain_noise", "closed_form", "radial_frequency", "run_sampler", "spectrum_metrics",
           "spectrum_table", "support_size", "wiener_from_moments"]


def chain_noise(sigma_bar: np.ndarray) -> np.ndarray:
    """The chain's injected stds ``e_t = sqrt(σ_{t+1}² − σ_t²)`` (T,): the forward process's increments."""
    return np.sqrt(np.diff(np.asarray(sigma_bar, dtype=np.float64) ** 2))


def _chain_kwargs(sampler, sigma_bar) -> dict:
    return {"noise_std": chain_noise(sigma_bar)} if sampler.name == "ve_chain" else {}


def run_sampler(denoiser, sigma_bar: np.ndarray, sampler, n_samples: int, d: int, seed):
    """``n_samples`` samples (n_samples, d) of ``sampler`` with ``denoiser`` (the chain with its
    increment noise)."""
    from lindiff.diffusion.samplers import sample

    return sample(denoiser, sigma_bar, sampler, n_samples, d, seed=seed, **_chain_kwargs(sampler, sigma_bar)).samples


def closed_form(sampler, sigma_bar: np.ndarray, eigvals: np.ndarray) -> Transfer:
    """The closed form of :func:`run_sampler`'s sampler for a Gaussian with ``eigvals``."""
    from lindiff.diffusion.transfer import transfer_function

    return transfer_function(sampler, sigma_bar, eigvals, **_chain_kwargs(sampler, sigma_bar))


def wiener_from_moments(mean: np.ndarray, eigvals: np.ndarray, basis: np.ndarray):
    """The Wiener denoiser of a Gaussian given its eigenvalues decreasing and ``basis`` (d, d) to match."""
    from lindiff.diffusion.denoisers import WienerDenoiser

    return WienerDenoiser(mean=mean, eigvals=np.clip(eigvals[::-1], 0.0, None).copy(), eigvecs=basis[:, ::-1].copy())


def support_size(eigvals: np.ndarray) -> int:
    """Number of components with ``λ_i > 1e-9 λ_0`` (``eigvals`` decreasing)."""
    eigvals = np.asarray(eigvals, dtype=np.float64)
    if eigvals.ndim != 1 or not len(eigvals) or eigvals[0] <= 0:
        raise DataError("the data's covariance has no positive eigenvalue: a constant data set has no spectrum")
    return int(np.sum(eigvals > SUPPORT_TOLERANCE * eigvals[0]))


def radial_frequency(basis: np.ndarray, image_shape) -> np.ndarray:
    """The mean radial spatial frequency (cycles per pixel, 0 … 0.71) of each column of ``basis``
    (d, m) seen as an image: ``Σ |ω| |F(ω)|² / Σ |F(ω)|²`` over its 2-D Fourier transform."""
    h, w = (int(s) for s in image_shape)
    if h * w != basis.shape[0]:
        raise DataError(f"image_shape {image_shape} does not match d={basis.shape[0]}")
    images = basis.T.reshape(-1, h, w)
    power = np.abs(np.fft.fft2(images)) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    radius = np.hypot(fy, fx)
    return (power * radius).sum(axis=(1, 2)) / power.sum(axis=(1, 2))


def spectrum_table(samples: np.ndarray, mean: np.ndarray, eigvals: np.ndarray, basis: np.ndarray,
                   closed: Transfer, frequency: np.ndarray | None = None) -> pd.DataFrame:
    """One row per component of the support: ``index, eigval, gain`` (``H_i``),
    ``predicted_variance, predicted_mean_error`` (closed form), ``measured_variance,
    measured_mean_error`` (of ``samples`` (N, d) in ``basis`` (d, m) about ``mean`` (d,)),
    ``predicted_ratio, measured_ratio`` (``v/λ``) and, for images, ``frequency``."""
    import pandas as pd

    m = len(eigvals)
    if basis.shape[1] != m or len(closed.variance) != m:
        raise DataError(f"the basis ({basis.shape[1]}), eigenvalues ({m}) and closed form "
                        f"({len(closed.variance)}) differ in size")
    coords = (samples - mean) @ basis
    mean_coords = basis.T @ mean
    table = pd.DataFrame({
        "index": np.arange(m),
        "eigval": eigvals,
        "gain": closed.gain,
        "predicted_variance": closed.variance,
        "predicted_mean_error": -closed.mean_gain * mean_coords,
        "measured_variance": coords.var(axis=0, ddof=1),
        "measured_mean_error": coords.mean(axis=0),
    })
    table["predicted_ratio"] = table["predicted_variance"] / table["eigval"]
    table["measured_ratio"] = table["measured_variance"] / table["eigval"]
    if frequency is not None:
        table["frequency"] = frequency
    return table


def spectrum_metrics(table: pd.DataFrame) -> dict[str, float]:
    """W2² and KL (mean included, and covariance only), predicted and measured; the largest
    relative error of the predicted variance; the component count."""
    eigvals = table["eigval"].to_numpy()
    out: dict[str, float] = {"components": int(len(table))}
    for kind in ("predicted", "measured"):
        variance = table[f"{kind}_variance"].to_numpy()
        error = table[f"{kind}_mean_error"].to_numpy()
        out[f"w2_{kind}"] = float(spectrum_distance(variance, eigvals, "w2", error))
        out[f"w2_cov_{kind}"] = float(spectrum_distance(variance, eigvals, "w2"))
        out[f"kl_{kind}"] = float(spectrum_distance(np.maximum(variance, 1e-300), eigvals, "kl", error))
    relative = table["measured_variance"] / table["predicted_variance"] - 1.0
    out["max_rel_error_variance"] = float(np.abs(relative).max())
    out["median_rel_error_variance"] = float(np.abs(relative).median())
    out["mean_ratio_measured"] = float(table["measured_ratio"].mean())
    return out
