"""Which theory explains the network?  Analytic denoisers beside a trained one, on shared seeds.

The harness compares a network's denoiser ``D_net(Y, σ)`` with analytic ones (the local
denoisers of :mod:`lindiff.diffusion.local`, Wiener, empirical) three ways:

* :func:`heldout_mse` — per ``σ``, every denoiser's denoising MSE on held-out images, all on the
  same noise draw;
* :func:`path_agreement` — along the network's own sampling path, an analytic denoiser's output
  against the network's at the same point ``(y_t, σ_t)``: per-step r² and Pearson r;
* :func:`shared_seed_samples` + :func:`final_agreement` — every denoiser's sampler from the
  **same initial noise and the same noise draws** (one seed, drawn in step order, see
  :func:`lindiff.diffusion.samplers.sample`), and the final samples' r² against the network's,
  the median with a bootstrap interval.

``r²`` is pixelwise, per image: ``1 − Σ_p (a_p − b_p)² / Σ_p (b_p − b̄)²`` of an estimate ``a``
against the reference ``b`` (the network's), as in Kamb & Ganguli; it is 1 for a perfect match,
0 for a constant at the reference's mean, and ``1 − 2 = −1`` on average for an independent
estimate with the reference's statistics (whose Pearson r is 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lindiff.diffusion.denoisers import EmpiricalDenoiser, fit_wiener
from lindiff.diffusion.local import ClassConditional, EquivariantLocalDenoiser, LocalDenoiser, LocalityDenoiser
from lindiff.diffusion.samplers import SamplePath, Sampler, sample
from lindiff.errors import ConfigError
from lindiff.validation import check_matrix, check_vector

#: the network's entry in the study (the denoisers compared with it: :data:`THEORY_DENOISERS`)
NETWORK = "network"
#: the analytic denoisers the study puts beside a network
THEORY_DENOISERS = ("local", "equivariant", "locality", "wiener", "empirical")
#: those with a patch size per noise level, calibrated (:func:`lindiff.diffusion.local.calibrate_patch_sizes`)
CALIBRATED = ("local", "equivariant")
#: what a calibration matches: the network's outputs (Kamb & Ganguli) or the clean held-out images
CALIBRATION_REFERENCES = ("network", "heldout")
#: the seed stages every denoiser of one network run shares: the sampling noise, the held-out images and their noise
SAMPLE_STAGE, HELD_OUT_STAGE = "theory_sample", "theory_held_out"

__all__ = [
    "CALIBRATED",
    "CALIBRATION_REFERENCES",
    "HELD_OUT_STAGE",
    "NETWORK",
    "SAMPLE_STAGE",
    "THEORY_DENOISERS",
    "analytic_denoiser",
    "bootstrap_median",
    "build_denoiser",
    "conditioned",
    "calibration_levels",
    "class_denoisers",
    "clipped",
    "in_model_units",
    "sample_in_units",
    "final_agreement",
    "heldout_mse",
    "path_agreement",
    "pixel_pearson",
    "pixel_r2",
    "shared_seed_samples",
]

Denoiser = Callable[[np.ndarray, float], np.ndarray]


def _pair(estimate, reference) -> tuple[np.ndarray, np.ndarray]:
    reference = check_matrix(reference, "reference", min_rows=1)
    estimate = check_matrix(estimate, "estimate", d=reference.shape[1])
    if estimate.shape != reference.shape:
        raise ConfigError(f"estimate {estimate.shape} and reference {reference.shape} must have the same shape")
    return estimate, reference


def pixel_r2(estimate, reference) -> np.ndarray:
    """Per row, the pixelwise r² of ``estimate`` (m, d) against ``reference`` (m, d): (m,).  A
    constant reference row (no variance) gives NaN."""
    estimate, reference = _pair(estimate, reference)
    residual = np.sum((estimate - reference) ** 2, axis=1)
    spread = np.sum((reference - reference.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, 1.0 - residual / spread, np.nan)


def pixel_pearson(estimate, reference) -> np.ndarray:
    """Per row, the Pearson correlation of the pixels of ``estimate`` and ``reference``: (m,)
    (NaN where either row is constant)."""
    estimate, reference = _pair(estimate, reference)
    a = estimate - estimate.mean(axis=1, keepdims=True)
    b = reference - reference.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norms > 0, np.sum(a * b, axis=1) / norms, np.nan)


def bootstrap_median(values, resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """The median of ``values`` (NaNs dropped) and its percentile-bootstrap interval at ``level``."""
    values = check_vector(values, "values", finite=False)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan"), float("nan")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got level={level}")
    rng = np.random.default_rng(seed)
    medians = np.median(values[rng.integers(0, len(values), size=(resamples, len(values)))], axis=1)
    tail = 50.0 * (1.0 - level)
    return float(np.median(values)), float(np.percentile(medians, tail)), float(np.percentile(medians, 100 - tail))


def heldout_mse(denoisers: Mapping[str, Denoiser], X_test, sigma, seed: int = 0) -> list[dict]:
    """Rows ``{sigma, denoiser, mse}``: each denoiser's mean squared error on ``X_test`` (m, d)
    noised at each ``σ`` (one draw per level, shared by the denoisers)."""
    X_test = check_matrix(X_test, "X_test", min_rows=1)
    levels = check_vector(sigma, "sigma", error=ConfigError)
    rng = np.random.default_rng(seed)
    rows = []
    for level in levels:
        Y = X_test + level * rng.standard_normal(X_test.shape)
        for name, denoiser in denoisers.items():
            rows.append(
                {"sigma": float(level), "denoiser": name, "mse": float(np.mean((denoiser(Y, float(level)) - X_test) ** 2))}
            )
    return rows


def path_agreement(denoiser: Denoiser, points, sigma, reference) -> list[dict]:
    """Rows ``{step, sigma, r2, pearson}`` (medians over the samples): at every point of a
    network's path with ``σ > 0`` — ``points`` (steps, m, d), ``sigma`` (steps,) — ``denoiser``'s
    output against the network's there, ``reference`` (steps, m, d)."""
    points, reference = np.asarray(points, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    sigma = check_vector(sigma, "sigma", length=len(points), error=ConfigError)
    if points.ndim != 3 or reference.shape != points.shape:
        raise ConfigError(f"points {points.shape} and reference {reference.shape} must both be (steps, m, d)")
    rows = []
    for step, level in enumerate(sigma):
        if level <= 0:
            continue
        estimate = denoiser(points[step], float(level))
        rows.append(
            {
                "step": step,
                "sigma": float(level),
                "r2": float(np.nanmedian(pixel_r2(estimate, reference[step]))),
                "pearson": float(np.nanmedian(pixel_pearson(estimate, reference[step]))),
            }
        )
    return rows


def shared_seed_samples(
    denoisers: Mapping[str, Denoiser], sigma_bar, sampler: Sampler, n: int, d: int, seed=0, record: int | None = 0
) -> dict[str, SamplePath]:
    """Every denoiser's sampler from the same seed: the same ``y_T`` and the same noise draws
    (``sample`` draws them in step order, whatever the denoiser returns)."""
    if isinstance(seed, np.random.Generator):
        raise ConfigError("seed must be an int or SeedSequence here: a Generator would be shared, not repeated")
    return {name: sample(denoiser, sigma_bar, sampler, n, d, seed=seed, record=record) for name, denoiser in denoisers.items()}


def final_agreement(samples: Mapping[str, np.ndarray], reference: str, resamples: int = 1000, seed: int = 0) -> list[dict]:
    """Rows ``{denoiser, r2_median, r2_low, r2_high, pearson_median}``: the final samples of every
    entry of ``samples`` against those of ``reference`` (same seeds, row for row), the median
    r² with its 95% bootstrap interval."""
    if reference not in samples:
        raise ConfigError(f"reference {reference!r} is not among the samples {sorted(samples)}")
    target = samples[reference]
    rows = []
    for name, values in samples.items():
        r2 = pixel_r2(values, target)
        median, low, high = bootstrap_median(r2, resamples=resamples, seed=seed)
        rows.append(
            {
                "denoiser": name,
                "r2_median": median,
                "r2_low": low,
                "r2_high": high,
                "pearson_median": float(np.nanmedian(pixel_pearson(values, target))),
            }
        )
    return rows


def build_denoiser(
    name: str, X_train, image_shape, *, patch_size=None, threshold: float = 0.02, pool_size: int | None = None, seed: int = 0
) -> Denoiser:
    """The analytic denoiser ``name`` (:data:`THEORY_DENOISERS`) of the training images ``X_train``
    (n, d) in data units; ``patch_size`` (an odd int or a PatchSizes) for the calibrated ones,
    ``threshold`` for locality, ``pool_size`` and ``seed`` for the equivariant pool."""
    if name == "local":
        return LocalDenoiser(X_train, image_shape, patch_size)
    if name == "equivariant":
        return EquivariantLocalDenoiser(X_train, image_shape, patch_size, pool_size=pool_size, seed=seed)
    if name == "locality":
        return LocalityDenoiser(X_train, threshold=threshold)
    if name == "wiener":
        return fit_wiener(X_train)
    if name == "empirical":
        return EmpiricalDenoiser(X_train)
    raise ConfigError(f"unknown analytic denoiser {name!r}; allowed: {', '.join(THEORY_DENOISERS)}")


def class_denoisers(name: str, X_train, labels, image_shape, **options) -> dict[int, Denoiser]:
    """One :func:`build_denoiser` per class of ``labels`` (n,), on that class's images (a
    class-conditional pool; combine them with :class:`~lindiff.diffusion.local.ClassConditional`)."""
    labels = np.asarray(labels)
    return {int(c): build_denoiser(name, X_train[labels == c], image_shape, **options) for c in np.unique(labels)}


def analytic_denoiser(name: str, X_train, labels, image_shape, per_class: bool = False, **options):
    """:func:`build_denoiser` of ``name`` on ``X_train``, or with ``per_class`` one per class of
    ``labels`` (:func:`class_denoisers`, routed by :func:`conditioned`)."""
    if per_class:
        return class_denoisers(name, X_train, labels, image_shape, **options)
    return build_denoiser(name, X_train, image_shape, **options)


def conditioned(denoisers: Denoiser | Mapping[int, Denoiser], row_labels=None) -> Denoiser:
    """A denoiser for rows with these labels: the per-class ones routed by ``row_labels``, or the one."""
    if isinstance(denoisers, Mapping):
        if row_labels is None:
            raise ConfigError("class-conditional pools need the labels of the rows")
        return ClassConditional(denoisers, row_labels)
    return denoisers


def clipped(denoiser: Denoiser, clip: tuple[float, float] | None) -> Denoiser:
    """``denoiser`` with its estimates clipped to ``clip`` (DDPM's ``clip_denoised``); None: as is."""
    if clip is None:
        return denoiser
    low, high = clip

    def clip_estimate(Y: np.ndarray, sigma: float) -> np.ndarray:
        return np.clip(denoiser(Y, sigma), low, high)

    return clip_estimate


def in_model_units(denoiser: Denoiser, center: float, scale: float) -> Denoiser:
    """A data-unit denoiser as one in a network's units ``y_s = (y − center)·scale``, ``σ_s =
    scale·σ``: what the network's sampler steps in."""

    def in_units(Y: np.ndarray, sigma: float) -> np.ndarray:
        return (denoiser(Y / scale + center, sigma / scale) - center) * scale

    return in_units


def calibration_levels(sigma, count: int) -> np.ndarray:
    """Up to ``count`` of the noise levels ``sigma`` (> 0 ones only), spread evenly in ``log σ``
    (the nearest level to each of ``count`` log-spaced values, without repeats)."""
    levels = np.unique(np.asarray(sigma, dtype=np.float64))
    levels = levels[levels > 0]
    if not len(levels):
        raise ConfigError("calibration needs noise levels > 0")
    wanted = np.geomspace(levels[0], levels[-1], max(1, int(count)))
    return np.unique(levels[np.argmin(np.abs(np.log(levels)[None] - np.log(wanted)[:, None]), axis=1)])


def sample_in_units(
    denoiser: Denoiser, sigma_bar, sampler: Sampler, n: int, d: int, seed, center: float, scale: float, record: int | None = 0
) -> SamplePath:
    """Sample with a data-unit ``denoiser`` on a network's noise levels ``sigma_bar`` (its units,
    ``y_s = (y − center)·scale``), stepping where the network's sampler steps: the same seed gives
    the same initial noise and the same noise draws as the network's run.  The path comes back in
    data units."""
    path = sample(in_model_units(denoiser, center, scale), sigma_bar, sampler, n, d, seed=seed, record=record)
    return SamplePath(path.path / scale + center, path.sigma / scale, path.method, path.params)
