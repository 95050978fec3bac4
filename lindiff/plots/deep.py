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
from lindiff.linear.analysis import loglog_slope
from lindiff.plots import save_figure
from lindiff.plots._common import spread, tile_grid

__all__ = [
    "eigenvector_images",
    "fig7_sin_theta_jacobian",
    "path_snapshots",
    "save_figure",
    "shrinkage_against_wiener",
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


def shrinkage_against_wiener(shrinkage: pd.DataFrame, transfer: pd.DataFrame, indices: Sequence[int] | None = None,
                             title: str = "") -> Figure:
    """(a) The Jacobian eigenvalue ``μ_i`` (solid) and the Wiener shrinkage along the same
    eigenvector ``w_i`` (dashed) against σ, medians over paths, for a few indices; (b) the products
    of per-step gains over the analysed range, per index: the deep sampler's (median, quartile
    band), with the Wiener shrinkage along the same eigenvectors, and the Gaussian closed form on
    the data spectrum (absent when ``transfer`` has no rows: a sampler with no one-step form).

    ``shrinkage``: :func:`lindiff.studies.fig7_shrinkage.shrinkage_table`; ``transfer``:
    :func:`lindiff.studies.fig7_shrinkage.transfer_table`."""
    shrinkage = _check_table(shrinkage, ["step", "sigma", "index", "jacobian", "wiener"], "shrinkage_against_wiener")
    K = int(shrinkage["index"].max()) + 1
    indices = sorted({0, K // 4, K // 2, K - 1}) if indices is None else [int(i) for i in indices]
    fig = Figure(figsize=(11.0, 4.4), layout="constrained")
    ax_shrink, ax_gain = fig.subplots(1, 2)
    cmap, medians = _cmap(), shrinkage.groupby(["index", "step"])[["sigma", "jacobian", "wiener"]].median()
    for i in indices:
        curve = medians.loc[i].sort_values("sigma")
        colour = cmap(0.9 * i / max(1, K - 1))
        ax_shrink.plot(curve["sigma"], curve["jacobian"], color=colour, label=f"i = {i}: Jacobian μ_i")
        ax_shrink.plot(curve["sigma"], curve["wiener"], color=colour, ls="--", label=f"i = {i}: Wiener along v_i")
    ax_shrink.axhline(1.0, color="k", lw=0.6)
    ax_shrink.set_xscale("log")
    ax_shrink.set_xlabel(_X_LABELS["sigma"])
    ax_shrink.set_ylabel("shrinkage factor")
    ax_shrink.set_title(r"(a) $\mu_i$ vs $c_i/(c_i+\sigma^2)$, $c_i = v_i^\top C v_i$", fontsize=9)
    ax_shrink.grid(alpha=0.3)
    ax_shrink.legend(fontsize=7, ncol=2)
    if len(transfer):
        transfer = _check_table(transfer, ["index", "deep", "deep_low", "deep_high", "wiener_local", "gaussian"],
                                "shrinkage_against_wiener")
        ax_gain.fill_between(transfer["index"], transfer["deep_low"], transfer["deep_high"], alpha=0.25, color="C0")
        ax_gain.plot(transfer["index"], transfer["deep"], "o-", color="C0", ms=3, label="deep sampler (median, quartiles)")
        ax_gain.plot(transfer["index"], transfer["wiener_local"], "s--", color="C1", ms=3,
                     label="Wiener shrinkage along the same $v_i$")
        ax_gain.plot(transfer["index"], transfer["gaussian"], "^:", color="C2", ms=3,
                     label=r"Gaussian closed form on $\lambda_i$")
        ax_gain.set_yscale("log")
        first = transfer.iloc[0]
        ax_gain.set_title(f"(b) product of step gains over {int(first['steps'])} steps, "
                          f"σ {first['sigma_low']:.3g} … {first['sigma_high']:.3g}", fontsize=9)
        ax_gain.legend(fontsize=7)
    else:
        ax_gain.text(0.5, 0.5, "no one-step form for this sampler:\nno transfer function", ha="center", va="center",
                     transform=ax_gain.transAxes)
        ax_gain.set_title("(b) product of step gains", fontsize=9)
    ax_gain.set_xlabel("eigenvalue index i")
    ax_gain.set_ylabel("gain over the analysed range")
    ax_gain.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


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
    tile_grid(fig, images, titles, min(ncols, count), symmetric=True)
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
    tile_grid(fig, np.array(images), titles, len(steps), symmetric=False)
    return fig


# --------------------------------------------------------------------------- Fig. 7 statistics

__all__ += ["fig7_index_statistics", "fig7_panels"]  # extended here, next to the functions

_SUMMARY_COLUMNS = ("sigma", "index", "median")


def _wrap_title(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _verdict_title(verdict: str | None, label: str) -> str:
    return label if verdict is None else f"{label}: {verdict}"


def _summary_panel(fig: Figure, ax, summary: pd.DataFrame, band_count: int, title: str, width: int) -> None:
    """One median-sin-θ-per-index panel of :func:`fig7_panels` (log σ axis, reference dropped
    when at σ = 0), with the band for ``band_count`` spread indices and a colour bar."""
    indices = sorted(int(i) for i in summary["index"].unique())
    low, high = summary.attrs.get("band", ("q25", "q75"))
    has_band = low in summary.columns and high in summary.columns
    norm = Normalize(vmin=min(indices), vmax=max(max(indices), min(indices) + 1))
    cmap = _cmap()
    rows = summary[summary["sigma"] > 0]
    for i in spread(indices, band_count) if has_band else []:
        part = rows[rows["index"] == i].sort_values("sigma")
        ax.fill_between(part["sigma"], part[low], part[high], color=cmap(0.9 * norm(i)), alpha=0.18, lw=0)
    for i in sorted(indices, reverse=True):
        part = rows[rows["index"] == i].sort_values("sigma")
        ax.plot(part["sigma"], part["median"], color=cmap(0.9 * norm(i)), lw=1.0)
    ax.set_xscale("log")
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel(r"noise level $\sigma$")
    ax.grid(alpha=0.3)
    ax.set_title(_wrap_title(title, width), fontsize=8)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    bar.set_label("index i (0 = largest eigenvalue)")


def fig7_panels(
    deep_summary: pd.DataFrame,
    linear_summary: pd.DataFrame | None = None,
    deep_verdict: str | None = None,
    linear_verdict: str | None = None,
    title: str = "Fig. 7: eigenvectors along the noise levels vs at the reference (deep Jacobian | linear PCA)",
    band_count: int = 3,
    labels: tuple[str, str] = ("(a) deep denoiser Jacobian", "(b) linear PCA on the same data"),
) -> Figure:
    """Fig. 7 next to Fig. 2 on the same data: median ``sin θ_i`` per index against ``σ``.

    Parameters
    ----------
    deep_summary : DataFrame
        :func:`lindiff.studies.fig7.index_summary` of the deep Jacobian angles
        (columns ``sigma, index, median`` and the band columns, default ``q25, q75``).
    linear_summary : DataFrame, optional
        The same for :func:`lindiff.studies.fig7.linear_reference`; adds panel (b), drawn
        on the same ``σ`` range.
    deep_verdict, linear_verdict : str, optional
        Each panel's verdict sentence (:func:`lindiff.studies.fig7.verdict` of its
        :func:`~lindiff.studies.fig7.fig7_statistics`), shown in its title.
    title : str
        Figure title.
    band_count : int
        Number of spread indices whose inter-quantile band is drawn.
    labels : the two panels' names (a Fig. 7 control beside the trained model: other names).

    Returns
    -------
    Figure with 2 Axes per panel (the plot and its colour bar): 2 or 4.  Darker = lower
    index, as in :func:`fig7_sin_theta_jacobian`; points at ``σ = 0`` are not drawn (log axis).
    """
    panels = [(labels[0], deep_summary, deep_verdict, "deep_summary")]
    if linear_summary is not None:
        panels.append((labels[1], linear_summary, linear_verdict, "linear_summary"))
    return fig7_grid(panels, title, band_count, where="fig7_panels")


def fig7_grid(panels, title: str, band_count: int = 3, where: str = "fig7_grid", max_columns: int = 4) -> Figure:
    """Panels of median ``sin θ_i`` per index against ``σ`` side by side (``max_columns`` to a
    row), on one ``σ`` range.

    ``panels``: ``(label, summary, verdict, name)`` each: the panel's title, its
    :func:`lindiff.studies.fig7.index_summary` table, its verdict sentence (or None) and the
    name an error calls it by (Fig. 7 beside Fig. 2: :func:`fig7_panels`; the trained model
    beside its controls). Returns a Figure with 2 Axes per panel (the plot and its colour bar).
    """
    for _, summary, _, name in panels:
        if not isinstance(summary, pd.DataFrame):
            raise DataError(f"{where}: {name} must be a DataFrame from index_summary, got {type(summary).__name__}")
        _check_table(summary, _SUMMARY_COLUMNS, f"{where} ({name})")
        if not (summary["sigma"] > 0).any():
            raise DataError(f"{where}: {name} has no point with sigma > 0 to draw on a log axis")
    positive = np.concatenate([s["sigma"][s["sigma"] > 0].to_numpy(float) for _, s, _, _ in panels])
    lo, hi = float(positive.min()), float(positive.max())
    width = 55 if len(panels) > 1 else 90
    ncols = min(len(panels), max_columns)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(6.4 * ncols, 4.9 * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    for ax in grid.ravel()[len(panels):]:  # the last row's empty places
        ax.remove()
    for ax, (label, summary, verdict, _) in zip(grid.ravel(), panels):
        _summary_panel(fig, ax, summary, band_count, _verdict_title(verdict, label), width)
        ax.set_xlim(lo / 1.1, hi * 1.1)
    for ax in grid[:, 0]:
        ax.set_ylabel(r"median $\sin\theta_i = \sqrt{1 - \langle v_i^{\sigma}, v_i^{\mathrm{ref}}\rangle^2}$")
    fig.suptitle(_wrap_title(title, 110 if ncols < 3 else 160), fontsize=10)
    return fig


def fig7_index_statistics(
    deep_cross: pd.DataFrame,
    deep_slopes: pd.DataFrame,
    linear_cross: pd.DataFrame | None = None,
    linear_slopes: pd.DataFrame | None = None,
) -> Figure:
    """Per-index Fig. 7 statistics: the crossing noise level vs index, and the small-σ slope
    vs eigenvalue (log-log, the Eq. 12 comparison), deep (circles) and linear (squares).

    Parameters
    ----------
    deep_cross, linear_cross : DataFrame
        :func:`lindiff.studies.fig7.crossing_sigma` (``index, sigma_cross``).
    deep_slopes, linear_slopes : DataFrame
        :func:`lindiff.studies.fig7.small_sigma_slopes` (``index, slope, eigval, n_fit``).

    Returns
    -------
    Figure with 2 Axes.  Eigenvalues are divided by each set's largest (the deep Jacobian's
    shrinkage factors and the linear covariance eigenvalues have different units); the
    legend gives each set's log-log slope (Eq. 12: −1 against ``λ_i``, −1/2 against the
    covariance eigenvalue ``λ_i²``).  NaN entries (no crossing, no fit) are left out.
    """
    sets = [("deep", "o", "C0", deep_cross, deep_slopes)]
    if linear_cross is not None or linear_slopes is not None:
        sets.append(("linear", "s", "C3", linear_cross, linear_slopes))
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    ax_cross, ax_slope = fig.subplots(1, 2)
    for label, marker, color, cross, slopes in sets:
        if cross is not None:
            cross = _check_table(cross, ["index", "sigma_cross"], f"fig7_index_statistics ({label}_cross)")
            ok = cross[np.isfinite(cross["sigma_cross"]) & (cross["sigma_cross"] > 0)]
            ax_cross.plot(ok["index"], ok["sigma_cross"], marker, color=color, ms=4, ls="none",
                          label=f"{label} ({len(ok)} of {len(cross)} cross)")
        if slopes is not None:
            slopes = _check_table(slopes, ["slope", "eigval"], f"fig7_index_statistics ({label}_slopes)")
            ok = slopes[np.isfinite(slopes["slope"]) & np.isfinite(slopes["eigval"])
                        & (slopes["slope"] > 0) & (slopes["eigval"] > 0)]
            if len(ok):
                rel = ok["eigval"] / ok["eigval"].max()
                fit = loglog_slope(ok["eigval"].to_numpy(), ok["slope"].to_numpy())
                ax_slope.plot(rel, ok["slope"], marker, color=color, ms=4, ls="none",
                              label=f"{label}: log-log slope {fit:+.2f}" if np.isfinite(fit) else label)
    ax_cross.set_yscale("log")
    ax_cross.set_xlabel("eigenvector index i")
    ax_cross.set_ylabel(r"$\sigma$ where median $\sin\theta_i$ first reaches the level")
    ax_cross.set_title("crossing noise level (paper: decreasing in i)", fontsize=9)
    ax_slope.set_xscale("log")
    ax_slope.set_yscale("log")
    ax_slope.set_xlabel("eigenvalue / largest eigenvalue")
    ax_slope.set_ylabel(r"small-$\sigma$ slope of median $\sin\theta_i$")
    ax_slope.set_title(r"small-noise slope vs eigenvalue (Eq. 12: slope $\propto 1/\lambda_i$)", fontsize=9)
    for ax in (ax_cross, ax_slope):
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return fig


# --------------------------------------------------------------------------- samples and their quality

__all__ += ["quality_figure", "sample_grid", "sample_panels"]


def _mosaic(samples: np.ndarray, image_shape: tuple[int, int], count: int, ncols: int) -> np.ndarray:
    """The first ``count`` rows of ``samples`` (n, d) tiled into one image (rows of ``ncols``),
    one pixel of padding (NaN) between tiles."""
    h, w = image_shape
    samples = np.asarray(samples, dtype=np.float64)[:count]
    nrows = max(1, math.ceil(len(samples) / ncols))
    mosaic = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), np.nan)
    for k, row in enumerate(samples):
        i, j = divmod(k, ncols)
        mosaic[i * (h + 1): i * (h + 1) + h, j * (w + 1): j * (w + 1) + w] = row.reshape(h, w)
    return mosaic


def sample_grid(samples: np.ndarray, image_shape: tuple[int, int], count: int = 64, ncols: int = 8,
                title: str = "") -> Figure:
    """The first ``count`` generated samples (n, d) as a grid, gray scale clipped to [0, 1]."""
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[1] != math.prod(image_shape):
        raise DataError(f"sample_grid: samples must have shape (n, {math.prod(image_shape)}), got {samples.shape}")
    fig = Figure(figsize=(6.0, 6.3), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(_mosaic(samples, image_shape, count, ncols), cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    return fig


def quality_figure(table: pd.DataFrame, grids: Sequence[tuple[str, np.ndarray]], image_shape: tuple[int, int],
                   count: int = 32, ncols: int = 8) -> Figure:
    """The quality table as panels: per row of ``table`` (columns ``model, confident_fraction,
    frechet_distance, class_entropy``), the first ``count`` of its samples (``grids``: pairs
    ``(model, samples (n, d))`` in the table's order) titled with its numbers."""
    table = _check_table(table, ["model", "confident_fraction", "frechet_distance", "class_entropy"], "quality_figure")
    if len(grids) != len(table):
        raise DataError(f"quality_figure: {len(grids)} sample sets for {len(table)} table rows")
    titled = [(f"{model}\nconfident {row['confident_fraction']:.0%} · FD {row['frechet_distance']:.3g} · "
               f"class entropy {row['class_entropy']:.2f}", samples)
              for (_, row), (model, samples) in zip(table.iterrows(), grids)]
    return sample_panels(titled, image_shape, f"Sample quality (classifier confidence, Fréchet distance to held-out "
                         f"images; max entropy ln 10 = {math.log(10):.2f})", count, ncols)


def sample_panels(panels: Sequence[tuple[str, np.ndarray]], image_shape: tuple[int, int], title: str = "",
                  count: int = 32, ncols: int = 8) -> Figure:
    """One panel per ``(title, samples (n, d))``, three to a row: the first ``count`` samples tiled
    ``ncols`` wide, grey levels in [0, 1]."""
    if not panels:
        raise DataError("sample_panels: no samples")
    ncols_fig = min(3, len(panels))
    nrows_fig = math.ceil(len(panels) / ncols_fig)
    fig = Figure(figsize=(4.2 * ncols_fig, 2.6 * nrows_fig + 0.4), layout="constrained")
    axes = fig.subplots(nrows_fig, ncols_fig, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (label, samples) in zip(axes.ravel(), panels):
        ax.imshow(_mosaic(samples, image_shape, count, ncols), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(label, fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig
