import numpy as np
import pytest

from lindiff.data import load_digits, make_spiked
from lindiff.linear import analysis, theory
from lindiff.linear.generate import run_chain, transitions
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import from_sigma_bar, make_schedule

D, N, LAMBDAS = 200, 2000, [5.0, 3.0, 2.0]


@pytest.fixture(scope="module")
def spiked():
    # the data seed must not coincide with the learn seeds below: with equal seeds the first
    # noise columns would reproduce the Gaussian that generated the spikes
    return make_spiked(D, N, LAMBDAS, seed=2024).dataset.X


def test_sin_theta_zero_at_clean_level_and_bounded(spiked):
    bases = learn_bases(spiked, make_schedule("linear", 10, sigma_max=4.0), k=3, seed=0)
    sin = analysis.sin_theta(bases)
    assert sin.shape == (11, 3)
    np.testing.assert_allclose(sin[0], 0.0, atol=1e-7)
    assert np.all((sin >= 0) & (sin <= 1))
    table = analysis.sin_theta_table(bases)
    assert len(table) == 33
    assert set(table.columns) >= {"t", "sigma_bar", "index", "sin_theta", "sin_theta_eq12", "sin_theta_asymptotic"}


def test_small_noise_slope_matches_eq12(spiked):
    """Spiked model: the fitted small-noise slope is sqrt(d/n)/λ_i within 10% (Eq. 12)."""
    sched = from_sigma_bar("small", np.concatenate([[0.0], np.linspace(0.02, 0.4, 12)]))
    ratios = [
        analysis.small_noise_slopes(learn_bases(spiked, sched, k=3, seed=seed), max_sin=0.1)["ratio"]
        for seed in range(6)
    ]
    mean_ratio = np.mean(ratios, axis=0)
    np.testing.assert_allclose(mean_ratio, 1.0, atol=0.10)


def test_large_noise_matches_asymptotic_formula(spiked):
    """At σ̄ up to 4 the measured mean sin θ follows the full asymptotic formula within 5%
    (away from the phase transition, where finite-size fluctuations dominate: predicted
    <= 0.6), while Eq. 12 is off by more than that."""
    sigma_bar = np.concatenate([[0.0], np.linspace(0.5, 4.0, 8)])
    sched = from_sigma_bar("grid", sigma_bar)
    runs = [analysis.sin_theta(learn_bases(spiked, sched, k=3, seed=seed)) for seed in range(16)]
    measured = np.mean(runs, axis=0)[1:]
    clean = learn_bases(spiked, sched, k=3, seed=0).eigvals[0]
    predicted = theory.asymptotic_sin_theta(sigma_bar, clean, D, N)[1:]
    ok = predicted <= 0.6
    assert ok.sum() >= 16
    np.testing.assert_allclose(measured[ok], predicted[ok], rtol=0.05)
    eq12 = theory.small_noise_sin_theta(sigma_bar, clean, D, N)[1:]
    assert np.max(np.abs(eq12[ok] / measured[ok] - 1)) > 0.10


def test_theory_limits():
    eigvals = np.array([25.0, 4.0])
    cos2 = theory.asymptotic_cos2_theta([0.0, 1e-3, 100.0], eigvals, 200, 2000)
    np.testing.assert_allclose(cos2[0], 1.0)
    np.testing.assert_allclose(cos2[1], 1.0, atol=1e-6)
    np.testing.assert_allclose(cos2[2], 0.0)  # lost in the noise
    # for large SNR the asymptotic formula reduces to Eq. 12
    small = theory.asymptotic_sin_theta([0.01], eigvals, 200, 2000)
    np.testing.assert_allclose(small, theory.small_noise_sin_theta([0.01], eigvals, 200, 2000), rtol=1e-3)
    cos = theory.predicted_step_cosines(np.array([0.0, 1.0, 2.0, 50.0]), eigvals, 200, 2000)
    assert cos.shape == (3, 2) and np.all((cos >= 0) & (cos <= 1))
    assert cos[2, 0] == 0.0  # component lost between σ̄=2 and σ̄=50


def test_partial_products_and_full_chain_operator():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8)) * np.linspace(3, 0.5, 8)
    bases = learn_bases(X, make_schedule("linear", 5, sigma_max=2.0), k=4, seed=0)
    pairs = analysis.basis_correlations(bases, 3, taus=[0, 4])
    step, product = pairs[4]
    steps = transitions(bases, 3)
    np.testing.assert_allclose(step, steps[4])
    np.testing.assert_allclose(product, steps[0] @ steps[1] @ steps[2] @ steps[3] @ steps[4], atol=1e-12)
    # Eq. 18: P_0 ⋯ P_T = U_0 (Π U_tᵀU_{t+1}) U_Tᵀ
    U = bases.U[:, :, :3]
    chain = np.eye(8)
    for t in range(bases.T + 1):
        chain = chain @ U[t] @ U[t].T
    np.testing.assert_allclose(U[0] @ product @ U[-1].T, chain, atol=1e-12)
    with pytest.raises(ValueError, match="tau"):
        analysis.basis_correlations(bases, 3, taus=[5])


def test_pc_distribution_known_answers():
    basis = np.eye(4)[:, :3]
    samples = np.array([[2.0, 0, 0, 0], [0, -3.0, 0, 0], [1.0, 1.0, 0, 0]])
    profile = analysis.pc_distribution(samples, basis)
    np.testing.assert_allclose(profile["c_mean"], [(1 + 0 + 2**-0.5) / 3, (0 + 1 + 2**-0.5) / 3, 0.0])
    assert analysis.distribution_distance(profile, profile) == 0.0


def test_power_iteration_converges_to_leading_vector():
    cov = np.diag([4.0, 2.0, 1.0])
    x = analysis.power_iteration(cov, np.ones((2, 3)), 30)
    np.testing.assert_allclose(np.abs(x[:, 0]), 1.0, atol=1e-8)
    assert theory.power_iteration_rate([4.0, 2.0, 1.0]) == 0.5


def test_contraction_ratio():
    cos = np.array([[0.9, 0.45], [0.8, 0.4]])
    assert analysis.contraction_ratio(cos) == pytest.approx(0.5)


def test_deterministic_chain_concentrates_on_u0_as_T_grows():
    """Digits, linear schedule: the energy of generated samples on u_0 grows with T (Thm 4.3)."""
    X = load_digits().X
    energies = {}
    for T in (10, 50):
        bases = learn_bases(X, make_schedule("linear", T, sigma_max=10.0), k=20, seed=0)
        out = run_chain(bases, 2000, rank=20, seed=1)
        comparison = analysis.power_iteration_comparison(bases, 20, out.initial_noise, out.samples)
        energies[T] = comparison["chain_energy_u0"]
        assert comparison["power_energy_u0"] > 0.99  # power iteration has converged by T=10
        assert 0 < comparison["power_rate"] < 1
    assert energies[50] > energies[10] + 0.1, energies
