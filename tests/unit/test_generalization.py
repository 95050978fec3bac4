import numpy as np
import pandas as pd
import pytest

from lindiff.data import load_digits, make_spiked, split_halves
from lindiff.errors import ConfigError, DataError
from lindiff.linear.generate import injection_std, run_chain
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule
from lindiff.pipeline.jobs import load_halves
from lindiff.studies import generalization as gen

# --------------------------------------------------------------------------- similarities


def test_cosine_similarity_rows_known_values():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 13)) * rng.uniform(1e-3, 1e3, (50, 1))
    np.testing.assert_array_equal(gen.cosine_similarity_rows(A, A), 1.0)  # exactly 1
    np.testing.assert_allclose(gen.cosine_similarity_rows(A, -3.0 * A), -1.0, atol=1e-15)
    B = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    C = np.array([[0.0, 2.0], [1.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(gen.cosine_similarity_rows(B, C), [0.0, 0.0, 1 / np.sqrt(2)])
    with pytest.raises(DataError):
        gen.cosine_similarity_rows(B, C[:2])


def test_nearest_neighbor_equals_brute_force():
    rng = np.random.default_rng(1)
    samples = rng.standard_normal((40, 30))
    train = rng.standard_normal((203, 30))
    train[150] = train[17] * 2.0  # an exact tie: the lower index must win
    samples[5] = train[17]
    train[60] = 0.0  # a zero row has similarity 0
    def unit(X):
        return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-300)

    full = unit(samples) @ unit(train).T
    for chunk in (7, 64, 10_000):
        sim, idx = gen.nearest_neighbor_similarity(samples, train, chunk_size=chunk)
        np.testing.assert_array_equal(idx, np.argmax(full, axis=1))
        np.testing.assert_allclose(sim, full.max(axis=1), atol=1e-12)
    assert idx[5] == 17 and sim[5] == pytest.approx(1.0)


def test_span_cosine():
    rng = np.random.default_rng(2)
    train = rng.standard_normal((3, 20))
    inside = rng.standard_normal((10, 3)) @ train
    np.testing.assert_allclose(gen.span_cosine(inside, train), 1.0, atol=1e-12)
    orth = np.linalg.svd(train)[2][3:8]  # orthogonal to the span
    np.testing.assert_allclose(gen.span_cosine(orth, train), 0.0, atol=1e-12)


# --------------------------------------------------------------------------- the A/B study


def test_ab_study_identical_models_and_memorizing_models():
    rng = np.random.default_rng(3)
    train_a, train_b = rng.standard_normal((30, 400)), rng.standard_normal((30, 400))
    same = gen.ab_study(train_a[:10], train_a[:10], train_a, train_a)
    np.testing.assert_array_equal(same.per_sample["cos_ab"], 1.0)
    assert same.summary["cos_ab"] == 1.0 and same.summary["frac_closer_to_train"] == 0.0
    # two models that return copies of their own training images (memorization)
    memo = gen.ab_study(train_a[:10], train_b[:10], train_a, train_b)
    np.testing.assert_array_equal(memo.per_sample["nn_index_a"], np.arange(10))
    np.testing.assert_array_equal(memo.per_sample["nn_index_b"], np.arange(10))
    np.testing.assert_allclose(memo.per_sample["nn_sim_a"], 1.0)
    assert abs(memo.summary["cos_ab"]) < 0.2  # independent 400-d Gaussians
    assert memo.summary["frac_closer_to_train"] == 1.0
    assert set(memo.summary) >= {"n_pairs", "cos_ab", "nn_sim_a", "nn_sim_b", "frac_a_closer_to_train",
                                 "frac_b_closer_to_train", "frac_closer_to_train"}


@pytest.fixture(scope="module")
def digits_halves():
    data = load_digits()
    half_a, half_b = split_halves(data, seed=0)
    return data, half_a, half_b


SMALL_NOISE = make_schedule("linear", 20, sigma_max=0.3)


def test_pixel_noise_chain_matches_run_chain_and_eq25():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 12)) * np.linspace(3.0, 0.3, 12)
    bases = learn_bases(X, make_schedule("linear", 6, sigma_max=2.0), k=4, seed=1)
    # deterministic chain: identical to run_chain (ξ_T is drawn first in both)
    np.testing.assert_allclose(gen.run_chain_pixel_noise(bases, 9, rank=3, seed=5),
                               run_chain(bases, 9, rank=3, seed=5).samples, atol=1e-12)
    # injected chain: x_T = P_T ξ_T, x_t = P_t (x_{t+1} + ξ_t) with ξ_t drawn in pixel space
    noise = np.linspace(0.2, 0.8, 6)
    got = gen.run_chain_pixel_noise(bases, 5, rank=3, noise_std=noise, initial_std=1.5, seed=6)
    replay = np.random.default_rng(6)
    P = [U[:, :3] @ U[:, :3].T for U in bases.U]
    x = 1.5 * replay.standard_normal((5, 12)) @ P[6]
    for t in range(5, -1, -1):
        x = (x + noise[t] * replay.standard_normal((5, 12))) @ P[t]
    np.testing.assert_allclose(got, x, atol=1e-10)


