import numpy as np
import pytest
from scipy import stats

from lindiff.errors import ConfigError, DataError
from lindiff.linear.learn import Bases, learn_bases, learn_per_class, noisy_grams
from lindiff.linear.schedules import make_schedule


def _data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * np.linspace(3.0, 0.3, d) + 0.5


def test_bases_shapes_orthonormal_and_clean_level():
    X = _data(50, 8)
    sched = make_schedule("linear", 6, sigma_max=2.0)
    bases = learn_bases(X, sched, k=4, seed=1)
    assert bases.U.shape == (7, 8, 4) and bases.eigvals.shape == (7, 4)
    np.testing.assert_allclose(bases.sigma_bar, sched.sigma_bar)
    for t in range(7):
        np.testing.assert_allclose(bases.U[t].T @ bases.U[t], np.eye(4), atol=1e-10)
        assert np.all(np.diff(bases.eigvals[t]) <= 0)
    # level 0 is the clean PCA of X^T X / n (independent computation)
    vals, vecs = np.linalg.eigh(X.T @ X / 50)
    np.testing.assert_allclose(bases.eigvals[0], vals[::-1][:4], rtol=1e-10)
    np.testing.assert_allclose(np.abs(bases.U[0].T @ vecs[:, ::-1][:, :4]), np.eye(4), atol=1e-8)


def test_signs_aligned_step_to_step():
    bases = learn_bases(_data(40, 6), make_schedule("linear", 10, sigma_max=3.0), k=6, seed=3)
    cos = np.einsum("tdi,tdi->ti", bases.U[:-1], bases.U[1:])
    assert np.all(cos >= 0)


# n chosen so the exact sampler's walk (m = n noise directions, n - 1 centered) hits every branch:
# m - d >= d (Bartlett), 0 < m - d < d (explicit remainder), m <= d (the walk is X_t itself).
@pytest.mark.parametrize("n", [30, 14, 9, 4])
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("method", ["exact", "naive"])
def test_mean_identity(n, centered, method):
    """E[n Σ̂_t] = X_cᵀ X_c + n_noise σ̄_t² I, checked entrywise by a z-score."""
    d, reps = 6, 3000
    X = _data(n, d, seed=n)
    sched = make_schedule("linear", 3, sigma_max=1.5)
    draws = np.array(
        [list(noisy_grams(X, sched, method=method, centered=centered, seed=r)) for r in range(reps)]
    )
    Xc = X - X.mean(axis=0) if centered else X
    n_noise = n - 1 if centered else n
    expected = np.array([Xc.T @ Xc + n_noise * s**2 * np.eye(d) for s in sched.sigma_bar])
    mean = draws.mean(axis=0)
    stderr = draws.std(axis=0) / np.sqrt(reps)
    np.testing.assert_allclose(mean[0], expected[0], atol=1e-9)
    z = np.abs(mean[1:] - expected[1:]) / stderr[1:]
    assert z.max() < 5.0, z.max()


def _statistics(method, noise, seeds, n=40, d=8, T=5, k=3):
    X = _data(n, d, seed=11)
    sched = make_schedule("linear", T, sigma_max=4.0)
    sin, step_cos = [], []
    for seed in seeds:
        bases = learn_bases(X, sched, k=k, method=method, noise=noise, seed=seed)
        cos0 = np.einsum("di,tdi->ti", bases.U[0], bases.U)
        sin.append(np.sqrt(np.clip(1 - cos0**2, 0, 1)))
        step_cos.append(np.einsum("tdi,tdi->ti", bases.U[:-1], bases.U[1:]))
    return np.array(sin), np.array(step_cos)


def _min_pvalue(a, b):
    """Smallest two-sample KS p-value over all (t, index) marginals."""
    pvalues = [
        stats.ks_2samp(a[:, t, i], b[:, t, i]).pvalue
        for t in range(a.shape[1])
        for i in range(a.shape[2])
        if np.ptp(a[:, t, i]) > 0
    ]
    return min(pvalues), len(pvalues)


