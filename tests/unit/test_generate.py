import numpy as np
import pytest

from lindiff.errors import ConfigError
from lindiff.linear.generate import injection_std, run_chain, run_chain_per_class, transitions
from lindiff.linear.learn import learn_bases, learn_per_class
from lindiff.linear.schedules import make_schedule


@pytest.fixture(scope="module")
def bases():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 10)) * np.linspace(3.0, 0.2, 10)
    return learn_bases(X, make_schedule("linear", 8, sigma_max=3.0), k=5, seed=2)


def _projections(bases, rank):
    return [U[:, :rank] @ U[:, :rank].T for U in bases.U]


def test_deterministic_chain_equals_product_of_projections(bases):
    out = run_chain(bases, 7, rank=4, seed=5)
    P = _projections(bases, 4)
    expected = out.initial_noise.T
    for t in range(bases.T, -1, -1):
        expected = P[t] @ expected
    np.testing.assert_allclose(out.samples, expected.T, atol=1e-10)


def test_trajectory_records_every_state(bases):
    out = run_chain(bases, 6, rank=3, seed=1, n_trajectory=2)
    assert out.trajectory.shape == (bases.T + 1, 2, bases.d)
    np.testing.assert_allclose(out.trajectory[0], out.samples[:2])
    P = _projections(bases, 3)
    np.testing.assert_allclose(out.trajectory[bases.T], out.initial_noise[:2] @ P[bases.T])
    np.testing.assert_allclose(out.trajectory[3], out.trajectory[4] @ P[3], atol=1e-10)


def test_noise_injected_chain_covariance_matches_eq25(bases):
    """Monte Carlo covariance against Σ_t (P_0⋯P_t) e_t² (P_0⋯P_t)ᵀ computed with d×d matrices."""
    rank, reps = 3, 40_000
    noise_std = np.linspace(0.5, 1.5, bases.T)
    out = run_chain(bases, reps, rank=rank, noise_std=noise_std, initial_std=2.0, seed=3)
    P = _projections(bases, rank)
    expected = np.zeros((bases.d, bases.d))
    prefix = np.eye(bases.d)
    for t in range(bases.T + 1):
        prefix = prefix @ P[t]
        var = 2.0**2 if t == bases.T else noise_std[t] ** 2
        expected += var * prefix @ prefix.T
    measured = out.samples.T @ out.samples / reps
    assert np.abs(measured - expected).max() < 0.03 * np.abs(expected).max()


def test_centered_chain_adds_mean_back():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 6)) + 5.0
    bases = learn_bases(X, make_schedule("linear", 4, sigma_max=2.0), k=3, centered=True)
    out = run_chain(bases, 20, rank=3, seed=0, n_trajectory=2)
    residual = out.samples - bases.mean
    U0 = bases.U[0]
    np.testing.assert_allclose(residual, residual @ U0 @ U0.T, atol=1e-10)
    np.testing.assert_allclose(out.trajectory[0], out.samples[:2])


def test_transitions_shape_and_values(bases):
    steps = transitions(bases, 3)
    assert steps.shape == (bases.T, 3, 3)
    np.testing.assert_allclose(steps[2], bases.U[2][:, :3].T @ bases.U[3][:, :3])


def test_injection_std_kinds():
    sched = make_schedule("linear", 4, sigma_max=2.0)
    np.testing.assert_allclose(injection_std(sched.sigma, "increment"), sched.sigma[1:])
    np.testing.assert_allclose(injection_std(sched.sigma, "constant"), np.full(4, 1.0))
    np.testing.assert_allclose(injection_std(sched.sigma, "none"), 0.0)
    with pytest.raises(ConfigError, match="injection"):
        injection_std(sched.sigma, "brownian")


def test_per_class_generation():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    labels = np.repeat([0, 1], 20)
    by_class = learn_per_class(X, labels, make_schedule("linear", 3), k=2)
    samples, out_labels = run_chain_per_class(by_class, 4, seed=0, rank=2)
    assert samples.shape == (8, 5)
    np.testing.assert_array_equal(out_labels, [0, 0, 0, 0, 1, 1, 1, 1])
    U0 = by_class[1].U[0]
    np.testing.assert_allclose(samples[4:], samples[4:] @ U0 @ U0.T, atol=1e-10)


def test_same_seed_same_samples_and_different_seed_differs(bases):
    a = run_chain(bases, 5, seed=4).samples
    np.testing.assert_array_equal(a, run_chain(bases, 5, seed=4).samples)
    assert not np.allclose(a, run_chain(bases, 5, seed=5).samples)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"rank": 6}, "rank=6 exceeds"),
        ({"n_samples": 0}, "n_samples"),
        ({"noise_std": np.ones(3)}, "noise_std"),
        ({"initial_std": -1.0}, "initial_std"),
        ({"n_trajectory": 99}, "n_trajectory"),
    ],
)
def test_bad_arguments(bases, kwargs, key):
    args = {"n_samples": 5, **kwargs}
    with pytest.raises(ConfigError, match=key):
        run_chain(bases, **args)
