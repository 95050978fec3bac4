"""The local analytic denoisers (LS, ELS, locality), their calibration and the theory-vs-network harness."""

import numpy as np
import pytest
from scipy.special import softmax

from lindiff.diffusion.denoisers import EmpiricalDenoiser, WienerDenoiser, fit_wiener
from lindiff.diffusion.local import (
    ClassConditional,
    EquivariantLocalDenoiser,
    LocalDenoiser,
    LocalityDenoiser,
    PatchSizes,
    StreamingSoftmaxMean,
    box_sums,
    calibrate_patch_sizes,
    whole_image_patch,
)
from lindiff.diffusion.samplers import Sampler, sample
from lindiff.errors import ConfigError
from lindiff.studies.theory import (
    THEORY_DENOISERS,
    bootstrap_median,
    build_denoiser,
    calibration_levels,
    class_denoisers,
    clipped,
    conditioned,
    final_agreement,
    heldout_mse,
    in_model_units,
    path_agreement,
    pixel_pearson,
    pixel_r2,
    sample_in_units,
    shared_seed_samples,
)

SHAPE = (4, 5)
SIGMAS = [0.0, 0.05, 0.3, 2.0]


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X = rng.random((30, 20))
    Y = X[:5] + 0.3 * rng.standard_normal((5, 20))
    return X, Y


def _brute_els(X, Y, shape, size, sigma):
    """ELS by loops: every pixel of every row against every patch of every training image."""
    half = size // 2
    pad = lambda image: np.pad(image.reshape(shape), half)  # noqa: E731
    h, w = shape
    out = np.empty_like(Y)
    for i, y in enumerate(Y):
        py = pad(y)
        for r in range(h):
            for c in range(w):
                query = py[r : r + size, c : c + size]
                dist, centre = [], []
                for x in X:
                    px = pad(x)
                    for rr in range(h):
                        for cc in range(w):
                            dist.append(np.sum((query - px[rr : rr + size, cc : cc + size]) ** 2))
                            centre.append(x.reshape(shape)[rr, cc])
                dist, centre = np.array(dist), np.array(centre)
                out[i, r * w + c] = centre[np.argmin(dist)] if sigma == 0 else softmax(-dist / (2 * sigma**2)) @ centre
    return out


# ------------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("sigma", SIGMAS)
def test_local_with_whole_image_patch_is_the_empirical_denoiser(toy, sigma):
    X, Y = toy
    local = LocalDenoiser(X, SHAPE, whole_image_patch(SHAPE), chunk=7)
    np.testing.assert_allclose(local(Y, sigma), EmpiricalDenoiser(X)(Y, sigma), rtol=0, atol=1e-12)


@pytest.mark.parametrize("sigma", SIGMAS[1:])
def test_locality_with_full_masks_is_the_empirical_denoiser(toy, sigma):
    X, Y = toy
    locality = LocalityDenoiser(X, threshold=1e-9, chunk=4)
    assert locality.patch_sizes(sigma).min() == X.shape[1]  # every mask is the whole image
    np.testing.assert_allclose(locality(Y, sigma), EmpiricalDenoiser(X)(Y, sigma), rtol=0, atol=1e-12)


def test_locality_masks_shrink_to_the_pixel_as_noise_vanishes(toy):
    X, _ = toy
    locality = LocalityDenoiser(X, threshold=0.05)
    sizes = [locality.patch_sizes(s).mean() for s in (0.0, 0.05, 0.3, 2.0)]
    assert sizes[0] == 1 and sizes == sorted(sizes) and sizes[-1] > 5  # wider with the noise


@pytest.mark.parametrize("size", [1, 3, 9])
@pytest.mark.parametrize("sigma", [0.0, 0.2, 1.0])
def test_equivariant_matches_a_loop_over_every_patch(sigma, size):
    rng = np.random.default_rng(3)
    shape = (3, 4)
    image = rng.random((2, 12)).round(1)
    X = np.vstack([image, image[:1], np.zeros((1, 12))])  # equal patches: merged, with their counts as weights
    Y = X[:2] + 0.3 * rng.standard_normal((2, 12))
    els = EquivariantLocalDenoiser(X, shape, size, chunk=5)
    np.testing.assert_allclose(els(Y, sigma), _brute_els(X, Y, shape, size, sigma), rtol=0, atol=1e-12)
    assert len(els.pool(size).patches) <= X.size // 2 + 1


