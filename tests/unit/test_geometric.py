"""lindiff.data.geometric: the C^α and disk generators of the GAHB study (Kadkhodaie et al.)."""

import numpy as np
import pytest
from helpers import REPO

from lindiff.data import load_dataset
from lindiff.data.geometric import (
    disk_images,
    make_calpha,
    make_disks,
    power_law_noise_1d,
    power_law_noise_2d,
    subspace_alignment,
)
from lindiff.errors import ConfigError


@pytest.mark.parametrize("name", ["calpha", "disks"])
def test_shapes_ranges_and_determinism(name):
    data = load_dataset(name, n=20, size=16, seed=3)
    assert data.X.shape == (20, 256) and data.image_shape == (16, 16) and data.name == name
    assert data.X.min() >= 0.0 and data.X.max() <= 1.0
    assert data.X.std(axis=0).max() > 0.01  # the images differ
    np.testing.assert_array_equal(load_dataset(name, n=20, size=16, seed=3).X, data.X)
    assert not np.allclose(load_dataset(name, n=20, size=16, seed=4).X, data.X)


def _fitted_slope(freq, power):
    keep = freq > 0
    return np.polyfit(np.log(freq[keep]), np.log(power[keep]), 1)[0]


@pytest.mark.parametrize("alpha", [1.0, 2.5, 4.0])
def test_contour_spectrum_decays_with_the_configured_exponent(alpha):
    noise = power_law_noise_1d(2000, 64, alpha, np.random.default_rng(0))
    assert noise.var() == pytest.approx(1.0, rel=0.1)  # unit variance in expectation
    power = (np.abs(np.fft.rfft(noise, axis=1)) ** 2).mean(axis=0)
    freq = np.arange(power.size)
    assert _fitted_slope(freq[1:-1], power[1:-1]) == pytest.approx(-2 * alpha, abs=0.1)


