"""Figures of the paper (Figs. 1, 2, 3, 5, 6) and the power-iteration comparison.

Every function takes arrays or the long-format DataFrames of :mod:`lindiff.linear.analysis` and
returns a new :class:`matplotlib.figure.Figure`.  Figures are built with the
object-oriented API (``Figure()`` directly, never ``pyplot``), so importing this module
neither switches the matplotlib backend nor touches any global figure state; PNGs are
rendered by the Agg canvas that ``Figure.savefig`` picks for the ``png`` format.

Use :func:`save_figure` to write a figure as a PNG atomically (via :func:`atomic_write`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from lindiff.artifacts import atomic_write
from lindiff.errors import DataError
from lindiff.plots._common import spread

__all__ = [
    "save_figure",
    "decimated_steps",
    "fig1_trajectory_grid",
    "fig2_sin_theta",
    "fig3_dataset_size",
    "fig5_correlations",
    "fig6_distributions",
    "fig6_spectrum",
    "spectral_design",
    "schedule_comparison",
    "power_iteration_convergence",
]

_INDEX_CMAP = "viridis"  # dark = low index = largest eigenvalue
_SIZE_CMAP = "Blues"  # dark = small n, lighter for larger n
_T_CMAP = "plasma"
_HEATMAP_CMAP = "magma"
_OVERLAY_STYLES = {"eq12": ("--", "Eq. 12 (small noise)"), "asymptotic": (":", "asymptotic (spiked model)")}


# --------------------------------------------------------------------------- helpers


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG atomically.

    The image is rendered to a temporary file in the destination directory and moved into
    place with :func:`os.replace`, so a reader never sees a partial file and no temporary
    file is left behind on error.  Parent directories are created.

    Parameters
    ----------
    fig : Figure
    path : path-like
        Destination, conventionally ending in ``.png`` (the format is PNG regardless).
    dpi : int

    Returns
    -------
    Path
        The destination path.
    """
    path = Path(path)
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    return path


def _require_columns(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{where}: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            f"{where}: table lacks column(s) {missing}; it has {list(table.columns)}"
        )
    if table.empty:
        raise DataError(f"{where}: table is empty")


def _colors(cmap: str, n: int, lo: float, hi: float) -> list:
    """``n`` colours from ``cmap`` between positions ``lo`` and ``hi`` (``lo`` first)."""
    positions = np.linspace(lo, hi, n) if n > 1 else np.array([lo])
    return [matplotlib.colormaps[cmap](p) for p in positions]


def _truncated(cmap: str, lo: float, hi: float) -> ListedColormap:
    """The part of ``cmap`` between positions ``lo`` and ``hi`` as a new colormap."""
    return ListedColormap(matplotlib.colormaps[cmap](np.linspace(lo, hi, 256)))


def _sigma_rows(table: pd.DataFrame, xscale: str) -> pd.DataFrame:
    """Rows sorted by ``sigma_bar``; without ``sigma_bar == 0`` on a log axis."""
    if xscale == "log":
        table = table[table["sigma_bar"] > 0]
    return table.sort_values("sigma_bar")


def _sigma_axis(ax, xscale: str) -> None:
    if xscale == "log":
        ax.set_xscale("log")
    else:
        ax.set_xlim(left=0.0)
    ax.set_xlabel(r"noise level $\bar\sigma_t$")


def _check_xscale(xscale: str) -> None:
    if xscale not in ("linear", "log"):
        raise DataError(f"xscale must be 'linear' or 'log', got {xscale!r}")


def _maybe_log_x(ax, values) -> None:
    values = np.asarray(values, dtype=float)
    if values.size and np.all(values > 0) and values.max() / values.min() >= 8:
        ax.set_xscale("log")


# --------------------------------------------------------------------------- Fig. 1


def decimated_steps(T: int, n_steps: int) -> np.ndarray:
    """Levels shown in a decimated trajectory: ``n_steps`` values from ``T`` down to 0.

    Always includes ``T`` (pure noise) and 0 (the sample); fewer when ``T + 1 < n_steps``.
    """
    if n_steps < 1:
        raise DataError(f"n_steps must be >= 1, got {n_steps}")
    if n_steps == 1:
        return np.array([0])
    return np.unique(np.round(np.linspace(0, T, min(n_steps, T + 1))).astype(int))[::-1]


