"""Tests of the multi-scale wavelet denoisers: the orthonormal transform (lindiff.data.wavelets),
receptive-field-controlled bias-free nets, conditional training and coarse-to-fine synthesis
(lindiff.deep.multiscale)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lindiff.data import make_calpha, make_disks, pad_images
from lindiff.data.wavelets import (
    check_levels,
    check_wavelet,
    wavelet_analysis,
    wavelet_decompose,
    wavelet_reconstruct,
    wavelet_synthesis,
)
from lindiff.deep.config import DenoiserConfig, TrainConfig
from lindiff.deep.models import measured_receptive_field, wrap_denoiser
from lindiff.deep.multiscale import (
    ascent_synthesis,
    check_multiscale_models,
    multiscale_training_data,
    scale_shapes,
    synthesize,
)
from lindiff.deep.train import load_model, save_model, train_denoiser
from lindiff.diffusion.samplers import Sampler, sample
from lindiff.diffusion.schedules import noise_levels
from lindiff.errors import ConfigError

ORTHOGONAL = ("haar", "db2", "sym4", "coif1")


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _image_sets(digits) -> dict[str, np.ndarray]:
    """The project's image sets at their wavelet sizes: digits 8×8, digits padded to 32×32 as
    MNIST is (28 -> 32), C^α and disks 32×32."""
    images = digits.X[:20].reshape(-1, 8, 8)
    return {
        "digits": images,
        "padded": pad_images(images, (32, 32)),
        "calpha": make_calpha(20, size=32, alpha=2.0, seed=0).X.reshape(-1, 32, 32),
        "disks": make_disks(20, size=32, seed=0).dataset.X.reshape(-1, 32, 32),
    }


# --------------------------------------------------------------------------- the transform


@pytest.mark.parametrize("wavelet", ORTHOGONAL)
def test_the_transform_reconstructs_every_image_set_to_float_precision(digits, wavelet):
    for name, images in _image_sets(digits).items():
        levels = 3 if images.shape[-1] == 8 else 5
        low, details = wavelet_decompose(images, levels, wavelet)
        assert low.shape == (len(images), images.shape[1] >> levels, images.shape[2] >> levels), name
        assert [d.shape[-1] for d in details] == [images.shape[-1] >> j for j in range(levels, 0, -1)]
        back = wavelet_reconstruct(low, details, wavelet)
        assert np.max(np.abs(back - images)) < 1e-10 * max(1.0, np.abs(images).max()), (name, wavelet)
        energy = np.sum(low**2) + sum(np.sum(d**2) for d in details)
        assert energy == pytest.approx(np.sum(images**2), rel=1e-10), (name, wavelet)


@pytest.mark.parametrize("wavelet", ORTHOGONAL)
def test_the_transform_is_an_orthonormal_change_of_basis(wavelet):
    """The transform of the 256 basis images of 16×16 is an orthogonal 256×256 matrix, so white
    noise stays white with the same σ in every band."""
    basis = np.eye(256).reshape(256, 16, 16)
    low, details = wavelet_decompose(basis, 2, wavelet)
    W = np.concatenate([low.reshape(256, -1), *(d.reshape(256, -1) for d in details)], axis=1)
    assert W.shape == (256, 256)
    np.testing.assert_allclose(W @ W.T, np.eye(256), atol=1e-10)


def test_one_level_shapes_and_band_order():
    image = np.zeros((1, 4, 4))
    image[0, :2] = 1.0  # a horizontal edge at the middle: only the horizontal band of the 2×2 grid sees it
    low, details = wavelet_analysis(image, "haar")
    assert low.shape == (1, 2, 2) and details.shape == (1, 3, 2, 2)
    np.testing.assert_allclose(low[0], [[2.0, 2.0], [0.0, 0.0]])  # 2^1 · block mean
    np.testing.assert_allclose(details[0, 1:], 0.0)
    np.testing.assert_allclose(wavelet_synthesis(low, details, "haar"), image, atol=1e-14)


@pytest.mark.bad_input
@pytest.mark.parametrize("name", ["bior2.2", "morl", "nope", 3])
def test_a_wavelet_that_is_not_orthogonal_is_refused_naming_the_key(name):
    with pytest.raises(ConfigError, match="wavelet"):
        check_wavelet(name)


@pytest.mark.bad_input
def test_scale_counts_the_image_cannot_take_are_refused_naming_the_key():
    with pytest.raises(ConfigError, match="levels=3 needs image sides divisible by 2\\^3"):
        check_levels(3, (28, 28))  # MNIST unpadded
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="levels"):
            check_levels(bad, (32, 32))
    assert check_levels(5, (32, 32)) == 5
    with pytest.raises(ConfigError, match="levels"):
        multiscale_training_data(np.zeros((2, 28, 28)), 3)


# --------------------------------------------------------------------------- receptive fields


@pytest.mark.parametrize("rf", [1, 3, 5, 9, 13, None])
@pytest.mark.parametrize("bands", [(1, 0), (3, 1)])
def test_a_perturbed_pixel_moves_exactly_the_outputs_of_the_configured_receptive_field(rf, bands):
    cfg = DenoiserConfig(kind="bfcnn", channels=8, depth=8, receptive_field=rf, bands=bands[0], condition_bands=bands[1])
    torch.manual_seed(0)
    model = wrap_denoiser(cfg, (32, 32))
    expected = 17 if rf is None else rf
    assert cfg.field_side == expected
    assert measured_receptive_field(model) == expected
    if bands[1]:  # a conditional net sees its clean band through the same field
        assert measured_receptive_field(model, band="condition") == expected


def test_the_receptive_field_keeps_the_depth_and_spreads_the_wide_kernels():
    cfg = DenoiserConfig(kind="bfcnn", depth=8, receptive_field=9)
    assert cfg.kernel_sizes == [3, 1, 3, 1, 1, 3, 1, 3]
    assert DenoiserConfig(kind="bfcnn", depth=21, receptive_field=5).kernel_sizes.count(3) == 2
    # the defaults add no key to the saved config (checkpoint digests and model files unchanged)
    assert set(DenoiserConfig().to_dict()) == {"kind", "channels", "depth", "blocks", "kernel_size", "batch_norm"}
    assert DenoiserConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.bad_input
def test_bad_receptive_fields_and_bands_are_refused_naming_the_key():
    for bad in (4, 0, 2.5):
        with pytest.raises(ConfigError, match="receptive_field"):
            DenoiserConfig(kind="bfcnn", depth=8, receptive_field=bad)
    with pytest.raises(ConfigError, match="receptive_field=19 needs 9 convolutions"):
        DenoiserConfig(kind="bfcnn", depth=8, receptive_field=19)
    with pytest.raises(ConfigError, match="receptive_field applies to kind='bfcnn'"):
        DenoiserConfig(kind="unet", depth=3, receptive_field=5)
    with pytest.raises(ConfigError, match="bands"):
        DenoiserConfig(kind="ddpm", depth=2, bands=3)
    with pytest.raises(ConfigError, match="condition_bands"):
        DenoiserConfig(kind="bfcnn", condition_bands=-1)


# --------------------------------------------------------------------------- conditional training


@pytest.fixture(scope="module")
def trained_scale(digits):
    """A conditional RF-5 model of the finest scale of the digits (details 3×4×4 given the 4×4
    low-pass), trained briefly."""
    data = multiscale_training_data(digits.X.reshape(-1, 8, 8), 1)
    cfg = TrainConfig(model=DenoiserConfig(kind="bfcnn", channels=16, depth=4, receptive_field=5, bands=3,
                                           condition_bands=1), epochs=6, batch_size=32, lr=3e-3, val_sigmas=(0.2,),
                      max_val=128)
    result = train_denoiser(data.details[0], data.shapes[0], cfg, seed=0, progress=False, condition=data.conditions[0])
    return data, result


def test_a_conditional_scale_model_trains_and_uses_its_low_pass(trained_scale):
    data, result = trained_scale
    history = result.history
    assert history[-1]["loss"] < history[0]["loss"]
    # noisy details at σ = 0.2 have a PSNR of 20·log10(peak/σ) with the details' own range; the model beats
    # doing nothing by a margin
    model = result.model
    rng = np.random.default_rng(3)
    X, cond = data.details[0][:200], data.conditions[0][:200]
    Y = X + 0.2 * rng.standard_normal(X.shape)
    mse_noisy = np.mean((Y - X) ** 2)
    mse_model = np.mean((model.denoise(Y, condition=cond) - X) ** 2)
    assert mse_model < 0.75 * mse_noisy  # 0.58 measured
    # the low-pass input matters: another image's low-pass changes the estimate and worsens it
    shuffled = np.mean((model.denoise(Y, condition=cond[::-1]) - X) ** 2)
    assert shuffled > 1.05 * mse_model  # 1.15 measured


def test_a_conditional_model_saves_and_loads_with_its_bands(trained_scale, tmp_path):
    data, result = trained_scale
    path = save_model(tmp_path / "scale.pt", result.model)
    loaded = load_model(path)
    assert (loaded.bands, loaded.condition_bands, loaded.d) == (3, 1, 48)
    Y = data.details[0][:5]
    np.testing.assert_array_equal(loaded.denoise(Y, condition=data.conditions[0][:5]),
                                  result.model.denoise(Y, condition=data.conditions[0][:5]))


@pytest.mark.bad_input
def test_training_refuses_a_missing_or_unwanted_condition(digits):
    data = multiscale_training_data(digits.X.reshape(-1, 8, 8), 1)
    conditional = TrainConfig(model=DenoiserConfig(kind="bfcnn", channels=4, depth=2, bands=3, condition_bands=1),
                              epochs=1)
    with pytest.raises(ConfigError, match="condition: a conditional model"):
        train_denoiser(data.details[0], data.shapes[0], conditional, progress=False)
    with pytest.raises(ConfigError, match="condition must have shape"):
        train_denoiser(data.details[0], data.shapes[0], conditional, progress=False, condition=data.conditions[0][:, :3])
    with pytest.raises(ConfigError, match="condition: given for a model without condition_bands"):
        train_denoiser(data.low, data.shapes[0], TrainConfig(model=DenoiserConfig(kind="bfcnn", depth=2), epochs=1),
                       progress=False, condition=data.conditions[0])
    with pytest.raises(ConfigError, match="model.bands=3"):
        train_denoiser(data.low, data.shapes[0], conditional, progress=False, condition=data.conditions[0])


# --------------------------------------------------------------------------- synthesis


def _gaussian_denoiser(mean, cov):
    """The exact posterior mean of N(mean, cov) under white noise σ: ``D(Y, σ)``."""
    values, vectors = np.linalg.eigh(cov)

    def denoise(Y, sigma):
        return mean + ((Y - mean) @ vectors) * (values / (values + sigma**2)) @ vectors.T

    return denoise


def _analysis_operators(h: int, w: int, levels: int):
    """(L_j, B_j) for j = 1 … J: the matrices taking an image x (h·w) to its low-pass x_j and details x̄_j."""
    d = h * w
    ops, low = [], np.eye(d).reshape(d, h, w)
    for _ in range(levels):
        low, bands = wavelet_analysis(low)
        ops.append((low.reshape(d, -1).T, bands.reshape(d, -1).T))
    return ops


def test_synthesis_with_exact_gaussian_denoisers_reproduces_the_gaussian_covariance():
    """p(x) = p(x_J) Π p(x̄_j | x_j) for a Gaussian N(μ, C) on 8×8 images (2 scales): drawing each
    factor with its exact denoiser (probability-flow ODE, Heun, 60 levels) and reconstructing gives
    samples whose covariance is C within Monte Carlo error; drawing the details without their
    low-pass (the marginal p(x̄_j)) misses C by far."""
    rng = np.random.default_rng(0)
    h = w = 8
    d, levels, n = h * w, 2, 4000
    A = rng.standard_normal((d, d)) / np.sqrt(d)
    C, mu = A @ A.T + 0.05 * np.eye(d), rng.uniform(0, 1, d)
    ops = _analysis_operators(h, w, levels)
    schedule, sampler = noise_levels("karras", 60, sigma_max=40.0), Sampler("ode", solver="heun")

    def run(denoise, mean_rows, rng):
        start = mean_rows + schedule.sigma_bar[-1] * rng.standard_normal(mean_rows.shape)
        return sample(denoise, schedule, sampler, *mean_rows.shape, seed=rng, start=start).path[-1]

    def draw_low(count, rng):
        L = ops[-1][0]
        return run(_gaussian_denoiser(L @ mu, L @ C @ L.T), np.tile(L @ mu, (count, 1)), rng)

    def detail_sampler(j, conditional):
        L, B = ops[j]
        gain = (B @ C @ L.T) @ np.linalg.inv(L @ C @ L.T)
        cov = B @ C @ B.T - (gain @ L @ C @ B.T if conditional else 0)

        def draw(low, rng):
            mean = B @ mu + ((low - L @ mu) @ gain.T if conditional else np.zeros((len(low), len(B))))
            return run(_gaussian_denoiser(mean, cov), mean, rng)

        return draw

    mc = np.sqrt((np.linalg.norm(C) ** 2 + np.trace(C) ** 2) / n) / np.linalg.norm(C)  # E‖Ĉ − C‖_F / ‖C‖_F
    errors = {}
    for conditional in (True, False):
        images, lows = synthesize(draw_low, [detail_sampler(1, conditional), detail_sampler(0, conditional)], n,
                                  scale_shapes((h, w), levels)[0], seed=1)
        assert [x.shape for x in lows] == [(n, 2, 2), (n, 4, 4), (n, 8, 8)]
        X = images.reshape(n, d)
        errors[conditional] = np.linalg.norm(np.cov(X.T) - C) / np.linalg.norm(C)
        assert np.max(np.abs(X.mean(axis=0) - mu)) < 5 * np.sqrt(np.max(np.diag(C)) / n)
    assert errors[True] < 1.3 * mc, errors
    assert errors[False] > 3 * mc, errors


def test_ascent_synthesis_draws_images_scale_by_scale_deterministically():
    torch.manual_seed(0)
    low_model = wrap_denoiser(DenoiserConfig(kind="bfcnn", channels=4, depth=3), (4, 4)).eval()
    details = [wrap_denoiser(DenoiserConfig(kind="bfcnn", channels=4, depth=3, receptive_field=5, bands=3,
                                            condition_bands=1), shape).eval() for shape in [(4, 4), (8, 8)]]
    options = {"sigma_0": 1.0, "sigma_final": 0.5, "max_steps": 5}
    images, lows = ascent_synthesis(low_model, details, 3, (16, 16), seed=4, low_options=options,
                                    detail_options=options)
    assert images.shape == (3, 16, 16) and [x.shape[1:] for x in lows] == [(4, 4), (8, 8), (16, 16)]
    again, _ = ascent_synthesis(low_model, details, 3, (16, 16), seed=4, low_options=options, detail_options=options)
    other, _ = ascent_synthesis(low_model, details, 3, (16, 16), seed=5, low_options=options, detail_options=options)
    np.testing.assert_array_equal(images, again)
    assert not np.allclose(images, other)


@pytest.mark.bad_input
def test_models_that_do_not_fit_the_scales_are_refused():
    low_model = wrap_denoiser(DenoiserConfig(kind="bfcnn", channels=4, depth=2), (4, 4))
    fine = wrap_denoiser(DenoiserConfig(kind="bfcnn", channels=4, depth=2, bands=3, condition_bands=1), (8, 8))
    coarse = wrap_denoiser(DenoiserConfig(kind="bfcnn", channels=4, depth=2, bands=3, condition_bands=1), (4, 4))
    assert check_multiscale_models(low_model, [coarse, fine], (16, 16)) == [(4, 4), (8, 8)]
    with pytest.raises(ConfigError, match="detail model 0"):
        check_multiscale_models(low_model, [fine, coarse], (16, 16))
    with pytest.raises(ConfigError, match="low-pass model is for"):
        check_multiscale_models(low_model, [fine], (16, 16))
    with pytest.raises(ConfigError, match="levels"):
        check_multiscale_models(low_model, [coarse, fine], (10, 10))


def test_coarse_to_fine_denoising_passes_every_band_through_its_model():
    """With networks that predict no noise (zero weights: D = identity at every scale) the coarse-to-
    fine denoiser returns its input exactly; a low-pass model that zeroes its image zeroes the
    coarsest scale of the result and nothing else."""
    from lindiff.deep.multiscale import multiscale_denoise

    def model(shape, bands=1, condition_bands=0):
        m = wrap_denoiser(DenoiserConfig(kind="bfcnn", channels=4, depth=2, bands=bands, condition_bands=condition_bands),
                          shape).eval()
        for p in m.parameters():
            torch.nn.init.zeros_(p)
        return m

    details = [model((4, 4), 3, 1), model((8, 8), 3, 1)]
    Y = np.random.default_rng(0).standard_normal((5, 256))
    np.testing.assert_allclose(multiscale_denoise(model((4, 4)), details, Y, (16, 16)), Y, atol=1e-5)

    class Zero(torch.nn.Module):  # net(y) = y, so D(y) = y − y = 0
        def __init__(self):
            super().__init__()
            self.register_buffer("dtype_of", torch.zeros(1))

        def forward(self, x):
            return x

    low = model((4, 4))
    low.net = Zero()
    out = multiscale_denoise(low, details, Y, (16, 16)).reshape(5, 16, 16)
    coarse, fine = wavelet_decompose(out, 2)
    _, fine_in = wavelet_decompose(Y.reshape(5, 16, 16), 2)
    np.testing.assert_allclose(coarse, 0.0, atol=1e-5)
    for got, want in zip(fine, fine_in, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


# --------------------------------------------------------------------------- radial power spectrum


def test_radial_power_spectrum_of_white_noise_is_flat_and_keeps_the_energy():
    """White noise of variance v has power v at every frequency; the 2-D power sums to Σ x²
    (Parseval), checked on one image through the rings' counts."""
    from lindiff.studies.multiscale import radial_power_spectrum

    X = 0.3 * np.random.default_rng(0).standard_normal((400, 16 * 16))
    frequency, power = radial_power_spectrum(X, (16, 16))
    assert frequency.tolist() == [k / 16 for k in range(9)]
    np.testing.assert_allclose(power[1:], 0.09, rtol=0.08)
    one = X[:1]
    f = np.fft.fftfreq(16)
    rings = np.rint(16 * np.hypot(*np.meshgrid(f, f, indexing="ij"))).astype(int)
    counts = np.bincount(rings.ravel())[:9]
    corners = np.abs(np.fft.fft2(one.reshape(16, 16))) ** 2 / 256
    _, ring_power = radial_power_spectrum(one, (16, 16))
    assert (ring_power * counts).sum() + corners[rings > 8].sum() == pytest.approx(float((one**2).sum()))


