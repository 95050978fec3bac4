"""lindiff.studies.gahb: the GAHB measurements, against exact cases and the Wiener filter's closed form."""

import numpy as np
import pytest

from lindiff.data import make_disks
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.errors import ConfigError
from lindiff.studies.gahb import (
    denoising_curve,
    optimal_calpha_slope,
    psnr_slope,
    tangent_capture,
    wiener_tangent_alignment,
)


def test_identity_denoiser_has_slope_one_and_input_psnr():
    X = np.random.default_rng(0).uniform(size=(50, 64))
    curve = denoising_curve(lambda Y, sigma: Y, X, [0.01, 0.05, 0.2], seed=1)
    assert psnr_slope(curve) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(curve["output_psnr"], curve["input_psnr"], atol=0.2)


def test_wiener_curve_matches_its_closed_form():
    """On Gaussian data the Wiener filter's MSE is mean_i λ_i σ² / (λ_i + σ²)."""
    rng = np.random.default_rng(2)
    d = 40
    spectrum = 0.2 * (1.0 + np.arange(d)) ** -1.5
    basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
    X = 0.5 + (rng.standard_normal((60000, d)) * np.sqrt(spectrum)) @ basis.T
    wiener = fit_wiener(X[:50000])
    sigmas = [0.02, 0.1, 0.5]
    curve = denoising_curve(wiener.denoise, X[50000:], sigmas, seed=3)
    expected = [np.mean(spectrum * s**2 / (spectrum + s**2)) for s in sigmas]
    np.testing.assert_allclose(curve["mse"], expected, rtol=0.03)
    # its slope lies between the flat-spectrum extremes 0 and 1
    assert 0 < psnr_slope(curve) < 1


def test_slope_over_a_range_uses_only_that_range():
    X = np.zeros((10, 16))
    curve = denoising_curve(lambda Y, sigma: Y * (0.5 if sigma > 0.1 else 1.0), X, [0.01, 0.05, 0.2, 0.4])
    assert psnr_slope(curve, (0.01, 0.05)) == pytest.approx(1.0)
    assert psnr_slope(curve, (0.2, 0.4)) == pytest.approx(1.0)
    assert psnr_slope(curve) < 1.0  # the jump between the ranges bends the full fit


def test_alignment_and_capture_of_the_exact_tangent_basis_are_one():
    disks = make_disks(4, size=16, seed=0)
    tangents = disks.tangents()
    for k, tangent in enumerate(tangents):
        basis = np.linalg.qr(tangent)[0]
        assert wiener_tangent_alignment(basis, tangents[k : k + 1])[0] == pytest.approx(1.0)
        np.testing.assert_allclose(tangent_capture(basis, tangents[k : k + 1]), 1.0, atol=1e-12)


def test_the_wiener_filter_holds_the_disks_intensity_directions_not_their_geometry():
    """Measured: the linear baseline's top-5 eigenvectors hold the foreground and background
    directions of the disk manifold but little of its position and radius directions."""
    disks = make_disks(1100, size=32, seed=0)
    wiener = fit_wiener(disks.dataset.X[:1000])
    capture = np.median(tangent_capture(wiener.basis, disks.tangents()[1000:]), axis=0)
    assert capture[4] > 0.9 and capture[3] > 0.5  # background, foreground
    assert capture[:3].max() < 0.3  # centre row, centre column, radius
    alignment = wiener_tangent_alignment(wiener.basis, disks.tangents()[1000:1050])
    assert 20 * 5 / 1024 < np.median(alignment) < 0.6  # far above chance, far from aligned


def test_optimal_slope_and_bad_input():
    assert optimal_calpha_slope(2.0) == pytest.approx(2 / 3)
    with pytest.raises(ConfigError, match="alpha=0"):
        optimal_calpha_slope(0)
    with pytest.raises(ConfigError, match="sigmas"):
        denoising_curve(lambda Y, s: Y, np.zeros((2, 4)), [0.1, -1])
