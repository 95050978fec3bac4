"""Helpers shared by the figure modules (private: not part of lindiff.plots' public figures)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def spread(values: Sequence, count: int) -> list:
    """Up to ``count`` entries of ``values`` spread evenly, first and last included."""
    values = list(values)
    if len(values) <= count:
        return values
    picks = np.unique(np.round(np.linspace(0, len(values) - 1, count)).astype(int))
    return [values[i] for i in picks]


def tile_grid(fig: Figure, images: np.ndarray, titles: Sequence[str], ncols: int, symmetric: bool) -> None:
    """``images`` as a grid of ``ncols`` columns on ``fig``, each titled; a diverging colour map
    symmetric about 0 when ``symmetric``, else grey levels."""
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
