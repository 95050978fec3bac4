"""Noise schedules of the standard (variance-preserving) samplers, as noise levels.

Every sampler of :mod:`lindiff.diffusion.samplers` runs on noise levels ``sigma_bar`` of
shape ``(T + 1,)``, ``sigma_bar[0] = 0`` (clean data), strictly increasing: the std of the
noise in *variance-exploding coordinates* ``y_t = x_0 + sigma_bar[t] z``.  A
variance-preserving process (Eqs. 1–2, ``x_t = sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) z``) is the
same process scaled: ``y_t = x_t / sqrt(ᾱ_t)`` with::

    sigma_bar_t² = (1 − ᾱ_t) / ᾱ_t,        ᾱ_t = 1 / (1 + sigma_bar_t²).

So one :class:`lindiff.linear.schedules.Schedule` describes a VP schedule as well as the
paper's VE chain (its ``sigma_bar``; :func:`alpha_bar` gives ``ᾱ``).

Shapes (``t = k / T``, ``k = 0 .. T``):

==============  ======================================================================  ==============
name            definition                                                              reference
==============  ======================================================================  ==============
``vplinear``    ``ᾱ(t) = exp(−β_min t − ½ (β_max − β_min) t²)`` (β_min=0.1, β_max=20):   Ho et al.;
                the continuous-time limit of the linear-β schedule (β from 1e-4 to      Song et al.
                0.02 over 1000 steps), sampled at ``T + 1`` times                       (VP SDE)
``vpcosine``    ``ᾱ(t) = f(t)/f(0)``, ``f(t) = cos²(π/2 · (t + s)/(1 + s))``, s=0.008;   Nichol &
                the last ``β_T = 1 − ᾱ_T/ᾱ_{T−1}`` clipped at ``max_beta`` = 0.999       Dhariwal
``karras``      ``sigma_bar_k = (σ_max^{1/ρ} + (T − k)/(T − 1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ``  Karras et al.
                for ``k ≥ 1`` (σ_min=0.002, σ_max=80, ρ=7)                              (EDM)
==============  ======================================================================  ==============
"""

from __future__ import annotations

import numpy as np

from lindiff.errors import ConfigError
from lindiff.linear.schedules import Schedule, _check_positive, _check_T, from_sigma_bar

SAMPLER_SCHEDULES = ("vplinear", "vpcosine", "karras")

#: the parameters of each shape and their defaults (one place: the config schema reads them)
DEFAULTS: dict[str, dict[str, float]] = {
    "vplinear": {"beta_min": 0.1, "beta_max": 20.0},
    "vpcosine": {"s": 0.008, "max_beta": 0.999},
    "karras": {"sigma_min": 0.002, "sigma_max": 80.0, "rho": 7.0},
}

__all__ = ["DEFAULTS", "SAMPLER_SCHEDULES", "alpha_bar", "check_levels", "noise_levels", "vplinear_sigma"]


def alpha_bar(sigma_bar) -> np.ndarray:
    """``ᾱ_t = 1 / (1 + sigma_bar_t²)`` (the VP signal fraction of each level)."""
    return 1.0 / (1.0 + np.asarray(sigma_bar, dtype=np.float64) ** 2)


def check_levels(sigma_bar, name: str = "sigma_bar") -> np.ndarray:
    """``sigma_bar`` (T + 1,) as float64: finite, ``sigma_bar[0] = 0``, strictly increasing."""
    return from_sigma_bar(name, np.asarray(sigma_bar, dtype=np.float64)).sigma_bar


def _vplinear(t: np.ndarray, beta_min: float, beta_max: float) -> np.ndarray:
    if beta_max < beta_min:
        raise ConfigError(f"beta_max must be >= beta_min, got beta_min={beta_min}, beta_max={beta_max}")
    log_alpha_bar = -beta_min * t - 0.5 * (beta_max - beta_min) * t**2
    return np.sqrt(np.expm1(-log_alpha_bar))  # sqrt(1/ᾱ − 1), exact near t = 0


def vplinear_sigma(t, **params) -> np.ndarray:
    """The continuous ``vplinear`` level ``σ(t) = sqrt(1/ᾱ(t) − 1)`` at times ``t`` in [0, 1]
    (any shape): the noise levels a noise-conditional model is trained on (``t`` uniform, as
    Ho et al.'s uniform step).  ``params`` override :data:`DEFAULTS` ``["vplinear"]``."""
    return _vplinear(np.asarray(t, dtype=np.float64), **_shape_params("vplinear", params))


def _shape_params(name: str, params: dict) -> dict[str, float]:
    """``params`` over :data:`DEFAULTS` of ``name``, each checked positive; unknown keys raise."""
    unknown = sorted(set(params) - set(DEFAULTS[name]))
    if unknown:
        raise ConfigError(f"schedule {name}: unknown parameter(s) {unknown}; allowed: {sorted(DEFAULTS[name])}")
    return {key: _check_positive(key, params.get(key, default)) for key, default in DEFAULTS[name].items()}




def _vpcosine(t: np.ndarray, s: float, max_beta: float) -> np.ndarray:
    if not 0 < max_beta < 1:
        raise ConfigError(f"max_beta must be in (0, 1), got max_beta={max_beta}")
    f = np.cos(0.5 * np.pi * (t + s) / (1 + s)) ** 2
    abar = f / f[0]
    # ᾱ_t = Π(1 − β): clip every β at max_beta (the last one, where cos reaches 0, always is)
    beta = np.clip(1.0 - abar[1:] / np.maximum(abar[:-1], np.finfo(float).tiny), 0.0, max_beta)
    abar = np.concatenate([[1.0], np.cumprod(1.0 - beta)])
    return np.sqrt((1.0 - abar) / abar)


def _karras(T: int, sigma_min: float, sigma_max: float, rho: float) -> np.ndarray:
    if sigma_max <= sigma_min:
        raise ConfigError(f"sigma_max must be > sigma_min, got sigma_min={sigma_min}, sigma_max={sigma_max}")
    if T == 1:
        return np.array([0.0, sigma_max])
    k = np.arange(1, T + 1, dtype=np.float64)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return np.concatenate([[0.0], (hi + (T - k) / (T - 1) * (lo - hi)) ** rho])


def noise_levels(name: str, T: int, **params) -> Schedule:
    """The named sampler schedule with ``T`` steps as a :class:`Schedule` (its ``sigma_bar``).

    ``params`` override :data:`DEFAULTS` of the shape; an unknown name or parameter, a
    non-positive value or ``T < 1`` raises :class:`ConfigError` naming it.
    """
    if name not in SAMPLER_SCHEDULES:
        raise ConfigError(f"unknown sampler schedule {name!r}; allowed: {', '.join(SAMPLER_SCHEDULES)}")
    T = _check_T(T)
    values = _shape_params(name, params)
    t = np.arange(T + 1, dtype=np.float64) / T
    if name == "vplinear":
        sigma_bar = _vplinear(t, **values)
    elif name == "vpcosine":
        sigma_bar = _vpcosine(t, **values)
    else:
        sigma_bar = _karras(T, **values)
    sigma_bar[0] = 0.0
    return from_sigma_bar(name, sigma_bar)