def _normalize_tiles(tiles: np.ndarray, mode: str) -> np.ndarray:
    """Scale tiles (..., h, w) to [0, 1] per image (``per_image``) or jointly (``global``)."""
    if mode == "per_image":
        axes = (-2, -1)
    elif mode == "global":
        axes = None
    else:
        raise DataError(f"normalize must be 'per_image' or 'global', got {mode!r}")
    lo = tiles.min(axis=axes, keepdims=axes is not None)
    hi = tiles.max(axis=axes, keepdims=axes is not None)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (tiles - lo) / span


def fig1_trajectory_grid(
    trajectory: np.ndarray,
    image_shape: tuple[int, int],
    n_columns: int = 10,
    n_steps: int = 10,
    row_labels: Sequence[str] | None = None,
    normalize: str = "per_image",
    positive_final: bool = False,
    tile_inches: float = 0.7,
) -> Figure:
    """Fig. 1: the reverse process from pure noise (``t = T``) to the sample (``t = 0``).

    Layout as in the paper: each trajectory's ``n_steps`` decimated states run left to
    right, wrapping after ``n_columns`` images ("top then bottom"); trajectories are
    stacked vertically.  With ``n_columns >= n_steps`` each trajectory is one row.  All
    tiles are drawn in one Axes as a single grayscale mosaic.

    Parameters
    ----------
    trajectory : ndarray of shape (T + 1, n_traj, d)
        ``ChainOutput.trajectory`` from ``run_chain(..., n_trajectory=n_traj)``;
        ``trajectory[t]`` is the state ``x_t``.
    image_shape : (h, w)
        ``h * w == d``.
    n_columns : int
        Images per row before wrapping.
    n_steps : int
        Number of decimated levels shown (``T`` and 0 always included).
    row_labels : sequence of str, optional
        One label per trajectory (e.g. its class).
    normalize : {"per_image", "global"}
        Grey-scale each tile to its own range (default: noisy states have a much larger
        range than clean ones) or all tiles to a common range.
    positive_final : bool
        Negate a whole trajectory when its final image (``t = 0``) has a negative mean.
        The linear chain is odd (``ξ`` and ``-ξ`` are equally likely and give ``±x``), so
        this only picks the display sign that matches non-negative images.
    tile_inches : float
        Size of one tile in the figure.

    Returns
    -------
    Figure with one Axes.
    """
    trajectory = np.asarray(trajectory, dtype=np.float64)
    if trajectory.ndim != 3:
        raise DataError(f"trajectory must have shape (T+1, n_traj, d), got {trajectory.shape}")
    T1, n_traj, d = trajectory.shape
    h, w = (int(s) for s in image_shape)
    if h * w != d:
        raise DataError(f"image_shape {tuple(image_shape)} does not match d={d}")
    if n_traj < 1:
        raise DataError("trajectory holds no samples (n_traj = 0)")
    if row_labels is not None and len(row_labels) != n_traj:
        raise DataError(f"row_labels has {len(row_labels)} entries for {n_traj} trajectories")
    if n_columns < 1:
        raise DataError(f"n_columns must be >= 1, got {n_columns}")

    if positive_final:
        signs = np.where(trajectory[0].mean(axis=1) < 0, -1.0, 1.0)
        trajectory = trajectory * signs[None, :, None]
    steps = decimated_steps(T1 - 1, n_steps)
    n_show = len(steps)
    n_cols = min(n_columns, n_show)
    rows_per = math.ceil(n_show / n_cols)
    tiles = trajectory[steps].transpose(1, 0, 2).reshape(n_traj, n_show, h, w)
    tiles = _normalize_tiles(tiles, normalize)

    pad = max(1, round(0.15 * max(h, w)))  # gap between tiles
    block_gap = pad * 3 if rows_per > 1 else pad  # extra gap between trajectories
    cell_h, cell_w = h + pad, w + pad
    block_h = rows_per * cell_h - pad + block_gap
    height = n_traj * block_h - block_gap
    width = n_cols * cell_w - pad
    mosaic = np.full((height, width), np.nan)
    for s in range(n_traj):
        for j in range(n_show):
            r, c = divmod(j, n_cols)
            y0, x0 = s * block_h + r * cell_h, c * cell_w
            mosaic[y0 : y0 + h, x0 : x0 + w] = tiles[s, j]

    scale = tile_inches / max(h, w)
    fig = Figure(figsize=(max(width * scale + 1.4, 4.0), height * scale + 1.0), layout="constrained")
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["gray"].with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    for side in ax.spines.values():
        side.set_visible(False)

    centers_x = np.arange(n_cols) * cell_w + (w - 1) / 2
    if rows_per == 1:
        ax.set_xticks(centers_x, [f"t={t}" for t in steps], fontsize=8)
        ax.xaxis.tick_top()
        ax.tick_params(axis="x", length=0)
    else:
        ax.set_xticks([])
        for j, t in enumerate(steps):  # label the first trajectory's tiles
            r, c = divmod(j, n_cols)
            ax.text(c * cell_w, r * cell_h, f"t={t}", color="yellow", fontsize=7, va="top", ha="left")
    if row_labels is not None:
        ax.set_yticks(np.arange(n_traj) * block_h + (rows_per * cell_h - pad - 1) / 2, list(row_labels))
        ax.tick_params(axis="y", length=0)
    else:
        ax.set_yticks([])
    direction = "left to right" if rows_per == 1 else "left to right, top then bottom"
    ax.set_title(f"Reverse process: t={T1 - 1} (pure noise) to t=0\n({direction})", fontsize=9)
    return fig