@pytest.mark.parametrize("sigma", SIGMAS)
def test_a_single_training_image_is_returned(toy, sigma):
    X, Y = toy
    one = X[:1]
    np.testing.assert_allclose(LocalDenoiser(one, SHAPE, 3)(Y, sigma), np.repeat(one, len(Y), axis=0), atol=1e-15)
    np.testing.assert_allclose(LocalityDenoiser(one)(Y, sigma), np.repeat(one, len(Y), axis=0), atol=1e-15)
    # ELS mixes the image's own patches: it returns the image where the noise leaves it nearest
    if sigma <= 0.05:
        noisy = one + sigma * np.random.default_rng(1).standard_normal(one.shape) * 0.1
        np.testing.assert_allclose(EquivariantLocalDenoiser(one, SHAPE, 3)(noisy, sigma), one, atol=1e-6)


def test_local_at_zero_noise_takes_each_pixel_from_the_nearest_patch(toy):
    X, Y = toy
    half = 1
    sq = (Y[:, None, :] - X[None]) ** 2
    dist = box_sums(sq.reshape(len(Y), len(X), *SHAPE), half).reshape(len(Y), len(X), -1)
    expected = X[np.argmin(dist, axis=1), np.arange(X.shape[1])]
    np.testing.assert_array_equal(LocalDenoiser(X, SHAPE, 3)(Y, 0.0), expected)


def test_box_sums_against_explicit_windows():
    rng = np.random.default_rng(2)
    images = rng.random((2, 5, 7))
    half = 2
    padded = np.pad(images, ((0, 0), (half, half), (half, half)))
    expected = np.array([[[padded[k, r : r + 5, c : c + 5].sum() for c in range(7)] for r in range(5)] for k in range(2)])
    np.testing.assert_allclose(box_sums(images, half), expected, atol=1e-13)


# ------------------------------------------------------------------------------- streaming softmax


@pytest.mark.parametrize("chunk", [1, 3, 17, 100])
def test_streaming_softmax_is_chunk_invariant(chunk):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((6, 100)) * 300.0  # far beyond exp's range: needs the running max
    values = rng.standard_normal(100)
    expected = softmax(logits, axis=1) @ values
    acc = StreamingSoftmaxMean()
    for start in range(0, 100, chunk):
        acc.add(logits[:, start : start + chunk].copy(), values[start : start + chunk])
    np.testing.assert_allclose(acc.mean(), expected, rtol=0, atol=1e-12)
    hard = StreamingSoftmaxMean(hard=True)
    for start in range(0, 100, chunk):
        hard.add(logits[:, start : start + chunk].copy(), values[start : start + chunk])
    np.testing.assert_array_equal(hard.mean(), values[np.argmax(logits, axis=1)])


def test_streaming_is_not_a_per_chunk_normalisation():
    """Averaging per-chunk softmaxes (one published implementation) is not the posterior."""
    logits = np.array([[0.0, 0.0, 5.0, 5.0]])
    values = np.array([1.0, 1.0, 0.0, 0.0])
    acc = StreamingSoftmaxMean()
    acc.add(logits[:, :2].copy(), values[:2])
    acc.add(logits[:, 2:].copy(), values[2:])
    per_chunk = np.mean([softmax(logits[:, :2], axis=1) @ values[:2], softmax(logits[:, 2:], axis=1) @ values[2:]])
    assert acc.mean()[0] == pytest.approx(softmax(logits, axis=1)[0] @ values, abs=1e-15)
    assert abs(per_chunk - acc.mean()[0]) > 0.4


