"""Samplers that record their whole path ``x_T … x_0`` (for the Jacobian analysis of Fig. 7).

Both take a denoiser ``D`` (a :class:`~lindiff.deep.models.FlatDenoiser`, any torch module on
(n, d) tensors, or a numpy callable (n, d) -> (n, d)) and return a :class:`SamplePath`
with ``path`` of shape ``(steps + 1, n, d)`` (``path[0]`` the initial noise, ``path[-1]``
the generated samples) and ``sigma`` of shape ``(steps + 1, n)``.  All randomness comes from
``numpy.random.default_rng(seed)``; the computation is deterministic on CPU.

``sample_ascent`` — Kadkhodaie & Simoncelli's coarse-to-fine stochastic ascent (2021)
    ``y_0 = m + σ_0 z``; at step ``t = 1, 2, …``: ``r = D(y) − y`` (the residual, ∝ the score),
    ``σ_t = ‖r‖/√d``, ``h_t = h_0 t / (1 + h_0 (t − 1))``,
    ``γ_t = σ_t · sqrt((1 − β h_t)² − (1 − h_t)²)``,
    ``y ← y + h_t r + γ_t z``.  ``β ∈ (0, 1]`` sets the injected noise (β = 1: none);
    the effective noise then falls by about ``(1 − β h_t)`` per step.  A sample stops (is
    frozen) once its ``σ_t`` falls to ``sigma_final``; the loop ends when all have.
    ``sigma`` holds the residual estimate ``σ_t`` of every recorded point.

``sample_ve`` — a variance-exploding reverse process on a lindiff :class:`Schedule`
    (:func:`lindiff.diffusion.samplers.sample` with the ``ddim`` sampler, started at ``m + σ̄_T z``)
    ``x_T = m + σ̄_T z``; for ``t = T … 1`` with ``x̂_0 = D(x_t)``,
    ``ε̂ = (x_t − x̂_0) / σ̄_t``, ``c = η σ̄_{t−1} sqrt(σ̄_t² − σ̄_{t−1}²) / σ̄_t``::

        x_{t−1} = x̂_0 + sqrt(σ̄_{t−1}² − c²) ε̂ + c z.

    ``η = 0`` is DDIM (deterministic: ``x_{t−1} = x̂_0 + (σ̄_{t−1}/σ̄_t)(x_t − x̂_0)``),
    ``η = 1`` ancestral sampling (the exact posterior variance).  ``sigma[s] = σ̄_{T−s}``
    (nominal).  The last step gives ``x_0 = D(x_1)``; with ``denoise_last=False`` the
    path stops at ``x_1`` (noise ``σ̄_1``), which suits blind denoisers whose Jacobian at a
    clean image is close to the identity.

The start mean ``m`` (``init_mean``) defaults to 0.5 (mid-grey, as Kadkhodaie et al.) and may
be a scalar or a (d,) vector such as the training mean.
"""

from __future__ import annotations

import numpy as np

from lindiff.deep.evaluate import BlindDenoiser, apply_denoiser
from lindiff.diffusion.samplers import SamplePath, Sampler, sample
from lindiff.errors import ConfigError
from lindiff.linear.schedules import Schedule

__all__ = ["SamplePath", "sample_ascent", "sample_ve"]


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def _check_float(name: str, value, lo: float, hi: float, lo_open: bool = True) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or value > hi or value < lo or (lo_open and value == lo):
        raise ConfigError(f"{name} must be in {'(' if lo_open else '['}{lo}, {hi}], got {name}={value}")
    return value


def _start(n: int, d: int, init_mean, scale: float, rng: np.random.Generator) -> np.ndarray:
    mean = np.asarray(init_mean, dtype=np.float64)
    if mean.ndim not in (0, 1) or (mean.ndim == 1 and mean.shape != (d,)):
        raise ConfigError(f"init_mean must be a scalar or shape ({d},), got shape {mean.shape}")
    return mean + scale * rng.standard_normal((n, d))


