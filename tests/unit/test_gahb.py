"""lindiff.studies.gahb: the GAHB measurements, against exact cases and the Wiener filter's closed form."""

import numpy as np
import pytest

from lindiff.data import make_disks
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.errors import ConfigError, DataError
from lindiff.studies.gahb import (
    denoising_curve,
    disk_jacobians,
    optimal_calpha_slope,
    psnr_margin,
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


def test_psnr_margin_is_the_smallest_lead_in_range():
    """A denoiser that halves the error below σ = 0.1 and doubles it above leads the identity by
    10·log₁₀ 2 dB at the small levels and trails it by as much at the large ones."""
    X = np.random.default_rng(0).uniform(size=(20, 16))
    sigmas = [0.01, 0.05, 0.2, 0.4]
    identity = denoising_curve(lambda Y, sigma: Y, X, sigmas, seed=1)
    scaled = denoising_curve(lambda Y, sigma: X + (Y - X) * (0.5**0.5 if sigma < 0.1 else 2**0.5), X, sigmas, seed=1)
    gain = 10 * np.log10(2)
    assert psnr_margin(scaled, identity, (0.01, 0.05)) == pytest.approx(gain)
    assert psnr_margin(scaled, identity) == pytest.approx(-gain)
    assert psnr_margin(identity, identity) == pytest.approx(0.0)
    assert np.isnan(psnr_margin(scaled, identity, (1.0, 2.0)))


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


# --------------------------------------------------------------------------- disk Jacobians


def test_disk_jacobians_of_the_tangent_projection_are_aligned():
    """The denoiser y -> Q Qᵀ y with Q the tangent space at the disk: Jacobian Q Qᵀ, eigenvalues
    1 (five times) then 0, top-5 eigenvectors = the tangent space at every noise level."""
    from lindiff.deep.models import ProjectionDenoiser

    disks = make_disks(1, size=16, seed=3)
    tangents = disks.tangents()
    projection = ProjectionDenoiser(np.linalg.qr(tangents[0])[0])
    result = disk_jacobians(projection, disks.dataset.X, tangents, [0.02, 0.1], K=8, n_vectors=6, seed=1)
    np.testing.assert_allclose(result.eigvals[:, 0, :5], 1.0, atol=1e-10)
    np.testing.assert_allclose(result.eigvals[:, 0, 5:], 0.0, atol=1e-10)
    np.testing.assert_allclose(result.alignment, 1.0, atol=1e-10)
    np.testing.assert_allclose(result.capture, 1.0, atol=1e-10)
    np.testing.assert_allclose(result.asymmetry, 0.0, atol=1e-12)
    assert result.vectors.shape == (2, 256, 6) and result.noisy.shape == (2, 256)
    # the noisy image is x + σ z with the same z at both levels
    np.testing.assert_allclose((result.noisy[1] - disks.dataset.X[0]) / 0.1,
                               (result.noisy[0] - disks.dataset.X[0]) / 0.02, atol=1e-9)
    table = result.table()
    assert len(table) == 2 and {"alignment", "captured_radius", "eigval_7"} <= set(table.columns)
    assert table["sigma"].tolist() == [0.02, 0.1]


def test_disk_jacobians_of_a_random_projection_are_at_chance():
    """A projection onto a random 5-dimensional subspace: alignment ≈ 5/d (here d = 256)."""
    from lindiff.deep.models import ProjectionDenoiser

    disks = make_disks(12, size=16, seed=4)
    basis = np.linalg.qr(np.random.default_rng(5).standard_normal((256, 5)))[0]
    result = disk_jacobians(ProjectionDenoiser(basis), disks.dataset.X, disks.tangents(), [0.05], K=5, n_vectors=5)
    assert result.alignment.shape == (1, 12)
    assert 0.2 * 5 / 256 < result.alignment.mean() < 4 * 5 / 256


def test_disk_jacobians_bad_input():
    from lindiff.deep.models import ProjectionDenoiser

    disks = make_disks(2, size=8, seed=0)
    projection = ProjectionDenoiser(np.eye(64)[:, :5])
    with pytest.raises(DataError, match="tangents must have shape"):
        disk_jacobians(projection, disks.dataset.X, disks.tangents()[:1], [0.1])
    with pytest.raises(ConfigError, match="K=65"):
        disk_jacobians(projection, disks.dataset.X, disks.tangents(), [0.1], K=65)
    with pytest.raises(ConfigError, match="sigmas"):
        disk_jacobians(projection, disks.dataset.X, disks.tangents(), [0.0])
