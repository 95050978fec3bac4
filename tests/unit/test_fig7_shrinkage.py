"""The deep shrinkage against the Wiener filter's (lindiff.studies.fig7_shrinkage): the data
variance along a vector, the Wiener filter as its own reference, and the gain products against
Benita's closed form (lindiff.diffusion.transfer) computed independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lindiff.diffusion.denoisers import fit_wiener
from lindiff.diffusion.samplers import Sampler
from lindiff.diffusion.schedules import noise_levels
from lindiff.diffusion.transfer import transfer_function
from lindiff.errors import ConfigError, DataError
from lindiff.plots import deep as deep_plots
from lindiff.studies.fig7_controls import closed_form_spectra
from lindiff.studies.fig7_shrinkage import (
    data_variance_along,
    gain_product,
    shrinkage_at_levels,
    shrinkage_metrics,
    shrinkage_table,
    transfer_table,
    wiener_shrinkage,
)


def _gaussian(n=400, d=6, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.linspace(1.0, 0.1, d)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return 0.5 + (rng.standard_normal((n, d)) * scales) @ rotation.T


def test_the_data_variance_along_a_vector_is_its_quadratic_form():
    X = _gaussian()
    wiener = fit_wiener(X)
    centred = X - X.mean(0)
    cov = centred.T @ centred / len(X)
    vectors = np.random.default_rng(1).standard_normal((2, 3, 6, 4))
    expected = np.einsum("abdk,de,abek->abk", vectors, cov, vectors)
    np.testing.assert_allclose(data_variance_along(vectors, wiener), expected, rtol=1e-12)
    with pytest.raises(DataError, match=r"vectors must have shape \(\.\.\., d=6, K\)"):
        data_variance_along(vectors[..., :5, :], wiener)


def test_the_wiener_filter_shrinks_exactly_as_the_wiener_filter():
    """The Wiener control's Jacobian eigenvalues equal c/(c + σ²) along its own eigenvectors: the
    comparison's reference point, computed through two different routes."""
    X = _gaussian()
    rng = np.random.default_rng(2)
    path = X[:3][None] + rng.standard_normal((5, 3, 6))
    sigma = np.repeat(np.geomspace(1.0, 0.05, 5)[:, None], 3, axis=1)
    result = closed_form_spectra("wiener", X, path, sigma, K=4)
    table = shrinkage_table(result.sigma, result.eigvals, result.vectors, fit_wiener(X))
    assert len(table) == 3 * 5 * 4
    np.testing.assert_allclose(table["jacobian"], table["wiener"], atol=1e-10)
    metrics = shrinkage_metrics(table, pd.DataFrame())
    assert metrics["shrinkage/ratio_at_sigma_min"] == pytest.approx(1.0)
    assert metrics["shrinkage/ratio_at_sigma_max"] == pytest.approx(1.0)
    assert metrics["shrinkage/sigma_min"] == pytest.approx(0.05) and "transfer/deep_index0" not in metrics


@pytest.mark.parametrize("sampler", [Sampler("ddpm"), Sampler("ddim"), Sampler("ddim", eta=0.5), Sampler("ode")])
def test_the_gain_product_of_the_wiener_shrinkage_is_the_closed_form(sampler):
    """Over every step, with the start's gain, the product is Benita's H_i (transfer_function)."""
    sigma_bar = noise_levels("vplinear", 30).sigma_bar
    lam = np.array([2.0, 0.5, 0.1, 0.01])
    steps = np.arange(1, len(sigma_bar))
    shrink = lam / (lam + sigma_bar[steps, None] ** 2)
    product = gain_product(sampler, sigma_bar, steps, shrink)
    expected = transfer_function(sampler, sigma_bar, lam)
    np.testing.assert_allclose(np.sqrt(1 + sigma_bar[-1] ** 2) * product, expected.gain, rtol=1e-12)
    # a leading axis of paths
    np.testing.assert_allclose(gain_product(sampler, sigma_bar, steps, np.stack([shrink, shrink])), [product, product])


def test_the_gain_product_refuses_samplers_without_a_one_step_form():
    sigma_bar = noise_levels("vplinear", 5).sigma_bar
    for sampler in (Sampler("ode", solver="heun"), Sampler("ve_chain")):
        with pytest.raises(ConfigError, match="takes ddpm, ddim or ode\\(euler\\)"):
            gain_product(sampler, sigma_bar, [1, 2], np.ones((2, 1)))


def test_interpolation_in_log_sigma():
    point_sigma = np.array([[0.1, 1.0]])
    shrink = np.array([[[0.9], [0.3]]])
    levels = np.array([0.1, np.sqrt(0.1), 1.0, 5.0])
    np.testing.assert_allclose(shrinkage_at_levels(point_sigma, shrink, levels)[0, :, 0], [0.9, 0.6, 0.3, 0.3])
    with pytest.raises(DataError, match="positive"):
        shrinkage_at_levels(point_sigma, shrink, [0.0])


def test_at_every_step_the_wiener_path_reproduces_the_gaussian_closed_form():
    """Points at every level of the schedule's range: no interpolation error, so the measured
    product of the Wiener filter, the product of its shrinkage along its own eigenvectors and the
    closed form on the data's eigenvalues are one number per index."""
    X = _gaussian()
    sigma_bar = noise_levels("vplinear", 40).sigma_bar * 0.2  # data units
    steps = np.flatnonzero((sigma_bar > 0.01) & (sigma_bar < 0.5))
    rng = np.random.default_rng(3)
    path = X[:2][None] + 0.1 * rng.standard_normal((len(steps), 2, 6))
    sigma = np.repeat(sigma_bar[steps[::-1], None], 2, axis=1)  # noisiest first, as recorded
    result = closed_form_spectra("wiener", X, path, sigma, K=3)
    wiener = fit_wiener(X)
    local = shrinkage_table(result.sigma, result.eigvals, result.vectors, wiener)["wiener"].to_numpy()
    table = transfer_table(Sampler("ddpm"), sigma_bar, result.sigma, result.eigvals[:, :, :3],
                           local.reshape(result.sin_theta.shape), wiener.eigvals[::-1])
    assert list(table["index"]) == [0, 1, 2] and table["steps"].eq(len(steps)).all()
    np.testing.assert_allclose(table["deep"], table["gaussian"], rtol=1e-9)
    # along the eigenvectors as stored (float32): c_i to single precision
    np.testing.assert_allclose(table["wiener_local"], table["gaussian"], rtol=1e-6)
    assert table["gaussian"].is_monotonic_decreasing  # the larger eigenvalue passes more
    metrics = shrinkage_metrics(shrinkage_table(result.sigma, result.eigvals, result.vectors, wiener), table)
    assert metrics["transfer/median_log10_deep_over_gaussian"] == pytest.approx(0.0, abs=1e-9)
    fig = deep_plots.shrinkage_against_wiener(shrinkage_table(result.sigma, result.eigvals, result.vectors, wiener),
                                              table)
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log"


def test_wiener_shrinkage_checks_its_shapes():
    with pytest.raises(DataError, match=r"sigma must have shape \(2, 3\)"):
        wiener_shrinkage(np.ones((2, 3, 4)), np.ones((3, 2)))