# --------------------------------------------------------------------------- Fig. 2 / 3


def fig2_sin_theta(
    table: pd.DataFrame,
    indices: Sequence[int] | None = None,
    overlay: Sequence[str] = ("eq12", "asymptotic"),
    overlay_indices: Sequence[int] | None = None,
    xscale: str = "linear",
) -> Figure:
    """Fig. 2: ``sin θ`` between clean and noisy components versus the noise level ``σ̄``.

    Parameters
    ----------
    table : DataFrame
        From :func:`lindiff.linear.analysis.sin_theta_table`: columns ``sigma_bar, index,
        sin_theta`` and, for the overlays, ``sin_theta_eq12`` / ``sin_theta_asymptotic``.
    indices : sequence of int, optional
        Component indices to draw (default: all in the table).
    overlay : sequence of {"eq12", "asymptotic"}
        Theory curves drawn (dashed / dotted) for a few indices.
    overlay_indices : sequence of int, optional
        The indices that get overlays (default: up to 3 spread over ``indices``).
    xscale : {"linear", "log"}
        Scale of the ``σ̄`` axis (``log`` drops ``σ̄ = 0``).

    Returns
    -------
    Figure with two Axes: the plot and its colour bar (colour = component index, darkest
    = largest eigenvalue).  ``y`` is clipped to ``[0, 1.05]``.
    """
    _check_xscale(xscale)
    overlay = tuple(overlay or ())
    unknown = [o for o in overlay if o not in _OVERLAY_STYLES]
    if unknown:
        raise DataError(f"unknown overlay(s) {unknown}; allowed: {list(_OVERLAY_STYLES)}")
    _require_columns(
        table, ["sigma_bar", "index", "sin_theta", *(f"sin_theta_{o}" for o in overlay)], "fig2_sin_theta"
    )
    available = sorted(int(i) for i in table["index"].unique())
    indices = available if indices is None else [int(i) for i in indices if int(i) in available]
    if not indices:
        raise DataError(f"fig2_sin_theta: none of the requested indices are in the table ({available})")
    overlay_indices = spread(indices, 3) if overlay_indices is None else [i for i in overlay_indices if i in indices]

    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    norm = Normalize(vmin=min(indices), vmax=max(max(indices), min(indices) + 1))
    cmap = _truncated(_INDEX_CMAP, 0.0, 0.9)  # drop viridis' pale yellow end
    for i in sorted(indices, reverse=True):  # large eigenvalues drawn last (on top)
        rows = _sigma_rows(table[table["index"] == i], xscale)
        color = cmap(norm(i))
        ax.plot(rows["sigma_bar"], rows["sin_theta"], color=color, lw=1.4)
        if i in overlay_indices:
            for name in overlay:
                ax.plot(rows["sigma_bar"], rows[f"sin_theta_{name}"], color=color, lw=1.2,
                        ls=_OVERLAY_STYLES[name][0])
    ax.set_ylim(0.0, 1.05)
    _sigma_axis(ax, xscale)
    ax.set_ylabel(r"$\sin\theta_i$ (clean vs noisy component)")
    ax.set_title("Angle between clean and noisy principal components")
    ax.grid(alpha=0.3)
    handles = [Line2D([], [], color="k", lw=1.4, label="measured")]
    handles += [Line2D([], [], color="k", lw=1.2, ls=_OVERLAY_STYLES[o][0], label=_OVERLAY_STYLES[o][1])
                for o in overlay]
    title = f"theory shown for i = {', '.join(map(str, overlay_indices))}" if overlay else None
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False,
               title=title, title_fontsize=8)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bar.set_label("component index i (0 = largest eigenvalue)")
    return fig


