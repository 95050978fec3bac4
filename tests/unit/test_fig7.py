"""Fig. 7 statistics (lindiff.studies.fig7) and their figures, on curves with known answers."""

from __future__ import annotations

import io
import json
import math
import warnings

import numpy as np
import pytest

from lindiff.errors import ConfigError, DataError
from lindiff.studies import fig7

# sigma grid 0.05 .. 2.0 (descending: first = noisiest), then the reference at sigma = 0
GRID = np.round(np.arange(40, 0, -1) * 0.05, 10)
SIGMA = np.concatenate([GRID, [0.0]])
C = np.array([1.0, 1.25, 2.0, 2.5, 4.0, 5.0])  # slopes; crossings 0.5 / c


def curves(c, sigma=SIGMA, spread=0.1):
    """sin_i = min(1, c_i sigma) on 3 paths (curve, ±spread): the median is the curve."""
    base = np.minimum(1.0, np.outer(sigma, c))  # (P, K)
    return np.stack([base, base + spread, base - spread])


def test_index_summary_columns_and_quantiles():
    sin = curves(C)
    table = fig7.index_summary(SIGMA, sin)
    assert list(table.columns) == ["point", "sigma", "index", "median", "q25", "q75", "n_paths"]
    assert len(table) == len(SIGMA) * len(C)
    row = table[(table["point"] == 30) & (table["index"] == 2)].iloc[0]
    assert row["sigma"] == pytest.approx(SIGMA[30])
    assert row["median"] == pytest.approx(min(1.0, 2.0 * SIGMA[30]))
    assert row["q25"] == pytest.approx(row["median"] - 0.05)
    assert row["q75"] == pytest.approx(row["median"] + 0.05)
    assert (table["n_paths"] == 3).all()
    # (m, P) sigma: medians over paths
    sigma2 = np.stack([SIGMA, SIGMA * 1.1, SIGMA * 0.9])
    assert np.allclose(fig7.index_summary(sigma2, sin)["sigma"], table["sigma"])


def test_slopes_are_the_linear_coefficients():
    slopes = fig7.small_sigma_slopes(SIGMA, curves(C), 1.0 / C, max_sin=0.5)
    assert list(slopes.columns) == ["index", "slope", "eigval", "n_fit"]
    assert np.allclose(slopes["slope"], C)
    assert np.allclose(slopes["eigval"], 1.0 / C)
    # points with c sigma <= 0.5 (grid multiples of 0.05)
    assert list(slopes["n_fit"]) == [int(np.floor(0.5 / c / 0.05 + 1e-9)) for c in C]


def test_slope_relative_to_a_nonzero_reference():
    sigma = np.concatenate([GRID, [0.01]]) + 0.01
    sin = curves(C, sigma=sigma - 0.02)  # sin = c (sigma - sigma_ref) with sigma_ref = 0.02
    slopes = fig7.small_sigma_slopes(sigma, sin, np.ones(len(C)))
    assert np.allclose(slopes["slope"], C)


def test_crossings_interpolated_in_log_sigma():
    cross = fig7.crossing_sigma(SIGMA, curves(C), level=0.5)
    expected = 0.5 / C
    on_grid = [0, 1, 2, 3, 5]  # 0.5, 0.4, 0.25, 0.2, 0.1 are grid points: exact
    assert np.allclose(cross["sigma_cross"].to_numpy()[on_grid], expected[on_grid])
    # c = 4: 0.125 lies between 0.10 (sin 0.4) and 0.15 (sin 0.6): halfway in log sigma
    assert cross["sigma_cross"].iloc[4] == pytest.approx(math.sqrt(0.10 * 0.15))


def test_crossing_exact_for_log_linear_curve():
    sigma = np.geomspace(10.0, 0.01, 13)  # reference at 0.01
    sin = np.clip(0.2 * np.log(sigma / 0.01), 0, 1)[None, :, None]  # 0.5 at 0.01 e^2.5
    cross = fig7.crossing_sigma(sigma, sin, level=0.5)
    assert cross["sigma_cross"].iloc[0] == pytest.approx(0.01 * math.exp(2.5))


def test_statistics_paper_ordering_and_verdict():
    stats = fig7.fig7_statistics(SIGMA, curves(C), 1.0 / C)
    json.dumps(stats)
    assert stats["spearman_crossing_vs_index"] == pytest.approx(-1.0)
    assert stats["n_crossed"] == len(C)
    assert stats["spearman_slope_vs_eigval"] == pytest.approx(-1.0)
    assert stats["loglog_slope_vs_eigval"] == pytest.approx(-1.0)  # slope = 1 / eigval
    assert stats["median_sin_at_first_point_index0"] == pytest.approx(1.0)
    assert stats["sigma_ref"] == 0.0 and stats["sigma_max"] == pytest.approx(2.0)
    text = fig7.verdict(stats)
    assert "appears" in text and "does not" not in text
    assert "-1.00" in text and f"n = {len(C)}" in text


def test_reversed_ordering_does_not_appear():
    stats = fig7.fig7_statistics(SIGMA, curves(C[::-1]), C[::-1])
    assert stats["spearman_crossing_vs_index"] == pytest.approx(1.0)
    text = fig7.verdict(stats)
    assert "does not appear" in text and "+1.00" in text


