"""Memorization against generalization as the training set grows (Kadkhodaie et al.).

The study (Kadkhodaie, Guth, Simoncelli & Mallat; talk in
``shared/papers/kadkhodaie-generalization-gahb-talk.txt``): split the data into two disjoint
halves A and B, train one model on the first ``n`` images of each, and generate from both with
the *same* seed.  A model that memorizes returns (near) copies of its own training images, so
its samples resemble the nearest training image more than the other model's sample; a model
that generalizes learns (nearly) the same density from A and from B, so the two same-seed
samples nearly coincide, and neither resembles a particular training image.

Here the models are lindiff's linear chains.  Everything below takes plain arrays with
**samples as rows** (``(n, d)``); similarities are cosines ``<x, y> / (||x|| ||y||)``, with the
convention that a zero row has similarity 0 to everything.

Linear-model facts the tests pin down
-------------------------------------
* Same data and same learn seed for A and B give identical bases, so with the same generator
  seed the samples coincide: A/B similarity exactly 1.
* A linear chain of rank ``r <= n`` learned uncentered on ``n`` linearly independent images
  generates samples in the span of those images (``x_g = U_0 a_0`` and ``U_0``'s top ``n``
  eigenvectors span the training images): :func:`span_cosine` is 1.  :func:`lindiff.linear.learn.learn_bases`
  needs ``n >= 2``, so the smallest training set here is 2 (the talk starts at 1).
* With ``n >= d`` both halves learn nearly the same bases and the A/B similarity is high,
  provided every chain component stays detectable up to ``σ̄_T`` (``λ_i²/σ̄_T² ≫ sqrt(d/n)``;
  a component lost in the noise at high levels gets independent, learn-noise-dominated bases
  in A and B): mean cosine 0.96–0.97 on the digits halves (``n = 800``, ``d = 64``, rank 5,
  ``σ̄_T = 0.3``, 3 splits), but 0.65–0.84 with ``σ̄_T = 1``.  Centered, with cosines taken about the data
  mean, the fraction of samples closer to a training image than to the other model's sample
  falls from 1.0 at ``n = 2`` to 0.02–0.06 at ``n = 800``: the memorization-to-generalization
  transition of the talk.
* The shared seed must couple the *pixel-space* noise.  :func:`lindiff.linear.generate.run_chain`
  draws the injected noise in each chain's coefficient space, so two chains whose bases
  order or rotate near-degenerate components differently receive different pixel noise; on
  the digits halves this alone dropped the n = 800 A/B cosine from 0.94–0.97 to 0.54–0.75 for
  some splits.  :func:`linear_ab_study` therefore uses :func:`run_chain_pixel_noise` by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lindiff.data import Dataset
from lindiff.errors import ConfigError, DataError
from lindiff.linear.generate import run_chain
from lindiff.linear.learn import Bases, learn_bases
from lindiff.linear.schedules import Schedule
from lindiff.validation import check_matrix

__all__ = [
    "NOISE_SPACES",
    "ABStudy",
    "ab_compare",
    "ab_curve_table",
    "ab_study",
    "ab_train_config",
    "batches_per_epoch",
    "cosine_similarity_rows",
    "deep_ab_samples",
    "half_indices",
    "linear_ab_curve",
    "linear_ab_samples",
    "linear_ab_study",
    "nearest_neighbor_similarity",
    "run_chain_pixel_noise",
    "span_cosine",
]

NOISE_SPACES = ("pixel", "coefficient")


def _matrix(name: str, X, d: int | None = None) -> np.ndarray:
    """``X`` as a finite float64 matrix ``(n, d)`` (:func:`lindiff.validation.check_matrix`)."""
    return check_matrix(X, name, d=d)


def _matrix_view(name: str, X, d: int | None = None) -> np.ndarray:
    """Like :func:`_matrix` without the float64 copy (finiteness is checked chunk by chunk)."""
    return check_matrix(X, name, d=d, dtype=None, require_real=True, finite=False)


def cosine_similarity_rows(A, B) -> np.ndarray:
    """Row-wise cosine similarity of two ``(n, d)`` arrays, shape ``(n,)``.

    Computed as ``<a, b> / sqrt(||a||² ||b||²)``, so a row compared with an identical row gives
    exactly 1.0; rows with zero norm give 0.  Values are clipped to ``[-1, 1]``.
    """
    A = _matrix("A", A)
    B = _matrix("B", B, A.shape[1])
    if A.shape != B.shape:
        raise DataError(f"A and B must have the same shape, got {A.shape} and {B.shape}")
    dot = np.einsum("ij,ij->i", A, B)
    norms = np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", B, B)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(norms > 0, dot / np.sqrt(norms), 0.0)
    return np.clip(cos, -1.0, 1.0)


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def nearest_neighbor_similarity(samples, train, chunk_size: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """For each sample, the largest cosine similarity to any training example and its index.

    The training set is processed in chunks of ``chunk_size`` rows (converted to float64
    and normalized one chunk at a time), so the extra memory is
    ``O(n_samples · chunk_size + chunk_size · d)`` whatever the training set's size and dtype
    (an MNIST training set, 60000 × 784 uint8 or float32, is never copied whole).  Ties go to
    the lowest index, as with ``argmax`` over the full similarity matrix.

    Returns
    -------
    (similarity (n_samples,), index (n_samples,) int64)
    """
    samples = _matrix("samples", samples)
    train = _matrix_view("train", train, samples.shape[1])
    if len(train) < 1:
        raise DataError("train must hold at least one example")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ConfigError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    unit_samples = _unit_rows(samples)
    best = np.full(len(samples), -np.inf)
    index = np.zeros(len(samples), dtype=np.int64)
    for start in range(0, len(train), chunk_size):
        block = _matrix("train", train[start : start + chunk_size])
        block = _unit_rows(block)
        sims = unit_samples @ block.T
        arg = np.argmax(sims, axis=1)
        value = sims[np.arange(len(samples)), arg]
        better = value > best
        best[better] = value[better]
        index[better] = start + arg[better]
    return np.clip(best, -1.0, 1.0), index


def span_cosine(samples, train, rtol: float | None = None) -> np.ndarray:
    """Cosine of the angle between each sample and the span of the training rows, ``(n,)``.

    ``||Π x|| / ||x||`` with ``Π`` the orthogonal projection onto ``span(train)``.  1 when the
    sample is a combination of training images: the linear model's form of memorization.
    Trivially 1 once the training images span the space (``n >= d``).

    The span comes from the eigendecomposition of the smaller Gram matrix (``n × n`` or
    ``d × d``); eigenvalues below ``rtol`` times the largest are treated as zero (default
    ``10 · max(n, d) · eps``, i.e. singular values below about ``3e-7`` of the largest for
    MNIST-sized problems).
    """
    samples = _matrix("samples", samples)
    train = _matrix("train", train, samples.shape[1])
    n, d = train.shape
    wide = n <= d
    gram = train @ train.T if wide else train.T @ train
    vals, vecs = np.linalg.eigh(gram)
    if rtol is None:
        rtol = 10 * max(n, d) * np.finfo(np.float64).eps
    keep = vals > rtol * max(vals.max(), 0.0) if vals.size and vals.max() > 0 else np.zeros(len(vals), bool)
    basis = train.T @ (vecs[:, keep] / np.sqrt(vals[keep])) if wide else vecs[:, keep]
    projected = np.linalg.norm(samples @ basis, axis=1)
    norms = np.linalg.norm(samples, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.where(norms > 0, projected / norms, 0.0), 0.0, 1.0)


@dataclass(frozen=True)
class ABStudy:
    """Result of :func:`ab_study`.

    Attributes
    ----------
    per_sample : DataFrame
        One row per same-seed pair: ``sample, cos_ab`` (A-sample vs B-sample),
        ``nn_sim_a, nn_index_a`` (A-sample vs its nearest A training image), ``nn_sim_b,
        nn_index_b`` (likewise for B), ``a_closer_to_train`` (``nn_sim_a > cos_ab``: the
        A-sample is closer to a training image of A than to the B-sample),
        ``b_closer_to_train``.
    summary : dict
        ``n_pairs``, the means ``cos_ab``, ``nn_sim_a``, ``nn_sim_b``, the fractions
        ``frac_a_closer_to_train``, ``frac_b_closer_to_train`` and ``frac_closer_to_train``
        (over both), plus whatever the caller added (e.g. ``n``, ``rank``).
    """

    per_sample: pd.DataFrame = field(repr=False)
    summary: dict


def ab_study(samples_a, samples_b, train_a, train_b, chunk_size: int = 8192, reference=None) -> ABStudy:
    """The same-seed A/B comparison of Kadkhodaie et al. on given samples.

    Parameters
    ----------
    samples_a, samples_b : arrays of shape (m, d)
        Row ``j`` of both was generated from the same seed / initial noise.
    train_a, train_b : arrays of shape (n_a, d), (n_b, d)
        The training sets of the two models.
    chunk_size : int
        For :func:`nearest_neighbor_similarity`.
    reference : array of shape (d,), optional
        Subtracted from samples and training images before any cosine (e.g. a common mean,
        so that the similarities measure the fluctuations rather than the shared mean image).

    Returns
    -------
    ABStudy
    """
    samples_a = _matrix("samples_a", samples_a)
    samples_b = _matrix("samples_b", samples_b, samples_a.shape[1])
    if samples_a.shape != samples_b.shape:
        raise DataError(f"samples_a and samples_b must pair up row by row, got {samples_a.shape} and {samples_b.shape}")
    train_a = _matrix_view("train_a", train_a, samples_a.shape[1])
    train_b = _matrix_view("train_b", train_b, samples_a.shape[1])
    if reference is not None:  # (copies the training sets)
        reference = np.asarray(reference, dtype=np.float64)
        if reference.shape != (samples_a.shape[1],) or not np.all(np.isfinite(reference)):
            raise DataError(f"reference must be a finite vector of shape ({samples_a.shape[1]},)")
        samples_a, samples_b = samples_a - reference, samples_b - reference
        train_a, train_b = train_a - reference, train_b - reference
    cos_ab = cosine_similarity_rows(samples_a, samples_b)
    nn_a, idx_a = nearest_neighbor_similarity(samples_a, train_a, chunk_size)
    nn_b, idx_b = nearest_neighbor_similarity(samples_b, train_b, chunk_size)
    per_sample = pd.DataFrame(
        {
            "sample": np.arange(len(cos_ab)),
            "cos_ab": cos_ab,
            "nn_sim_a": nn_a,
            "nn_index_a": idx_a,
            "nn_sim_b": nn_b,
            "nn_index_b": idx_b,
            "a_closer_to_train": nn_a > cos_ab,
            "b_closer_to_train": nn_b > cos_ab,
        }
    )
    summary = {
        "n_pairs": len(cos_ab),
        "cos_ab": float(cos_ab.mean()),
        "nn_sim_a": float(nn_a.mean()),
        "nn_sim_b": float(nn_b.mean()),
        "frac_a_closer_to_train": float(per_sample["a_closer_to_train"].mean()),
        "frac_b_closer_to_train": float(per_sample["b_closer_to_train"].mean()),
        "frac_closer_to_train": float(
            (per_sample["a_closer_to_train"].sum() + per_sample["b_closer_to_train"].sum()) / (2 * len(cos_ab))
        ),
    }
    return ABStudy(per_sample=per_sample, summary=summary)


def run_chain_pixel_noise(
    bases: Bases,
    n_samples: int,
    rank: int | None = None,
    noise_std=None,
    initial_std: float | None = None,
    seed=0,
) -> np.ndarray:
    """The chain of :func:`lindiff.linear.generate.run_chain` with the injected noise drawn in pixel space.

    ``x_T = P_T ξ_T``, ``x_t = P_t (x_{t+1} + ξ_t)`` with every ``ξ_t`` a ``d``-dimensional
    draw: ``ξ_T`` (std ``initial_std``, default ``sigma_bar[T]``) and then ``ξ_{T-1}, …, ξ_0``
    (std ``noise_std[t]``), in that order, from one stream.  Same distribution as
    ``run_chain`` (``U_tᵀ ξ_t ~ N(0, e_t² I_r)``), and for the deterministic chain the same
    samples (``ξ_T`` is drawn first, identically).  The difference is the coupling of two
    chains run with one seed: ``run_chain`` draws the injected noise in each chain's own
    ``r``-dimensional coefficient space, so chains with different bases receive *different*
    pixel-space noise ``U_t z``; here both receive the same ``ξ_t`` (as a deep model's sampler
    with a shared seed would), each keeping its own projection.

    Returns
    -------
    ndarray of shape (n_samples, d), the training mean added back for centered bases.
    """
    return run_chain(bases, n_samples, rank=rank, noise_std=noise_std, initial_std=initial_std,
                     seed=seed, noise_space="pixel").samples


def _rows(name: str, half) -> np.ndarray:
    return _matrix(name, half.X if isinstance(half, Dataset) else half)


def linear_ab_study(
    half_a,
    half_b,
    n: int,
    schedule: Schedule,
    rank: int,
    n_samples: int = 100,
    noise_std=None,
    initial_std: float | None = None,
    learn_seed_a=0,
    learn_seed_b=1,
    gen_seed=0,
    centered: bool = False,
    method: str = "exact",
    chunk_size: int = 8192,
    reference=None,
    noise_space: str = "pixel",
) -> ABStudy:
    """The A/B study for the linear chain at training-set size ``n``.

    Learns :func:`lindiff.linear.learn.learn_bases` on the first ``n`` rows of each half (same
    ``schedule`` and ``rank``; the learn seeds may differ) and generates ``n_samples`` from both
    with the same ``gen_seed``, then runs :func:`ab_study` against the ``n`` training rows of
    each.  ``ξ_T`` is the same pixel-space draw for both.  The injected noise is identical in
    pixel space with ``noise_space="pixel"`` (:func:`run_chain_pixel_noise`, the default), or
    identical in each chain's coefficient space with ``"coefficient"``
    (:func:`lindiff.linear.generate.run_chain`): ``U_t^A z`` against ``U_t^B z``, which differ where the
    two halves order or rotate near-degenerate components differently.  The two coincide for
    the deterministic chain (``noise_std=None``).

    Parameters
    ----------
    half_a, half_b : Dataset or array of shape (N, d)
        Disjoint halves, e.g. from :func:`lindiff.data.split_halves`.
    n : int
        Training-set size, ``2 <= n <= min(N_a, N_b)`` (``learn_bases`` needs ``n >= 2``).
    schedule : Schedule
    rank : int
        Chain rank (also the number of learned components).
    n_samples : int
    noise_std : array of shape (T,), optional
        Injected-noise stds (see :func:`lindiff.linear.generate.injection_std`); None: deterministic.
    initial_std : float, optional
        Std of ``ξ_T`` (default ``schedule.sigma_bar[T]``).
    learn_seed_a, learn_seed_b, gen_seed
        Seeds (int, SeedSequence or Generator) of the two learns and of both generations.
    centered, method
        Passed to ``learn_bases``.
    chunk_size : int
        For the nearest-neighbour search.
    reference : array of shape (d,), optional
        Passed to :func:`ab_study` (not to :func:`span_cosine`).
    noise_space : {"pixel", "coefficient"}
        How the shared seed couples the injected noise of the two chains (above).

    Returns
    -------
    ABStudy, whose summary also holds ``n``, ``rank``, ``T`` and ``span_cos_a``, ``span_cos_b``
    (mean :func:`span_cosine` of the samples to their own training rows).
    """
    X_a, X_b = _rows("half_a", half_a), _rows("half_b", half_b)
    if X_a.shape[1] != X_b.shape[1]:
        raise DataError(f"the halves differ in dimension: {X_a.shape[1]} and {X_b.shape[1]}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ConfigError(f"n must be an integer, got {n!r}")
    if n < 2:
        raise ConfigError(f"n must be >= 2 (learn_bases needs two training samples), got n={n}")
    if n > min(len(X_a), len(X_b)):
        raise ConfigError(f"n={n} exceeds the smaller half ({min(len(X_a), len(X_b))} samples)")
    if noise_space not in NOISE_SPACES:
        raise ConfigError(f"noise_space must be one of {', '.join(NOISE_SPACES)}, got {noise_space!r}")
    if isinstance(gen_seed, np.random.Generator):
        raise ConfigError("gen_seed must be an int or SeedSequence: both chains must replay the same stream")
    train_a, train_b = X_a[:n], X_b[:n]
    samples = []
    for train, learn_seed in ((train_a, learn_seed_a), (train_b, learn_seed_b)):
        bases = learn_bases(train, schedule, k=rank, method=method, centered=centered, seed=learn_seed)
        kwargs = {"rank": rank, "noise_std": noise_std, "initial_std": initial_std, "seed": gen_seed}
        if noise_space == "pixel":
            samples.append(run_chain_pixel_noise(bases, n_samples, **kwargs))
        else:
            samples.append(run_chain(bases, n_samples, **kwargs).samples)
    study = ab_study(samples[0], samples[1], train_a, train_b, chunk_size, reference)
    study.summary.update(
        n=int(n),
        rank=int(rank),
        T=int(schedule.T),
        span_cos_a=float(span_cosine(samples[0], train_a).mean()),
        span_cos_b=float(span_cosine(samples[1], train_b).mean()),
    )
    return study


def linear_ab_curve(half_a, half_b, ns, schedule: Schedule, rank: int, **kwargs) -> pd.DataFrame:
    """:func:`linear_ab_study` for each training-set size in ``ns``: one summary row per ``n``.

    With ``rank > n`` the chain keeps null directions of the training data (noise
    eigenvectors at every level).  ``kwargs`` go to :func:`linear_ab_study`.
    """
    rows = [linear_ab_study(half_a, half_b, int(n), schedule, rank, **kwargs).summary for n in ns]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- building blocks of the A/B stages


def half_indices(dataset: Dataset, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into ``dataset``) of the two halves of :func:`lindiff.data.split_halves`.

    Same split as ``split_halves(dataset, seed)`` (stratified when labelled, each half in the
    original order): ``dataset.X[idx_a]`` is its first half, row for row.
    """
    from lindiff.data import split_halves

    index = Dataset(X=np.arange(dataset.n, dtype=np.float64)[:, None], labels=dataset.labels, name=dataset.name)
    first, second = split_halves(index, seed)
    return first.X[:, 0].astype(np.int64), second.X[:, 0].astype(np.int64)


