"""Tests of lindiff.deep.quality: the digit classifier, the Fréchet distance and sample_quality."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.linalg
import torch

from lindiff.deep.quality import (
    CLASSIFIER_PRESETS,
    N_CLASSES,
    Classifier,
    ClassifierConfig,
    classifier_preset,
    feature_statistics,
    frechet_distance,
    load_classifier,
    sample_quality,
    save_classifier,
    train_classifier,
)
from lindiff.errors import ConfigError, DataError

FAST = ClassifierConfig(channels=4, hidden=16, epochs=2, batch_size=32, lr=3e-3)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """These nets are tiny: a second intra-op thread buys nothing and, on a busy 2-core machine,
    makes every step many times slower (threads spinning for a core)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def digits_split(digits):
    """(dataset, train rows, held-out half A, held-out half B), fixed split."""
    ds = digits
    order = np.random.default_rng(123).permutation(len(ds.X))
    return ds, np.sort(order[600:]), np.sort(order[:300]), np.sort(order[300:600])


@pytest.fixture(scope="module")
def clf(digits_split) -> Classifier:
    ds, train, _, _ = digits_split
    return train_classifier(ds.X[train], ds.labels[train], ds.image_shape, CLASSIFIER_PRESETS["digits"], seed=0)


def _random_spd(k: int, rng: np.random.Generator, rank: int | None = None) -> np.ndarray:
    A = rng.standard_normal((k, rank or k + 3))
    return A @ A.T / A.shape[1]


def _reference_fd(mu1, C1, mu2, C2) -> float:
    """The usual FID formula, with scipy's (complex) sqrtm of C1 C2."""
    root = scipy.linalg.sqrtm(C1 @ C2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(C1) + np.trace(C2) - 2 * np.trace(root).real)


# --------------------------------------------------------------------------- Fréchet distance


@pytest.mark.parametrize("k", [1, 3, 12])
def test_frechet_distance_matches_scipy_sqrtm(k):
    rng = np.random.default_rng(k)
    mu1, mu2 = rng.standard_normal(k), rng.standard_normal(k)
    C1, C2 = _random_spd(k, rng), _random_spd(k, rng)
    value = frechet_distance(mu1, C1, mu2, C2)
    assert value == pytest.approx(_reference_fd(mu1, C1, mu2, C2), rel=1e-8, abs=1e-10)
    assert isinstance(value, float) and value > 0


def test_frechet_distance_closed_form_for_commuting_covariances():
    rng = np.random.default_rng(0)
    k = 7
    a, b = rng.uniform(0.1, 3.0, k), rng.uniform(0.0, 3.0, k)
    b[:2] = 0.0  # singular C2: eigenvalues exactly 0 are allowed
    mu1, mu2 = rng.standard_normal(k), rng.standard_normal(k)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    Q, _ = np.linalg.qr(rng.standard_normal((k, k)))  # same eigenvectors: C1 and C2 commute
    C1, C2 = Q @ np.diag(a) @ Q.T, Q @ np.diag(b) @ Q.T
    assert frechet_distance(mu1, C1, mu2, C2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_zero_for_identical_and_symmetric():
    rng = np.random.default_rng(1)
    k = 10
    mu1, mu2 = rng.standard_normal(k), rng.standard_normal(k)
    C1, C2 = _random_spd(k, rng), _random_spd(k, rng, rank=4)  # C2 rank-deficient
    assert frechet_distance(mu1, C1, mu1, C1) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(mu2, C2, mu2, C2) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(mu1, C1, mu2, C2) == pytest.approx(frechet_distance(mu2, C2, mu1, C1), rel=1e-9)
    # Only the means differ: the squared distance of the means.
    assert frechet_distance(mu1, C1, mu2, C1) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-8)
    assert frechet_distance(mu1, np.zeros((k, k)), mu1, np.zeros((k, k))) == 0.0