def test_nan_handling_never_crossing_and_all_nan():
    c = np.array([1.0, 2.0, 4.0, 0.1])  # index 3 stays below 0.5 (max 0.2)
    sin = curves(c)
    sin[:, :, 2] = np.nan  # index 2: no data at all
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cross = fig7.crossing_sigma(SIGMA, sin)
        slopes = fig7.small_sigma_slopes(SIGMA, sin, 1.0 / c)
        stats = fig7.fig7_statistics(SIGMA, sin, 1.0 / c)
        table = fig7.index_summary(SIGMA, sin)
        assert np.isnan(cross["sigma_cross"].iloc[2]) and np.isnan(cross["sigma_cross"].iloc[3])
        assert np.isnan(slopes["slope"].iloc[2]) and slopes["slope"].iloc[3] == pytest.approx(0.1)
        assert stats["n_crossed"] == 2 and math.isnan(stats["spearman_crossing_vs_index"])
        assert (table[table["index"] == 2]["n_paths"] == 0).all()
        assert "does not appear" in fig7.verdict(stats)
        # everything NaN: NaN results, no warnings
        empty = fig7.fig7_statistics(SIGMA, np.full_like(sin, np.nan), np.full(4, np.nan))
    assert empty["n_crossed"] == 0
    for key in ("spearman_crossing_vs_index", "spearman_slope_vs_eigval", "loglog_slope_vs_eigval",
                "median_sin_at_first_point_index0", "median_sin_at_first_point_mean"):
        assert math.isnan(empty[key]), key


def test_shape_and_value_errors_name_the_argument():
    sin = curves(C)
    with pytest.raises(DataError, match="sin"):
        fig7.index_summary(SIGMA, sin[0])
    with pytest.raises(DataError, match="sigma"):
        fig7.crossing_sigma(SIGMA[:-1], sin)
    with pytest.raises(DataError, match="sigma"):
        fig7.crossing_sigma(np.ones((2, len(SIGMA))), sin)
    with pytest.raises(DataError, match="eigvals"):
        fig7.small_sigma_slopes(SIGMA, sin, np.ones(3))
    with pytest.raises(ConfigError, match="level"):
        fig7.crossing_sigma(SIGMA, sin, level=0.0)
    with pytest.raises(ConfigError, match="max_sin"):
        fig7.small_sigma_slopes(SIGMA, sin, np.ones(len(C)), max_sin=2)
    with pytest.raises(ConfigError, match="quantiles"):
        fig7.index_summary(SIGMA, sin, quantiles=(0.5, 0.25, 0.75))
    with pytest.raises(DataError, match="stats"):
        fig7.verdict({"n_crossed": 3})
    with pytest.raises(ConfigError, match="k must"):
        fig7.linear_reference(np.ones((5, 3)), [0.1], k=4)
    with pytest.raises(DataError, match="sigma_grid"):
        fig7.linear_reference(np.ones((5, 3)), [0.0, -1.0], k=2)


def test_reference_eigvals_median_at_last_point():
    eig = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)
    assert np.allclose(fig7.reference_eigvals(eig, 2), np.median(eig[:, -1, :2], axis=0))


@pytest.fixture(scope="module")
def digits_reference():
    from lindiff.data import load_dataset

    X = load_dataset("digits").X
    grid = np.geomspace(0.01, 3.0, 40)
    return fig7.linear_reference(X, np.concatenate([grid, grid[:5], [0.0]]), k=20, seed=0)


def test_linear_reference_on_digits(digits_reference):
    sigma, sin, eigvals = digits_reference
    assert sigma.shape == (41,) and sin.shape == (1, 41, 20) and eigvals.shape == (20,)
    assert sigma[-1] == 0.0 and np.all(np.diff(sigma) < 0)  # duplicates and 0 dropped
    assert np.all(sin[0, -1] == 0.0)
    assert np.all(np.diff(eigvals) <= 0)
    stats = fig7.fig7_statistics(sigma, sin, eigvals)
    # measured (seed 0): rho ≈ -0.94 over 19 crossings; slope vs eigval rho ≈ -0.98, log-log ≈ -0.72
    assert stats["n_crossed"] >= 15
    assert stats["spearman_crossing_vs_index"] < -0.5
    assert stats["spearman_slope_vs_eigval"] < -0.5
    assert stats["loglog_slope_vs_eigval"] < 0
    assert "appears" in fig7.verdict(stats) and "does not" not in fig7.verdict(stats)


def test_figures_build(digits_reference):
    pytest.importorskip("torch")
    from matplotlib.figure import Figure

    from lindiff.plots import deep as plots

    deep_summary = fig7.index_summary(SIGMA + 0.01, curves(C))
    deep_stats = fig7.fig7_statistics(SIGMA + 0.01, curves(C), 1.0 / C)
    fig = plots.fig7_panels(deep_summary)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    sigma, sin, eigvals = digits_reference
    linear_stats = fig7.fig7_statistics(sigma, sin, eigvals)
    fig = plots.fig7_panels(deep_summary, fig7.index_summary(sigma, sin), fig7.verdict(deep_stats),
                            fig7.verdict(linear_stats))
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert fig.axes[0].get_title().replace("\n", " ").endswith(fig7.verdict(deep_stats))  # the verdict titles its panel
    fig.savefig(io.BytesIO(), format="png", dpi=50)  # renders: layout and titles fit

    deep_cross = fig7.crossing_sigma(SIGMA, curves(C))
    deep_slopes = fig7.small_sigma_slopes(SIGMA, curves(C), 1.0 / C)
    fig = plots.fig7_index_statistics(deep_cross, deep_slopes)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    fig = plots.fig7_index_statistics(deep_cross, deep_slopes, fig7.crossing_sigma(sigma, sin),
                                      fig7.small_sigma_slopes(sigma, sin, eigvals))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