def linear_ab_samples(bases_a: Bases, bases_b: Bases, n_samples: int, rank: int | None = None, noise_std=None,
                      initial_std: float | None = None, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Same-seed samples of two linear chains, pixel-space noise shared (:func:`run_chain_pixel_noise`).

    ``seed`` must be an int or SeedSequence (each chain replays the same stream).
    """
    if isinstance(seed, np.random.Generator):
        raise ConfigError("seed must be an int or SeedSequence: both chains must replay the same stream")
    kwargs = {"rank": rank, "noise_std": noise_std, "initial_std": initial_std, "seed": seed}
    return run_chain_pixel_noise(bases_a, n_samples, **kwargs), run_chain_pixel_noise(bases_b, n_samples, **kwargs)


def deep_ab_samples(denoiser_a, denoiser_b, n_samples: int, d: int, seed=0, **sampler):
    """Same-seed samples of two deep denoisers with :func:`lindiff.deep.sample.sample_ascent`.

    Both runs draw from ``numpy.random.default_rng(seed)`` afresh: the same initial noise and,
    at every step ``t``, the same injected noise (the sampler draws a full ``(n, d)`` block per
    step whether or not a sample has stopped, so the streams stay aligned even when the two
    models' adaptive stopping differs; the step sizes depend on ``t`` only).  ``sampler`` goes
    to ``sample_ascent`` (``sigma_0, sigma_final, h0, beta, init_mean, max_steps``).

    Returns
    -------
    (samples_a (n, d), samples_b (n, d), steps_a, steps_b)
    """
    from lindiff.deep.sample import sample_ascent

    if isinstance(seed, np.random.Generator):
        raise ConfigError("seed must be an int or SeedSequence: both samplers must replay the same stream")
    paths = [sample_ascent(model, n_samples, d, seed=np.random.default_rng(seed), **sampler)
             for model in (denoiser_a, denoiser_b)]
    return paths[0].samples, paths[1].samples, paths[0].steps, paths[1].steps


def batches_per_epoch(cfg, n: int) -> int:
    """Optimizer steps per epoch of :func:`lindiff.deep.train.train_denoiser` on ``n`` rows with
    :class:`~lindiff.deep.train.TrainConfig` ``cfg`` (validation split and ``max_train`` applied,
    incomplete last batch dropped, batch = ``min(batch_size, rows)``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ConfigError(f"n must be an integer >= 2, got {n!r}")
    n_val = min(round(cfg.val_fraction * n), cfg.max_val, n - 1)
    n_train = n - n_val
    if cfg.max_train is not None:
        n_train = min(n_train, cfg.max_train)
    return n_train // min(cfg.batch_size, n_train)


def ab_train_config(cfg, n: int, reference_n: int, steps: int | None = None, max_epochs: int = 20000):
    """The training config of one A/B deep model on ``n`` images: a step budget independent of ``n``.

    The A/B study compares models trained on 2 … N/2 images; with a fixed number of epochs
    the small-``n`` models would take only a handful of optimizer steps.  Here every model
    takes (about) the same number of steps: ``steps``, by default the steps ``cfg`` takes on
    ``reference_n`` images (``cfg.epochs · batches_per_epoch(cfg, reference_n)``, e.g. a whole
    half).  The epochs become ``ceil(steps / batches_per_epoch(n))`` (at most ``max_epochs``),
    checkpoints are written about as often as ``cfg`` would write them (``checkpoint_every``
    scaled by the same factor), and the training set is exactly the ``n`` images: no
    validation split (``val_fraction = 0``) and no subsampling (``max_train = None``), so that
    the nearest-training-image similarity is measured against what the model saw.

    Returns
    -------
    TrainConfig
    """
    from dataclasses import replace

    if isinstance(reference_n, bool) or not isinstance(reference_n, (int, np.integer)) or reference_n < 2:
        raise ConfigError(f"reference_n must be an integer >= 2, got {reference_n!r}")
    if steps is None:
        steps = cfg.epochs * batches_per_epoch(cfg, int(reference_n))
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigError(f"steps must be an integer >= 1, got {steps!r}")
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) or max_epochs < 1:
        raise ConfigError(f"max_epochs must be an integer >= 1, got {max_epochs!r}")
    plain = replace(cfg, val_fraction=0.0, max_train=None)
    per_epoch = batches_per_epoch(plain, int(n))
    epochs = int(min(max_epochs, -(-int(steps) // per_epoch)))
    every = max(1, round(cfg.checkpoint_every * epochs / cfg.epochs))
    return replace(plain, epochs=epochs, checkpoint_every=int(every))


def ab_compare(samples_a, samples_b, train_a, train_b, reference=None, chunk_size: int = 8192) -> ABStudy:
    """:func:`ab_study` plus what the transition curve reads: ``nn_sim`` (mean of ``nn_sim_a``
    and ``nn_sim_b``), the quartiles ``cos_ab_q25, cos_ab_q75``, and the span cosines
    ``span_cos_a, span_cos_b, span_cos`` (mean :func:`span_cosine` of each model's samples to
    its own training rows, uncentered: 1 when the samples are combinations of the training
    images, the linear model's memorization)."""
    study = ab_study(samples_a, samples_b, train_a, train_b, chunk_size=chunk_size, reference=reference)
    span_a = float(span_cosine(samples_a, train_a).mean())
    span_b = float(span_cosine(samples_b, train_b).mean())
    cos = study.per_sample["cos_ab"].to_numpy()
    study.summary.update(
        nn_sim=0.5 * (study.summary["nn_sim_a"] + study.summary["nn_sim_b"]),
        cos_ab_q25=float(np.quantile(cos, 0.25)),
        cos_ab_q75=float(np.quantile(cos, 0.75)),
        span_cos_a=span_a,
        span_cos_b=span_b,
        span_cos=0.5 * (span_a + span_b),
    )
    return study


def ab_curve_table(summaries) -> pd.DataFrame:
    """The transition curve: one row per summary (of :func:`ab_compare`), sorted by ``n``."""
    table = pd.DataFrame([dict(s) for s in summaries])
    if table.empty or "n" not in table.columns:
        raise DataError("ab_curve_table: needs at least one summary with an 'n'")
    if table["n"].duplicated().any():
        raise DataError(f"ab_curve_table: duplicate n {sorted(table['n'][table['n'].duplicated()].tolist())}")
    return table.sort_values("n").reset_index(drop=True)