@pytest.mark.parametrize("sigma", [0.0, 0.05, 0.3])
def test_denoisers_are_chunk_invariant(toy, sigma):
    X, Y = toy
    pairs = [
        (LocalDenoiser(X, SHAPE, 3, chunk=1), LocalDenoiser(X, SHAPE, 3, chunk=30)),
        (LocalityDenoiser(X, chunk=1), LocalityDenoiser(X, chunk=30)),
        (EquivariantLocalDenoiser(X, SHAPE, 3, chunk=1), EquivariantLocalDenoiser(X, SHAPE, 3, chunk=10_000)),
    ]
    for small, large in pairs:
        np.testing.assert_allclose(small(Y, sigma), large(Y, sigma), rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------- limits


def _gaussian_field(h=6, w=6, length=0.8):
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    pos = np.stack([rows.ravel(), cols.ravel()], axis=1)
    cov = np.exp(-((pos[:, None, :] - pos[None]) ** 2).sum(-1) / (2 * length**2))
    eigvals, eigvecs = np.linalg.eigh(cov)
    return cov, eigvecs * np.sqrt(np.clip(eigvals, 0, None)), WienerDenoiser(np.zeros(h * w), np.clip(eigvals, 0, None), eigvecs)


def test_local_approaches_the_wiener_filter_on_a_stationary_gaussian_field():
    cov, root, wiener = _gaussian_field()
    rng = np.random.default_rng(1)
    clean = rng.standard_normal((40, 36)) @ root.T
    sigma = 0.7
    Y = clean + sigma * rng.standard_normal(clean.shape)
    target = wiener(Y, sigma)
    gaps = []
    for n in (100, 1000, 10_000):
        pool = rng.standard_normal((n, 36)) @ root.T
        gaps.append(np.mean((LocalDenoiser(pool, (6, 6), 3, chunk=256)(Y, sigma) - target) ** 2))
    wiener_error = np.mean((target - clean) ** 2)
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.1 * gaps[0] and gaps[2] < 0.05 * wiener_error  # measured: 0.12, 0.03, 0.009 vs 0.27


def test_a_subsampled_pool_converges_to_the_full_pool(toy):
    X, Y = toy
    full = EquivariantLocalDenoiser(X, SHAPE, 3)(Y, 0.3)
    errors = [np.abs(EquivariantLocalDenoiser(X, SHAPE, 3, pool_size=m, seed=1)(Y, 0.3) - full).mean() for m in (30, 150, 500)]
    assert errors[0] > errors[1] > errors[2] > 0
    np.testing.assert_allclose(EquivariantLocalDenoiser(X, SHAPE, 3, pool_size=X.size)(Y, 0.3), full, atol=1e-12)


def test_class_conditional_routes_each_row_to_its_class(toy):
    X, Y = toy
    labels = np.arange(len(X)) % 2
    per_class = {c: LocalDenoiser(X[labels == c], SHAPE, 3) for c in (0, 1)}
    rows = np.array([1, 0, 0, 1, 1])
    out = ClassConditional(per_class, rows)(Y, 0.3)
    for c in (0, 1):
        np.testing.assert_array_equal(out[rows == c], per_class[c](Y[rows == c], 0.3))
    with pytest.raises(ConfigError, match=r"no denoiser for \[2\]"):
        ClassConditional(per_class, [0, 2])


# ------------------------------------------------------------------------------- calibration


def test_calibration_picks_single_pixels_for_independent_pixels():
    rng = np.random.default_rng(0)
    train, held_out = ((rng.random((n, 36)) < 0.5).astype(float) for n in (200, 60))
    calibration = calibrate_patch_sizes(lambda s: LocalDenoiser(train, (6, 6), s), held_out, [0.3, 0.6], [1, 3, 5])
    assert calibration.patch_sizes.size.tolist() == [1, 1]
    assert calibration.mse.shape == (2, 3) and calibration.reference == "clean"


def test_calibration_picks_the_whole_image_for_the_training_distribution():
    rng = np.random.default_rng(0)
    train = rng.random((12, 16))
    held_out = np.repeat(train, 10, axis=0)  # the training distribution: its posterior mean is the empirical one
    whole = whole_image_patch((4, 4))
    calibration = calibrate_patch_sizes(lambda s: LocalDenoiser(train, (4, 4), s), held_out, [0.2, 0.5], [1, 3, whole])
    assert calibration.patch_sizes.size.tolist() == [whole, whole]


def test_calibration_against_a_target_recovers_its_patch_size(toy):
    X, _ = toy
    target = LocalDenoiser(X, SHAPE, 5)
    calibration = calibrate_patch_sizes(lambda s: LocalDenoiser(X, SHAPE, s), X[:10], [0.1, 0.4], [1, 3, 5, 7], target=target)
    assert calibration.patch_sizes.size.tolist() == [5, 5]
    assert calibration.mse[:, 2].max() == 0.0 and calibration.reference == "target"


def test_patch_sizes_pick_the_nearest_level_and_round_trip():
    sizes = PatchSizes(np.array([0.1, 1.0, 10.0]), np.array([1, 3, 7]))
    assert [sizes(s) for s in (0.0, 0.2, 0.5, 3.0, 50.0)] == [1, 1, 3, 3, 7]
    again = PatchSizes.from_dict(sizes.to_dict())
    assert again.sigma.tolist() == [0.1, 1.0, 10.0] and again.size.tolist() == [1, 3, 7]
    local = LocalDenoiser(np.eye(4), (2, 2), sizes)
    assert local.patch_size(0.1) == 1 and local.patch_size(10.0) == 7


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda X: LocalDenoiser(X, SHAPE, 4), "patch_size must be odd"),
        (lambda X: LocalDenoiser(X, SHAPE, 0), "patch_size must be an integer >= 1"),
        (lambda X: LocalDenoiser(X, SHAPE, "3"), "patch_size must be an integer"),
        (lambda X: LocalDenoiser(X, (4, 4), 3), "image_shape"),
        (lambda X: EquivariantLocalDenoiser(X, SHAPE, 3, pool_size=0), "pool_size must be an integer >= 1"),
        (lambda X: LocalityDenoiser(X, threshold=0.0), "threshold must be a number in"),
        (lambda X: LocalityDenoiser(X, temperature=-1), "temperature must be a positive"),
        (lambda X: PatchSizes(np.array([1.0, 0.5]), np.array([1, 3])), "patch_sizes.sigma must be positive and increasing"),
        (lambda X: PatchSizes(np.array([0.5, 1.0]), np.array([1, 2])), "patch_sizes.size must be odd"),
        (lambda X: calibrate_patch_sizes(lambda s: None, X, [0.1], [3, 3]), "sizes must be distinct"),
    ],
)
def test_bad_parameters_fail_naming_the_key(toy, make, match):
    X, _ = toy
    with pytest.raises(ConfigError, match=match):
        make(X)