def fig3_dataset_size(
    tables_by_n: Mapping[int, pd.DataFrame],
    indices: Sequence[int] = (0, 5, 10),
    overlay: str | None = None,
    xscale: str = "linear",
) -> Figure:
    """Fig. 3: ``sin θ`` versus ``σ̄`` for several training-set sizes ``n``.

    Parameters
    ----------
    tables_by_n : mapping n -> DataFrame
        :func:`lindiff.linear.analysis.sin_theta_table` of bases learned on ``n`` samples
        (columns ``sigma_bar, index, sin_theta``; plus ``sin_theta_<overlay>``).
    indices : sequence of int
        One panel per component index (left to right); indices absent from every table
        are dropped.
    overlay : {"eq12", "asymptotic"} or None
        Theory curve drawn dashed in the colour of each ``n``.
    xscale : {"linear", "log"}
        Scale of the ``σ̄`` axes (``log`` drops ``σ̄ = 0``).

    Returns
    -------
    Figure with one Axes per shown index (shared ``y`` in ``[0, 1.05]``); darker colour
    for smaller ``n``, lighter for larger.
    """
    if not tables_by_n:
        raise DataError("fig3_dataset_size: tables_by_n is empty")
    _check_xscale(xscale)
    if overlay is not None and overlay not in _OVERLAY_STYLES:
        raise DataError(f"unknown overlay {overlay!r}; allowed: {list(_OVERLAY_STYLES)}")
    needed = ["sigma_bar", "index", "sin_theta"] + ([f"sin_theta_{overlay}"] if overlay else [])
    for n, table in tables_by_n.items():
        _require_columns(table, needed, f"fig3_dataset_size (n={n})")
    present = set().union(*(set(int(i) for i in t["index"].unique()) for t in tables_by_n.values()))
    shown = [int(i) for i in indices if int(i) in present]
    if not shown:
        raise DataError(f"fig3_dataset_size: none of indices {list(indices)} are in the tables")
    ns = sorted(tables_by_n)
    colors = _colors(_SIZE_CMAP, len(ns), 0.95, 0.4)

    fig = Figure(figsize=(3.4 * len(shown) + 0.6, 3.6), layout="constrained")
    axes = fig.subplots(1, len(shown), sharey=True, squeeze=False)[0]
    for ax, i in zip(axes, shown):
        for n, color in zip(ns, colors):
            rows = tables_by_n[n]
            rows = _sigma_rows(rows[rows["index"] == i], xscale)
            if rows.empty:
                continue
            ax.plot(rows["sigma_bar"], rows["sin_theta"], color=color, lw=1.6, label=f"n = {n}")
            if overlay:
                ax.plot(rows["sigma_bar"], rows[f"sin_theta_{overlay}"], color=color, lw=1.0,
                        ls=_OVERLAY_STYLES[overlay][0])
        ax.set_title(f"component index {i}")
        _sigma_axis(ax, xscale)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(0.0, 1.05)
    axes[0].set_ylabel(r"$\sin\theta_i$")
    axes[0].legend(fontsize=8, loc="lower right" if xscale == "linear" else "upper left", title="training size")
    fig.suptitle("Effect of data-set size on the angle between clean and noisy components")
    return fig


# --------------------------------------------------------------------------- Fig. 5