def test_frechet_distance_bad_input_names_the_argument():
    rng = np.random.default_rng(2)
    mu, C = rng.standard_normal(3), _random_spd(3, rng)
    with pytest.raises(DataError, match="mu2"):
        frechet_distance(mu, C, np.zeros(4), C)
    with pytest.raises(DataError, match="cov2"):
        frechet_distance(mu, C, mu, np.eye(4))
    with pytest.raises(DataError, match="cov1"):
        frechet_distance(mu, C + np.triu(np.ones((3, 3)), 1), mu, C)  # not symmetric
    with pytest.raises(DataError, match="cov2.*positive semi-definite"):
        frechet_distance(mu, C, mu, -np.eye(3))
    with pytest.raises(DataError, match="mu1"):
        frechet_distance(np.array([np.nan, 0.0, 0.0]), C, mu, C)


def test_feature_statistics_matches_numpy():
    rng = np.random.default_rng(3)
    F = rng.standard_normal((50, 5)) @ rng.standard_normal((5, 5)) + 2.0
    mu, cov = feature_statistics(F)
    np.testing.assert_allclose(mu, F.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(F, rowvar=False), rtol=1e-10, atol=1e-12)
    assert np.array_equal(cov, cov.T)
    mu1, cov1 = feature_statistics(F[:, :1])
    assert mu1.shape == (1,) and cov1.shape == (1, 1)
    with pytest.raises(DataError, match="F must have at least 2"):
        feature_statistics(F[:1])


# --------------------------------------------------------------------------- classifier on digits


def test_digits_classifier_accuracy_and_outputs(clf, digits_split):
    ds, _, a, b = digits_split
    held_out = np.concatenate([a, b])
    assert clf.val_accuracy is not None and clf.val_accuracy >= 0.95
    assert clf.accuracy(ds.X[held_out], ds.labels[held_out]) >= 0.95
    assert [r["epoch"] for r in clf.history] == list(range(1, CLASSIFIER_PRESETS["digits"].epochs + 1))
    assert {"loss", "lr", "train_accuracy", "val_accuracy", "seconds"} <= set(clf.history[-1])
    proba = clf.predict_proba(ds.X[a])
    assert proba.shape == (len(a), N_CLASSES) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    feats = clf.features(ds.X[a], batch_size=7)  # batching does not change the result
    assert feats.shape == (len(a), CLASSIFIER_PRESETS["digits"].hidden) and feats.dtype == np.float64
    assert feats.min() >= 0  # ReLU activations
    np.testing.assert_allclose(feats, clf.features(ds.X[a]), rtol=1e-5, atol=1e-6)
    assert np.array_equal(clf.predict(ds.X[a]), proba.argmax(axis=1))
    assert not clf.net.training


def test_sample_quality_separates_real_digits_from_noise(clf, digits_split):
    ds, _, a, b = digits_split
    real = sample_quality(clf, ds.X[a], ds.X[b])
    assert real["n"] == len(a) and real["n_ref"] == len(b)
    assert real["confident_fraction"] >= 0.8
    assert real["mean_max_prob"] >= 0.85
    assert len(real["class_histogram"]) == N_CLASSES and sum(real["class_histogram"]) == pytest.approx(1.0)
    assert real["class_entropy"] > 0.95 * math.log(N_CLASSES)
    rng = np.random.default_rng(0)
    uniform = rng.uniform(0, 1, ds.X[a].shape)
    gaussian = np.clip(ds.X.mean() + ds.X.std() * rng.standard_normal(ds.X[a].shape), 0, 1)
    for noise in (uniform, gaussian):
        q = sample_quality(clf, noise, ds.X[b])
        assert q["confident_fraction"] < 0.5 * real["confident_fraction"] or (
            q["frechet_distance"] > 5 * real["frechet_distance"]
        )
        assert q["frechet_distance"] > 5 * real["frechet_distance"]
    assert real["frechet_distance"] < sample_quality(clf, ds.X[a][::-1, ::-1], ds.X[b])["frechet_distance"]


def test_sample_quality_shows_mode_collapse(clf, digits_split):
    ds, _, a, b = digits_split
    collapsed = sample_quality(clf, np.repeat(ds.X[a][:1], 100, axis=0), ds.X[b])
    assert collapsed["class_entropy"] == 0.0
    assert sorted(collapsed["class_histogram"]) == [0.0] * (N_CLASSES - 1) + [1.0]
    assert collapsed["frechet_distance"] > 5 * sample_quality(clf, ds.X[a], ds.X[b])["frechet_distance"]


