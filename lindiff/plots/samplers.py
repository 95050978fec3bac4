"""Figures of the samplers study (:mod:`lindiff.studies.samplers`): frequency responses, generated
spectra predicted vs measured, W2² against T, the schedules.

Object API only (no ``pyplot``); save with :func:`lindiff.plots.save_figure`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lindiff.plots import save_figure

__all__ = ["denoiser_comparison", "frequency_response", "point_spectrum", "save_figure", "schedules_figure",
           "w2_against_T"]

_COLORS = {"vplinear": "tab:blue", "vpcosine": "tab:orange", "karras": "tab:green", "designed": "tab:red"}


def _color(name: str, i: int) -> str:
    return _COLORS.get(name, f"C{i % 10}")


def point_spectrum(table: pd.DataFrame, title: str = "", samples: np.ndarray | None = None,
                   image_shape=None) -> Figure:
    """One point: ``v_i/λ_i`` predicted (line) and measured (dots), ``|H_i|``, and a few samples."""
    panels = 3 if samples is not None and image_shape is not None else 2
    fig = Figure(figsize=(4.2 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels)
    ax = axes[0]
    ax.semilogy(table["index"], table["predicted_ratio"], "-", color="k", label="predicted (Gaussian, closed form)")
    ax.semilogy(table["index"], table["measured_ratio"], ".", color="tab:red", label="measured")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(xlabel="component i (data eigenbasis)", ylabel="generated variance / data variance  v_i / λ_i")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(table["index"], np.abs(table["gain"]), color="tab:blue")
    ax.set(xlabel="component i", ylabel="|H_i| (initial noise → sample)")
    if panels == 3:
        h, w = image_shape
        count = min(16, len(samples))
        side = int(np.ceil(np.sqrt(count)))
        grid = np.ones((side * (h + 1), side * (w + 1))) * np.nan
        for k in range(count):
            r, c = divmod(k, side)
            grid[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = samples[k].reshape(h, w)
        axes[2].imshow(grid, cmap="gray", vmin=0, vmax=1)
        axes[2].set_axis_off()
        axes[2].set_title("samples", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return fig


def w2_against_T(summary: pd.DataFrame, denoiser: str = "wiener") -> Figure:
    """W2² (mean included) against T, one panel per sampler, one line per schedule: measured
    (solid) and predicted by the closed form (dashed)."""
    rows = summary[summary["denoiser"] == denoiser]
    samplers = sorted(rows["sampler"].unique())
    fig = Figure(figsize=(4.2 * max(1, len(samplers)), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(samplers)), squeeze=False)[0])
    for ax, sampler in zip(axes, samplers):
        part = rows[rows["sampler"] == sampler]
        for i, (schedule, group) in enumerate(sorted(part.groupby("schedule"), key=lambda g: g[0])):
            group = group.sort_values("T")
            color = _color(schedule, i)
            ax.loglog(group["T"], group["w2_measured"], "o-", color=color, label=f"{schedule} measured")
            ax.loglog(group["T"], group["w2_predicted"], "x--", color=color, alpha=0.7)
        ax.set(xlabel="T (sampler steps)", ylabel="W2² to the data's Gaussian", title=f"{sampler} ({denoiser})")
        ax.legend(fontsize=7, title="dashed: closed form", title_fontsize=7)
    return fig


def frequency_response(spectra: dict[str, dict[str, pd.DataFrame]], title: str = "") -> Figure:
    """Per sampler (rows; ``spectra``: sampler → schedule → spectrum table): ``|H_i|`` and
    ``v_i/λ_i`` (line: closed form, dots: measured) against the component index, and against the
    radial spatial frequency of ``u_i`` where the tables have one; one line per schedule."""
    has_freq = all("frequency" in t for row in spectra.values() for t in row.values())
    cols, rows = (3 if has_freq else 2), max(1, len(spectra))
    fig = Figure(figsize=(4.2 * cols, 3.3 * rows), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    for axes, (sampler, tables) in zip(grid, spectra.items()):
        for i, (schedule, table) in enumerate(sorted(tables.items())):
            color = _color(schedule, i)
            axes[0].semilogy(table["index"], np.abs(table["gain"]), color=color, label=schedule)
            axes[1].semilogy(table["index"], table["predicted_ratio"], color=color, label=schedule)
            axes[1].semilogy(table["index"], table["measured_ratio"], ".", color=color, ms=2)
            if has_freq:
                axes[2].semilogy(table["frequency"], table["predicted_ratio"], ".", color=color, ms=3, label=schedule)
        axes[0].set(xlabel="component i (data eigenbasis)", ylabel="|H_i|", title=sampler)
        axes[1].axhline(1.0, color="gray", lw=0.8, ls=":")
        axes[1].set(xlabel="component i", ylabel="v_i / λ_i", title=f"{sampler}: line closed form, dots measured")
        if has_freq:
            axes[2].axhline(1.0, color="gray", lw=0.8, ls=":")
            axes[2].set(xlabel="radial spatial frequency of u_i (cycles/pixel)", ylabel="v_i / λ_i (closed form)")
        axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def schedules_figure(levels: dict[int, dict[str, np.ndarray]]) -> Figure:
    """The noise levels σ_t against t/T (log), one panel per T (``levels``: T → label → sigma_bar),
    hand schedules dashed, designed ones solid."""
    Ts = sorted(levels)
    fig = Figure(figsize=(3.6 * max(1, len(Ts)), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(Ts)), squeeze=False)[0])
    for ax, T in zip(axes, Ts):
        for i, (label, sigma_bar) in enumerate(sorted(levels[T].items())):
            designed = "designed" in label
            ax.semilogy(np.arange(1, T + 1) / T, sigma_bar[1:], "-" if designed else "--", marker=".",
                        color=_color(label.split(" ")[0], i) if not designed else f"C{3 + i % 7}", label=label)
        ax.set(xlabel="t / T", ylabel="σ_t (VE level; ᾱ_t = 1/(1+σ_t²))", title=f"T={T}")
        ax.legend(fontsize=6)
    return fig


def denoiser_comparison(summary: pd.DataFrame, T: int) -> Figure:
    """Measured W2² per sampler (groups) and denoiser (bars), one panel per schedule, at ``T``."""
    rows = summary[summary["T"] == T]
    schedules = sorted(rows["schedule"].unique())
    fig = Figure(figsize=(4.4 * max(1, len(schedules)), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(schedules)), squeeze=False)[0])
    denoisers = sorted(rows["denoiser"].unique())
    for ax, schedule in zip(axes, schedules):
        part = rows[rows["schedule"] == schedule]
        samplers = sorted(part["sampler"].unique())
        width = 0.8 / max(1, len(denoisers))
        for j, denoiser in enumerate(denoisers):
            values = [part[(part["sampler"] == s) & (part["denoiser"] == denoiser)]["w2_measured"] for s in samplers]
            heights = [float(v.iloc[0]) if len(v) else np.nan for v in values]
            ax.bar(np.arange(len(samplers)) + j * width, heights, width, label=denoiser, color=f"C{j}")
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(samplers)) + 0.4 - width / 2, samplers, fontsize=8)
        ax.set(ylabel="measured W2² to the data's Gaussian", title=f"{schedule}, T={T}")
        ax.legend(fontsize=7)
    return fig