@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_texture_spectrum_decays_with_the_configured_exponent(alpha):
    size = 32
    noise = power_law_noise_2d(300, size, alpha, np.random.default_rng(1))
    power = (np.abs(np.fft.fft2(noise)) ** 2).mean(axis=0)
    freq = np.fft.fftfreq(size) * size
    radius = np.hypot(freq[:, None], freq[None, :])
    shells = np.arange(1, size // 2)
    radial = np.array([power[np.abs(radius - r) < 0.5].mean() for r in shells])
    assert _fitted_slope(shells.astype(float), radial) == pytest.approx(-2 * alpha, abs=0.25)


def test_calpha_images_are_two_regions_split_by_one_contour():
    """Without texture or blur each column is the upper intensity above its contour row, the
    lower one below, and one boundary pixel mixing them by the fraction above the contour."""
    data = make_calpha(10, size=24, alpha=3.0, intensities=(0.8, 0.2), texture=0.0, blur=0.0, seed=2)
    above = (data.X.reshape(10, 24, 24) - 0.2) / 0.6  # fraction of each pixel above the contour
    assert above.min() >= -1e-12 and above.max() <= 1 + 1e-12
    assert (np.diff(above, axis=1) <= 1e-12).all()  # monotone down each column
    assert (((above > 1e-9) & (above < 1 - 1e-9)).sum(axis=1) <= 1).all()  # one boundary pixel
    contour = above.sum(axis=1)  # the contour's row per column, recovered from the image
    assert contour.min() >= 1 and contour.max() <= 23 and np.ptp(contour, axis=1).min() > 0


@pytest.mark.parametrize("alpha", [1.5, 3.0])
def test_the_images_contour_has_the_configured_spectrum(alpha):
    """The contour recovered from the generator's own images decays as |ω|^(-2α)."""
    size = 64
    data = make_calpha(1000, size=size, alpha=alpha, intensities=(1.0, 0.0), texture=0.0, blur=0.0,
                       contour_amplitude=0.05, seed=7)
    contour = data.X.reshape(1000, size, size).sum(axis=1)  # rows above the contour, per column
    power = (np.abs(np.fft.rfft(contour - contour.mean(axis=1, keepdims=True), axis=1)) ** 2).mean(axis=0)
    freq = np.arange(power.size)
    assert _fitted_slope(freq[1:-1], power[1:-1]) == pytest.approx(-2 * alpha, abs=0.15)


def test_disk_tangents_match_finite_differences():
    disks = make_disks(6, size=20, radius=(3.0, 6.0), seed=5)
    tangents = disks.tangents()
    assert tangents.shape == (6, 400, 5)
    step = 1e-5
    for k in range(5):
        shift = np.zeros(5)
        shift[k] = step
        central = (disk_images(disks.params + shift, 20, disks.edge)
                   - disk_images(disks.params - shift, 20, disks.edge)) / (2 * step)
        np.testing.assert_allclose(tangents[:, :, k], central, atol=1e-7 * np.abs(central).max() + 1e-9)


def test_disks_lie_inside_the_image_with_parameters_in_their_ranges():
    disks = make_disks(200, size=16, radius=(2.0, 5.0), foreground=(0.7, 0.9), background=(0.1, 0.2), seed=0)
    row, col, radius, fg, bg = disks.params.T
    assert (radius >= 2.0).all() and (radius <= 5.0).all()
    assert (row - radius > 0).all() and (row + radius < 16).all() and (col - radius > 0).all() and (col + radius < 16).all()
    assert (fg >= 0.7).all() and (fg <= 0.9).all() and (bg >= 0.1).all() and (bg <= 0.2).all()
    images = disks.dataset.X.reshape(200, 16, 16)
    np.testing.assert_allclose(images[:, 0, 0], bg, atol=1e-6)  # the corner is background


def test_alignment_is_one_for_the_tangent_projection_and_p_over_d_for_random_subspaces():
    disks = make_disks(3, size=16, seed=1)
    rng = np.random.default_rng(0)
    d = 256
    for tangent in disks.tangents():
        basis = np.linalg.qr(tangent)[0]
        projection = basis @ basis.T  # the exact tangent projection, a "denoiser"
        vals, vecs = np.linalg.eigh(projection)
        assert subspace_alignment(vecs[:, -5:], tangent) == pytest.approx(1.0, abs=1e-10)
    random = [subspace_alignment(rng.standard_normal((d, 5)), disks.tangents()[0]) for _ in range(400)]
    assert np.mean(random) == pytest.approx(5 / d, rel=0.1)


@pytest.mark.parametrize(
    "name, kwargs, key",
    [
        ("calpha", {"alpha": 0.0}, "alpha=0.0"),
        ("calpha", {"alpha": -1}, "alpha=-1"),
        ("calpha", {"alpha_background": 0}, "alpha_background=0"),
        ("calpha", {"size": 7}, "size=7"),
        ("calpha", {"intensities": (0.5, 0.5)}, "intensities"),
        ("disks", {"size": 4}, "size=4"),
        ("disks", {"radius": (2.0, 9.0), "size": 16}, "radius"),
        ("disks", {"radius": (0.0, 3.0)}, "radius"),
        ("disks", {"radius": (5.0, 3.0)}, "radius"),
        ("disks", {"foreground": (0.5, 1.5)}, "foreground"),
        ("disks", {"edge": 0}, "edge=0"),
        ("disks", {"n": 0}, "n=0"),
    ],
)
def test_bad_parameters_fail_naming_the_key(name, kwargs, key):
    kwargs = {"n": 4, **kwargs}
    with pytest.raises(ConfigError, match=key.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(name, **kwargs)


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["data=disks", "data.radius=[2,20]"], "data.radius="),
        (["data=disks", "data.edge=0"], "data.edge=0"),
        (["data=calpha", "data.alpha=-2"], "data.alpha=-2"),
        (["data=calpha", "data.intensities=[0.5,0.5]"], "data.intensities="),
        (["data=calpha", "data.size=6"], "data.size=6"),
    ],
)
def test_bad_data_config_fails_before_any_job_naming_the_key(overrides, key):
    from lindiff.pipeline import config as ldc

    with pytest.raises(ConfigError, match=key):
        ldc.load([*overrides, "sweep=smoke"])


@pytest.mark.parametrize("name", ["calpha", "disks"])
def test_the_workflow_plans_the_linear_study_on_synthetic_images(name, tmp_path):
    """`data=calpha` / `data=disks` compose and Snakemake plans the smoke sweep on them."""
    import subprocess
    import sys

    repo = REPO
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(repo / "Snakefile"), "--directory", str(tmp_path),
         "--config", f"overrides=data={name} sweep=smoke"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    planned = result.stdout + result.stderr
    assert f"results/{name}/" in planned and "rule learn" in planned