def test_label_agreement_is_the_accuracy_on_the_drawn_labels(clf, digits_split):
    """With ``labels``, ``label_agreement`` is the classifier's accuracy against them: its accuracy
    on real digits with their own labels, about chance with the labels shifted by one class."""
    ds, _, a, b = digits_split
    assert "label_agreement" not in sample_quality(clf, ds.X[a], ds.X[b])
    own = sample_quality(clf, ds.X[a], ds.X[b], labels=ds.labels[a])["label_agreement"]
    assert own == pytest.approx(clf.accuracy(ds.X[a], ds.labels[a])) and own > 0.9
    shifted = sample_quality(clf, ds.X[a], ds.X[b], labels=(ds.labels[a] + 1) % N_CLASSES)["label_agreement"]
    assert shifted < 0.1
    with pytest.raises(DataError, match="labels"):
        sample_quality(clf, ds.X[a], ds.X[b], labels=ds.labels[a][:3])


def test_sample_quality_is_json_able(clf, digits_split):
    import json

    ds, _, a, b = digits_split
    q = sample_quality(clf, ds.X[a][:20], ds.X[b], confidence=1.0)
    assert json.loads(json.dumps(q)) == q
    assert set(q) == {
        "n", "n_ref", "confidence", "confident_fraction", "mean_max_prob",
        "class_histogram", "class_entropy", "frechet_distance",
    }  # fmt: skip


# --------------------------------------------------------------------------- determinism, save/load


