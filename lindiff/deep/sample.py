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

``sample_diffusion`` — DDPM / DDIM / ODE sampling of a noise-conditional model
    A :class:`~lindiff.deep.models.ConditionalDenoiser` run by
    :func:`lindiff.diffusion.samplers.sample` on a VP schedule (``vplinear``, ``vpcosine``,
    ``karras`` of :func:`lindiff.diffusion.schedules.noise_levels`) in the model's units
    (:class:`~lindiff.deep.evaluate.ScaledDenoiser`; ``x_T ~ N(0, I)``), the path mapped back to
    data units: ``path[s] = c + y_s / s_data`` and ``sigma[s] = σ̄ / s_data`` (``c, s_data =
    DATA_CENTER, DATA_SCALE``), so that ``path[s] = x_0 + sigma[s]·z`` in the units of the data
    and ``D(path[s], sigma[s])`` is the model's x₀-estimate there.  ``record`` keeps every step of
    the final part of the path (the Jacobian analysis of Fig. 7 reads it).
"""

from __future__ import annotations

import numpy as np

from lindiff.deep.config import check_ascent_options, check_count, check_range
from lindiff.deep.evaluate import BlindDenoiser, ScaledDenoiser, apply_denoiser
from lindiff.diffusion.samplers import SamplePath, Sampler, sample
from lindiff.errors import ConfigError
from lindiff.linear.schedules import Schedule

__all__ = ["SamplePath", "sample_ascent", "sample_diffusion", "sample_ve"]


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
    record: int | None = None,
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
    record : int or None
        Keep only the last ``record`` steps of the path (None: all; 0: the samples).

    Returns
    -------
    SamplePath with ``sigma`` the per-point residual estimates.
    """
    if record is not None and (isinstance(record, bool) or not isinstance(record, (int, np.integer)) or record < 0):
        raise ConfigError(f"record must be None or an integer >= 0, got record={record!r}")
    n, d = check_count("n", n), check_count("d", d)
    check_ascent_options({"sigma_0": sigma_0, "sigma_final": sigma_final, "h0": h0, "beta": beta, "max_steps": max_steps})
    sigma_0, sigma_final, h0, beta, max_steps = float(sigma_0), float(sigma_final), float(h0), float(beta), int(max_steps)
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
        if record is not None and len(path) > record + 1:
            del path[0]
    params = {"sigma_0": sigma_0, "sigma_final": sigma_final, "h0": h0, "beta": beta, "max_steps": max_steps}
    return SamplePath(np.stack(path), np.stack(sigmas[len(sigmas) - len(path):]), "ascent", params)


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
    n, d = check_count("n", n), check_count("d", d)
    eta = check_range("eta", eta, 0.0, 1.0, lo_open=False)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    start = _start(n, d, init_mean, schedule.sigma_bar[-1], rng)
    out = sample(BlindDenoiser(denoiser), schedule, Sampler("ddim", eta=eta), n, d, seed=rng, start=start,
                 stop=0 if denoise_last else 1, record=None)
    params = {"schedule": schedule.name, "T": schedule.T, "eta": eta, "denoise_last": bool(denoise_last)}
    return SamplePath(out.path, out.sigma, "ve", params)


def sample_diffusion(
    model,
    schedule: Schedule,
    sampler: Sampler,
    n: int,
    seed=0,
    record: int | None = 0,
    stop: int = 0,
    record_sigma: float | None = None,
    clip_denoised: bool = True,
    labels=None,
    guidance: float = 0.0,
) -> SamplePath:
    """Sample a noise-conditional model with a DDPM / DDIM / ODE sampler (module docstring).

    Parameters
    ----------
    model : ConditionalDenoiser
    schedule : Schedule
        The VP schedule's levels in the model's units (``noise_levels(name, T)``).
    sampler : lindiff.diffusion.samplers.Sampler
        ``ddpm``, ``ddim`` (its ``eta``) or ``ode``.
    n : int
        Number of samples.
    seed : int, SeedSequence or Generator
    record : int or None
        Keep the last ``record`` steps of the path (None: all; 0: only the samples).
    stop : int
        Stop at level ``stop`` (0: the generated samples).
    record_sigma : float, optional
        Instead of ``record``: keep every step from the first level whose noise (data units) is
        at most ``record_sigma``.
    clip_denoised : bool
        Clip each x₀-estimate to the data range [0, 1] before the step (DDPM's
        ``clip_denoised``; keeps an imperfect ε-model's large-σ estimates, ``y − σ ε̂``, from
        throwing the path out of range).  The Jacobians of Fig. 7 are of the unclipped ``D``.
    labels : array (n,) of int, optional
        A class-conditional model (``model.classes > 0``): the class of each sample (None: the
        unconditional estimate).
    guidance : float >= 0
        Classifier-free guidance weight ``w`` with ``labels`` (0: the plain conditional model).

    Returns
    -------
    SamplePath in data units: ``path`` (record + 1, n, d), ``sigma`` (record + 1, n).
    """
    from lindiff.deep.models import DATA_CENTER, DATA_SCALE, check_conditioning

    if not getattr(model, "conditional", False):
        raise ConfigError("sample_diffusion needs a noise-conditional model (a ConditionalDenoiser, kind 'ddpm'); "
                          "blind models are sampled with sample_ascent or sample_ve")
    if not isinstance(schedule, Schedule):
        raise ConfigError(f"schedule must be a lindiff.linear.schedules.Schedule, got {type(schedule).__name__}")
    if sampler.name == "ve_chain":
        raise ConfigError("sampler ve_chain is the paper's linear chain; a diffusion model takes ddpm, ddim or ode")
    if record_sigma is not None:
        record_sigma = check_range("record_sigma", record_sigma, 0.0, np.inf)
        record = int(np.sum(schedule.sigma_bar[stop + 1 :] / DATA_SCALE <= record_sigma))
    n = check_count("n", n)
    labels, guidance = check_conditioning(model, labels, n, guidance)
    denoiser = ScaledDenoiser(model, labels, guidance)
    if clip_denoised:
        lo, hi = (0.0 - DATA_CENTER) * DATA_SCALE, (1.0 - DATA_CENTER) * DATA_SCALE

        def clipped(Y, sigma, _base=denoiser):
            return np.clip(_base(Y, sigma), lo, hi)

        denoiser = clipped
    out = sample(denoiser, schedule, sampler, n, model.d, seed=seed, stop=stop, record=record)
    params = {"schedule": schedule.name, "T": schedule.T, "sampler": sampler.name, "eta": sampler.eta,
              "solver": sampler.solver, "record": record, "stop": stop, "clip_denoised": bool(clip_denoised)}
    if labels is not None:
        params["guidance"] = guidance
    return SamplePath(out.path / DATA_SCALE + DATA_CENTER, out.sigma / DATA_SCALE, sampler.name, params)