def fig5_correlations(
    pairs: Mapping[int, tuple[np.ndarray, np.ndarray]], pairs_per_row: int = 2
) -> Figure:
    """Fig. 5: basis correlations ``U_τᵀU_{τ+1}`` and partial products, per ``τ``.

    Parameters
    ----------
    pairs : mapping τ -> (step, product)
        From :func:`lindiff.linear.analysis.basis_correlations`: ``step = U_τᵀU_{τ+1}`` and
        ``product = Π_{t<=τ} U_tᵀU_{t+1}``, each ``(r, r)``.
    pairs_per_row : int
        Pairs side by side before wrapping (in increasing ``τ``).

    Returns
    -------
    Figure with ``2 * len(pairs)`` heatmap Axes (absolute values, step left, product
    right) plus one shared colour-bar Axes on ``[0, 1]``.
    """
    if not pairs:
        raise DataError("fig5_correlations: pairs is empty")
    taus = sorted(pairs)
    for tau in taus:
        step, product = (np.asarray(m) for m in pairs[tau])
        if step.ndim != 2 or product.ndim != 2:
            raise DataError(f"fig5_correlations: tau={tau} needs two 2-D matrices")
    per_row = max(1, min(pairs_per_row, len(taus)))
    n_rows = math.ceil(len(taus) / per_row)
    fig = Figure(figsize=(2.6 * 2 * per_row + 1.0, 2.9 * n_rows + 0.5), layout="constrained")
    grid = fig.add_gridspec(n_rows, 2 * per_row + 1, width_ratios=[1.0] * (2 * per_row) + [0.06])
    axes = []
    image = None
    for j, tau in enumerate(taus):
        r, c = divmod(j, per_row)
        mats = [np.abs(np.asarray(m, dtype=float)) for m in pairs[tau]]
        titles = [rf"$|U_{{{tau}}}^T U_{{{tau + 1}}}|$", rf"$|\prod_{{t\leq {tau}}} U_t^T U_{{t+1}}|$"]
        for half, (mat, title) in enumerate(zip(mats, titles)):
            ax = fig.add_subplot(grid[r, 2 * c + half])
            image = ax.imshow(mat, vmin=0.0, vmax=1.0, cmap=_HEATMAP_CMAP, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.tick_params(labelsize=7)
            axes.append(ax)
    bar = fig.colorbar(image, cax=fig.add_subplot(grid[:, -1]))
    bar.set_label("absolute correlation")
    fig.suptitle(r"Basis correlations (left) and partial products (right) per $\tau$")
    return fig


# --------------------------------------------------------------------------- Fig. 6


def _profile_panel(ax, profiles: Mapping[int, pd.DataFrame], title: str, where: str) -> None:
    Ts = sorted(profiles)
    colors = _colors(_T_CMAP, len(Ts), 0.0, 0.8)
    for T, color in zip(Ts, colors):
        prof = profiles[T]
        _require_columns(prof, ["index", "c_mean"], f"{where} (T={T})")
        prof = prof.sort_values("index")
        ax.plot(prof["index"], prof["c_mean"], color=color, marker="o", ms=3, lw=1.3, label=f"T = {T}")
    ax.set_title(title)
    ax.legend(fontsize=8)


def fig6_distributions(
    profiles_without: Mapping[int, pd.DataFrame],
    profiles_with: Mapping[int, pd.DataFrame],
    best: pd.DataFrame,
    natural: pd.DataFrame,
    best_label: str,
) -> Figure:
    """Fig. 6: distribution of generated samples over the clean principal components.

    Parameters
    ----------
    profiles_without, profiles_with : mapping T -> DataFrame
        Eq. 26 profiles from :func:`lindiff.linear.analysis.pc_distribution` (columns ``index,
        c_mean``; ``c_std`` unused here) of the deterministic chain (left panel) and the
        noise-injected chain (centre panel), per number of steps ``T``.
    best, natural : DataFrame
        Profiles (columns ``index, c_mean, c_std``) of the best configuration and of the
        natural data; right panel, means with ``±c_std`` bands.
    best_label : str
        Legend label of the best configuration (e.g. ``"T = 50, injected noise"``).

    Returns
    -------
    Figure with three Axes sharing ``y``.
    """
    if not profiles_without or not profiles_with:
        raise DataError("fig6_distributions: profiles_without and profiles_with must be non-empty")
    for table, name in ((best, "best"), (natural, "natural")):
        _require_columns(table, ["index", "c_mean", "c_std"], f"fig6_distributions ({name})")
    fig = Figure(figsize=(13.0, 3.9), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    _profile_panel(axes[0], profiles_without, "Without injected noise", "fig6_distributions")
    _profile_panel(axes[1], profiles_with, "With injected noise", "fig6_distributions")
    for table, label, color in ((natural, "natural data", "black"), (best, best_label, "tab:red")):
        table = table.sort_values("index")
        idx, mean, std = (table[c].to_numpy(dtype=float) for c in ("index", "c_mean", "c_std"))
        ax = axes[2]
        ax.plot(idx, mean, color=color, marker="o", ms=3, lw=1.5, label=label)
        ax.fill_between(idx, mean - std, mean + std, color=color, alpha=0.18, lw=0)
    axes[2].set_title(r"Best configuration (mean $\pm$ std)")
    axes[2].legend(fontsize=8)
    top = 1.05
    for ax in axes:
        ax.set_xlabel("clean component index i")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylim(0.0, top)
    axes[0].set_ylabel(r"$E\,|\langle u_i, x\rangle| / \|x\|$")
    return fig


_PREDICTION_STYLES = {
    "exact": ("tab:green", "-", "exact given the bases"),
    "predicted_measured_cos": ("tab:blue", "--", "diagonal model, measured cosines"),
    "predicted_asymptotic": ("tab:orange", ":", "closed form (asymptotic cosines)"),
}


def fig6_spectrum(tables: Mapping[str, pd.DataFrame], title: str = "") -> Figure:
    """Predicted against measured generated spectrum, one panel per chain (Fig. 6, variances).

    Parameters
    ----------
    tables : mapping chain name -> DataFrame
        :func:`lindiff.linear.spectral.spectrum_comparison` tables (columns ``index, eigval,
        measured, stderr, exact, predicted_measured_cos, predicted_asymptotic``).
    title : str
        Figure title (e.g. the sweep point).

    Returns
    -------
    Figure with one log-``y`` Axes per chain: the data's ``λ_i²`` (black), the measured
    ``E<u_i, x>²`` with ±2 standard errors, and the three predictions.
    """
    if not tables:
        raise DataError("fig6_spectrum: no tables")
    columns = ["index", "eigval", "measured", "stderr", *_PREDICTION_STYLES]
    fig = Figure(figsize=(5.2 * len(tables), 4.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tables), sharey=True))
    for ax, (chain, table) in zip(axes, tables.items()):
        _require_columns(table, columns, f"fig6_spectrum ({chain})")
        table = table.sort_values("index")
        idx = table["index"].to_numpy()
        ax.plot(idx, table["eigval"], color="black", marker="s", ms=3, lw=1.4, label=r"data $\lambda_i^2$")
        measured, err = table["measured"].to_numpy(), 2 * table["stderr"].fillna(0).to_numpy()
        ax.errorbar(idx, measured, yerr=np.minimum(err, 0.999 * measured), color="tab:red", marker="o", ms=3,
                    lw=0, elinewidth=1, label=r"measured $E\langle u_i, x\rangle^2$ ($\pm$2 s.e.)")
        for name, (color, style, label) in _PREDICTION_STYLES.items():
            ax.plot(idx, np.maximum(table[name].to_numpy(), 1e-300), color=color, ls=style, lw=1.5, label=label)
        ax.set_yscale("log")
        positive = np.concatenate([table["eigval"].to_numpy(), measured])
        positive = positive[positive > 0]
        if positive.size:
            ax.set_ylim(positive.min() / 10, positive.max() * 3)
        ax.set_title(f"{chain} chain")
        ax.set_xlabel("clean component index i")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("variance on component i")
    axes[-1].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def spectral_design(
    sigma_bar: np.ndarray,
    noise_std: np.ndarray,
    history: np.ndarray,
    predicted: pd.DataFrame,
    references: Mapping[str, np.ndarray] | None = None,
) -> Figure:
    """A designed schedule (``schedule=spectral``): shape, injected noise, optimizer, spectrum.

    Parameters
    ----------
    sigma_bar : array of shape (T + 1,)
        The designed cumulative noise stds.
    noise_std : array of shape (T,)
        The designed injected-noise stds ``e_t``.
    history : array of shape (steps + 1,)
        The objective during the optimization.
    predicted : DataFrame
        :func:`lindiff.linear.spectral.predicted_spectrum` of the design (columns ``index, eigval,
        variance``).
    references : mapping name -> sigma_bar, optional
        Hand schedules drawn for comparison in the first panel.

    Returns
    -------
    Figure with four Axes.
    """
    _require_columns(predicted, ["index", "eigval", "variance"], "spectral_design")
    sigma_bar, noise_std, history = (np.asarray(a, dtype=float) for a in (sigma_bar, noise_std, history))
    T = len(sigma_bar) - 1
    fig = Figure(figsize=(15.0, 3.6), layout="constrained")
    axes = fig.subplots(1, 4)
    steps = np.arange(T + 1)
    for name, ref in (references or {}).items():
        axes[0].plot(np.linspace(0, T, len(ref)), ref, lw=1, ls="--", label=name)
    axes[0].plot(steps, sigma_bar, color="black", lw=1.8, label="spectral design")
    axes[0].set_xlabel("level t")
    axes[0].set_ylabel(r"$\bar\sigma_t$")
    axes[0].set_title("Noise schedule")
    axes[0].legend(fontsize=7)
    axes[1].plot(steps[:-1], noise_std, color="tab:purple", lw=1.5, label=r"designed $e_t$")
    axes[1].plot(steps[:-1], np.diff(sigma_bar**2) ** 0.5, color="gray", ls=":", lw=1.2,
                 label=r"increment $\sigma_{t+1}$")
    axes[1].set_xlabel("level t")
    axes[1].set_ylabel(r"std of injected $\xi_t$")
    axes[1].set_title("Injected noise")
    axes[1].legend(fontsize=7)
    axes[2].plot(np.arange(len(history)), history, color="tab:blue", lw=1.2)
    if np.all(history > 0):
        axes[2].set_yscale("log")
    axes[2].set_xlabel("Adam step")
    axes[2].set_ylabel("objective (closed form)")
    axes[2].set_title(f"Optimization: {history[0]:.3g} -> {history.min():.3g}")
    table = predicted.sort_values("index")
    axes[3].plot(table["index"], table["eigval"], color="black", marker="s", ms=3, label=r"data $\lambda_i^2$")
    axes[3].plot(table["index"], np.maximum(table["variance"], 1e-300), color="tab:purple", marker="o", ms=3,
                 label="predicted generated")
    axes[3].set_yscale("log")
    axes[3].set_xlabel("clean component index i")
    axes[3].set_title("Predicted spectrum")
    axes[3].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    return fig


def schedule_comparison(table: pd.DataFrame, spectra: Mapping[str, pd.DataFrame]) -> Figure:
    """The designed schedule against the best hand schedule (W2² to the data's spectrum).

    Parameters
    ----------
    table : DataFrame
        :func:`lindiff.studies.sweep_table.schedule_comparison` (columns ``T, rank, n, w2_predicted,
        w2_measured, best_hand_w2, best_hand_schedule, best_hand_chain``).
    spectra : mapping label -> DataFrame
        Spectra of one point to overlay in the right panel (columns ``index, eigval`` and
        ``variance``): e.g. the design's measured and predicted, and the best hand schedule's.

    Returns
    -------
    Figure with two Axes: W2² per designed point (log ``y``), and the spectra.
    """
    _require_columns(table, ["T", "rank", "n", "w2_predicted", "w2_measured", "best_hand_w2"], "schedule_comparison")
    fig = Figure(figsize=(12.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    x = np.arange(len(table))
    width = 0.27
    bars = (("w2_predicted", "spectral: predicted", "tab:purple", 0.5),
            ("w2_measured", "spectral: measured (injected chain)", "tab:purple", 1.0),
            ("best_hand_w2", "best hand schedule: measured", "tab:gray", 1.0))
    for j, (column, label, color, alpha) in enumerate(bars):
        values = np.maximum(table[column].to_numpy(dtype=float), 1e-12)
        axes[0].bar(x + (j - 1) * width, values, width, color=color, alpha=alpha, label=label)
    labels = [f"n={r.n}\nT={r.T}, r={r.rank}" for r in table.itertuples()]
    axes[0].set_xticks(x, labels, fontsize=7)
    axes[0].set_yscale("log")
    axes[0].set_ylabel(r"$W_2^2$ to the data's spectrum")
    axes[0].set_title("Designed vs hand schedules")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3, axis="y", which="both")
    ax = axes[1]
    first = True
    for label, spectrum in spectra.items():
        _require_columns(spectrum, ["index", "eigval", "variance"], "schedule_comparison (spectra)")
        spectrum = spectrum.sort_values("index")
        if first:
            ax.plot(spectrum["index"], spectrum["eigval"], color="black", marker="s", ms=3, lw=1.5,
                    label=r"data $\lambda_i^2$")
            first = False
        ax.plot(spectrum["index"], np.maximum(spectrum["variance"], 1e-300), marker="o", ms=3, lw=1.2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("clean component index i")
    ax.set_ylabel("generated variance on component i")
    ax.set_title("Generated spectra")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return fig


# --------------------------------------------------------------------------- power iteration


def power_iteration_convergence(table: pd.DataFrame, verdicts: Mapping[str, str] | None = None) -> Figure:
    """Energy of generated samples on ``u_0`` versus ``T``, per schedule, vs power iteration.

    Parameters
    ----------
    table : DataFrame
        One row per (T, schedule) with columns ``T, schedule, chain_energy_u0,
        power_energy_u0`` (see :func:`lindiff.linear.analysis.power_iteration_comparison`).
        ``power_energy_u0`` (``T`` power iterations on ``Σ_0`` from the same noise) is
        averaged over schedules per ``T`` and drawn as a dashed black reference.  Optional
        columns add to the figure: ``chain_energy_u0_predicted`` (dotted, the diagonal
        model of Eqs. 21-23 with measured cosines), ``chain_energy_u0_exact`` (dash-dot, the
        exact second moment given the bases), and ``chain_retention_ratio`` / ``power_retention_ratio`` (a second panel: the
        chain's ``Π c_1 / Π c_0`` against power iteration's ``(λ_1²/λ_0²)^T``).
    verdicts : mapping schedule -> str, optional
        Sentences (:func:`lindiff.studies.sweep_table.power_iteration_verdict`) printed under the axes.

    Returns
    -------
    Figure with one or two Axes; energy ``y`` in ``[0, 1.05]``, log ``x`` when ``T`` spans a
    decade.
    """
    _require_columns(table, ["T", "schedule", "chain_energy_u0", "power_energy_u0"], "power_iteration_convergence")
    ratios = {"chain_retention_ratio", "power_retention_ratio"} <= set(table.columns) and bool(
        np.isfinite(table["chain_retention_ratio"].to_numpy(dtype=float)).any())
    fig = Figure(figsize=(11.5 if ratios else 6.0, 4.4 + 0.22 * len(verdicts or {})), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 2 if ratios else 1))
    ax = axes[0]
    schedules = list(dict.fromkeys(table["schedule"]))
    colors = [matplotlib.colormaps["tab10"](j % 10) for j in range(len(schedules))]
    for name, color in zip(schedules, colors):
        rows = table[table["schedule"] == name].sort_values("T")
        ax.plot(rows["T"], rows["chain_energy_u0"], color=color, marker="o", lw=1.6, label=f"chain, {name} schedule")
        for column, style, what in (("chain_energy_u0_predicted", ":", "diagonal model"),
                                    ("chain_energy_u0_exact", "-.", "exact given the bases")):
            if column in rows and np.isfinite(rows[column].to_numpy(float)).any():
                ax.plot(rows["T"], rows[column], color=color, ls=style, lw=1.1, label=f"{what}, {name}")
    power = table.groupby("T", sort=True)["power_energy_u0"].mean()
    ax.plot(power.index, power.to_numpy(), color="black", ls="--", marker="x", lw=1.2,
            label=r"power iteration on $\Sigma_0$ ($T$ steps)")
    Ts = sorted(set(int(T) for T in table["T"]))
    for a in axes:
        _maybe_log_x(a, table["T"])
        if len(Ts) <= 12:  # label the measured T values themselves
            a.set_xticks(Ts, [str(T) for T in Ts])
            a.set_xticks([], minor=True)
        a.set_xlabel("number of steps T")
        a.grid(alpha=0.3, which="both")
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel(r"mean energy on $u_0$:  $\langle u_0, x\rangle^2 / \|x\|^2$")
    ax.set_title("Deterministic chain vs power iteration")
    ax.legend(fontsize=7, loc="best")
    if ratios:
        ax = axes[1]
        for name, color in zip(schedules, colors):
            rows = table[table["schedule"] == name].sort_values("T")
            ax.plot(rows["T"], rows["chain_retention_ratio"], color=color, marker="o", lw=1.6,
                    label=rf"chain, {name}: $\prod_t c_{{1,t}} / \prod_t c_{{0,t}}$")
        power_ratio = table.groupby("T", sort=True)["power_retention_ratio"].mean()
        ax.plot(power_ratio.index, power_ratio.to_numpy(), color="black", ls="--", marker="x", lw=1.2,
                label=r"power iteration: $(\lambda_1^2/\lambda_0^2)^T$")
        ax.set_yscale("log")
        chain_ratios = table["chain_retention_ratio"].to_numpy(dtype=float)
        chain_ratios = chain_ratios[np.isfinite(chain_ratios) & (chain_ratios > 0)]
        if chain_ratios.size:  # power iteration's ratio underflows within a few hundred steps
            ax.set_ylim(bottom=max(chain_ratios.min() / 1e6, 1e-300))
        ax.set_ylabel("contraction of component 1 relative to 0")
        ax.set_title("Contraction after T steps")
        ax.legend(fontsize=7, loc="best")
    if verdicts:
        fig.supxlabel("\n".join(verdicts.values()), fontsize=8, ha="left", x=0.01)
    return fig