# ------------------------------------------------------------------------------- the harness


def test_r2_of_a_denoiser_against_itself_is_one_and_against_an_independent_one_is_not():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 400, 64))
    np.testing.assert_allclose(pixel_r2(a, a), 1.0)
    np.testing.assert_allclose(pixel_pearson(a, a), 1.0)
    assert abs(np.median(pixel_pearson(a, b))) < 0.03
    assert np.median(pixel_r2(a, b)) == pytest.approx(-1.0, abs=0.1)  # 1 − (var a + var b) / var b
    assert np.median(pixel_r2(np.repeat(b.mean(axis=1, keepdims=True), 64, axis=1), b)) == pytest.approx(0.0)


def test_bootstrap_interval_brackets_the_median():
    values = np.random.default_rng(0).normal(0.8, 0.1, size=200)
    median, low, high = bootstrap_median(values, resamples=500)
    assert low < median < high and high - low < 0.06


def test_harness_on_shared_seeds(toy):
    X, _ = toy
    sigma_bar = np.geomspace(0.05, 3.0, 8)
    sigma_bar = np.concatenate([[0.0], sigma_bar])
    empirical, wiener = EmpiricalDenoiser(X), fit_wiener(X)
    local = LocalDenoiser(X, SHAPE, 3)
    ddpm = Sampler("ddpm")
    paths = shared_seed_samples(
        {"net": empirical, "again": EmpiricalDenoiser(X, chunk=3), "local": local, "wiener": wiener},
        sigma_bar,
        ddpm,
        n=12,
        d=20,
        seed=5,
        record=None,
    )
    np.testing.assert_array_equal(paths["net"].path[0], paths["wiener"].path[0])  # the same start
    np.testing.assert_allclose(paths["again"].samples, paths["net"].samples, atol=1e-12)  # the same draws
    # the noise draws are the same: a sampler run alone with the seed gives the same samples
    np.testing.assert_allclose(sample(local, sigma_bar, ddpm, 12, 20, seed=5).samples, paths["local"].samples)
    final = {r["denoiser"]: r for r in final_agreement({k: p.samples for k, p in paths.items()}, "net", resamples=100)}
    assert final["net"]["r2_median"] == 1.0 and final["again"]["r2_median"] == pytest.approx(1.0)
    assert max(final["wiener"]["r2_median"], final["local"]["r2_median"]) < 0.9
    net = paths["net"]
    sigmas = net.sigma[:, 0]
    reference = np.stack([empirical(y, s) if s > 0 else y for y, s in zip(net.path, sigmas)])
    steps = path_agreement(EmpiricalDenoiser(X, chunk=5), net.path, sigmas, reference)
    assert len(steps) == 8 and all(r["r2"] == pytest.approx(1.0) for r in steps)
    wiener_steps = path_agreement(wiener, net.path, sigmas, reference)
    assert [r["sigma"] for r in wiener_steps] == sorted(sigma_bar[1:], reverse=True)
    assert wiener_steps[-1]["r2"] < 0.99  # near the data, the memorizing and the linear denoiser differ
    mse = heldout_mse({"empirical": empirical, "wiener": wiener}, X[:5], [0.1, 1.0])
    assert [r["sigma"] for r in mse] == [0.1, 0.1, 1.0, 1.0]
    assert mse[0]["mse"] < mse[1]["mse"]  # the training rows themselves: the empirical denoiser is right