def test_linear_identical_halves_give_similarity_one(digits_halves):
    _, half_a, _ = digits_halves
    noise = injection_std(SMALL_NOISE.sigma, "increment")
    for space in gen.NOISE_SPACES:
        study = gen.linear_ab_study(half_a, half_a, 50, SMALL_NOISE, rank=5, n_samples=20, noise_std=noise,
                                    learn_seed_a=3, learn_seed_b=3, noise_space=space)
        np.testing.assert_array_equal(study.per_sample["cos_ab"], 1.0)


def test_linear_two_training_images_samples_lie_in_their_span(digits_halves):
    """n = 2 (the smallest learn_bases accepts), rank 2, uncentered: U_0's two components span
    the two training images, and x_g = U_0 a_0, so every sample is a combination of them."""
    _, half_a, half_b = digits_halves
    noise = injection_std(SMALL_NOISE.sigma, "increment")
    study = gen.linear_ab_study(half_a, half_b, 2, SMALL_NOISE, rank=2, n_samples=30, noise_std=noise)
    assert study.summary["span_cos_a"] == pytest.approx(1.0, abs=1e-10)
    assert study.summary["span_cos_b"] == pytest.approx(1.0, abs=1e-10)
    with pytest.raises(ConfigError, match="n must be >= 2"):
        gen.linear_ab_study(half_a, half_b, 1, SMALL_NOISE, rank=1)


@pytest.mark.parametrize("kind", ["none", "increment"])
def test_linear_large_n_halves_agree(digits_halves, kind):
    """n = 800 >= d = 64, rank 5, σ̄_T = 0.3 (every chain component stays far above its detection
    threshold: λ_i²/σ̄_T² >= 4.4 against sqrt(d/n) = 0.28): both halves learn nearly the same
    bases and the same-seed samples agree, mean cosine > 0.9 (observed 0.96-0.97 over 3 splits)."""
    _, half_a, half_b = digits_halves
    noise = injection_std(SMALL_NOISE.sigma, kind)
    study = gen.linear_ab_study(half_a, half_b, 800, SMALL_NOISE, rank=5, n_samples=100, noise_std=noise)
    assert study.summary["cos_ab"] > 0.9


def test_linear_memorization_to_generalization(digits_halves):
    """Kadkhodaie et al.'s transition, centered chain, cosines of the fluctuations about the
    data mean, rank 5, increment injection (pixel-space shared noise).  n = 2: every sample is
    closer to a training image than to the other model's sample (fraction 1.0 observed);
    n = 800: fraction < 0.1 (observed 0.015-0.055 over 3 splits) and A/B cosine > 0.85
    (observed 0.92-0.95)."""
    data, half_a, half_b = digits_halves
    noise = injection_std(SMALL_NOISE.sigma, "increment")
    curve = gen.linear_ab_curve(half_a, half_b, [2, 800], SMALL_NOISE, rank=5, n_samples=100, noise_std=noise,
                                centered=True, reference=data.X.mean(axis=0))
    assert list(curve["n"]) == [2, 800]
    small, large = curve.iloc[0], curve.iloc[1]
    assert small["frac_closer_to_train"] > 0.9
    assert large["frac_closer_to_train"] < 0.1
    assert large["cos_ab"] > 0.85 > small["cos_ab"]


def test_linear_spiked_large_n_agree():
    """Spiked d = 50, halves of 2000 (n = 2000 >= d), rank 3, σ̄_T = 1: cosine > 0.9 (observed 0.99)."""
    half_a, half_b = split_halves(make_spiked(50, 4000, [5.0, 3.0, 2.0], seed=5).dataset, seed=0)
    sched = make_schedule("linear", 20, sigma_max=1.0)
    study = gen.linear_ab_study(half_a, half_b, 2000, sched, rank=3, n_samples=100)
    assert study.summary["cos_ab"] > 0.9


