"""A deep denoiser's shrinkage along its sampling paths against the optimal linear shrinkage.

Two comparisons at the points of Fig. 7 (:mod:`lindiff.studies.fig7`), in the Jacobian's own
eigenbasis:

**Shrinkage.** At a path point ``y`` of noise level ``σ`` the symmetrised Jacobian of the denoiser
has eigenpairs ``(μ_i, v_i)``. The Wiener filter of the training set shrinks the direction
``v_i`` by ``w_i = c_i / (c_i + σ²)``, with ``c_i = v_iᵀ C v_i`` the data variance along ``v_i``
(``C`` the training set's covariance): what the optimal linear denoiser would do in the same
direction. :func:`shrinkage_table` gives ``μ_i``, ``c_i`` and ``w_i`` at every point.

**Transfer function.** One step of a DDPM / DDIM / ODE (Euler) sampler is
``y ← x̂₀ + k_t (y − x̂₀) + n_t z`` (:func:`lindiff.diffusion.samplers.step_coefficients`); with
``x̂₀ = D(y, σ_t)`` linearised, a direction of shrinkage ``μ`` passes with the gain
``a_t = μ + k_t (1 − μ)``. The product of these gains over the steps of a path is the deep
sampler's measured transfer function (:func:`gain_product`), index by index in the local
eigenbasis (the eigenvectors turn along the path; a product by index ignores that). Beside it
the same product with the Wiener shrinkage along the same eigenvectors, and Benita et al.'s
closed form (:func:`lindiff.diffusion.transfer.linear_steps`) on the data's own spectrum
(``λ_i`` the covariance eigenvalues, index by index). The recorded paths cover the low-noise
end only (``deep.record_sigma``): every product here runs over the schedule's steps whose level
lies within the analysed points' range, not from ``σ_T``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lindiff.diffusion.denoisers import WienerDenoiser
from lindiff.diffusion.samplers import Sampler, step_coefficients
from lindiff.errors import ConfigError, DataError

__all__ = ["TRANSFER_COLUMNS", "data_variance_along", "gain_product", "levels_between", "shrinkage_at_levels",
           "shrinkage_metrics", "shrinkage_table", "transfer_table", "wiener_shrinkage"]


#: the columns of :func:`transfer_table` (an empty table of them: a sampler with no one-step form)
TRANSFER_COLUMNS = ("index", "deep", "deep_low", "deep_high", "wiener_local", "gaussian", "data_eigval", "steps",
                    "sigma_low", "sigma_high")


def data_variance_along(vectors, wiener: WienerDenoiser) -> np.ndarray:
    """``c = vᵀ C v`` for every vector: ``vectors`` (..., d, K) columns, ``C`` the covariance whose
    eigendecomposition ``wiener`` holds. Returns (..., K)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    d = wiener.eigvecs.shape[0]
    if vectors.ndim < 2 or vectors.shape[-2] != d:
        raise DataError(f"vectors must have shape (..., d={d}, K), got {vectors.shape}")
    coords = np.einsum("de,...dk->...ek", wiener.eigvecs, vectors)  # the vectors in C's eigenbasis
    return np.einsum("e,...ek->...k", wiener.eigvals, coords**2)


