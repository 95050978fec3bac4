"""Sample quality of generated digit images: a small classifier and a Fréchet distance in its
features (an "MNIST FID").

The Inception network of the usual FID knows nothing about 8×8 or 28×28 digits, so the
features here come from a small CNN trained on the real digits themselves:

``conv(1→c, 3×3) – BN – ReLU – max pool 2 – conv(c→2c, 3×3) – BN – ReLU – adaptive max pool
4×4 – linear(32c→hidden) – ReLU – linear(hidden→10)``

(BN: batch norm, batch statistics in training, running statistics in evaluation mode, which
every public method uses).  The adaptive pooling makes one architecture work for 8×8 (sklearn
digits, 4×4 after the first pool) and 28×28 (MNIST, 14×14) images.  The *features* of an
image are the ``hidden`` activations of the penultimate ReLU layer; :func:`sample_quality`
compares generated and real images by

* the classifier's confidence on the generated images (``confident_fraction``: the fraction
  whose largest class probability is at least ``confidence``; ``mean_max_prob``),
* the histogram of their predicted classes and its entropy in nats (``log 10 ≈ 2.303`` for
  evenly spread classes, 0 when every sample is read as the same digit: mode collapse),
* the Fréchet distance between Gaussians fitted to the features of the generated and of the
  reference images (:func:`frechet_distance`)::

      FD = ‖μ₁ − μ₂‖² + tr(C₁ + C₂ − 2 (C₁^{1/2} C₂ C₁^{1/2})^{1/2}).

Conventions follow :mod:`lindiff.deep`: images are rows of ``X`` (n, d), flattened row-major,
``d = h·w`` for an explicit ``image_shape = (h, w)``, values in [0, 1] (generated images are
not clipped); public functions take and return numpy arrays (float64), torch is used inside.
Feature statistics use the unbiased covariance (``ddof=1``), as the usual FID does, so they
need at least two images.  A Fréchet distance estimated from samples is biased upwards, by an
amount that shrinks like ``1/n``: compare distances computed from equal sample sizes.

Training (:func:`train_classifier`): cross-entropy, Adam with a cosine learning-rate decay
over the optimiser steps from ``lr`` to ``lr · lr_final_ratio``, batches reshuffled every
epoch (an incomplete last batch is kept).  A held-out part of the data (``val_fraction``,
chosen with the seed) gives a validation accuracy after every epoch.  Determinism as in
:func:`lindiff.deep.train.train_denoiser`: the initial weights come from
``torch.manual_seed(seed)`` inside ``torch.random.fork_rng`` (the caller's global RNG is
untouched), every shuffle from one CPU :class:`torch.Generator` seeded with ``seed``, and
deterministic algorithms are on during training, so the same data, config and seed give the
same weights on CPU (with the same thread count).  Saved classifiers are read with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lindiff.artifacts import load_torch, save_torch
from lindiff.deep.config import CLASSIFIER_DATA, check_number
from lindiff.deep.train import _deterministic, resolve_device, run_epoch
from lindiff.errors import ConfigError, DataError
from lindiff.validation import check_image_shape, check_keys, check_matrix, check_vector

__all__ = [
    "CLASSIFIER_PRESETS",
    "N_CLASSES",
    "Classifier",
    "ClassifierConfig",
    "ClassifierNet",
    "classifier_preset",
    "feature_statistics",
    "frechet_distance",
    "load_classifier",
    "sample_quality",
    "save_classifier",
    "train_classifier",
]

N_CLASSES = 10
_FORMAT = 1
_KIND = "lindiff.deep.quality.Classifier"
_POOLED = 4  # side of the adaptive average pool before the feature layer


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training hyper-parameters of the digit classifier (JSON-able through
    :meth:`to_dict`).

    Attributes
    ----------
    channels : int
        Feature maps of the first convolution (the second has ``2·channels``).
    hidden : int
        Width of the penultimate ReLU layer: the dimension of the features.
    epochs : int
    batch_size : int
    lr : float
        Initial Adam learning rate.
    lr_final_ratio : float
        Cosine decay, step by step, to ``lr · lr_final_ratio`` at the last step (1 = constant), in (0, 1].
    weight_decay : float
        Adam's L2 penalty (>= 0).
    val_fraction : float
        Fraction of the rows held out for the validation accuracy, in [0, 1).
    """

    channels: int = 8
    hidden: int = 128
    epochs: int = 3
    batch_size: int = 128
    lr: float = 4e-3
    lr_final_ratio: float = 0.05
    weight_decay: float = 0.0
    val_fraction: float = 0.1

    def __post_init__(self) -> None:
        check_number("channels", self.channels, integer=True)
        check_number("hidden", self.hidden, integer=True)
        check_number("epochs", self.epochs, integer=True)
        check_number("batch_size", self.batch_size, integer=True)
        check_number("lr", self.lr)
        check_number("lr_final_ratio", self.lr_final_ratio)
        if self.lr_final_ratio > 1:
            raise ConfigError(f"lr_final_ratio must be <= 1, got lr_final_ratio={self.lr_final_ratio}")
        check_number("weight_decay", self.weight_decay, allow_zero=True)
        check_number("val_fraction", self.val_fraction, allow_zero=True)
        if self.val_fraction >= 1:
            raise ConfigError(f"val_fraction must be < 1, got val_fraction={self.val_fraction}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        return cls(**check_keys(data, (f.name for f in fields(cls)), "classifier config", ConfigError))


CLASSIFIER_PRESETS: dict[str, ClassifierConfig] = {
    # 8×8 digits (~1400 training images): ~3 s on 2 CPU cores, ~98–99% held-out accuracy.
    "digits": ClassifierConfig(channels=16, hidden=64, epochs=15, batch_size=32, lr=2e-3),
    # 28×28 MNIST (54000 training images): ~1 min on 2 CPU cores, ~98.8% test accuracy.
    "mnist": ClassifierConfig(channels=8, hidden=128, epochs=3, batch_size=128, lr=4e-3),
}


assert set(CLASSIFIER_PRESETS) == set(CLASSIFIER_DATA), "lindiff.deep.config.CLASSIFIER_DATA names the presets"


def classifier_preset(name: str, overrides: dict[str, Any] | None = None) -> ClassifierConfig:
    """The :data:`CLASSIFIER_PRESETS` entry ``name`` (``"digits"`` or ``"mnist"``) with
    ``overrides`` (ClassifierConfig fields) applied."""
    if name not in CLASSIFIER_PRESETS:
        raise ConfigError(f"preset={name!r}: no classifier preset; known: {sorted(CLASSIFIER_PRESETS)}")
    return ClassifierConfig.from_dict({**CLASSIFIER_PRESETS[name].to_dict(), **dict(overrides or {})})


# --------------------------------------------------------------------------- network


class ClassifierNet(nn.Module):
    """The CNN of the module docstring on ``(b, 1, h, w)`` images; :meth:`forward` returns the
    logits (b, 10), :meth:`features` the penultimate activations (b, hidden)."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * channels)
        self.fc = nn.Linear(2 * channels * _POOLED * _POOLED, hidden)
        self.head = nn.Linear(hidden, N_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.adaptive_max_pool2d(F.relu(self.bn2(self.conv2(x))), _POOLED)
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Classifier:
    """A trained digit classifier on flat images (see :func:`train_classifier`).

    Parameters
    ----------
    net : ClassifierNet
    image_shape : (h, w)
        Images are ``(n, h·w)`` rows; ``h, w >= 2`` (the first max pool halves them).
    config : ClassifierConfig
    history : list of dict, optional
        Per-epoch training records (see :func:`train_classifier`).
    seed : int, optional
    seconds : float, optional
        Training wall time.

    Attributes
    ----------
    val_accuracy : float or None
        Held-out validation accuracy after the last epoch (None without validation rows).
    extra : dict
        What :func:`save_classifier` stored with it (empty for a freshly trained one).
    """

    def __init__(
        self,
        net: ClassifierNet,
        image_shape: tuple[int, int],
        config: ClassifierConfig,
        history: list[dict[str, float]] | None = None,
        seed: int | None = None,
        seconds: float | None = None,
    ) -> None:
        if not isinstance(net, ClassifierNet):
            raise ConfigError(f"net must be a ClassifierNet, got {type(net).__name__}")
        if not isinstance(config, ClassifierConfig):
            raise ConfigError(f"config must be a ClassifierConfig, got {type(config).__name__}")
        self.net = net.eval()
        self.image_shape = check_image_shape(image_shape)
        if min(self.image_shape) < 2:
            raise ConfigError(f"image_shape must be at least 2×2 for the classifier, got {self.image_shape}")
        self.config = config
        self.history = list(history or [])
        self.seed = seed
        self.seconds = seconds
        self.extra: dict[str, Any] = {}

    @property
    def d(self) -> int:
        return math.prod(self.image_shape)

    @property
    def hidden(self) -> int:
        return self.config.hidden

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @property
    def val_accuracy(self) -> float | None:
        if not self.history or "val_accuracy" not in self.history[-1]:
            return None
        return float(self.history[-1]["val_accuracy"])

    def to(self, device: str | torch.device) -> Classifier:
        """Move the network to ``device`` (in place); returns self."""
        self.net.to(resolve_device(device))
        return self

    @torch.no_grad()
    def _apply(self, X: Any, name: str, fn, batch_size: int) -> np.ndarray:
        X = check_matrix(X, name, d=self.d, min_rows=1)
        check_number("batch_size", batch_size, integer=True)
        was_training = self.net.training
        self.net.eval()
        device = self.device
        try:
            chunks = []
            for start in range(0, len(X), batch_size):
                rows = np.ascontiguousarray(X[start : start + batch_size], dtype=np.float32)
                x = torch.as_tensor(rows, device=device)
                chunks.append(fn(x.reshape(-1, 1, *self.image_shape)).double().cpu().numpy())
        finally:
            self.net.train(was_training)
        return np.concatenate(chunks)

    def logits(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Class logits of the rows of ``X`` (n, d) -> float64 (n, 10)."""
        return self._apply(X, "X", self.net, batch_size)

    def predict_proba(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities (softmax) of the rows of ``X`` (n, d) -> float64 (n, 10), rows sum to 1."""
        return self._apply(X, "X", lambda x: torch.softmax(self.net(x).double(), dim=1), batch_size)

    def predict(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Most probable class of each row of ``X`` (n, d) -> int64 (n,)."""
        return np.argmax(self.logits(X, batch_size), axis=1).astype(np.int64)

    def features(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Penultimate (ReLU) activations of the rows of ``X`` (n, d) -> float64 (n, hidden)."""
        return self._apply(X, "X", self.net.features, batch_size)

    def accuracy(self, X: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of rows of ``X`` (n, d) whose predicted class equals ``labels`` (n,)."""
        X = check_matrix(X, "X", d=self.d, min_rows=1)
        labels = _check_labels(labels, len(X))
        return float(np.mean(self.predict(X) == labels))

    def __repr__(self) -> str:
        acc = self.val_accuracy
        acc_text = "n/a" if acc is None else f"{acc:.4f}"
        return f"Classifier(image_shape={self.image_shape}, {self.config}, val_accuracy={acc_text})"


# --------------------------------------------------------------------------- training


def _check_labels(labels: Any, n: int) -> np.ndarray:
    if labels is None:
        raise DataError("labels: the classifier needs class labels (the data set has none)")
    arr = check_vector(labels, "labels", length=n, dtype=None, require_real=True)
    if arr.dtype.kind == "f":
        if not np.all(arr == np.round(arr)):
            raise DataError("labels must be integers 0..9")
    elif arr.dtype.kind == "b":
        raise DataError(f"labels must be integers 0..9, found dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= N_CLASSES):
        raise DataError(f"labels must lie in 0..{N_CLASSES - 1}, found {arr.min()}..{arr.max()}")
    return arr


def _lr(cfg: ClassifierConfig, step: int, total: int) -> float:
    """Learning rate of 0-based optimiser ``step`` out of ``total``: cosine from ``lr`` (first
    step) to ``lr·lr_final_ratio`` (last step)."""
    progress = step / (total - 1) if total > 1 else 0.0
    return cfg.lr * (cfg.lr_final_ratio + (1 - cfg.lr_final_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def _split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), sorted, chosen with ``seed``."""
    order = np.random.default_rng([seed, 13]).permutation(n)
    n_val = min(round(val_fraction * n), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train_classifier(
    X: np.ndarray,
    labels: np.ndarray,
    image_shape: tuple[int, int],
    cfg: ClassifierConfig | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
) -> Classifier:
    """Train the digit classifier on the rows of ``X`` with class ``labels``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Images in [0, 1], one per row, ``d = h·w``.
    labels : ndarray of shape (n,)
        Integer classes 0..9.
    image_shape : (h, w)
    cfg : ClassifierConfig, optional
        Default ``ClassifierConfig()``; see :data:`CLASSIFIER_PRESETS`.
    seed : int
        Seeds the weights, the train/validation split and the shuffling.
    device : {"cpu", "cuda", "auto"}
        Determinism is promised on CPU only.
    progress : bool
        tqdm bar over batches on stderr.

    Returns
    -------
    Classifier
        In eval mode on ``device``; ``history`` holds one record per epoch: ``epoch`` (1-based),
        ``loss`` (mean training cross-entropy), ``lr`` (of the epoch's last step), ``train_accuracy`` (on the epoch's
        batches, during training), ``val_accuracy`` (held-out, when ``val_fraction > 0``) and
        ``seconds``; ``val_accuracy`` is the last epoch's.
    """
    cfg = ClassifierConfig() if cfg is None else cfg
    if not isinstance(cfg, ClassifierConfig):
        raise ConfigError(f"cfg must be a ClassifierConfig, got {type(cfg).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be an integer, got seed={seed!r}")
    seed = int(seed)
    X = check_matrix(X, "X", min_rows=2)
    shape = check_image_shape(image_shape)
    if shape[0] * shape[1] != X.shape[1]:
        raise ConfigError(f"image_shape={shape} does not match d={X.shape[1]} (columns of X)")
    y = _check_labels(labels, len(X))
    dev = resolve_device(device)
    train_idx, val_idx = _split(len(X), cfg.val_fraction, seed)
    start = time.perf_counter()

    with _deterministic(dev):
        with torch.random.fork_rng(devices=[]):  # seed the initial weights, leave the caller's RNG alone
            torch.manual_seed(seed)
            net = ClassifierNet(cfg.channels, cfg.hidden)
        net.to(dev)
        classifier = Classifier(net, shape, cfg, seed=seed)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        gen = torch.Generator().manual_seed(seed)
        images = torch.as_tensor(X[train_idx], dtype=torch.float32, device=dev).reshape(-1, 1, *shape)
        targets = torch.as_tensor(y[train_idx], device=dev)
        n, batch = len(images), min(cfg.batch_size, len(images))
        per_epoch = math.ceil(n / batch)
        total_steps = cfg.epochs * per_epoch
        bar = None
        if progress:
            from lindiff.progress import progress_bar

            bar = progress_bar(total=total_steps, desc="train classifier")
        history: list[dict[str, float]] = []
        try:
            for epoch in range(1, cfg.epochs + 1):
                t0 = time.perf_counter()
                net.train()
                correct = 0

                def set_lr(i, first=(epoch - 1) * per_epoch):  # cosine over the run's optimizer steps
                    for group in opt.param_groups:
                        group["lr"] = _lr(cfg, first + i, total_steps)

                def batch_loss(idx):
                    nonlocal correct
                    logits = net(images[idx])
                    correct += int((logits.argmax(1) == targets[idx]).sum())
                    return F.cross_entropy(logits, targets[idx])

                losses = run_epoch(opt, n, batch, gen, batch_loss, dev, drop_last=False, before_step=set_lr, bar=bar,
                                   postfix=".3f")
                net.eval()
                record: dict[str, float] = {
                    "epoch": epoch,
                    "loss": sum(value * rows for value, rows in losses) / n,
                    "lr": opt.param_groups[0]["lr"],
                    "train_accuracy": correct / n,
                }
                if len(val_idx):
                    record["val_accuracy"] = classifier.accuracy(X[val_idx], y[val_idx])
                record["seconds"] = time.perf_counter() - t0
                history.append({k: (int(v) if k == "epoch" else float(v)) for k, v in record.items()})
        finally:
            if bar is not None:
                bar.close()
    classifier.history = history
    classifier.seconds = time.perf_counter() - start
    return classifier


# --------------------------------------------------------------------------- save / load


def save_classifier(path: str | Path, classifier: Classifier, extra: dict[str, Any] | None = None) -> Path:
    """Write ``classifier`` (weights, config, image shape, history, seed, ``extra``) atomically.

    ``extra`` must hold only JSON-like values (it is read back with ``weights_only=True``).
    """
    if not isinstance(classifier, Classifier):
        raise ConfigError(f"classifier must be a Classifier (from train_classifier), got {type(classifier).__name__}")
    state = {
        "format": _FORMAT,
        "kind": _KIND,
        "config": classifier.config.to_dict(),
        "image_shape": list(classifier.image_shape),
        "state_dict": {k: v.detach().cpu() for k, v in classifier.net.state_dict().items()},
        "history": [dict(r) for r in classifier.history],
        "seed": classifier.seed,
        "seconds": classifier.seconds,
        "extra": dict(extra or {}),
    }
    return save_torch(path, state)


def load_classifier(path: str | Path, device: str = "cpu") -> Classifier:
    """Inverse of :func:`save_classifier`: a :class:`Classifier` in eval mode on ``device``.

    The saved ``extra`` dict is available as ``classifier.extra``.
    """
    state = load_torch(path, "classifier file")
    if not isinstance(state, dict) or state.get("kind") != _KIND:
        raise DataError(f"{path}: not a saved classifier (written by lindiff.deep.quality.save_classifier)")
    if state.get("format") != _FORMAT:
        raise DataError(f"{path}: classifier file format {state.get('format')!r}, expected {_FORMAT}")
    try:
        cfg = ClassifierConfig.from_dict(state["config"])
        net = ClassifierNet(cfg.channels, cfg.hidden)
        net.load_state_dict(state["state_dict"])
        classifier = Classifier(net, tuple(state["image_shape"]), cfg, state.get("history"), state.get("seed"),
                                state.get("seconds"))
    except (KeyError, RuntimeError, ConfigError) as exc:
        raise DataError(f"{path}: classifier file is inconsistent ({exc})") from None
    classifier.extra = dict(state.get("extra") or {})
    return classifier.to(device)


# --------------------------------------------------------------------------- Fréchet distance


def feature_statistics(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (k,) and unbiased covariance (k, k) (``ddof=1``) of the rows of ``F`` (n, k), n >= 2."""
    F = check_matrix(F, "F", min_rows=2, min_cols=1)
    mu = F.mean(axis=0)
    centred = F - mu
    cov = centred.T @ centred / (len(F) - 1)
    return mu, (cov + cov.T) / 2


def _check_cov(cov: Any, name: str, k: int) -> np.ndarray:
    cov = check_matrix(cov, name, d=k)
    if cov.shape != (k, k):
        raise DataError(f"{name} must have shape ({k}, {k}) to match the mean, found shape {cov.shape}")
    scale = max(float(np.max(np.abs(cov))), np.finfo(float).tiny)
    if np.max(np.abs(cov - cov.T)) > 1e-6 * scale:
        raise DataError(f"{name} must be symmetric (a covariance matrix)")
    return (cov + cov.T) / 2


def _round_off(w: np.ndarray) -> float:
    """Eigenvalues of a symmetric PSD matrix below this are round-off (``k·ε·λ_max``)."""
    return len(w) * np.finfo(np.float64).eps * max(float(np.max(np.abs(w))), 0.0)


def _psd_eigh(C: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric PSD matrix; eigenvalues at round-off level (negative
    ones included) are set to 0, clearly negative ones raise DataError naming ``name``."""
    w, V = np.linalg.eigh(C)
    tol = _round_off(w)
    if w.min() < -max(1e6 * tol, 1e-12):
        raise DataError(f"{name} is not positive semi-definite (smallest eigenvalue {w.min():.3g})")
    return np.where(w > tol, w, 0.0), V


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2).

    ``‖μ₁ − μ₂‖² + tr(C₁ + C₂ − 2 (C₁^{1/2} C₂ C₁^{1/2})^{1/2})``, computed with symmetric
    eigendecompositions in float64: ``C₁^{1/2} = V diag(√λ) Vᵀ``, and the trace of the square
    root as the sum of the square roots of the eigenvalues of the symmetric PSD matrix
    ``C₁^{1/2} C₂ C₁^{1/2}``, so no complex values appear (unlike ``scipy.linalg.sqrtm`` on
    ``C₁ C₂``).  Eigenvalues at round-off level (``<= k·ε·λ_max``, negative ones included) are
    set to 0 before the square roots, which would otherwise turn an error ε into √ε (singular
    covariances, e.g. of fewer images than features, are common); clearly negative eigenvalues
    of ``cov1``/``cov2`` raise :class:`DataError`.  The result is symmetric in its two
    arguments up to round-off.

    Parameters
    ----------
    mu1, mu2 : ndarray of shape (k,)
    cov1, cov2 : ndarray of shape (k, k)
        Symmetric positive semi-definite.

    Returns
    -------
    float
        >= 0 (tiny negative round-off is returned as 0).
    """
    mu1 = check_vector(mu1, "mu1")
    k = len(mu1)
    mu2 = check_vector(mu2, "mu2", length=k)
    cov1, cov2 = _check_cov(cov1, "cov1", k), _check_cov(cov2, "cov2", k)
    w1, V1 = _psd_eigh(cov1, "cov1")
    w2, _ = _psd_eigh(cov2, "cov2")
    root1 = (V1 * np.sqrt(w1)) @ V1.T
    middle = root1 @ cov2 @ root1
    w_mid = np.linalg.eigvalsh((middle + middle.T) / 2)
    # The zero eigenvalues of a singular product come out at the round-off level of its factors.
    tol = k * np.finfo(np.float64).eps * float(w1.max(initial=0.0)) * float(w2.max(initial=0.0))
    trace_root = float(np.sum(np.sqrt(np.where(w_mid > tol, w_mid, 0.0))))
    diff = mu1 - mu2
    value = float(diff @ diff) + float(np.trace(cov1) + np.trace(cov2)) - 2.0 * trace_root
    return max(value, 0.0)


# --------------------------------------------------------------------------- sample quality


def sample_quality(
    classifier: Classifier,
    X_gen: np.ndarray,
    X_ref: np.ndarray,
    confidence: float = 0.9,
    batch_size: int = 1024,
    labels: np.ndarray | None = None,
) -> dict[str, Any]:
    """Quality of generated images ``X_gen`` judged by ``classifier`` against real ``X_ref``.

    Parameters
    ----------
    classifier : Classifier
    X_gen : ndarray of shape (n, d)
        Generated images (rows, ``d = h·w`` of the classifier's ``image_shape``), n >= 2.
    X_ref : ndarray of shape (m, d)
        Real reference images (e.g. a test split), m >= 2.
    confidence : float in (0, 1]
        Threshold of ``confident_fraction``.
    batch_size : int
        Images per forward pass.
    labels : ndarray of shape (n,), optional
        The class each row of ``X_gen`` was drawn as (a class-conditional sampler) or is (real
        images): adds ``label_agreement``, the fraction the classifier assigns to its label.

    Returns
    -------
    dict
        JSON-able: ``n`` (rows of ``X_gen``), ``n_ref`` (rows of ``X_ref``), ``confidence``,
        ``confident_fraction`` (fraction of ``X_gen`` whose largest class probability is
        ``>= confidence``), ``mean_max_prob``, ``class_histogram`` (10 fractions of the
        predicted classes), ``class_entropy`` (nats; ``log 10`` = evenly spread, 0 = one
        class only) and ``frechet_distance`` (in the classifier's penultimate features,
        between ``X_gen`` and ``X_ref``).
    """
    if not isinstance(classifier, Classifier):
        raise ConfigError(f"classifier must be a Classifier, got {type(classifier).__name__}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.number)) or not (
        0 < confidence <= 1
    ):
        raise ConfigError(f"confidence must be a number in (0, 1], got confidence={confidence!r}")
    X_gen = check_matrix(X_gen, "X_gen", d=classifier.d, min_rows=2)
    X_ref = check_matrix(X_ref, "X_ref", d=classifier.d, min_rows=2)
    drawn = None if labels is None else _check_labels(labels, len(X_gen))
    logits = classifier._apply(X_gen, "X_gen", classifier.net, batch_size)
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    max_prob = proba.max(axis=1)
    hist = np.bincount(proba.argmax(axis=1), minlength=N_CLASSES) / len(X_gen)
    nonzero = hist[hist > 0]
    mu_gen, cov_gen = feature_statistics(classifier._apply(X_gen, "X_gen", classifier.net.features, batch_size))
    mu_ref, cov_ref = feature_statistics(classifier._apply(X_ref, "X_ref", classifier.net.features, batch_size))
    measured = {
        "n": len(X_gen),
        "n_ref": len(X_ref),
        "confidence": float(confidence),
        "confident_fraction": float(np.mean(max_prob >= confidence)),
        "mean_max_prob": float(np.mean(max_prob)),
        "class_histogram": [float(h) for h in hist],
        "class_entropy": max(0.0, float(-np.sum(nonzero * np.log(nonzero)))),  # 0.0, not -0.0
        "frechet_distance": frechet_distance(mu_gen, cov_gen, mu_ref, cov_ref),
    }
    if drawn is not None:
        measured["label_agreement"] = float(np.mean(proba.argmax(axis=1) == drawn))
    return measured
