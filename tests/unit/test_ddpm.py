"""Noise-conditional DDPM denoisers (issue 14): the model and its x₀-estimate, DDPM training,
sampling through lindiff.diffusion.samplers in the model's units, Jacobians at each point's level,
the Fig. 7 point selection, and the deep-study config checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lindiff.deep.config import DATA_CENTER, DATA_SCALE, DenoiserConfig, TrainConfig, preset_config
from lindiff.deep.jacobian import jacobian, path_jacobian_analysis
from lindiff.deep.models import ConditionalDenoiser, FixedLevel, wrap_denoiser
from lindiff.deep.sample import sample_ascent, sample_diffusion
from lindiff.deep.train import load_model, save_model, train_denoiser
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.diffusion.samplers import Sampler
from lindiff.diffusion.schedules import noise_levels, vplinear_sigma
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import sweep as lds
from lindiff.studies.fig7 import analysis_points

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

TINY = TrainConfig(model=DenoiserConfig(kind="ddpm", channels=8, depth=2, blocks=1), epochs=4, batch_size=32,
                   lr=3e-3, val_sigmas=(0.2,), max_val=64, ema_decay=0.9)


@pytest.fixture(scope="module")
def trained(digits):
    return train_denoiser(digits.X[:400], digits.image_shape, TINY, seed=0, device="cpu", progress=False)


def test_a_tiny_ddpm_model_trains_and_lowers_its_loss(trained):
    history = trained.history
    assert isinstance(trained.model, ConditionalDenoiser) and trained.model.conditional
    assert history[-1]["loss"] < 0.7 * history[0]["loss"]  # ε-MSE, 1 = predicting zero
    assert history[-1]["psnr_0.2"] > history[0]["psnr_0.2"]


def test_training_is_deterministic_and_resumes_to_the_same_weights(digits, tmp_path):
    X = digits.X[:200]
    cfg = TrainConfig(**{**TINY.__dict__, "epochs": 2})
    full = train_denoiser(X, digits.image_shape, cfg, seed=3, progress=False)
    first = train_denoiser(X, digits.image_shape, TrainConfig(**{**cfg.__dict__, "epochs": 2}), seed=3,
                           checkpoint_dir=tmp_path, progress=False)
    resumed = train_denoiser(X, digits.image_shape, cfg, seed=3, checkpoint_dir=tmp_path, progress=False)
    assert resumed.resumed_from == 2
    for a, b in zip(full.model.state_dict().values(), first.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_the_saved_model_is_the_ema_and_reloads_identically(trained, tmp_path, digits):
    path = save_model(tmp_path / "model.pt", trained.model)
    loaded = load_model(path)
    assert isinstance(loaded, ConditionalDenoiser)
    Y = digits.X[:5] + 0.3 * np.random.default_rng(0).standard_normal((5, 64))
    np.testing.assert_array_equal(loaded.denoise(Y, 0.3), trained.model.denoise(Y, 0.3))
    with pytest.raises(ConfigError, match="sigma"):
        loaded.denoise(Y, None)


class _LinearEps(torch.nn.Module):
    """ε̂(x_t, σ) = A x_t (an affine-free linear 'network')."""

    def __init__(self, A):
        super().__init__()
        self.register_buffer("A", torch.as_tensor(A))

    def forward(self, x, sigma):
        return (x.reshape(len(x), -1) @ self.A.T).reshape(x.shape)


def test_the_jacobian_of_d_is_the_linear_map_of_a_linear_model():
    rng = np.random.default_rng(0)
    d = 16
    A = 0.1 * rng.standard_normal((d, d))
    model = ConditionalDenoiser(_LinearEps(A), (4, 4))
    sigma = 0.3
    sigma_s = DATA_SCALE * sigma
    # D(y) = c + (y_s − σ_s A sqrt(ᾱ) y_s)/s with y_s = s(y − c): J = I − σ_s sqrt(ᾱ) A
    expected = np.eye(d) - sigma_s / np.sqrt(1 + sigma_s**2) * A
    y = rng.random(d)
    for method in ("jacrev", "jacfwd", "loop"):
        np.testing.assert_allclose(jacobian(FixedLevel(model, sigma), y, method), expected, atol=1e-12)
    path = np.stack([rng.random(d), y])  # two points, their own levels
    result = path_jacobian_analysis(model, path, K=4, sigma=np.array([1.0, sigma]))
    np.testing.assert_allclose(np.sort(result.eigvals[0, 1])[::-1],
                               np.linalg.eigvalsh(0.5 * (expected + expected.T))[::-1], atol=1e-10)
    with pytest.raises(ConfigError, match="sigma"):
        path_jacobian_analysis(model, path, K=4)


class _GaussianModel:
    """The exact posterior mean of N(μ, C) data as a ConditionalDenoiser (data units)."""

    conditional = True

    def __init__(self, X):
        self.filter, self.d = fit_wiener(X), X.shape[1]

    def denoise(self, Y, sigma):
        return self.filter.denoise(Y, sigma)


@pytest.mark.parametrize("sampler", [Sampler("ddpm"), Sampler("ddim", eta=0.0), Sampler("ddim", eta=1.0)])
def test_ddpm_and_ddim_with_the_exact_gaussian_denoiser_reproduce_the_data_covariance(sampler):
    """An independent check of the unit conversions (data <-> the model's [−1, 1]) and of the
    samplers: Gaussian data, its exact denoiser, 20000 samples; the covariance of the samples is the
    data's within Monte Carlo error (the samplers' own discretization error, ~6% for DDIM at
    T = 200, is below 1% at T = 1000)."""
    rng = np.random.default_rng(1)
    d = 6
    basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
    scales = np.array([0.3, 0.2, 0.12, 0.08, 0.05, 0.03])
    X = 0.5 + (rng.standard_normal((200000, d)) * scales) @ basis.T
    model = _GaussianModel(X)
    out = sample_diffusion(model, noise_levels("vplinear", 1000), sampler, 20000, seed=2, clip_denoised=False)
    cov_true = np.cov(X.T, bias=True)
    cov = np.cov(out.samples.T)
    # per-entry standard error of a sample covariance: sqrt((C_ii C_jj + C_ij²)/n)
    stderr = np.sqrt((np.outer(np.diag(cov_true), np.diag(cov_true)) + cov_true**2) / 20000)
    assert np.max(np.abs(cov - cov_true) / stderr) < 5
    np.testing.assert_allclose(out.samples.mean(axis=0), X.mean(axis=0), atol=5 * scales.max() / np.sqrt(20000))


def test_sample_diffusion_records_the_final_part_in_data_units(trained):
    schedule = noise_levels("vplinear", 40)
    out = sample_diffusion(trained.model, schedule, Sampler("ddpm"), 3, seed=0, record_sigma=0.5)
    expected_steps = int(np.sum(schedule.sigma_bar[1:] / DATA_SCALE <= 0.5))
    assert out.path.shape == (expected_steps + 1, 3, 64)
    assert out.sigma[0, 0] <= 0.5 and out.sigma[-1, 0] == 0.0
    np.testing.assert_allclose(out.sigma[:, 0], schedule.sigma_bar[expected_steps::-1] / DATA_SCALE)
    again = sample_diffusion(trained.model, schedule, Sampler("ddpm"), 3, seed=0, record=0)
    np.testing.assert_array_equal(again.samples, out.samples)  # recording changes no number
    with pytest.raises(ConfigError, match="noise-conditional"):
        sample_diffusion(lambda Y: Y, schedule, Sampler("ddpm"), 3)


def test_the_ascent_records_only_its_last_steps(digits):
    def shrink(Y):
        return 0.5 + 0.9 * (Y - 0.5)

    full = sample_ascent(shrink, 2, 64, sigma_final=0.05, seed=0)
    last = sample_ascent(shrink, 2, 64, sigma_final=0.05, seed=0, record=3)
    np.testing.assert_array_equal(last.path, full.path[-4:])
    np.testing.assert_array_equal(last.sigma, full.sigma[-4:])


def test_training_levels_follow_the_continuous_vplinear_schedule():
    t = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(vplinear_sigma(t), np.sqrt(np.expm1(0.1 * t + 0.5 * 19.9 * t**2)))
    np.testing.assert_allclose(noise_levels("vplinear", 2).sigma_bar, vplinear_sigma(t))
    with pytest.raises(ConfigError, match="unknown parameter"):
        vplinear_sigma(t, beta=3)


def test_analysis_points_are_log_spaced_from_the_final_iteration():
    sigma = np.concatenate([np.geomspace(2.0, 0.01, 200), [0.0]])  # a recorded path, last = the sample
    chosen = analysis_points(sigma, 10, 1.0)
    assert chosen[-1] == 199  # the final iteration (sigma > 0) is the reference
    assert sigma[chosen].max() <= 1.0 + 1e-12 and len(chosen) == 10
    ratios = sigma[chosen][:-1] / sigma[chosen][1:]
    np.testing.assert_allclose(ratios, ratios.mean(), rtol=0.1)
    with pytest.raises(ConfigError, match="n_points"):
        analysis_points(sigma, 1, 1.0)


def test_presets_and_data_units():
    assert preset_config("mnist", {"preset": "mnist_ddpm"}).model.kind == "ddpm"
    assert (DATA_CENTER, DATA_SCALE) == (0.5, 2.0)
    model = wrap_denoiser(DenoiserConfig(kind="ddpm", channels=8, depth=3), (28, 28))
    with torch.no_grad():
        out = model(torch.rand(2, 784), torch.tensor([0.1, 2.0]))
    assert out.shape == (2, 784)
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)


# --------------------------------------------------------------------------- the deep study's config


def test_the_default_sweep_samples_each_model_with_its_samplers():
    cfg = ldc.load([], check_data=False)
    points = lds.points(cfg, "deep_sample")
    runs = {(p.size, p.sampler, p.schedule, p.T) for p in points}
    assert runs == {("ddpmquick", "ddpm", "vplinear", 100)}
    assert points[0].at("deep").id.startswith("digits/all/n1297_s0/deep_")
    both = ldc.load(["sweep.deep.size=[quick,ddpmquick]", "sweep.deep.sampler=[ascent,ddpm,ddim]"], check_data=False)
    runs = {(p.size, p.sampler, p.schedule, p.T) for p in lds.points(both, "deep_sample")}
    assert runs == {("quick", "ascent", "adaptive", 400), ("ddpmquick", "ddpm", "vplinear", 100),
                    ("ddpmquick", "ddim", "vplinear", 100)}


@pytest.mark.parametrize("overrides, message", [
    (["sweep.deep.sampler=[euler]"], r"sweep\.deep\.sampler: unknown sampler 'euler'"),
    (["sweep.deep.sampler=[ascent]"], r"noise-conditional size 'ddpmquick' needs a diffusion sampler"),
    (["sweep.deep.size=[quick,ddpmquick]", "sweep.deep.sampler=[ddim]"], r"blind size 'quick' is sampled with 'ascent'"),
    (["sweep.deep.sampler=[ascent,chain]"], r"sweep\.deep\.sampler=chain: the chain"),
    (["sweep.deep.schedule=[designed]"], r"sweep\.deep\.schedule=designed: designed schedules"),
    (["sweep.deep.schedule=[warp]"], r"sweep\.deep\.schedule: unknown sampler schedule 'warp'"),
    (["sweep.deep.T=[0]"], r"sweep\.deep\.T=0: must be >= 1"),
    (["+deep.sizes.ddpmquick.model={kind: transformer}"], r"deep\.sizes\.ddpmquick: kind='transformer'"),
    (["+deep.sizes.ddpmquick.ema_decay=2"], r"deep\.sizes\.ddpmquick: ema_decay must be < 1"),
    (["deep.sizes.ddpmquick.preset=cifar"], r"deep\.sizes\.ddpmquick: .*cifar"),
    (["+deep.sizes.ddpmquick.model={channel_mult: [1, 2, 4]}"],
     r"deep\.sizes\.ddpmquick: channel_mult must be a list of 2 integers"),
    (["+deep.sizes.unswept={preset: digits_ddpm, min_snr_gamma: -1}"],  # every variant is checked, swept or not
     r"deep\.sizes\.unswept: min_snr_gamma must be >= 0"),
    (["deep.jacobian.sigma_max=2"], r"deep\.jacobian\.sigma_max=2\.0 exceeds deep\.record_sigma"),
    (["deep.jacobian.n_points=1"], r"deep\.jacobian\.n_points=1: must be >= 2"),
    (["deep.jacobian.method=magic"], r"deep\.jacobian\.method"),
    (["deep.quality.n_samples=400"], r"sweep\.deep\.n=1297 plus 800 held-out samples"),
    (["deep.paths=300"], r"deep\.paths=300 exceeds deep\.quality\.n_samples=250"),
    (["deep.quality.linear.schedule=spectral"], r"deep\.quality\.linear\.schedule='spectral'"),
])
def test_bad_deep_config_fails_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ldc.load(overrides)


@pytest.mark.parametrize("kind", ["unet", "ddpm"])
def test_channel_mult_sets_the_width_of_each_scale(kind, tmp_path):
    """``channel_mult`` widens the scales of both UNet kinds; the default doubles per scale and is
    left out of ``to_dict`` (configs and model files written before the field existed stay equal)."""
    default = DenoiserConfig(kind=kind, channels=8, depth=3, blocks=1)
    wide = DenoiserConfig(kind=kind, channels=8, depth=3, blocks=1, channel_mult=[1, 3, 6])
    assert default.widths == [8, 16, 32] and wide.widths == [8, 24, 48]
    assert "channel_mult" not in default.to_dict() and wide.to_dict()["channel_mult"] == [1, 3, 6]
    assert DenoiserConfig.from_dict(wide.to_dict()) == wide
    model = wrap_denoiser(wide, (28, 28))
    conv_widths = sorted({m.out_channels for m in model.net.modules() if isinstance(m, torch.nn.Conv2d)})
    assert conv_widths == [1, 8, 24, 48]
    save_model(tmp_path / "wide.pt", model)
    assert load_model(tmp_path / "wide.pt").config == wide
    cfg = TrainConfig(model=wide)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    for bad, message in [([1, 2], "list of 3 integers"), ("124", "list of 3 integers"),
                         ([1, 0, 2], r"channel_mult\[1\]"), ([1, 2.5, 3], r"channel_mult\[1\]")]:
        with pytest.raises(ConfigError, match=message):
            DenoiserConfig(kind=kind, channels=8, depth=3, channel_mult=bad)
    with pytest.raises(ConfigError, match="channel_mult applies to the UNet kinds"):
        DenoiserConfig(kind="bfcnn", channel_mult=[1] * 8)


def test_attention_block_adds_one_head_at_the_coarsest_scale_and_jacobian_methods_agree():
    """``attention`` adds one self-attention block (group norm, a qkv and an output 1×1 conv) at the
    coarsest scale, and the three Jacobian methods (forward AD, reverse AD, the per-pixel loop)
    agree on the attention model (its softmax and matmuls support forward-mode AD)."""
    from lindiff.deep.models import count_parameters

    torch.manual_seed(0)
    plain = DenoiserConfig(kind="ddpm", channels=8, depth=2, blocks=1)
    cfg = DenoiserConfig(**{**plain.__dict__, "attention": True})
    assert cfg.to_dict()["attention"] is True and "attention" not in plain.to_dict()
    assert DenoiserConfig.from_dict(cfg.to_dict()) == cfg
    c = cfg.widths[-1]
    added = count_parameters(wrap_denoiser(cfg, (8, 8))) - count_parameters(wrap_denoiser(plain, (8, 8)))
    assert added == 2 * c + (3 * c * c + 3 * c) + (c * c + c)
    y = torch.rand(64, dtype=torch.float64).numpy()
    model = wrap_denoiser(cfg, (8, 8)).double().eval()
    jacobians = [jacobian(FixedLevel(model, 0.3), y, method) for method in ("jacfwd", "jacrev", "loop")]
    for J in jacobians[1:]:
        np.testing.assert_allclose(J, jacobians[0], atol=1e-10)
    for bad, message in [({"attention": "yes"}, "attention must be a bool"),
                         ({"kind": "unet", "attention": True}, "attention applies to kind='ddpm' only")]:
        with pytest.raises(ConfigError, match=message):
            DenoiserConfig(**{**plain.__dict__, **bad})


def test_the_default_chunked_jacobian_equals_all_columns_at_once():
    """The batched methods push the basis through in chunks of DEFAULT_CHUNK_SIZE columns by default
    (faster on CPU): on a class-conditional DDPM UNet with d = 144 > DEFAULT_CHUNK_SIZE (three
    chunks, the last one partial) the Jacobian is the one of all d columns at once, and the loop's."""
    from lindiff.deep.jacobian import DEFAULT_CHUNK_SIZE, jacobian_loop

    torch.manual_seed(0)
    model = wrap_denoiser(DenoiserConfig(kind="ddpm", channels=8, depth=2, blocks=1, classes=3), (12, 12)).eval()
    f = FixedLevel(model, 0.3, 1, 1.5)
    y = torch.rand(144).numpy()
    assert 2 * DEFAULT_CHUNK_SIZE < 144 < 3 * DEFAULT_CHUNK_SIZE
    reference = jacobian_loop(f, y)
    for method in ("jacrev", "jacfwd"):
        chunked, whole = jacobian(f, y, method), jacobian(f, y, method, chunk_size=None)
        np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-6 * np.abs(whole).max(), err_msg=method)
        np.testing.assert_allclose(chunked, reference, rtol=0, atol=1e-5 * np.abs(reference).max(), err_msg=method)