def _residual(denoiser, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(r, σ)``: residual ``D(Y) − Y`` (n, d) and its estimate ``‖r‖/√d`` (n,)."""
    r = apply_denoiser(denoiser, Y) - Y
    return r, np.linalg.norm(r, axis=1) / np.sqrt(Y.shape[1])


def sample_ascent(
    denoiser,
    n: int,
    d: int,
    sigma_0: float = 1.0,
    sigma_final: float = 0.01,
    h0: float = 0.01,
    beta: float = 0.5,
    init_mean=0.5,
    max_steps: int = 1000,
    seed=0,
) -> SamplePath:
    """Coarse-to-fine stochastic ascent (see the module docstring).

    Parameters
    ----------
    denoiser : FlatDenoiser, torch module or numpy callable on (n, d)
    n, d : int
        Number of samples and their dimension.
    sigma_0 : float
        Std of the initial noise.
    sigma_final : float
        Stop a sample once its estimated σ is <= this.
    h0 : float in (0, 1]
        Initial step size.
    beta : float in (0, 1]
        Noise-injection control (1: deterministic ascent).
    init_mean : float or (d,) array
    max_steps : int
    seed : int or Generator

    Returns
    -------
    SamplePath with ``sigma`` the per-point residual estimates.
    """
    n, d, max_steps = _check_count("n", n), _check_count("d", d), _check_count("max_steps", max_steps)
    sigma_0 = _check_float("sigma_0", sigma_0, 0.0, np.inf)
    sigma_final = _check_float("sigma_final", sigma_final, 0.0, sigma_0)
    h0 = _check_float("h0", h0, 0.0, 1.0)
    beta = _check_float("beta", beta, 0.0, 1.0)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    y = _start(n, d, init_mean, sigma_0, rng)
    path, sigmas = [y.copy()], []
    active = np.ones(n, dtype=bool)
    for t in range(1, max_steps + 2):
        r, sigma = _residual(denoiser, y)
        sigmas.append(sigma)
        active &= sigma > sigma_final
        if not active.any() or t > max_steps:
            break
        h = h0 * t / (1 + h0 * (t - 1))
        gamma = sigma * np.sqrt(max(0.0, (1 - beta * h) ** 2 - (1 - h) ** 2))
        z = rng.standard_normal((n, d))
        y = y + active[:, None] * (h * r + gamma[:, None] * z)
        path.append(y.copy())
    params = {"sigma_0": sigma_0, "sigma_final": sigma_final, "h0": h0, "beta": beta, "max_steps": max_steps}
    return SamplePath(np.stack(path), np.stack(sigmas), "ascent", params)


def sample_ve(
    denoiser,
    schedule: Schedule,
    n: int,
    d: int,
    eta: float = 0.0,
    init_mean=0.5,
    denoise_last: bool = True,
    seed=0,
) -> SamplePath:
    """Variance-exploding reverse process on ``schedule`` (DDIM for ``eta=0``).

    Parameters
    ----------
    denoiser : FlatDenoiser, torch module or numpy callable on (n, d)
    schedule : lindiff.linear.schedules.Schedule
        Uses ``sigma_bar`` (length T + 1).
    n, d : int
    eta : float in [0, 1]
        0: deterministic DDIM; 1: ancestral (posterior) noise.
    init_mean : float or (d,) array
    denoise_last : bool
        Take the final step ``x_0 = D(x_1)``; if False the path ends at ``x_1``.
    seed : int or Generator

    Returns
    -------
    SamplePath with ``steps = T`` (or ``T − 1``) and ``sigma[s] = σ̄_{T−s}``.
    """
    if not isinstance(schedule, Schedule):
        raise ConfigError(f"schedule must be a lindiff.linear.schedules.Schedule, got {type(schedule).__name__}")
    n, d = _check_count("n", n), _check_count("d", d)
    eta = _check_float("eta", eta, 0.0, 1.0, lo_open=False)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    start = _start(n, d, init_mean, schedule.sigma_bar[-1], rng)
    out = sample(BlindDenoiser(denoiser), schedule, Sampler("ddim", eta=eta), n, d, seed=rng, start=start,
                 stop=0 if denoise_last else 1, record=None)
    params = {"schedule": schedule.name, "T": schedule.T, "eta": eta, "denoise_last": bool(denoise_last)}
    return SamplePath(out.path, out.sigma, "ve", params)
