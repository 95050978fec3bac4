"""Figures of the receptive-field study (:mod:`lindiff.studies.multiscale`): held-out PSNR against
σ for every model, the samples' radial power spectra against the data's, and every model's samples
side by side.

Object API only (no ``pyplot``); save with :func:`lindiff.plots.save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindiff.errors import DataError
from lindiff.plots.deep import sample_panels

__all__ = ["psnr_figure", "samples_figure", "spectrum_figure"]


def _model_axes() -> tuple[Figure, Axes]:
    """The figure and axes of a per-model line plot."""
    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    return fig, fig.add_subplot()


def _line_style(model) -> str:
    """Flat models solid, wavelet models dashed."""
    return "--" if str(model).startswith("wavelet") else "-"


def _finish(fig: Figure, ax: Axes, xlabel: str, ylabel: str, title: str) -> Figure:
    """A logarithmic x axis, the labels, the legend and the title."""
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=8)
    return fig


def psnr_figure(table: pd.DataFrame, sigmas: Sequence[float], wiener: Sequence[float], title: str = "") -> Figure:
    """Held-out PSNR (dB) against σ: one line per row of ``table`` (columns ``model`` and
    ``psnr/<σ>``; flat models solid, wavelet models dashed) and the Wiener filter's (``wiener``, one
    value per σ, dotted black)."""
    columns = [f"psnr/{s}" for s in sigmas]
    missing = [c for c in ["model", *columns] if c not in table.columns]
    if missing:
        raise DataError(f"psnr_figure: missing columns {missing}")
    fig, ax = _model_axes()
    for _, row in table.iterrows():
        ax.plot(sigmas, [row[c] for c in columns], _line_style(row["model"]), marker="o", ms=3, label=row["model"])
    ax.plot(sigmas, list(wiener), ":", color="black", label="Wiener")
    return _finish(fig, ax, "noise σ (images in [0, 1])", "held-out PSNR (dB)", title)


def spectrum_figure(frequency: Sequence[float], data: Sequence[float], models: dict[str, Sequence[float]],
                    title: str = "") -> Figure:
    """Radial power spectra (:func:`lindiff.studies.multiscale.radial_power_spectrum`, ring 0 left
    out) on log axes: the held-out images' (``data``, black) and each model's samples' (``models``:
    name to power per ring; flat models solid, wavelet models dashed)."""
    frequency = np.asarray(frequency, dtype=np.float64)
    for name, power in {"data": data, **models}.items():
        if len(power) != len(frequency):
            raise DataError(f"spectrum_figure: {name} has {len(power)} rings, the frequencies {len(frequency)}")
    fig, ax = _model_axes()
    ax.plot(frequency[1:], np.asarray(data)[1:], color="black", lw=2, label="held-out images")
    for name, power in models.items():
        ax.plot(frequency[1:], np.asarray(power)[1:], _line_style(name), marker="o", ms=2, label=name)
    ax.set_yscale("log")
    return _finish(fig, ax, "radial frequency (cycles per pixel)", "power", title)


def samples_figure(grids: Sequence[tuple[str, np.ndarray]], image_shape: tuple[int, int], title: str = "") -> Figure:
    """The first 16 samples (n, d) of each ``(label, samples)`` as a panel (clipped to [0, 1])."""
    return sample_panels([(label, np.clip(samples, 0.0, 1.0)) for label, samples in grids], image_shape, title,
                         count=16, ncols=4)