def test_min_snr_weighting_matches_its_expectation():
    """With a net that predicts ε̂ = 0 the per-pixel error is ε², so the Min-SNR-γ loss is, in
    expectation, the mean of ``min(1, γ σ(t)²)`` over the training times t ~ U[t_min, 1]
    (computed here by quadrature); the unweighted loss is 1."""
    from lindiff.deep.train import _ddpm_loss

    class ZeroNet(torch.nn.Module):
        def forward(self, x, sigma):
            return torch.zeros_like(x)

    x = torch.rand(8192, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    for gamma in (0.0, 0.5, 5.0):
        cfg = TrainConfig(**{**TINY.__dict__, "min_snr_gamma": gamma})
        loss = float(_ddpm_loss(ZeroNet(), x, cfg, torch.Generator().manual_seed(1)))
        t = np.linspace(cfg.vp_t_min, 1.0, 200001)
        expected = 1.0 if gamma == 0 else float(np.mean(np.minimum(1.0, gamma * vplinear_sigma(t) ** 2)))
        assert loss == pytest.approx(expected, abs=0.02), gamma
    assert expected < 0.95  # γ = 5 lowers the weight of the clean end measurably
    with pytest.raises(ConfigError, match="min_snr_gamma must be >= 0"):
        TrainConfig(**{**TINY.__dict__, "min_snr_gamma": -1.0})
    assert "min_snr_gamma" not in TINY.to_dict()  # the default leaves the config's dict (and digest) unchanged


def test_blind_min_snr_weighting_matches_its_expectation():
    """A blind residual net that predicts 0 has per-pixel error ``σ²z²``; weighted by ``min(1,
    1/(γσ²))`` its expectation is the mean of ``min(σ², 1/γ)`` over the training levels (σ uniform
    in sqrt-space), computed here by quadrature: the weight caps the small levels' share at the
    large ones', it does not touch the levels below ``1/√γ``."""
    from lindiff.deep.train import _blind_loss

    class ZeroNet(torch.nn.Module):
        def forward(self, x):
            return torch.zeros_like(x)

    blind = DenoiserConfig(kind="unet", channels=8, depth=2)
    x = torch.rand(8192, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    root = np.linspace(0.0, 1.0, 200001)  # √σ on [√σ_min, √σ_max] = [0, 1]
    for gamma in (0.0, 4.0, 100.0):
        cfg = TrainConfig(model=blind, min_snr_gamma=gamma)
        loss = float(_blind_loss(ZeroNet(), x, cfg, torch.Generator().manual_seed(1)))
        variance = root**4
        expected = float(np.mean(variance if gamma == 0 else np.minimum(variance, 1.0 / gamma)))
        assert loss == pytest.approx(expected, rel=0.03), gamma
    assert expected < 0.01  # γ = 100 caps every level above σ = 0.1 at 0.01: far below the unweighted mean σ², 0.2


def test_ema_warmup_forgets_the_initial_weights(digits):
    """Without the warm-up a slow average of a short run is mostly the random initial weights; with
    it the average follows the trained weights (lindiff.deep.config.TrainConfig.ema_warmup)."""
    from lindiff.deep.train import ema_decay_at

    cfg = TrainConfig(**{**TINY.__dict__, "epochs": 1, "ema_decay": 0.999})
    assert [ema_decay_at(cfg, k) for k in (1, 10, 10**5)] == [2 / 11, 11 / 20, 0.999]
    assert ema_decay_at(TrainConfig(**{**cfg.__dict__, "ema_warmup": False}), 1) == 0.999
    X = digits.X[:320]
    torch.manual_seed(0)
    initial = torch.nn.utils.parameters_to_vector(wrap_denoiser(cfg.model, digits.image_shape).parameters()).detach()

    def distance_to_initial(ema_warmup):
        run_cfg = TrainConfig(**{**cfg.__dict__, "ema_warmup": ema_warmup})
        result = train_denoiser(X, digits.image_shape, run_cfg, seed=0, progress=False)
        return float(torch.linalg.vector_norm(torch.nn.utils.parameters_to_vector(result.model.parameters()).detach() - initial))

    cold, warm = distance_to_initial(False), distance_to_initial(True)
    assert warm > 5 * cold  # 9 steps at decay 0.999 move the cold average by about 1% of the way
    with pytest.raises(ConfigError, match="ema_warmup"):
        TrainConfig(ema_warmup=1)


def test_bf16_mixed_precision_trains_like_float32(trained, digits):
    """precision="bf16-mixed" runs the steps under bfloat16 autocast: the weights stay float32 but
    differ from the float32 run's (autocast is really on), and the loss falls about as far."""
    cfg = TrainConfig(**{**TINY.__dict__, "precision": "bf16-mixed"})
    mixed = train_denoiser(digits.X[:400], digits.image_shape, cfg, seed=0, device="cpu", progress=False)
    weights = dict(mixed.model.named_parameters())
    assert all(p.dtype == torch.float32 for p in weights.values())
    reference = dict(trained.model.named_parameters())
    assert max(float((weights[k] - reference[k]).detach().abs().max()) for k in weights) > 1e-4
    first, last = mixed.history[0]["loss"], mixed.history[-1]["loss"]
    assert last < 0.7 * first
    assert abs(last - trained.history[-1]["loss"]) < 0.15 * trained.history[-1]["loss"]
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision="16")
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision=16)
    assert TrainConfig(precision=32).precision == "32"  # as YAML and the command line give it


def test_analysis_points_are_distinct_where_the_path_is_sparse_in_log_sigma():
    """A vplinear DDIM path (T = 100) records 40 points below σ = 2 but few of them near σ = 0, so
    nearest-point matching alone merges targets; every target still gets its own point."""
    sigma = np.concatenate([np.sort(noise_levels("vplinear", 100).sigma_bar)[::-1], [0.0]])
    recorded = sigma[sigma <= 2.0]
    chosen = analysis_points(recorded, 30, 2.0)
    assert len(chosen) == 30 and len(set(chosen)) == 30
    assert chosen[-1] == np.flatnonzero(recorded > 0)[-1]  # the reference: the last point with sigma > 0
    assert recorded[chosen].max() <= 2.0
    assert len(analysis_points(recorded, 100, 2.0)) == np.count_nonzero(recorded > 0)  # all of them, no more
