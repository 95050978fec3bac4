"""Figures for the A/B memorization-vs-generalization study (:mod:`lindiff.studies.generalization`).

Object API only (no ``pyplot``, no global state); save with :func:`lindiff.plots.save_figure`
(atomic PNG), re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lindiff.errors import DataError
from lindiff.plots import save_figure

__all__ = ["CURVE_COLUMNS", "ab_pairs", "generalization_curve", "save_figure"]

# Columns of a transition-curve table (one row per training-set size n).
CURVE_COLUMNS = ("n", "cos_ab", "nn_sim", "frac_closer_to_train")
_LINES = (
    ("cos_ab", "A/B similarity (same seed)", "tab:blue", "o"),
    ("nn_sim", "similarity to nearest training image", "tab:orange", "s"),
    ("frac_closer_to_train", "fraction closer to a training image", "tab:red", "^"),
    ("span_cos", "cosine to the training span", "tab:gray", "x"),
)


def generalization_curve(table: pd.DataFrame, title: str = "", half_size: int | None = None,
                         dimension: int | None = None) -> Figure:
    """The memorization-to-generalization transition against the training-set size ``n``.

    Parameters
    ----------
    table : DataFrame
        One row per ``n`` with columns :data:`CURVE_COLUMNS` (means over the same-seed pairs),
        optionally ``span_cos`` and ``cos_ab_q25, cos_ab_q75`` (a band around ``cos_ab``).
    title : str
    half_size, dimension : int, optional
        Marked as vertical lines (the largest possible ``n``; the data dimension ``d``).

    Returns
    -------
    Figure with one Axes, ``n`` on a log axis.
    """
    missing = [c for c in CURVE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"generalization_curve: table lacks column(s) {missing}")
    if table.empty:
        raise DataError("generalization_curve: empty table")
    table = table.sort_values("n")
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    n = table["n"].to_numpy(dtype=float)
    if {"cos_ab_q25", "cos_ab_q75"} <= set(table.columns):
        ax.fill_between(n, table["cos_ab_q25"], table["cos_ab_q75"], color="tab:blue", alpha=0.15, lw=0)
    for column, label, color, marker in _LINES:
        if column in table.columns and table[column].notna().any():
            style = ":" if column == "span_cos" else "-"
            ax.plot(n, table[column], ls=style, marker=marker, ms=4, color=color, label=label)
    for value, label in ((dimension, "d"), (half_size, "N/2")):
        if value:
            ax.axvline(value, color="black", lw=0.8, ls="--", alpha=0.5)
            ax.annotate(f" {label}", (value, 0.02), xycoords=("data", "axes fraction"), ha="left", fontsize=8)
    if len(n) > 1 and n.min() > 0:
        ax.set_xscale("log")
    ax.set_ylim(min(-0.05, float(np.nanmin(table[["cos_ab", "nn_sim"]].to_numpy())) - 0.05), 1.05)
    ax.set_xlabel("training images per half, n")
    ax.set_ylabel("cosine similarity / fraction")
    ax.set_title(title or "Memorization → generalization")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best")
    return fig


def _tile(ax, image: np.ndarray, label: str) -> None:
    ax.imshow(image, cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(label, fontsize=7)


def ab_pairs(samples_a, samples_b, nearest_a, nearest_b, image_shape: Sequence[int],
             cos_ab: Sequence[float] | None = None, nn_sim_a: Sequence[float] | None = None,
             nn_sim_b: Sequence[float] | None = None, max_pairs: int = 8, title: str = "") -> Figure:
    """A few same-seed pairs: per column the A-sample, its nearest A training image, the
    B-sample and its nearest B training image (rows), each image scaled to its own range.

    Parameters
    ----------
    samples_a, samples_b, nearest_a, nearest_b : arrays (m, d)
    image_shape : (h, w) with ``h · w = d``
    cos_ab, nn_sim_a, nn_sim_b : (m,), optional
        Printed above the tiles.
    max_pairs : int
        Columns shown (the first ``max_pairs`` pairs).
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in (samples_a, samples_b, nearest_a, nearest_b)]
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 2 or any(a.ndim != 2 or a.shape[1] != shape[0] * shape[1] for a in arrays):
        raise DataError(f"ab_pairs: arrays must be (m, {np.prod(shape)}) for image_shape {shape}")
    m = min(len(a) for a in arrays)
    if m < 1:
        raise DataError("ab_pairs: no pairs to show")
    k = min(m, max(1, int(max_pairs)))
    fig = Figure(figsize=(1.3 * k + 0.6, 5.6), layout="constrained")
    axes = np.asarray(fig.subplots(4, k, squeeze=False))
    rows = (("A sample", arrays[0], cos_ab), ("nearest in A", arrays[2], nn_sim_a),
            ("B sample", arrays[1], None), ("nearest in B", arrays[3], nn_sim_b))
    for r, (name, images, values) in enumerate(rows):
        for j in range(k):
            label = name if values is None else f"{name}\n{'cos(A,B)' if r == 0 else 'cos'}={values[j]:.2f}"
            _tile(axes[r, j], images[j].reshape(shape), label)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