@pytest.mark.parametrize("noise", ["cumulative", "independent"])
def test_exact_and_naive_same_distribution(noise):
    reps = 400
    exact = _statistics("exact", noise, range(reps))
    naive = _statistics("naive", noise, range(10_000, 10_000 + reps))
    for a, b in zip(exact, naive):
        p_min, n_tests = _min_pvalue(a, b)
        # Bonferroni over the marginals at family level 1e-3
        assert p_min > 1e-3 / n_tests, p_min


def test_equivalence_test_detects_non_cumulative_noise():
    """The statistic used above separates cumulative from independent noise (it has power)."""
    reps = 400
    _, cumulative = _statistics("exact", "cumulative", range(reps))
    _, independent = _statistics("naive", "independent", range(10_000, 10_000 + reps))
    p_min, _ = _min_pvalue(cumulative, independent)
    assert p_min < 1e-6
    # consecutive bases are much more correlated along one sample path
    assert np.median(cumulative[:, 2:, 0]) > np.median(independent[:, 2:, 0])


def test_exact_cost_does_not_depend_on_n():
    """The exact sampler never touches n x d noise: n = 10**6 samples in seconds."""
    rng = np.random.default_rng(0)
    d, k = 16, 4
    basis = np.linalg.qr(rng.standard_normal((d, k)))[0]
    X = (rng.standard_normal((1_000_000, k)) * [4, 3, 2, 1]).astype(np.float64) @ basis.T
    bases = learn_bases(X, make_schedule("linear", 5, sigma_max=1.0), k=k, seed=0)
    assert bases.n_train == 1_000_000
    # with n this large the noisy top components barely move (sin θ ~ sigma sqrt(d/n))
    cos = np.abs(np.einsum("di,tdi->ti", bases.U[0], bases.U))
    assert cos.min() > 0.99


def test_truncate_and_rank_errors():
    bases = learn_bases(_data(30, 6), make_schedule("linear", 3, sigma_max=1.0), k=4)
    assert bases.truncate(2).U.shape == (4, 6, 2)
    with pytest.raises(ConfigError, match="rank=5 exceeds the number of stored components k=4"):
        bases.truncate(5)
    with pytest.raises(ConfigError, match="rank"):
        bases.truncate(0)
    with pytest.raises(ConfigError, match="d=6"):
        learn_bases(_data(30, 6), make_schedule("linear", 3), k=7)


def test_per_class_learning():
    X = _data(60, 5)
    labels = np.repeat([3, 7, 9], 20)
    by_class = learn_per_class(X, labels, make_schedule("linear", 4), k=2, seed=0)
    assert sorted(by_class) == [3, 7, 9]
    assert all(b.n_train == 20 and b.U.shape == (5, 5, 2) for b in by_class.values())
    np.testing.assert_allclose(
        by_class[7].eigvals[0], np.linalg.eigvalsh(X[20:40].T @ X[20:40] / 20)[::-1][:2]
    )


def test_centered_stores_mean():
    X = _data(30, 4)
    bases = learn_bases(X, make_schedule("linear", 2), k=2, centered=True)
    np.testing.assert_allclose(bases.mean, X.mean(axis=0))
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(bases.eigvals[0], np.linalg.eigvalsh(Xc.T @ Xc / 30)[::-1][:2])


@pytest.mark.parametrize(
    "X, kwargs, error, key",
    [
        (np.ones((1, 4)), {}, ConfigError, "n must be >= 2"),
        (np.full((5, 4), np.nan), {}, DataError, "NaN"),
        (np.ones(4), {}, DataError, "2-D"),
        (np.ones((5, 4)), {"method": "fast"}, ConfigError, "learn method"),
        (np.ones((5, 4)), {"noise": "pink"}, ConfigError, "noise mode"),
    ],
)
def test_bad_input(X, kwargs, error, key):
    with pytest.raises(error, match=key):
        learn_bases(X, make_schedule("linear", 2), k=1, **kwargs)


