"""Analyses of learned bases and generated samples (Figs. 2, 3, 5, 6; Sec. 4.1).

Tables are returned as pandas DataFrames in long format (one row per measurement) so that
callers can save them as parquet and concatenate them across a sweep.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from lindiff.errors import ConfigError, DataError
from lindiff.linear import theory
from lindiff.linear.generate import transitions
from lindiff.linear.learn import Bases, check_rank

if TYPE_CHECKING:  # pandas is imported where a table is made (a job that makes none does not pay for it)
    import pandas as pd

# --------------------------------------------------------------------------- Fig. 2 / 3


def sin_theta(bases: Bases) -> np.ndarray:
    """``sin θ(t, i) = sqrt(1 − <u_i^t, u_i^0>²)`` between clean and noisy components.

    Returns an array of shape ``(T + 1, k)``; row 0 is zero.
    """
    cos = np.einsum("di,tdi->ti", bases.U[0], bases.U)
    return np.sqrt(np.clip(1.0 - cos**2, 0.0, 1.0))


def sin_theta_table(bases: Bases) -> pd.DataFrame:
    """Measured ``sin θ`` with the Eq. 12 and asymptotic overlays, one row per (t, index).

    Columns: ``t, sigma_bar, index, eigval, sin_theta, sin_theta_eq12,
    sin_theta_asymptotic``.  ``eigval`` is the clean ``λ_i²``.
    """
    import pandas as pd
    measured = sin_theta(bases)
    clean = bases.eigvals[0]
    eq12 = theory.small_noise_sin_theta(bases.sigma_bar, clean, bases.d, bases.n_train)
    full = theory.asymptotic_sin_theta(bases.sigma_bar, clean, bases.d, bases.n_train)
    t_idx, i_idx = np.meshgrid(np.arange(bases.T + 1), np.arange(bases.k), indexing="ij")
    return pd.DataFrame(
        {
            "t": t_idx.ravel(),
            "sigma_bar": bases.sigma_bar[t_idx].ravel(),
            "index": i_idx.ravel(),
            "eigval": clean[i_idx].ravel(),
            "sin_theta": measured.ravel(),
            "sin_theta_eq12": eq12.ravel(),
            "sin_theta_asymptotic": full.ravel(),
        }
    )


def small_noise_slopes(bases: Bases, max_sin: float = 0.1) -> pd.DataFrame:
    """Fit ``sin θ_i ≈ slope_i · σ̄`` (through the origin) in the small-noise regime.

    The regime of index ``i`` is the levels where Eq. 12 predicts ``sin θ_i <= max_sin``
    (a condition on ``σ̄`` only, so the selection does not bias the fit).  The asymptotic
    formula's second-order correction is ``(1 − d/n) σ̄² / (2 λ_i²)`` relative, i.e. a few
    percent for ``max_sin = 0.1`` when ``d/n`` is small.

    Returns columns ``index, eigval, n_levels, slope, predicted_slope, ratio``; the slope is
    NaN where fewer than 2 noisy levels fall in the regime.
    """
    import pandas as pd
    measured = sin_theta(bases)
    clean = bases.eigvals[0]
    predicted = theory.predicted_slope(clean, bases.d, bases.n_train)
    sigma_bar = bases.sigma_bar
    rows = []
    for i in range(bases.k):
        mask = (sigma_bar > 0) & (sigma_bar * predicted[i] <= max_sin)
        if mask.sum() >= 2:
            slope = float(np.sum(sigma_bar[mask] * measured[mask, i]) / np.sum(sigma_bar[mask] ** 2))
        else:
            slope = np.nan
        rows.append((i, clean[i], int(mask.sum()), slope, predicted[i], slope / predicted[i]))
    return pd.DataFrame(
        rows, columns=["index", "eigval", "n_levels", "slope", "predicted_slope", "ratio"]
    )


# --------------------------------------------------------------------------- Fig. 5


def partial_products(steps: np.ndarray) -> np.ndarray:
    """Cumulative products ``Π_{t<=τ} U_tᵀ U_{t+1}`` of the transitions.

    Parameters
    ----------
    steps : ndarray of shape (T, r, r)
        From :func:`lindiff.linear.generate.transitions`.

    Returns
    -------
    ndarray of shape (T, r, r)
        ``out[τ] = steps[0] @ steps[1] @ … @ steps[τ]``.
    """
    out = np.empty_like(steps)
    acc = np.eye(steps.shape[1])
    for tau, step in enumerate(steps):
        acc = acc @ step
        out[tau] = acc
    return out


def basis_correlations(bases: Bases, rank: int, taus) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Fig. 5 pairs: ``τ → (U_τᵀ U_{τ+1}, Π_{t<=τ} U_tᵀ U_{t+1})``, each ``(r, r)``."""
    steps = transitions(bases, rank)
    products = partial_products(steps)
    out = {}
    for tau in taus:
        if not 0 <= tau < bases.T:
            raise ConfigError(f"tau={tau} outside [0, T-1={bases.T - 1}]")
        out[int(tau)] = (steps[tau], products[tau])
    return out


def step_cosines(bases: Bases, rank: int | None = None) -> np.ndarray:
    """Measured ``c_{i,t} = <u_i^t, u_i^{t+1}>`` (diagonals of the transitions), ``(T, r)``."""
    return np.diagonal(transitions(bases, rank), axis1=1, axis2=2).copy()


# --------------------------------------------------------------------------- Fig. 6