def test_linear_ab_study_rejects_bad_input(digits_halves):
    _, half_a, half_b = digits_halves
    with pytest.raises(ConfigError, match="exceeds"):
        gen.linear_ab_study(half_a, half_b, 5000, SMALL_NOISE, rank=2)
    with pytest.raises(ConfigError, match="noise_space"):
        gen.linear_ab_study(half_a, half_b, 10, SMALL_NOISE, rank=2, noise_space="latent")
    with pytest.raises(ConfigError, match="gen_seed"):
        gen.linear_ab_study(half_a, half_b, 10, SMALL_NOISE, rank=2, gen_seed=np.random.default_rng(0))


# --------------------------------------------------------------------------- workflow helpers


def test_half_indices_match_split_halves(digits_halves):
    data, half_a, half_b = digits_halves
    idx_a, idx_b = gen.half_indices(data, seed=0)
    np.testing.assert_array_equal(data.X[idx_a], half_a.X)
    np.testing.assert_array_equal(data.X[idx_b], half_b.X)
    assert len(idx_a) + len(idx_b) == data.n and not set(idx_a) & set(idx_b)
    assert (len(idx_a), len(idx_b)) == (899, 898)


def test_load_halves_checks_data_and_overlap(tmp_path, digits_halves):
    from lindiff import artifacts
    from lindiff.data import sha256_of_array

    data = digits_halves[0]
    idx_a, idx_b = gen.half_indices(data, seed=1)
    good = artifacts.save_npz(tmp_path / "h.npz", idx_a=idx_a, idx_b=idx_b, sha256=np.array(sha256_of_array(data.X)))
    got_a, got_b = load_halves(good, data)
    np.testing.assert_array_equal(got_a, idx_a) and np.testing.assert_array_equal(got_b, idx_b)
    stale = artifacts.save_npz(tmp_path / "s.npz", idx_a=idx_a, idx_b=idx_b, sha256=np.array("0" * 64))
    with pytest.raises(DataError, match="sha256"):
        load_halves(stale, data)
    overlap = artifacts.save_npz(tmp_path / "o.npz", idx_a=idx_a, idx_b=idx_a[:10],
                                 sha256=np.array(sha256_of_array(data.X)))
    with pytest.raises(DataError, match="overlap"):
        load_halves(overlap, data)


def test_identical_bases_give_identical_samples_and_similarity_one(digits_halves):
    _, half_a, _ = digits_halves
    noise = injection_std(SMALL_NOISE.sigma, "increment")
    bases = learn_bases(half_a.X[:40], SMALL_NOISE, k=5, centered=True, seed=0)
    a, b = gen.linear_ab_samples(bases, bases, 25, rank=5, noise_std=noise, seed=np.random.SeedSequence(7))
    np.testing.assert_array_equal(a, b)
    train = half_a.X[:40]
    study = gen.ab_compare(a, b, train, train, reference=half_a.X.mean(axis=0))
    np.testing.assert_array_equal(study.per_sample["cos_ab"], 1.0)
    assert study.summary["cos_ab"] == 1.0 and study.summary["frac_closer_to_train"] == 0.0
    assert study.summary["span_cos"] == pytest.approx(1.0, abs=1e-9)  # rank 5 < n = 40: in the training span
    assert study.summary["cos_ab_q25"] == study.summary["cos_ab_q75"] == 1.0
    assert study.summary["nn_sim"] == pytest.approx(study.summary["nn_sim_a"])
    with pytest.raises(ConfigError, match="seed"):
        gen.linear_ab_samples(bases, bases, 2, seed=np.random.default_rng(0))


def test_deep_ab_samples_share_the_noise():
    """Two identical denoisers with one seed give identical samples; the noise streams stay
    aligned even when one sampler stops before the other (adaptive stopping)."""
    def shrink(Y):  # a linear "denoiser" around mid-grey
        return 0.5 + 0.7 * (Y - 0.5)

    a, b, steps_a, steps_b = gen.deep_ab_samples(shrink, shrink, 6, 10, seed=4, sigma_final=0.05, max_steps=300)
    np.testing.assert_array_equal(a, b)
    assert steps_a == steps_b

    def stronger(Y):
        return 0.5 + 0.4 * (Y - 0.5)

    a2, b2, _, _ = gen.deep_ab_samples(shrink, stronger, 6, 10, seed=4, sigma_final=0.05, max_steps=300)
    np.testing.assert_array_equal(a2, a)  # model A's samples do not depend on its partner
    assert gen.cosine_similarity_rows(a2 - 0.5, b2 - 0.5).mean() > 0.5  # same initial and injected noise