def test_bases_validate_shapes():
    with pytest.raises(DataError, match="eigvals"):
        Bases(U=np.zeros((3, 4, 2)), eigvals=np.zeros((3, 3)), sigma_bar=np.zeros(3), n_train=5)


@pytest.mark.parametrize("centered", [False, True])
def test_learn_from_gram_equals_learn_from_data(centered):
    from lindiff.linear.learn import learn_bases_from_gram

    X = _data(80, 7)
    sched = make_schedule("linear", 6, sigma_max=2.0)
    from_data = learn_bases(X, sched, k=3, centered=centered, seed=4)
    mean = X.mean(axis=0) if centered else None
    Xc = X - mean if centered else X
    from_gram = learn_bases_from_gram(Xc.T @ Xc, 80, sched, k=3, mean=mean, seed=4)
    np.testing.assert_allclose(from_gram.U, from_data.U, atol=1e-10)
    np.testing.assert_allclose(from_gram.eigvals, from_data.eigvals, rtol=1e-10)


def test_top_eigh_refuses_non_finite_input():
    from lindiff.errors import DataError
    from lindiff.linear.learn import top_eigh

    sym = np.eye(4)
    sym[2, 1] = np.inf
    with pytest.raises(DataError, match="NaN or infinite"):
        top_eigh(sym, 2)


def _mnist_like(n, d, seed=0):
    """Data with MNIST's scale: d = 784, a power-law spectrum, a non-zero mean."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
    scales = 2.0 * (1.0 + np.arange(d)) ** -0.75
    return 0.3 + (rng.standard_normal((n, d)) * scales) @ basis.T


def test_mixed_precision_eigh_matches_double_at_mnist_scale():
    """The single-precision reduction + double Rayleigh–Ritz agrees with dsyevr at d = 784."""
    from lindiff.linear.learn import top_eigh

    X = _mnist_like(3000, 784)
    sched = make_schedule("linear", 4, sigma_max=2.0)
    for gram in noisy_grams(X, sched, seed=0):
        vals_double, vecs_double = top_eigh(gram, 30, precision="double")
        vals_mixed, vecs_mixed = top_eigh(gram, 30, precision="mixed")
        np.testing.assert_allclose(vecs_mixed.T @ vecs_mixed, np.eye(30), atol=1e-12)
        np.testing.assert_allclose(vals_mixed, vals_double, rtol=1e-7)  # measured <= 2.3e-9
        cos = np.abs(np.einsum("di,di->i", vecs_mixed, vecs_double))
        assert np.sqrt(1 - cos**2).max() < 2e-4  # measured <= 5.2e-5 (eigengaps of 3 in 2e5)
        # the residual of a double-precision eigenpair, not of a single-precision one
        residual = gram @ vecs_mixed - vecs_mixed * vals_mixed
        assert np.linalg.norm(residual, axis=0).max() < 1e-4 * vals_double[0]


def test_learn_mixed_and_double_agree_on_the_same_noise_path():
    """At d = 784 the default (mixed) learn equals the double-precision one draw for draw."""
    X = _mnist_like(2000, 784, seed=1)
    sched = make_schedule("linear", 3, sigma_max=1.0)
    auto = learn_bases(X, sched, k=20, seed=5)
    double = learn_bases(X, sched, k=20, seed=5, precision="double")
    np.testing.assert_allclose(auto.eigvals, double.eigvals, rtol=1e-9)
    cos = np.einsum("tdi,tdi->ti", auto.U, double.U)
    assert cos.min() > 1 - 1e-8  # same signs, same vectors
    # the small-d default is double precision itself: bit-identical
    small = _data(60, 8)
    np.testing.assert_array_equal(
        learn_bases(small, sched, k=3, seed=2).U, learn_bases(small, sched, k=3, seed=2, precision="double").U
    )


def test_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="precision 'half'"):
        learn_bases(_data(30, 6), make_schedule("linear", 2), k=2, precision="half")