def pc_coefficients(samples: np.ndarray, basis: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """``|<u_i, x_j>| / ||x_j||`` for every sample and component (Eq. 26 before averaging).

    Parameters
    ----------
    samples : ndarray of shape (n_samples, d)
    basis : ndarray of shape (d, k)
        Clean principal components (``Bases.U[0]``).
    mean : ndarray of shape (d,), optional
        Subtracted from the samples first (for bases learned centered).

    Returns
    -------
    ndarray of shape (n_samples, k)
    """
    x = samples if mean is None else samples - mean
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms = np.where(norms > 0, norms, 1.0)
    return np.abs(x @ basis) / norms


def pc_distribution(samples: np.ndarray, basis: np.ndarray, mean: np.ndarray | None = None) -> pd.DataFrame:
    """Eq. 26: mean and std over samples of ``|<u_i, x>| / ||x||`` per component index.

    Returns columns ``index, c_mean, c_std``.
    """
    import pandas as pd
    coeffs = pc_coefficients(samples, basis, mean)
    return pd.DataFrame(
        {"index": np.arange(basis.shape[1]), "c_mean": coeffs.mean(axis=0), "c_std": coeffs.std(axis=0)}
    )


def distribution_distance(generated: pd.DataFrame, natural: pd.DataFrame) -> float:
    """L2 distance between two Eq. 26 profiles (``c_mean`` columns, same indices)."""
    if len(generated) != len(natural):
        raise ConfigError("distribution profiles must cover the same component indices")
    return float(np.linalg.norm(generated["c_mean"].to_numpy() - natural["c_mean"].to_numpy()))


# --------------------------------------------------------------------------- power iteration


def leading_energy(samples: np.ndarray, u0: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Energy fraction ``<u_0, x>² / ||x||²`` of each sample on the leading component, ``(n,)``."""
    coeff = pc_coefficients(samples, u0[:, None], mean)[:, 0]
    return coeff**2


def power_iteration(covariance: np.ndarray, start: np.ndarray, n_iter: int) -> np.ndarray:
    """``Σ^T ξ`` for each start vector, normalized at every step.

    Parameters
    ----------
    covariance : ndarray of shape (d, d)
    start : ndarray of shape (n_samples, d)
    n_iter : int

    Returns
    -------
    ndarray of shape (n_samples, d), unit rows.
    """
    x = start / np.linalg.norm(start, axis=1, keepdims=True)
    for _ in range(n_iter):
        x = x @ covariance
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def contraction_ratio(cosines: np.ndarray, first: int = 0, second: int = 1) -> float:
    """Geometric-mean per-step ratio ``c_{second,t} / c_{first,t}`` over t.

    The chain's analogue of power iteration's ``λ_1² / λ_0²`` (Eq. 23).  Steps where either
    cosine is not positive are excluded (there the component is lost in the noise).
    """
    c0, c1 = np.abs(cosines[:, first]), np.abs(cosines[:, second])
    ok = (c0 > 0) & (c1 > 0)
    if not ok.any():
        return float("nan")
    return float(np.exp(np.mean(np.log(c1[ok] / c0[ok]))))


def power_iteration_comparison(
    bases: Bases, rank: int, initial_noise: np.ndarray, samples: np.ndarray
) -> dict[str, float]:
    """Sec. 4.1 / Thm 4.3: the chain against power iteration on ``Σ_0`` from the same ``ξ``.

    Parameters
    ----------
    bases : Bases
    rank : int
    initial_noise : ndarray of shape (n_samples, d)
        The ``ξ_T`` the chain started from.
    samples : ndarray of shape (n_samples, d)
        The chain's output from that noise.

    Returns
    -------
    dict with ``chain_energy_u0`` and ``power_energy_u0`` (mean energy fraction on ``u_0``
    after ``T`` steps), ``chain_rate`` (geometric-mean ``c_1/c_0`` per step, needs rank >= 2),
    ``chain_retention_ratio`` (``Π c_1 / Π c_0``), and ``power_rate`` (``λ_1²/λ_0²``).
    """
    rank = check_rank(rank, bases.d, bases.k)
    U0 = bases.U[0]
    clean_cov = (U0 * bases.eigvals[0]) @ U0.T  # Σ_0 restricted to the stored components
    powered = power_iteration(clean_cov, initial_noise, bases.T)
    out = {
        "chain_energy_u0": float(leading_energy(samples, U0[:, 0], bases.mean).mean()),
        "power_energy_u0": float(leading_energy(powered, U0[:, 0]).mean()),
        "power_rate": theory.power_iteration_rate(bases.eigvals[0]) if bases.k >= 2 else float("nan"),
    }
    if rank >= 2:
        cos = step_cosines(bases, rank)
        out["chain_rate"] = contraction_ratio(cos)
        retention = np.prod(np.abs(cos), axis=0)
        out["chain_retention_ratio"] = float(retention[1] / retention[0]) if retention[0] > 0 else float("nan")
    else:
        out["chain_rate"] = float("nan")
        out["chain_retention_ratio"] = float("nan")
    return out


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x`` over the finite positive pairs.

    Parameters
    ----------
    x, y : array (K,)

    Returns
    -------
    float; NaN with fewer than 2 pairs or a single distinct ``x``.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise DataError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if keep.sum() < 2 or np.ptp(np.log(x[keep])) == 0:
        return math.nan
    lx, ly = np.log(x[keep]), np.log(y[keep])
    lx = lx - lx.mean()
    return float(np.dot(lx, ly - ly.mean()) / np.dot(lx, lx))
