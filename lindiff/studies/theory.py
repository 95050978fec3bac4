"""Which theory explains the network?  Analytic denoisers beside a trained one, on shared seeds.

The harness compares a network's denoiser ``D_net(Y, σ)`` with analytic ones (the local
denoisers of :mod:`lindiff.diffusion.local`, Wiener, empirical) three ways:

* :func:`heldout_mse` — per ``σ``, every denoiser's denoising MSE on held-out images, all on the
  same noise draw;
* :func:`path_agreement` — along the network's own sampling path, each analytic denoiser's
  output against the network's at the same point ``(y_t, σ_t)``: per-step r² and Pearson r;
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

from lindiff.diffusion.samplers import SamplePath, Sampler, sample
from lindiff.errors import ConfigError
from lindiff.validation import check_matrix, check_vector

__all__ = [
    "bootstrap_median",
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


def path_agreement(network: Denoiser, denoisers: Mapping[str, Denoiser], path: SamplePath) -> list[dict]:
    """Rows ``{step, sigma, denoiser, r2, pearson}`` (medians over the samples): at every recorded
    point of the network's ``path`` with ``σ > 0``, each denoiser's output against the network's
    at the same ``(y_t, σ_t)``."""
    rows = []
    for step, (points, sigmas) in enumerate(zip(path.path, path.sigma)):
        level = float(sigmas[0])
        if level <= 0:
            continue
        reference = network(points, level)
        for name, denoiser in denoisers.items():
            estimate = denoiser(points, level)
            rows.append(
                {
                    "step": step,
                    "sigma": level,
                    "denoiser": name,
                    "r2": float(np.nanmedian(pixel_r2(estimate, reference))),
                    "pearson": float(np.nanmedian(pixel_pearson(estimate, reference))),
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
