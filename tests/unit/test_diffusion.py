"""lindiff.diffusion: schedules, denoisers, samplers, the closed-form transfer function, design.

The closed form is checked three ways (issue 15): against a Monte Carlo of the real samplers,
against the probability-flow ODE's continuous-time solution as T grows, and DDPM with T → ∞
reproducing the data's variances."""

import numpy as np
import pytest

from lindiff.diffusion import schedules as sched
from lindiff.diffusion.denoisers import EmpiricalDenoiser, ProjectionDenoiser, WienerDenoiser, fit_wiener
from lindiff.diffusion.design import design_levels, spectrum_distance
from lindiff.diffusion.samplers import Sampler, sample, step_coefficients
from lindiff.diffusion.transfer import transfer_function
from lindiff.errors import ConfigError
from lindiff.linear.generate import injection_std, run_chain
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule

LAMBDAS = np.array([4.0, 2.0, 1.0, 0.5, 0.1, 0.01])
D = len(LAMBDAS)
N_MC = 200_000  # Monte Carlo samples: the std of a variance estimate is sqrt(2/N) = 0.32%

SAMPLERS = [Sampler("ddpm"), Sampler("ddim"), Sampler("ddim", eta=0.5), Sampler("ddim", eta=1.0),
            Sampler("ode"), Sampler("ode", solver="heun"), Sampler("ve_chain")]


@pytest.fixture(scope="module")
def gaussian():
    """A rotated Gaussian N(μ, Q diag(λ) Qᵀ) and its exact Wiener denoiser."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    mean = rng.standard_normal(D)
    denoiser = WienerDenoiser(mean=mean, eigvals=LAMBDAS[::-1].copy(), eigvecs=Q[:, ::-1].copy())
    return Q, mean, denoiser


def _chain_noise(sigma_bar):
    return np.sqrt(np.diff(sigma_bar**2))  # the chain's increment injection (e_t = σ_{t+1})


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize("name", sched.SAMPLER_SCHEDULES)
@pytest.mark.parametrize("T", [1, 5, 1000])
def test_noise_levels_are_increasing_from_zero(name, T):
    sigma_bar = sched.noise_levels(name, T).sigma_bar
    assert sigma_bar.shape == (T + 1,) and sigma_bar[0] == 0
    assert np.all(np.diff(sigma_bar) > 0)


def test_vplinear_is_the_continuous_linear_beta_schedule():
    """ᾱ(t) = exp(−β_min t − ½(β_max − β_min) t²), and ≈ Ho et al.'s discrete schedule at T = 1000."""
    sigma_bar = sched.noise_levels("vplinear", 1000).sigma_bar
    t = np.arange(1001) / 1000
    np.testing.assert_allclose(sched.alpha_bar(sigma_bar), np.exp(-0.1 * t - 0.5 * 19.9 * t**2), rtol=1e-12)
    # log ᾱ_t = −Σ_{s≤t} β_s to first order in β (the discrete product differs by Σ β²/2 ≤ 0.07)
    beta = np.linspace(1e-4, 0.02, 1000)
    np.testing.assert_allclose(np.log(sched.alpha_bar(sigma_bar))[1:], -np.cumsum(beta), rtol=0.01, atol=1e-3)


def test_vpcosine_and_karras_by_their_formulas():
    T, s = 10, 0.008
    abar = sched.alpha_bar(sched.noise_levels("vpcosine", T).sigma_bar)
    f = np.cos(0.5 * np.pi * (np.arange(T + 1) / T + s) / (1 + s)) ** 2
    np.testing.assert_allclose(abar[:T], (f / f[0])[:T], rtol=1e-12)
    assert abar[T] == pytest.approx(abar[T - 1] * 0.001)  # the last β clipped at 0.999
    karras = sched.noise_levels("karras", T, sigma_min=0.01, sigma_max=50.0, rho=3.0).sigma_bar
    assert karras[1] == pytest.approx(0.01) and karras[-1] == pytest.approx(50.0)
    np.testing.assert_allclose(np.diff(karras[1:] ** (1 / 3)), np.diff(karras[1:] ** (1 / 3))[0])


