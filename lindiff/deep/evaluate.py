"""Denoising quality: PSNR of a deep denoiser against the best linear (Wiener) denoiser.

PSNR convention: images in [0, 1] (peak 1); ``PSNR = 10 log10(1 / MSE)`` with the MSE
averaged over every pixel of every test image (one number per test set, not a mean of
per-image PSNRs).  Noise is ``Y = X + σ Z`` with ``Z`` iid standard normal drawn from
``numpy.random.default_rng(seed)``, so the deep and the linear denoiser see the *same*
noisy images for the same seed (paired comparison).  Outputs are not clipped.

The best linear denoiser is the Wiener / PCA-shrinkage filter of the training covariance
(centred, ``C = cov(X_train)`` with ``1/n``)::

    x̂ = μ + C (C + σ² I)⁻¹ (y − μ) = μ + V diag(λ / (λ + σ²)) Vᵀ (y − μ),

the MSE-optimal affine estimator when only the first two moments are used (exactly optimal
for Gaussian data).  Note that it is affine (it adds back ``μ``) while the deep denoisers are
bias-free.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from lindiff.diffusion.denoisers import WienerDenoiser, check_sigma, fit_wiener
from lindiff.errors import DataError
from lindiff.validation import check_matrix

# The Wiener filter is one implementation, in lindiff.diffusion.denoisers; these are its names here.
LinearDenoiser = WienerDenoiser
fit_linear_denoiser = fit_wiener

__all__ = [
    "LinearDenoiser",
    "add_noise",
    "BlindDenoiser",
    "ScaledDenoiser",
    "apply_denoiser",
    "compare_psnr",
    "denoiser_psnr",
    "fit_linear_denoiser",
    "linear_denoiser_psnr",
    "psnr",
]


def psnr(X: np.ndarray, X_hat: np.ndarray, peak: float = 1.0) -> float:
    """``10 log10(peak² / MSE)`` over all entries of ``X`` and ``X_hat`` (same shape)."""
    X, X_hat = np.asarray(X, dtype=np.float64), np.asarray(X_hat, dtype=np.float64)
    if X.shape != X_hat.shape:
        raise DataError(f"psnr: shapes differ, {X.shape} vs {X_hat.shape}")
    mse = float(np.mean((X - X_hat) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak**2 / mse))


def add_noise(X: np.ndarray, sigma: float, seed=0) -> np.ndarray:
    """``X + σ Z``, ``Z`` (n, d) iid N(0, 1) from ``default_rng(seed)``."""
    sigma = check_sigma(sigma)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return X + sigma * rng.standard_normal(np.shape(X))


def linear_denoiser_psnr(X_train: np.ndarray, X_test: np.ndarray, sigma: float, seed=0) -> float:
    """PSNR (dB) of the best linear denoiser fitted on ``X_train`` (n, d), on ``X_test`` (m, d).

    The noisy test images are ``add_noise(X_test, sigma, seed)``.
    """
    filt = fit_linear_denoiser(X_train)
    X_test = check_matrix(X_test, "X_test", d=len(filt.mean), min_rows=1)
    return psnr(X_test, filt.denoise(add_noise(X_test, sigma, seed), sigma))


def apply_denoiser(model, Y: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Denoise the rows of ``Y`` (n, d) at noise level ``sigma`` -> float64 (n, d).

    ``model``: anything with a ``denoise(Y, sigma)`` method (a FlatDenoiser, which ignores
    ``sigma``, or a ConditionalDenoiser, which needs it; run in eval mode), a torch module on
    (n, d) tensors, or a numpy callable (n, d) -> (n, d) (both blind).
    """
    if hasattr(model, "denoise"):
        return model.denoise(Y, sigma)
    if isinstance(model, torch.nn.Module):
        device = next(iter([*model.parameters(), *model.buffers()]), torch.empty(0)).device
        with torch.no_grad():
            return model(torch.as_tensor(Y, device=device)).double().cpu().numpy()
    return np.asarray(model(Y), dtype=np.float64)


class BlindDenoiser:
    """A model of :func:`apply_denoiser` as a sampler's ``D(Y, sigma)``: a blind (Kadkhodaie et
    al.) model estimates the noise level itself, so ``sigma`` is not used."""

    def __init__(self, model):
        self.model = model

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        return apply_denoiser(self.model, Y)


class ScaledDenoiser:
    """A :class:`~lindiff.deep.models.ConditionalDenoiser` (data units) as a sampler's
    ``D(Y, sigma)`` in the model's units ``y_s = (y − c)·s``, ``σ_s = s·σ`` (``c, s =
    DATA_CENTER, DATA_SCALE``), where ``ᾱ = 1/(1 + σ_s²)`` is the VP process it was trained on,
    so the DDPM/DDIM coefficients of :mod:`lindiff.diffusion.samplers` apply.  ``labels`` (n,)
    and ``guidance``: a class-conditional model's labels of the n rows, and the classifier-free
    guidance weight (:class:`~lindiff.deep.models.ConditionalDenoiser`)."""

    def __init__(self, model, labels=None, guidance: float = 0.0):
        from lindiff.deep.models import DATA_CENTER, DATA_SCALE

        self.model, self.center, self.scale = model, DATA_CENTER, DATA_SCALE
        self.conditioning = {} if labels is None else {"labels": labels, "guidance": guidance}

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        x0 = self.model.denoise(Y / self.scale + self.center, sigma / self.scale, **self.conditioning)
        return (x0 - self.center) * self.scale


def denoiser_psnr(model, X_test: np.ndarray, sigma: float, seed=0) -> float:
    """PSNR (dB) of ``model`` on ``X_test`` (m, d) with noise ``add_noise(X_test, sigma, seed)``.

    ``model``: a :class:`lindiff.deep.models.FlatDenoiser` (evaluated in eval mode), a torch
    module on (m, d) tensors, or a numpy callable (m, d) -> (m, d).
    """
    X_test = check_matrix(X_test, "X_test", min_rows=1)
    return psnr(X_test, apply_denoiser(model, add_noise(X_test, sigma, seed), sigma))


def compare_psnr(
    model, X_train: np.ndarray, X_test: np.ndarray, sigmas: Sequence[float] = (0.1, 0.2, 0.4), seed=0
) -> pd.DataFrame:
    """One row per σ: ``sigma, noisy, linear, deep, gain`` (PSNR in dB; gain = deep − linear).

    ``noisy`` is the identity "denoiser" (the PSNR of the noisy input).
    """
    filt = fit_linear_denoiser(X_train)
    X_test = check_matrix(X_test, "X_test", d=len(filt.mean), min_rows=1)
    rows = []
    for sigma in sigmas:
        Y = add_noise(X_test, sigma, seed)
        deep = psnr(X_test, apply_denoiser(model, Y, sigma))
        linear = psnr(X_test, filt.denoise(Y, sigma))
        rows.append(
            {"sigma": float(sigma), "noisy": psnr(X_test, Y), "linear": linear, "deep": deep, "gain": deep - linear}
        )
    return pd.DataFrame(rows)
