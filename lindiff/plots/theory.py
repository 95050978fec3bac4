"""Figures of the theory-vs-network study (:mod:`lindiff.studies.theory`): held-out MSE, per-step and
final r² of every analytic denoiser against the network, and the samples of one seed side by side.

Object API only (no ``pyplot``); save with :func:`lindiff.plots.save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from lindiff.errors import DataError
from lindiff.plots.deep import _mosaic

__all__ = ["agreement_figure", "side_by_side"]


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"agreement_figure: the {what} table lacks columns {missing}")


def agreement_figure(mse: pd.DataFrame, steps: pd.DataFrame, final: pd.DataFrame, title: str = "") -> Figure:
    """Three panels: held-out MSE against σ per denoiser (``mse``: sigma, denoiser, mse); the
    per-step median r² against the network along its path (``steps``: sigma, denoiser, r2); the
    final samples' median r² with its interval (``final``: denoiser, r2_median, r2_low, r2_high)."""
    _require(mse, ("sigma", "denoiser", "mse"), "MSE")
    _require(steps, ("sigma", "denoiser", "r2"), "per-step")
    _require(final, ("denoiser", "r2_median", "r2_low", "r2_high"), "final")
    fig = Figure(figsize=(13.0, 4.0), layout="constrained")
    ax_mse, ax_steps, ax_final = fig.subplots(1, 3)
    names = list(dict.fromkeys([*mse["denoiser"], *steps["denoiser"], *final["denoiser"]]))
    color = {name: f"C{i % 10}" for i, name in enumerate(names)}  # one colour per denoiser in every panel
    for name, rows in mse.groupby("denoiser", sort=False):
        ax_mse.plot(rows["sigma"], rows["mse"], marker="o", ms=3, label=name, color=color[name],
                    lw=2.0 if name == "network" else 1.0)
    ax_mse.set(xscale="log", yscale="log", xlabel="noise σ (images in [0, 1])", ylabel="held-out MSE")
    ax_mse.xaxis.set_minor_formatter(NullFormatter())
    ax_mse.legend(fontsize=7)
    for name, rows in steps.groupby("denoiser", sort=False):
        ax_steps.plot(rows["sigma"], rows["r2"], marker="o", ms=3, label=name, color=color[name])
    ax_steps.axhline(0.0, color="grey", lw=0.5)
    ax_steps.set(xscale="log", xlabel="σ of the network's path point", ylabel="median r² vs the network")
    ax_steps.legend(fontsize=7)
    rows = final[final["denoiser"] != "network"].reset_index(drop=True)
    x = np.arange(len(rows))
    ax_final.bar(x, rows["r2_median"], color=[color[name] for name in rows["denoiser"]])
    ax_final.errorbar(x, rows["r2_median"], yerr=[rows["r2_median"] - rows["r2_low"], rows["r2_high"] - rows["r2_median"]],
                      fmt="none", color="black", capsize=3)
    ax_final.axhline(0.0, color="grey", lw=0.5)
    ax_final.set_xticks(x, rows["denoiser"], rotation=30, fontsize=7)
    ax_final.set_ylabel("final samples: median r² vs the network (95% CI)")
    fig.suptitle(title, fontsize=9)
    return fig


def side_by_side(columns: Sequence[tuple[str, np.ndarray]], image_shape: tuple[int, int], rows: int = 8,
                 title: str = "") -> Figure:
    """One row per seed (the first ``rows``), one column per ``(label, images (n, d))``: the same
    seed's image from every sampler (and, as a column, the nearest training images)."""
    if not columns:
        raise DataError("side_by_side: no columns")
    count = min(rows, *(len(images) for _, images in columns))
    tiles = np.stack([np.asarray(images[i], dtype=np.float64) for i in range(count) for _, images in columns])
    h, w = image_shape
    fig = Figure(figsize=(1.0 + 0.9 * len(columns), 0.9 * count + 0.8), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(_mosaic(tiles, image_shape, len(tiles), len(columns)), cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_xticks([j * (w + 1) + w / 2 for j in range(len(columns))], [label for label, _ in columns], rotation=30,
                  fontsize=7)
    ax.set_yticks([i * (h + 1) + h / 2 for i in range(count)], [f"seed {i}" for i in range(count)], fontsize=6)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=8)
    return fig
