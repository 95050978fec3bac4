"""Figures for the GAHB study (:mod:`lindiff.studies.gahb`): C^α denoising curves and slopes,
disk tangent alignment, Jacobian eigenvalues and eigenvectors.

Object API only (no ``pyplot``, no global state); save with :func:`lindiff.plots.save_figure`
(atomic PNG), re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lindiff.errors import DataError
from lindiff.plots import save_figure
from lindiff.plots._common import tile_grid

__all__ = ["CURVE_COLUMNS", "ALIGNMENT_COLUMNS", "calpha_curves", "disks_alignment", "disk_eigenvectors",
           "save_figure"]

#: Columns of a denoising-curve table: one row per (alpha, denoiser, sigma).
CURVE_COLUMNS = ("alpha", "denoiser", "sigma", "input_psnr", "output_psnr")
#: Columns of a disk-alignment table: one row per (n, denoiser, sigma).
ALIGNMENT_COLUMNS = ("n", "denoiser", "sigma", "alignment_median", "alignment_q25", "alignment_q75")
_STYLE = {"deep": "-", "wiener": "--"}


def _require(table: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what}: missing columns {missing}")


def calpha_curves(curves: pd.DataFrame, slopes: pd.DataFrame, slope_range, title: str = "") -> Figure:
    """Output against input PSNR, one colour per α (deep solid, Wiener dashed), each with a line
    of the optimal slope α/(α+1) through the deep curve at the fit range's upper end; beside it
    the measured slopes against α.

    Parameters
    ----------
    curves : DataFrame with :data:`CURVE_COLUMNS`
    slopes : DataFrame, one row per α: ``alpha, deep_slope, wiener_slope, optimal_slope``
    slope_range : (low, high), the σ range of the slope fit (shaded)
    """
    _require(curves, CURVE_COLUMNS, "calpha_curves")
    _require(slopes, ("alpha", "deep_slope", "wiener_slope", "optimal_slope"), "calpha_curves slopes")
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax, ax_slope = fig.subplots(1, 2, width_ratios=(1.6, 1))
    alphas = sorted(curves["alpha"].unique())
    colors = [f"C{i}" for i in range(len(alphas))]
    low, high = (-20 * math.log10(s) for s in slope_range)
    ax.axvspan(high, low, color="0.92", zorder=0, label=f"slope fit σ ∈ [{slope_range[0]}, {slope_range[1]}]")
    for alpha, color in zip(alphas, colors):
        for denoiser, style in _STYLE.items():
            part = curves[(curves["alpha"] == alpha) & (curves["denoiser"] == denoiser)].sort_values("input_psnr")
            if part.empty:
                continue
            ax.plot(part["input_psnr"], part["output_psnr"], style, marker="o", ms=3, color=color,
                    label=f"α={alpha:g} {denoiser}")
            if denoiser == "deep":
                anchor = part.iloc[int(np.argmin(np.abs(part["sigma"].to_numpy() - slope_range[0])))]
                optimal = alpha / (alpha + 1)
                x = np.array([part["input_psnr"].min(), part["input_psnr"].max()])
                ax.plot(x, anchor["output_psnr"] + optimal * (x - anchor["input_psnr"]), ":", color=color, lw=1)
    x = np.array([curves["input_psnr"].min(), curves["input_psnr"].max()])
    ax.plot(x, x, color="0.6", lw=0.8, label="identity")
    ax.set_xlabel("input PSNR (dB)")
    ax.set_ylabel("output PSNR (dB)")
    ax.set_title("denoising curves (dotted: optimal slope α/(α+1))", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ordered = slopes.sort_values("alpha")
    ax_slope.plot(ordered["alpha"], ordered["optimal_slope"], "k-", marker="s", label="optimal α/(α+1)")
    ax_slope.plot(ordered["alpha"], ordered["deep_slope"], "-", marker="o", color="tab:blue", label="deep (measured)")
    ax_slope.plot(ordered["alpha"], ordered["wiener_slope"], "--", marker="^", color="tab:orange",
                  label="Wiener (measured)")
    ax_slope.set_xlabel("α")
    ax_slope.set_ylabel("slope d(output PSNR)/d(input PSNR)")
    ax_slope.set_ylim(0, 1.05)
    ax_slope.legend(fontsize=7)
    ax_slope.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def disks_alignment(alignment: pd.DataFrame, eigvals: pd.DataFrame, chance: float, title: str = "") -> Figure:
    """Left: the alignment (mean cos² of the principal angles) of the top-5 eigenvectors with the
    tangent space against σ, one colour per training-set size (deep solid with its quartile band,
    Wiener dashed), and the chance level ``5/d``.  Right: the deep Jacobian's eigenvalues λ_i
    (median over images, quartile band) at the smallest σ, per training-set size.

    Parameters
    ----------
    alignment : DataFrame with :data:`ALIGNMENT_COLUMNS`
    eigvals : DataFrame, one row per (n, sigma, index): ``n, sigma, index, median, q25, q75``
    chance : float
    """
    _require(alignment, ALIGNMENT_COLUMNS, "disks_alignment")
    _require(eigvals, ("n", "sigma", "index", "median", "q25", "q75"), "disks_alignment eigvals")
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax, ax_eig = fig.subplots(1, 2)
    sizes = sorted(alignment["n"].unique())
    for i, n in enumerate(sizes):
        color = f"C{i}"
        for denoiser, style in _STYLE.items():
            part = alignment[(alignment["n"] == n) & (alignment["denoiser"] == denoiser)].sort_values("sigma")
            if part.empty:
                continue
            ax.plot(part["sigma"], part["alignment_median"], style, marker="o", color=color, label=f"n={n} {denoiser}")
            if denoiser == "deep":
                ax.fill_between(part["sigma"], part["alignment_q25"], part["alignment_q75"], color=color, alpha=0.15)
        part = eigvals[eigvals["n"] == n]
        if not part.empty:
            part = part[part["sigma"] == part["sigma"].min()].sort_values("index")
            ax_eig.plot(part["index"], part["median"], marker="o", ms=3, color=color,
                        label=f"n={n}, σ={part['sigma'].iloc[0]:g}")
            ax_eig.fill_between(part["index"], part["q25"], part["q75"], color=color, alpha=0.15)
    ax.axhline(chance, color="0.5", lw=0.8, ls=":", label=f"chance 5/d = {chance:.4f}")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("σ")
    ax.set_ylabel("mean cos² (top-5 eigenvectors, tangent space)")
    ax.set_title("tangent alignment (median over held-out disks)", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ax_eig.axvline(4.5, color="0.6", lw=0.8, ls=":")
    ax_eig.set_xlabel("eigenvalue index i")
    ax_eig.set_ylabel("λ_i of the deep Jacobian")
    ax_eig.set_title("Jacobian eigenvalues (median, quartiles)", fontsize=9)
    ax_eig.legend(fontsize=7)
    ax_eig.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def disk_eigenvectors(noisy: np.ndarray, vectors: np.ndarray, eigvals: np.ndarray, sigmas, image_shape,
                      title: str = "") -> Figure:
    """One row per noise level: the noisy disk, then the Jacobian's top eigenvectors as images
    titled with their eigenvalues (tangent directions first, then the GAHB patterns).

    Parameters
    ----------
    noisy : ndarray (s, d)
    vectors : ndarray (s, d, k)
    eigvals : ndarray (s, >= k)
    sigmas : sequence of s floats
    image_shape : (h, w) with h·w = d
    """
    noisy, vectors = np.asarray(noisy), np.asarray(vectors)
    h, w = image_shape
    if vectors.ndim != 3 or noisy.shape != vectors.shape[:2] or h * w != vectors.shape[1]:
        raise DataError(f"disk_eigenvectors: noisy {noisy.shape}, vectors {vectors.shape}, image_shape {image_shape}")
    s, _, k = vectors.shape
    fig = Figure(figsize=(1.1 * (k + 1), 1.25 * s + 0.4), layout="constrained")
    rows = fig.subfigures(s, 1, squeeze=False)[:, 0]
    for level, row in enumerate(rows):
        images = [noisy[level].reshape(h, w)] + [vectors[level, :, i].reshape(h, w) for i in range(k)]
        titles = [f"σ={sigmas[level]:g}"] + [f"{i}: λ={eigvals[level, i]:.2f}" for i in range(k)]
        row_axes_fig = row.subfigures(1, 2, width_ratios=(1, k), squeeze=True)
        tile_grid(row_axes_fig[0], np.array(images[:1]), titles[:1], ncols=1, symmetric=False)
        tile_grid(row_axes_fig[1], np.array(images[1:]), titles[1:], ncols=k, symmetric=True)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