def test_training_is_deterministic_and_leaves_global_rng_alone(digits_split):
    ds, train, a, _ = digits_split
    X, y = ds.X[train[:600]], ds.labels[train[:600]]
    state = torch.random.get_rng_state()
    first = train_classifier(X, y, ds.image_shape, FAST, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    second = train_classifier(X, y, ds.image_shape, FAST, seed=5)
    other = train_classifier(X, y, ds.image_shape, FAST, seed=6)
    assert np.array_equal(first.predict_proba(ds.X[a]), second.predict_proba(ds.X[a]))
    assert first.history[-1]["loss"] == second.history[-1]["loss"]
    assert not np.array_equal(first.predict_proba(ds.X[a]), other.predict_proba(ds.X[a]))


def test_training_without_validation_rows(digits_split):
    ds, train, _, _ = digits_split
    cfg = ClassifierConfig(channels=4, hidden=8, epochs=1, batch_size=64, val_fraction=0.0)
    clf = train_classifier(ds.X[train[:200]], ds.labels[train[:200]], ds.image_shape, cfg, progress=True)
    assert clf.val_accuracy is None and "val_accuracy" not in clf.history[0]
    assert clf.features(ds.X[:3]).shape == (3, 8)


def test_save_load_round_trip(tmp_path, clf, digits_split):
    ds, _, a, b = digits_split
    path = save_classifier(tmp_path / "sub" / "classifier.pt", clf, extra={"dataset": "digits", "n": 3})
    assert path.is_file() and not list(path.parent.glob(".*.tmp"))
    loaded = load_classifier(path)
    assert loaded.config == clf.config and loaded.image_shape == clf.image_shape
    assert loaded.history == clf.history and loaded.val_accuracy == clf.val_accuracy
    assert loaded.seed == clf.seed and loaded.extra == {"dataset": "digits", "n": 3}
    assert np.array_equal(loaded.predict_proba(ds.X[a]), clf.predict_proba(ds.X[a]))
    assert np.array_equal(loaded.features(ds.X[a]), clf.features(ds.X[a]))
    assert sample_quality(loaded, ds.X[a], ds.X[b]) == sample_quality(clf, ds.X[a], ds.X[b])


def test_load_classifier_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(DataError, match="nope.pt.*not found"):
        load_classifier(missing)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="corrupt.pt"):
        load_classifier(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(DataError, match="other.pt.*not a saved classifier"):
        load_classifier(other)


# --------------------------------------------------------------------------- bad input


def test_sample_quality_bad_input_names_the_argument(clf, digits_split):
    ds, _, a, b = digits_split
    with pytest.raises(DataError, match="X_gen must have d=64"):
        sample_quality(clf, np.zeros((10, 784)), ds.X[b])
    with pytest.raises(DataError, match="X_ref must have d=64"):
        sample_quality(clf, ds.X[a], np.zeros((10, 63)))
    with pytest.raises(DataError, match="X_gen"):
        sample_quality(clf, ds.X[a][:1], ds.X[b])  # one row: no covariance
    with pytest.raises(DataError, match="X_gen.*non-finite"):
        sample_quality(clf, np.full((5, 64), np.nan), ds.X[b])
    for bad in (0, 1.5, "high"):
        with pytest.raises(ConfigError, match="confidence"):
            sample_quality(clf, ds.X[a], ds.X[b], confidence=bad)
    with pytest.raises(ConfigError, match="classifier"):
        sample_quality(object(), ds.X[a], ds.X[b])
    with pytest.raises(DataError, match="X must have d=64"):
        clf.predict_proba(np.zeros((3, 10)))


@pytest.mark.parametrize(
    ("key", "value"),
    [("channels", 0), ("hidden", -1), ("hidden", 2.5), ("epochs", True), ("batch_size", 0), ("lr", 0.0),
     ("lr", float("nan")), ("lr_final_ratio", 2.0), ("weight_decay", -1e-4), ("val_fraction", 1.0)],
)  # fmt: skip
def test_bad_config_values_name_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        ClassifierConfig(**{key: value})


def test_config_round_trip_presets_and_unknown_keys():
    for cfg in CLASSIFIER_PRESETS.values():
        assert ClassifierConfig.from_dict(cfg.to_dict()) == cfg
    assert classifier_preset("digits", {"epochs": 2}).epochs == 2
    with pytest.raises(ConfigError, match="widht"):
        ClassifierConfig.from_dict({"widht": 3})
    with pytest.raises(ConfigError, match="cifar"):
        classifier_preset("cifar")


def test_train_classifier_bad_input(digits_split):
    ds, train, _, _ = digits_split
    X, y = ds.X[train[:100]], ds.labels[train[:100]]
    with pytest.raises(DataError, match="labels"):
        train_classifier(X, y[:-1], ds.image_shape, FAST)
    with pytest.raises(DataError, match="labels"):
        train_classifier(X, y + 5, ds.image_shape, FAST)
    with pytest.raises(DataError, match="labels"):
        train_classifier(X, None, ds.image_shape, FAST)
    with pytest.raises(ConfigError, match="image_shape"):
        train_classifier(X, y, (7, 7), FAST)
    with pytest.raises(ConfigError, match="cfg"):
        train_classifier(X, y, ds.image_shape, {"epochs": 1})
    with pytest.raises(ConfigError, match="seed"):
        train_classifier(X, y, ds.image_shape, FAST, seed=1.5)
    with pytest.raises(ConfigError, match="device"):
        train_classifier(X, y, ds.image_shape, FAST, device="tpu")
    with pytest.raises(DataError, match="X"):
        train_classifier(X[:, :10].ravel(), y, ds.image_shape, FAST)


# --------------------------------------------------------------------------- MNIST


@pytest.mark.slow
@pytest.mark.mnist
def test_mnist_preset_reaches_98_percent(mnist_dir, capsys):
    from lindiff.data.mnist import load_mnist

    train, test = load_mnist(mnist_dir, split="train"), load_mnist(mnist_dir, split="test")
    start = time.perf_counter()
    clf = train_classifier(train.X, train.labels, train.image_shape, CLASSIFIER_PRESETS["mnist"], seed=0)
    seconds = time.perf_counter() - start
    accuracy = clf.accuracy(test.X, test.labels)
    with capsys.disabled():
        print(f"\nMNIST classifier: test accuracy {accuracy:.4f}, val {clf.val_accuracy:.4f}, {seconds:.1f} s")
    assert accuracy >= 0.98
    q = sample_quality(clf, test.X[:2000], test.X[5000:7000])
    assert q["confident_fraction"] >= 0.9 and q["class_entropy"] > 0.95 * math.log(N_CLASSES)
    noise = sample_quality(clf, np.random.default_rng(0).uniform(0, 1, (2000, 784)), test.X[5000:7000])
    assert noise["frechet_distance"] > 10 * q["frechet_distance"]
