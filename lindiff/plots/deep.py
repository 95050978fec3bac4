"""Figures for the deep denoiser: Fig. 7, shrinkage spectra, GAHB eigenvectors, training curves.

Every function returns a new :class:`matplotlib.figure.Figure` built with the object API
(no ``pyplot``, no global state).  Save with :func:`lindiff.plots.save_figure` (atomic PNG),
re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from lindiff.deep.jacobian import PathJacobians
from lindiff.deep.sample import SamplePath
from lindiff.errors import DataError
from lindiff.plots import save_figure

__all__ = [
    "eigenvector_images",
    "fig7_sin_theta_jacobian",
    "path_snapshots",
    "save_figure",
    "shrinkage_spectra",
    "training_curves",
]

_INDEX_CMAP = "viridis"  # dark = low index, as in the paper and lindiff.plots
_X_LABELS = {
    "sigma": r"noise level $\sigma$ of the path point",
    "t": r"steps before the end $t$ ($t = 0$: generated image)",
    "step": "sampling step",
}


def _cmap():
    from matplotlib import colormaps

    return colormaps[_INDEX_CMAP]


def _check_table(table, columns: Sequence[str], where: str) -> pd.DataFrame:
    if isinstance(table, PathJacobians):
        table = table.table()
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{where}: expected PathJacobians or a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{where}: table lacks column(s) {missing}")
    return table


def fig7_sin_theta_jacobian(
    table: PathJacobians | pd.DataFrame, x: str = "sigma", indices: Sequence[int] | None = None,
    xscale: str = "linear", column: str = "sin_theta",
) -> Figure:
    """Fig. 7: ``sin θ_J`` between the Jacobian eigenvectors at each path point and at the
    generated image, one line per index (darker = lower index), averaged over samples.

    Parameters
    ----------
    table : PathJacobians or its ``.table()``
    x : {"sigma", "t", "step"}
    indices : indices to draw (default all)
    xscale : {"linear", "log"}
    column : {"sin_theta", "sin_theta_subspace"}
        Index-matched angle (the paper's) or the angle to the reference top-K subspace.
    """
    if column not in ("sin_theta", "sin_theta_subspace"):
        raise DataError(f"column={column!r}: must be 'sin_theta' or 'sin_theta_subspace'")
    if x not in _X_LABELS:
        raise DataError(f"x={x!r}: must be one of {list(_X_LABELS)}")
    table = _check_table(table, [x, "index", column, "step"], "fig7_sin_theta_jacobian")
    available = sorted(int(i) for i in table["index"].unique())
    indices = available if indices is None else [int(i) for i in indices if int(i) in available]
    if not indices:
        raise DataError(f"fig7_sin_theta_jacobian: none of the requested indices in the table ({available})")
    mean = table[table["index"].isin(indices)].groupby(["index", "step"], as_index=False)[[x, column]].mean()
    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    norm = Normalize(vmin=min(indices), vmax=max(max(indices), min(indices) + 1))
    cmap = _cmap()
    for i in sorted(indices, reverse=True):
        rows = mean[mean["index"] == i].sort_values(x)
        if xscale == "log":
            rows = rows[rows[x] > 0]
        ax.plot(rows[x], rows[column], color=cmap(0.9 * norm(i)), lw=1.0)
    ax.set_xscale(xscale)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel(_X_LABELS[x])
    ax.set_ylabel(r"$\sin\theta_J = \sqrt{1 - \langle v_i^t, v_i^{0}\rangle^2}$" if column == "sin_theta"
                  else r"$\sqrt{1 - \|V_0^\top v_i^t\|^2}$ (angle to the top-$K$ subspace at $t=0$)")
    ax.set_title("Jacobian eigenvectors along the sampling path vs. at the generated image")
    ax.grid(alpha=0.3)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    bar.set_label("eigenvector index i (0 = largest eigenvalue)")
    return fig


def _pick_steps(n_points: int, count: int) -> list[int]:
    return sorted({round(float(s)) for s in np.linspace(0, n_points - 1, min(count, n_points))})


def shrinkage_spectra(
    result: PathJacobians, steps: Sequence[int] | None = None, sample: int = 0, max_index: int | None = None,
) -> Figure:
    """Eigenvalues of the symmetrized Jacobian (shrinkage factors) vs index at several path
    points (default: 6 spread along the path), labelled by their σ."""
    if not isinstance(result, PathJacobians):
        raise DataError(f"shrinkage_spectra: expected PathJacobians, got {type(result).__name__}")
    n_points = result.eigvals.shape[1]
    steps = _pick_steps(n_points, 6) if steps is None else [int(s) % n_points for s in steps]
    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    cmap = _cmap()
    for j, s in enumerate(steps):
        vals = result.eigvals[sample, s, :max_index]
        ax.plot(np.arange(len(vals)), vals, color=cmap(0.9 * j / max(1, len(steps) - 1)),
                label=f"step {s}, σ = {result.sigma[sample, s]:.3g}")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel("eigenvalue index i")
    ax.set_ylabel(r"eigenvalue of $(J + J^\top)/2$ (shrinkage factor)")
    ax.set_title("Jacobian spectra along the sampling path")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _tile_grid(fig: Figure, images: np.ndarray, titles: Sequence[str], ncols: int, symmetric: bool) -> None:
    nrows = math.ceil(len(images) / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, image, title in zip(axes.ravel(), images, titles):
        if symmetric:
            lim = float(np.abs(image).max()) or 1.0
            ax.imshow(image, cmap="RdBu_r", vmin=-lim, vmax=lim)
        else:
            ax.imshow(image, cmap="gray")
        ax.set_title(title, fontsize=7)


def eigenvector_images(
    result: PathJacobians, image_shape: tuple[int, int], step: int = -1, sample: int = 0, count: int = 16,
    ncols: int = 8,
) -> Figure:
    """The top ``count`` Jacobian eigenvectors at one path point shown as images (the
    geometry-adaptive harmonic basis picture), titled with their eigenvalues."""
    if not isinstance(result, PathJacobians):
        raise DataError(f"eigenvector_images: expected PathJacobians, got {type(result).__name__}")
    h, w = image_shape
    vectors = result.vectors[sample, step]
    if h * w != vectors.shape[0]:
        raise DataError(f"image_shape {image_shape} does not match d={vectors.shape[0]}")
    count = min(count, vectors.shape[1])
    images = vectors[:, :count].T.reshape(count, h, w)
    titles = [f"{i}: λ={result.eigvals[sample, step, i]:.2f}" for i in range(count)]
    fig = Figure(figsize=(1.2 * min(ncols, count), 1.3 * math.ceil(count / ncols) + 0.4), layout="constrained")
    _tile_grid(fig, images, titles, min(ncols, count), symmetric=True)
    step_index = step % result.vectors.shape[1]
    fig.suptitle(f"top Jacobian eigenvectors (step {step_index}, σ = {result.sigma[sample, step]:.3g})", fontsize=9)
    return fig


def training_curves(history: Sequence[dict]) -> Figure:
    """Training loss (log scale) and validation PSNR per epoch, from ``TrainResult.history``."""
    if not history:
        raise DataError("training_curves: empty history")
    table = pd.DataFrame(list(history))
    if "epoch" not in table or "loss" not in table:
        raise DataError("training_curves: history records need 'epoch' and 'loss'")
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    ax_loss, ax_psnr = fig.subplots(1, 2)
    ax_loss.plot(table["epoch"], table["loss"], color="k")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training MSE")
    ax_loss.grid(alpha=0.3)
    psnr_cols = [c for c in table.columns if c.startswith("psnr_")]
    cmap = _cmap()
    for j, col in enumerate(psnr_cols):
        ax_psnr.plot(table["epoch"], table[col], color=cmap(0.9 * j / max(1, len(psnr_cols) - 1)),
                     label=f"σ = {col[5:]}")
    ax_psnr.set_xlabel("epoch")
    ax_psnr.set_ylabel("validation PSNR (dB)")
    ax_psnr.grid(alpha=0.3)
    if psnr_cols:
        ax_psnr.legend(fontsize=8)
    return fig


def path_snapshots(
    sample_path: SamplePath, image_shape: tuple[int, int], n_snapshots: int = 8, n_samples: int = 4,
) -> Figure:
    """Rows = samples, columns = points spread along the path (first: initial noise, last:
    generated image), titled with their σ."""
    if not isinstance(sample_path, SamplePath):
        raise DataError(f"path_snapshots: expected SamplePath, got {type(sample_path).__name__}")
    h, w = image_shape
    steps = _pick_steps(sample_path.path.shape[0], n_snapshots)
    n_samples = min(n_samples, sample_path.path.shape[1])
    images, titles = [], []
    for j in range(n_samples):
        for s in steps:
            images.append(sample_path.path[s, j].reshape(h, w))
            titles.append(f"σ={sample_path.sigma[s, j]:.2g}")
    fig = Figure(figsize=(1.1 * len(steps), 1.2 * n_samples + 0.3), layout="constrained")
    _tile_grid(fig, np.array(images), titles, len(steps), symmetric=False)
    return fig