# ------------------------------------------------------------------------------- the study's glue


def test_the_study_builds_every_denoiser_and_routes_classes(toy):
    X, Y = toy
    labels = np.arange(len(X)) % 3
    for name in THEORY_DENOISERS:
        denoiser = build_denoiser(name, X, SHAPE, patch_size=3)
        assert denoiser(Y, 0.3).shape == Y.shape
        pools = class_denoisers(name, X, labels, SHAPE, patch_size=3)
        rows = np.array([0, 2, 2, 1, 0])
        out = conditioned(pools, rows)(Y, 0.3)
        np.testing.assert_allclose(out[rows == 2], build_denoiser(name, X[labels == 2], SHAPE, patch_size=3)(Y[rows == 2], 0.3))
    with pytest.raises(ConfigError, match="unknown analytic denoiser 'bogus'"):
        build_denoiser("bogus", X, SHAPE)
    with pytest.raises(ConfigError, match="need the labels of the rows"):
        conditioned(pools)


def test_sampling_in_the_network_units_steps_where_the_network_steps(toy):
    """A data-unit denoiser moved to a network's units ``(y − c)·s`` and back gives the same path as
    the same denoiser written in those units directly (and clipping clips in data units)."""
    X, _ = toy
    wiener = fit_wiener(X)
    center, scale = 0.5, 2.0
    sigma_bar = np.concatenate([[0.0], np.geomspace(0.1, 20.0, 6)])
    ddpm = Sampler("ddpm")
    path = sample_in_units(wiener, sigma_bar, ddpm, 8, 20, seed=3, center=center, scale=scale, record=None)
    direct = sample(
        lambda Y, s: (wiener(Y / scale + center, s / scale) - center) * scale, sigma_bar, ddpm, 8, 20, seed=3, record=None
    )
    np.testing.assert_allclose(path.path, direct.path / scale + center, atol=1e-12)
    np.testing.assert_allclose(path.sigma[:, 0], sigma_bar[::-1] / scale)
    bounded = clipped(lambda Y, s: Y * 10.0, (0.0, 1.0))
    assert bounded(np.array([[-1.0, 0.05, 2.0]]), 0.1).tolist() == [[0.0, 0.5, 1.0]]
    assert in_model_units(lambda Y, s: Y, center, scale)(np.array([[1.0]]), 1.0).tolist() == [[1.0]]


def test_calibration_levels_are_spread_in_log_sigma():
    levels = np.concatenate([[0.0], np.geomspace(0.01, 100.0, 41)])
    chosen = calibration_levels(levels, 5)
    np.testing.assert_allclose(chosen, [0.01, 0.1, 1.0, 10.0, 100.0])
    assert calibration_levels(levels, 100).tolist() == levels[1:].tolist()  # no level twice
    with pytest.raises(ConfigError, match="noise levels > 0"):
        calibration_levels([0.0], 3)