def wiener_shrinkage(variance, sigma) -> np.ndarray:
    """``c / (c + σ²)``: ``variance`` (m, P, K), ``sigma`` (m, P) the points' levels."""
    variance, sigma = np.asarray(variance, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    if sigma.shape != variance.shape[:-1]:
        raise DataError(f"sigma must have shape {variance.shape[:-1]}, got {sigma.shape}")
    return variance / (variance + sigma[..., None] ** 2)


def shrinkage_table(sigma, eigvals, vectors, wiener: WienerDenoiser) -> pd.DataFrame:
    """One row per (path, step, index): ``path, step, sigma, index, jacobian`` (``μ_i``),
    ``data_variance`` (``c_i``), ``wiener`` (``w_i``).

    ``sigma`` (m, P), ``eigvals`` (m, P, ≥K) descending, ``vectors`` (m, P, d, K): a
    :class:`lindiff.deep.jacobian.PathJacobians`' arrays."""
    vectors = np.asarray(vectors)
    K = vectors.shape[-1]
    variance = data_variance_along(vectors, wiener)
    shrink = wiener_shrinkage(variance, sigma)
    m, P = variance.shape[:2]
    path, step, index = np.meshgrid(np.arange(m), np.arange(P), np.arange(K), indexing="ij")
    return pd.DataFrame({"path": path.ravel(), "step": step.ravel(),
                         "sigma": np.asarray(sigma, dtype=np.float64)[path, step].ravel(), "index": index.ravel(),
                         "jacobian": np.asarray(eigvals, dtype=np.float64)[:, :, :K].ravel(),
                         "data_variance": variance.ravel(), "wiener": shrink.ravel()})


def levels_between(sigma_bar, low: float, high: float, rtol: float = 1e-9) -> np.ndarray:
    """The steps ``t`` (1 … T) of a schedule ``sigma_bar`` (T+1,) whose level lies in [low, high]."""
    sigma_bar = np.asarray(sigma_bar, dtype=np.float64)
    t = np.arange(1, len(sigma_bar))
    inside = (sigma_bar[t] >= low * (1 - rtol)) & (sigma_bar[t] <= high * (1 + rtol))
    return t[inside]


def shrinkage_at_levels(point_sigma, shrinkage, levels) -> np.ndarray:
    """``shrinkage`` (m, P, K) known at ``point_sigma`` (m, P), linearly interpolated in ``log σ`` at
    ``levels`` (L,) for every path and index (held constant beyond the points). Returns (m, L, K)."""
    point_sigma, shrinkage = np.asarray(point_sigma, dtype=np.float64), np.asarray(shrinkage, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64)
    if shrinkage.shape[:2] != point_sigma.shape:
        raise DataError(f"shrinkage must have shape {point_sigma.shape} + (K,), got {shrinkage.shape}")
    if np.any(point_sigma <= 0) or np.any(levels <= 0):
        raise DataError("shrinkage_at_levels: levels must be positive (interpolated in log sigma)")
    m, _, K = shrinkage.shape
    out = np.empty((m, len(levels), K))
    for j in range(m):
        order = np.argsort(point_sigma[j])
        log_points = np.log(point_sigma[j, order])
        for i in range(K):
            out[j, :, i] = np.interp(np.log(levels), log_points, shrinkage[j, order, i])
    return out


def gain_product(sampler: Sampler, sigma_bar, steps, shrinkage) -> np.ndarray:
    """``Π_t (μ_t + k_t (1 − μ_t))`` over ``steps`` (L,) of the schedule ``sigma_bar`` (T+1,), the
    shrinkage ``μ`` at each of those steps given as ``shrinkage`` (..., L, K). Returns (..., K).

    The one-step form holds for ddpm, ddim and ode with the Euler solver (Heun's correction needs
    the denoiser between levels; the ve_chain has no ``k``)."""
    if sampler.name == "ve_chain" or (sampler.name == "ode" and sampler.solver != "euler"):
        raise ConfigError(f"the gain product takes ddpm, ddim or ode(euler), not {sampler.label}")
    steps = np.asarray(steps, dtype=int)
    shrinkage = np.asarray(shrinkage, dtype=np.float64)
    if shrinkage.ndim < 2 or shrinkage.shape[-2] != len(steps):
        raise DataError(f"shrinkage must have shape (..., {len(steps)}, K), got {shrinkage.shape}")
    k, _ = step_coefficients(sampler, sigma_bar)
    k_steps = k[steps - 1][:, None]  # row t − 1 is the step from level t
    return np.prod(shrinkage + k_steps * (1.0 - shrinkage), axis=-2)


def transfer_table(sampler: Sampler, sigma_bar, point_sigma, jacobian, wiener_local, data_eigvals) -> pd.DataFrame:
    """The measured and closed-form transfer functions over the analysed range, one row per index.

    ``sigma_bar`` (T+1,) the sampler's schedule in the units of ``point_sigma`` (m, P), the analysed
    points' levels; ``jacobian`` and ``wiener_local`` (m, P, K) the Jacobian eigenvalues and the
    Wiener shrinkage along the same eigenvectors there; ``data_eigvals`` (≥K,) the data
    covariance's eigenvalues, descending. Columns: ``index``, ``deep`` (median over paths of the
    measured product), ``deep_low``/``deep_high`` (its 25% and 75% quantiles), ``wiener_local``
    (median), ``gaussian`` (the closed form on ``λ_i``), ``steps`` and ``sigma_low``/``sigma_high``
    (the range of levels the products run over)."""
    point_sigma = np.asarray(point_sigma, dtype=np.float64)
    positive = point_sigma[point_sigma > 0]
    if positive.size == 0:
        raise DataError("transfer_table: no analysed point has a positive noise level")
    low, high = float(np.median(point_sigma.min(axis=1, initial=np.inf, where=point_sigma > 0))), float(
        np.median(point_sigma.max(axis=1)))
    steps = levels_between(sigma_bar, low, high)
    if steps.size == 0:
        raise DataError(f"transfer_table: no step of the schedule has a level in [{low:.3g}, {high:.3g}]")
    levels = np.asarray(sigma_bar, dtype=np.float64)[steps]
    keep = np.all(point_sigma > 0, axis=0)  # the points with a level (the final image has σ = 0)
    at = {name: shrinkage_at_levels(point_sigma[:, keep], np.asarray(values)[:, keep], levels)
          for name, values in (("deep", jacobian), ("wiener_local", wiener_local))}
    K = at["deep"].shape[-1]
    lam = np.asarray(data_eigvals, dtype=np.float64)[:K]
    gaussian = gain_product(sampler, sigma_bar, steps, lam / (lam + levels[:, None] ** 2))
    deep = gain_product(sampler, sigma_bar, steps, at["deep"])
    local = gain_product(sampler, sigma_bar, steps, at["wiener_local"])
    q25, q50, q75 = np.quantile(deep, [0.25, 0.5, 0.75], axis=0)
    table = pd.DataFrame({"index": np.arange(K), "deep": q50, "deep_low": q25, "deep_high": q75,
                          "wiener_local": np.median(local, axis=0), "gaussian": gaussian,
                          "data_eigval": lam, "steps": len(steps), "sigma_low": levels.min(), "sigma_high": levels.max()})
    return table[list(TRANSFER_COLUMNS)]


def shrinkage_metrics(shrinkage: pd.DataFrame, transfer: pd.DataFrame) -> dict[str, float]:
    """Scalars of the two comparisons: the median ratio ``μ_i / w_i`` (over paths and indices) at the
    lowest and the highest analysed level, the Spearman correlation of ``μ`` and ``w`` over every
    point and index; and, when ``transfer`` has rows, the three products for index 0 and the
    median over indices of ``log10`` of the deep product over each closed form."""
    from scipy.stats import spearmanr

    by_step = shrinkage.assign(ratio=shrinkage["jacobian"] / shrinkage["wiener"]).groupby("step")[["sigma", "ratio"]]
    medians = by_step.median().sort_values("sigma")
    rho = spearmanr(shrinkage["jacobian"], shrinkage["wiener"]).statistic
    out = {"shrinkage/ratio_at_sigma_min": float(medians["ratio"].iloc[0]),
           "shrinkage/ratio_at_sigma_max": float(medians["ratio"].iloc[-1]),
           "shrinkage/sigma_min": float(medians["sigma"].iloc[0]), "shrinkage/sigma_max": float(medians["sigma"].iloc[-1]),
           "shrinkage/spearman_jacobian_vs_wiener": float(rho)}
    if len(transfer):
        top = transfer.iloc[0]
        out.update({f"transfer/{name}_index0": float(top[name]) for name in ("deep", "wiener_local", "gaussian")})
        for name in ("wiener_local", "gaussian"):
            ratio = np.log10(transfer["deep"].to_numpy(float) / transfer[name].to_numpy(float))
            out[f"transfer/median_log10_deep_over_{name}"] = float(np.median(ratio))
    return out