def test_radial_power_spectrum_finds_a_plane_wave_at_its_frequency():
    """A cosine of 5 cycles per image along the rows puts its power in ring 5 only (ring 0 the mean)."""
    from lindiff.studies.multiscale import radial_power_spectrum

    rows = np.arange(32)[:, None] * np.ones((1, 32))
    image = 0.5 + 0.2 * np.cos(2 * np.pi * 5 * rows / 32)
    _, power = radial_power_spectrum(image.reshape(1, -1), (32, 32))
    assert np.argmax(power[1:]) + 1 == 5
    assert power[5] > 0 and np.allclose(np.delete(power, [0, 5]), 0.0, atol=1e-20)


def test_spectrum_error_db():
    from lindiff.studies.multiscale import spectrum_error_db

    reference = np.array([9.0, 1.0, 0.5, 0.25])
    assert spectrum_error_db(reference, reference) == 0.0
    assert spectrum_error_db(2 * reference, reference) == pytest.approx(10 * np.log10(2))
    assert spectrum_error_db(np.r_[100.0, reference[1:] / 2], reference) == pytest.approx(10 * np.log10(2))  # ring 0 ignored
    with pytest.raises(ConfigError, match="spectra of 3 and 4 rings"):
        spectrum_error_db(reference[:3], reference)


def test_total_variance():
    from lindiff.studies.multiscale import total_variance

    X = np.random.default_rng(0).uniform(size=(50, 16))
    assert total_variance(np.repeat(X[:1], 10, axis=0)) == pytest.approx(0.0, abs=1e-30)  # copies of one image
    assert total_variance(X) == pytest.approx(np.mean(np.var(X, axis=0)))
    assert total_variance(X.mean(axis=0) + 2 * (X - X.mean(axis=0))) == pytest.approx(4 * total_variance(X))
    with pytest.raises(ConfigError, match="two or more rows"):
        total_variance(X[:1])
