"""Closed-form predictions for the learned bases and the chain.

Notation: ``eigvals`` are the clean eigenvalues ``λ_i²`` of ``X_0ᵀ X_0 / n`` (the paper's
squared spike strengths), ``sigma_bar`` the cumulative noise std, ``d`` the dimension and
``n`` the number of training samples.
"""

from __future__ import annotations

import numpy as np


def _grid(sigma_bar, eigvals) -> tuple[np.ndarray, np.ndarray]:
    sigma_bar = np.asarray(sigma_bar, dtype=np.float64)[:, None]
    eigvals = np.asarray(eigvals, dtype=np.float64)[None, :]
    return sigma_bar, eigvals


def small_noise_sin_theta(sigma_bar, eigvals, d: int, n: int) -> np.ndarray:
    """Eq. 12 / Assumption 4.1: ``E sin θ_i ≈ (σ̄ / λ_i) sqrt(d / n)``.

    Returns an array of shape ``(len(sigma_bar), len(eigvals))``; valid for small ``σ̄``
    only (it exceeds 1 for large noise; values are not clipped).
    """
    sigma_bar, eigvals = _grid(sigma_bar, eigvals)
    with np.errstate(divide="ignore"):
        return sigma_bar / np.sqrt(eigvals) * np.sqrt(d / n)


def predicted_slope(eigvals, d: int, n: int) -> np.ndarray:
    """Small-noise slope ``d sin θ_i / d σ̄ = sqrt(d / n) / λ_i`` of shape ``(len(eigvals),)``."""
    eigvals = np.asarray(eigvals, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.sqrt(d / n) / np.sqrt(eigvals)


def asymptotic_cos2_theta(sigma_bar, eigvals, d: int, n: int) -> np.ndarray:
    """Information-plus-noise limit of ``cos² θ_i`` (Paul 2007; Benaych-Georges & Nadakuditi).

    With ``c = d / n`` and ``s_i = λ_i² / σ̄²``::

        cos² θ_i → (s_i² − c) / (s_i (s_i + c))   if s_i > sqrt(c), else 0.

    At ``σ̄ = 0`` the value is 1.  Shape ``(len(sigma_bar), len(eigvals))``.
    """
    sigma_bar, eigvals = _grid(sigma_bar, eigvals)
    c = d / n
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = eigvals / sigma_bar**2
        cos2 = (snr**2 - c) / (snr * (snr + c))
    cos2 = np.where(snr > np.sqrt(c), cos2, 0.0)
    cos2 = np.where(sigma_bar == 0, 1.0, cos2)
    return np.clip(cos2, 0.0, 1.0)


def asymptotic_sin_theta(sigma_bar, eigvals, d: int, n: int) -> np.ndarray:
    """``sqrt(1 − cos² θ_i)`` from :func:`asymptotic_cos2_theta`."""
    return np.sqrt(1.0 - asymptotic_cos2_theta(sigma_bar, eigvals, d, n))


def predicted_step_cosines(sigma_bar, eigvals, d: int, n: int) -> np.ndarray:
    """Diagonal ``c_{i,t} ≈ <u_i^t, u_i^{t+1}>`` in the co-planar picture of Fig. 4.

    ``c_{i,t} = cos θ_i(σ̄_{t+1}) / cos θ_i(σ̄_t)`` from the asymptotic formula, and 0 once
    the component is lost in the noise.  Shape ``(T, len(eigvals))``.
    """
    cos = np.sqrt(asymptotic_cos2_theta(sigma_bar, eigvals, d, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cos[:-1] > 0, cos[1:] / cos[:-1], 0.0)
    return np.clip(ratio, 0.0, 1.0)


def predicted_retention(step_cosines: np.ndarray) -> np.ndarray:
    """Per-component retention ``Π_t c_{i,t}`` of the deterministic chain, shape ``(r,)``."""
    return np.prod(np.asarray(step_cosines, dtype=np.float64), axis=0)


def power_iteration_rate(eigvals) -> float:
    """Per-iteration contraction of power iteration on ``Σ_0``: ``λ_1² / λ_0²``."""
    eigvals = np.asarray(eigvals, dtype=np.float64)
    return float(eigvals[1] / eigvals[0])