@pytest.mark.parametrize("call, key", [
    (lambda: sched.noise_levels("warp", 5), "unknown sampler schedule"),
    (lambda: sched.noise_levels("karras", 0), "T must be"),
    (lambda: sched.noise_levels("karras", 5, rho=-1), "rho"),
    (lambda: sched.noise_levels("karras", 5, sigma_min=5, sigma_max=1), "sigma_max must be > sigma_min"),
    (lambda: sched.noise_levels("vplinear", 5, beta_min=2, beta_max=1), "beta_max"),
    (lambda: sched.noise_levels("vplinear", 5, gamma=1), "unknown parameter"),
    (lambda: sched.noise_levels("vpcosine", 5, max_beta=1.5), "max_beta"),
])
def test_bad_schedules_fail_naming_the_key(call, key):
    with pytest.raises(ConfigError, match=key):
        call()


# --------------------------------------------------------------------------- denoisers


def test_wiener_is_the_gaussian_posterior_mean(gaussian):
    Q, mean, denoiser = gaussian
    cov = (Q * LAMBDAS) @ Q.T
    Y = np.random.default_rng(1).standard_normal((5, D))
    expected = mean + (Y - mean) @ np.linalg.solve(cov + 0.7**2 * np.eye(D), cov)  # C (C + σ²I)⁻¹, symmetric
    np.testing.assert_allclose(denoiser(Y, 0.7), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(denoiser.spectrum, LAMBDAS)


def test_fit_wiener_recovers_the_moments():
    X = np.random.default_rng(2).standard_normal((4000, 3)) * [3.0, 1.0, 0.5] + [1.0, 2.0, 3.0]
    filt = fit_wiener(X)
    np.testing.assert_allclose(filt.mean, X.mean(0))
    np.testing.assert_allclose(filt.spectrum, np.linalg.eigvalsh(np.cov(X.T, bias=True))[::-1], rtol=1e-10)


def test_empirical_denoiser_against_a_direct_computation():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((50, 4)), rng.standard_normal((7, 4))
    sigma = 0.8
    expected = []
    for y in Y:
        logw = -np.sum((y - X) ** 2, axis=1) / (2 * sigma**2)
        w = np.exp(logw - logw.max())
        expected.append(w @ X / w.sum())
    for chunk in (1, 3, 256):  # chunking changes nothing
        np.testing.assert_allclose(EmpiricalDenoiser(X, chunk=chunk)(Y, sigma), expected, rtol=1e-12, atol=1e-12)
    nearest = X[np.argmin(((Y[:, None] - X[None]) ** 2).sum(-1), axis=1)]
    np.testing.assert_array_equal(EmpiricalDenoiser(X)(Y, 0.0), nearest)
    np.testing.assert_allclose(EmpiricalDenoiser(X)(Y, 1e-3), nearest, atol=1e-8)  # memorizes
    np.testing.assert_allclose(EmpiricalDenoiser(X)(Y, 1e6), np.broadcast_to(X.mean(0), Y.shape), atol=1e-6)


def test_projection_denoiser_exists_only_at_its_levels():
    X = np.random.default_rng(4).standard_normal((200, 8))
    schedule = make_schedule("linear", 4, sigma_max=1.0)
    bases = learn_bases(X, schedule, k=3, seed=0)
    proj = ProjectionDenoiser(bases, rank=2)
    Y = np.random.default_rng(5).standard_normal((3, 8))
    U = bases.U[2, :, :2]
    np.testing.assert_allclose(proj(Y, schedule.sigma_bar[2]), Y @ U @ U.T)
    with pytest.raises(ConfigError, match="no basis at sigma=0.3"):
        proj(Y, 0.3)
    with pytest.raises(ConfigError, match="rank=4 exceeds the number of stored components k=3"):
        ProjectionDenoiser(bases, rank=4)


# --------------------------------------------------------------------------- samplers


def test_ve_chain_with_the_projection_is_the_papers_chain():
    """Draw for draw, the generic chain with P_t equals run_chain(noise_space="pixel")."""
    X = np.random.default_rng(6).standard_normal((300, 10)) * np.linspace(3, 0.2, 10)
    schedule = make_schedule("linear", 6, sigma_max=2.0)
    bases = learn_bases(X, schedule, k=4, seed=0)
    noise = injection_std(schedule.sigma, "increment")
    reference = run_chain(bases, 20, rank=3, noise_std=noise, seed=7, noise_space="pixel").samples
    generic = sample(ProjectionDenoiser(bases, rank=3), schedule, Sampler("ve_chain"), 20, 10, seed=7,
                     noise_std=noise).samples
    np.testing.assert_allclose(generic, reference, rtol=1e-10, atol=1e-12)


def test_ode_euler_is_ddim_with_eta_zero(gaussian):
    _, _, denoiser = gaussian
    sigma_bar = sched.noise_levels("karras", 12).sigma_bar
    euler = sample(denoiser, sigma_bar, Sampler("ode"), 50, D, seed=1).samples
    ddim = sample(denoiser, sigma_bar, Sampler("ddim", eta=0.0), 50, D, seed=1).samples
    np.testing.assert_allclose(euler, ddim, rtol=1e-12, atol=1e-12)
    heun = sample(denoiser, sigma_bar, Sampler("ode", solver="heun"), 50, D, seed=1).samples
    assert np.abs(heun - euler).max() > 1e-3  # Heun is a different integrator


def test_ddim_eta_one_is_ddpm_with_the_posterior_variance():
    sigma_bar = sched.noise_levels("vplinear", 20).sigma_bar
    k_ddpm, n_ddpm = step_coefficients(Sampler("ddpm"), sigma_bar)
    k_post, n_post = step_coefficients(Sampler("ddim", eta=1.0), sigma_bar)
    np.testing.assert_allclose(k_post, k_ddpm, rtol=1e-12)  # the same posterior mean (Eq. 6)
    abar = sched.alpha_bar(sigma_bar)
    beta = 1 - abar[1:] / abar[:-1]
    beta_tilde = beta * (1 - abar[:-1]) / (1 - abar[1:])
    np.testing.assert_allclose(n_post**2, beta_tilde / abar[:-1], rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(n_ddpm[1:] ** 2, (beta / abar[:-1])[1:], rtol=1e-10)
    assert n_ddpm[0] == 0  # z_1 = 0


def test_recorded_path_and_stop(gaussian):
    _, _, denoiser = gaussian
    sigma_bar = sched.noise_levels("vpcosine", 8).sigma_bar
    whole = sample(denoiser, sigma_bar, Sampler("ddpm"), 4, D, seed=2, record=None)
    assert whole.path.shape == (9, 4, D) and whole.sigma[0, 0] == sigma_bar[-1] and whole.sigma[-1, 0] == 0
    last = sample(denoiser, sigma_bar, Sampler("ddpm"), 4, D, seed=2, record=3)
    np.testing.assert_array_equal(last.path, whole.path[-4:])
    final = sample(denoiser, sigma_bar, Sampler("ddpm"), 4, D, seed=2)
    np.testing.assert_array_equal(final.samples, whole.samples)
    early = sample(denoiser, sigma_bar, Sampler("ddpm"), 4, D, seed=2, stop=2, record=None)
    np.testing.assert_array_equal(early.path, whole.path[:7])


@pytest.mark.parametrize("call, key", [
    (lambda: Sampler("euler"), "unknown sampler 'euler'"),
    (lambda: Sampler("ddim", eta=1.5), "eta must be in"),
    (lambda: Sampler("ddim", eta=-0.1), "eta must be in"),
    (lambda: Sampler("ode", solver="rk4"), "unknown ode solver"),
    (lambda: sample(lambda Y, s: Y, [0.0, 2.0, 1.0], Sampler("ddpm"), 2, 3), "strictly increasing"),
    (lambda: sample(lambda Y, s: Y, [0.0, -1.0], Sampler("ddpm"), 2, 3), "strictly increasing"),
    (lambda: sample(lambda Y, s: Y, [0.0], Sampler("ddpm"), 2, 3), "at least 2 entries"),
    (lambda: sample(lambda Y, s: Y, [0.0, 1.0], Sampler("ddpm"), 2, 3, noise_std=[1.0]), "ve_chain"),
    (lambda: sample(lambda Y, s: Y, [0.0, 1.0], Sampler("ve_chain"), 2, 3, noise_std=[1.0, 2.0]), "noise_std"),
    (lambda: sample(lambda Y, s: Y, [0.0, 1.0], Sampler("ddpm"), 0, 3), "n must be"),
    (lambda: sample(lambda Y, s: Y, [0.0, 1.0], Sampler("ddpm"), 2, 3, stop=1), "stop must be"),
])
def test_bad_sampler_input_fails_naming_the_key(call, key):
    with pytest.raises(ConfigError, match=key):
        call()


# --------------------------------------------------------------------------- the closed form


@pytest.mark.parametrize("schedule, T", [("vplinear", 5), ("vpcosine", 25), ("karras", 10)])
@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: s.label)
def test_closed_form_matches_the_real_samplers(gaussian, schedule, T, sampler):
    """Generated variance and mean within 2% (variance, every component) of N_MC = 2·10⁵ samples."""
    Q, mean, denoiser = gaussian
    sigma_bar = sched.noise_levels(schedule, T).sigma_bar
    kwargs = {"noise_std": _chain_noise(sigma_bar)} if sampler.name == "ve_chain" else {}
    closed = transfer_function(sampler, sigma_bar, LAMBDAS, **kwargs)
    samples = sample(denoiser, sigma_bar, sampler, N_MC, D, seed=11, **kwargs).samples
    coords = (samples - mean) @ Q
    np.testing.assert_allclose(coords.var(axis=0), closed.variance, rtol=0.02)
    mean_coords = Q.T @ mean
    expected_mean = -closed.mean_gain * mean_coords
    assert np.all(np.abs(coords.mean(axis=0) - expected_mean) <= 4 * np.sqrt(closed.variance / N_MC) + 1e-12)


def test_deterministic_gain_is_the_map_from_the_initial_noise(gaussian):
    """H_i: the generated coordinate is exactly H_i times the start's (no injected noise)."""
    Q, mean, denoiser = gaussian
    sigma_bar = sched.noise_levels("karras", 7).sigma_bar
    for sampler in (Sampler("ddim"), Sampler("ode", solver="heun")):
        xi = np.random.default_rng(3).standard_normal((5, D))
        start = xi / np.sqrt(sched.alpha_bar(sigma_bar)[-1])
        out = sample(denoiser, sigma_bar, sampler, 5, D, start=start).samples
        closed = transfer_function(sampler, sigma_bar, LAMBDAS)
        np.testing.assert_allclose((out - mean) @ Q + closed.mean_gain * (Q.T @ mean), closed.gain * (xi @ Q),
                                   rtol=1e-9, atol=1e-12)


def test_probability_flow_ode_converges_to_its_continuous_solution():
    """VP: x_i(0) = sqrt((1 + (λ_i − 1) ᾱ_0) / (1 + (λ_i − 1) ᾱ_T)) · x_i(T), ᾱ_0 = 1."""
    errors = {"euler": [], "heun": []}
    for T in (10, 100, 1000, 10_000):
        sigma_bar = sched.noise_levels("vplinear", T).sigma_bar
        abar_T = sched.alpha_bar(sigma_bar)[-1]
        exact = np.sqrt(LAMBDAS / (1 + (LAMBDAS - 1) * abar_T))
        for solver in errors:
            gain = transfer_function(Sampler("ode", solver=solver), sigma_bar, LAMBDAS).gain
            errors[solver].append(np.abs(gain / exact - 1).max())
    for solver, errs in errors.items():
        assert all(b < a / 5 for a, b in zip(errs, errs[1:])), (solver, errs)  # at least first order
    assert errors["euler"][-1] < 3e-3 and errors["heun"][-1] < 1e-3
    assert all(h < e for h, e in zip(errors["heun"], errors["euler"]))


def test_ddpm_reproduces_the_data_variance_as_T_grows():
    worst = []
    for T in (10, 100, 1000, 10_000):
        ratio = transfer_function(Sampler("ddpm"), sched.noise_levels("vplinear", T).sigma_bar, LAMBDAS).ratio
        worst.append(np.abs(ratio - 1).max())
    assert all(b < a for a, b in zip(worst, worst[1:])) and worst[-1] < 2e-3, worst


def test_torch_and_numpy_closed_forms_agree():
    torch = pytest.importorskip("torch")
    sigma_bar = sched.noise_levels("vpcosine", 9).sigma_bar
    for sampler in SAMPLERS:
        kwargs = {"noise_std": _chain_noise(sigma_bar)} if sampler.name == "ve_chain" else {}
        ref = transfer_function(sampler, sigma_bar, LAMBDAS, **kwargs)
        out = transfer_function(sampler, torch.tensor(sigma_bar), LAMBDAS, **kwargs)
        for name in ("gain", "variance", "mean_gain"):
            np.testing.assert_allclose(getattr(out, name).numpy(), getattr(ref, name), rtol=1e-12, err_msg=name)


def test_closed_form_bad_eigvals():
    with pytest.raises(ConfigError, match="eigvals"):
        transfer_function(Sampler("ddpm"), [0.0, 1.0], [1.0, -2.0])


# --------------------------------------------------------------------------- design


@pytest.mark.parametrize("sampler", [Sampler("ddpm"), Sampler("ddim")], ids=lambda s: s.label)
def test_designed_schedule_beats_the_hand_schedules(sampler):
    eigvals = np.geomspace(0.7, 1e-3, 20)
    mean_coords = np.linspace(1.0, 0.0, 20)
    for T in (5, 10):
        design = design_levels(eigvals, T, sampler, mean_coords=mean_coords, steps=200)
        sigma_bar = design.schedule.sigma_bar
        assert np.all(np.diff(sigma_bar) > 0) and 0.002 < sigma_bar[1] and sigma_bar[-1] < 80
        hand = []
        for name in sched.SAMPLER_SCHEDULES:
            closed = transfer_function(sampler, sched.noise_levels(name, T).sigma_bar, eigvals)
            hand.append(spectrum_distance(closed.variance, eigvals, mean_error=closed.mean_gain * mean_coords))
        closed = transfer_function(sampler, sigma_bar, eigvals)
        ours = spectrum_distance(closed.variance, eigvals, mean_error=closed.mean_gain * mean_coords)
        assert ours == pytest.approx(design.loss_final)
        assert ours < 0.8 * min(hand), (T, ours, hand)
    again = design_levels(eigvals, 10, sampler, mean_coords=mean_coords, steps=200)
    np.testing.assert_array_equal(again.schedule.sigma_bar, design.schedule.sigma_bar)  # deterministic


@pytest.mark.parametrize("kwargs, key", [
    ({"objective": "tv"}, "unknown design objective"),
    ({"bounds": (5.0, 1.0)}, "bounds"),
    ({"steps": 0}, "steps"),
    ({"init": "warp"}, "unknown sampler schedule"),
])
def test_bad_design_input(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        design_levels(np.ones(3), 5, Sampler("ddpm"), **kwargs)


def test_the_diagonal_wiener_is_the_wiener_in_its_eigenbasis(gaussian):
    Q, mean, denoiser = gaussian
    Y = np.random.default_rng(8).standard_normal((4, D))
    diagonal = denoiser.in_eigenbasis()
    np.testing.assert_allclose(diagonal(Y @ Q, 0.6), denoiser(Y, 0.6) @ Q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(diagonal(Y @ Q, 0.0), Y @ Q)