def test_ab_train_config_keeps_the_step_budget():
    from lindiff.deep.train import TrainConfig

    base = TrainConfig(epochs=6, batch_size=32, val_fraction=0.1, max_train=16000, checkpoint_every=1)
    ref_steps = 6 * (808 // 32)  # 898 rows minus 90 validation rows, 25 batches per epoch
    assert gen.batches_per_epoch(base, 898) == 25
    for n in (2, 5, 33, 100, 898):
        cfg = gen.ab_train_config(base, n, 898)
        assert cfg.val_fraction == 0.0 and cfg.max_train is None  # trains on exactly the n images
        steps = cfg.epochs * gen.batches_per_epoch(cfg, n)
        assert ref_steps <= steps < ref_steps + gen.batches_per_epoch(cfg, n), (n, steps)
        assert cfg.checkpoint_every >= 1 and cfg.epochs // cfg.checkpoint_every <= 2 * base.epochs
    assert gen.ab_train_config(base, 2, 898).epochs == ref_steps  # batch of 2: one step per epoch
    assert gen.ab_train_config(base, 2, 898, steps=40).epochs == 40
    assert gen.ab_train_config(base, 2, 898, steps=10**9, max_epochs=500).epochs == 500
    with pytest.raises(ConfigError):
        gen.ab_train_config(base, 1, 898)
    with pytest.raises(ConfigError):
        gen.ab_train_config(base, 10, 898, steps=0)
    from lindiff.deep.train import preset_config

    preset = gen.ab_train_config(preset_config("digits", {"epochs": 6, "model": {"channels": 8}}), 10, 898)
    assert preset.model.channels == 8 and preset.model.kind == "unet" and preset.val_fraction == 0.0


def test_ab_curve_table_sorts_and_rejects_duplicates():
    table = gen.ab_curve_table([{"n": 100, "cos_ab": 0.9}, {"n": 2, "cos_ab": -0.1}])
    assert list(table["n"]) == [2, 100]
    with pytest.raises(DataError, match="duplicate"):
        gen.ab_curve_table([{"n": 2}, {"n": 2}])
    with pytest.raises(DataError):
        gen.ab_curve_table([])


def test_generalization_figures(tmp_path):
    from lindiff.plots import generalization as gplots

    table = pd.DataFrame({"n": [2, 10, 100], "cos_ab": [-0.2, 0.3, 0.9], "nn_sim": [0.8, 0.7, 0.65],
                          "frac_closer_to_train": [1.0, 0.6, 0.0], "span_cos": [1.0, 1.0, 1.0],
                          "cos_ab_q25": [-0.4, 0.1, 0.85], "cos_ab_q75": [0.0, 0.5, 0.95]})
    path = gplots.save_figure(gplots.generalization_curve(table, half_size=898, dimension=64), tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(DataError, match="lacks"):
        gplots.generalization_curve(table.drop(columns="nn_sim"))
    rng = np.random.default_rng(0)
    images = [rng.random((5, 64)) for _ in range(4)]
    fig = gplots.ab_pairs(*images, (8, 8), cos_ab=np.ones(5), nn_sim_a=np.ones(5), nn_sim_b=np.ones(5), max_pairs=3)
    assert len(fig.axes) == 12
    with pytest.raises(DataError):
        gplots.ab_pairs(*images, (4, 4))


def test_checkpoint_dir_for_is_keyed_by_config_and_drops_stale_ones(tmp_path):
    from dataclasses import replace

    pytest.importorskip("torch")
    from lindiff.deep.train import TrainConfig, checkpoint_dir_for

    cfg = TrainConfig(epochs=3)
    first = checkpoint_dir_for(tmp_path / "ck", cfg, 0, "abc")
    assert first == checkpoint_dir_for(tmp_path / "ck", cfg, 0, "abc")  # stable: a killed job resumes
    first.mkdir(parents=True)
    (first / "checkpoint.pt").write_bytes(b"x")
    assert checkpoint_dir_for(tmp_path / "ck", cfg, 0, "abc") == first and (first / "checkpoint.pt").exists()
    other = checkpoint_dir_for(tmp_path / "ck", replace(cfg, epochs=4), 0, "abc")
    assert other != first and not first.exists()  # the stale checkpoint of the old config is gone
    assert checkpoint_dir_for(tmp_path / "ck", cfg, 1, "abc") != checkpoint_dir_for(tmp_path / "ck", cfg, 0, "abd")
