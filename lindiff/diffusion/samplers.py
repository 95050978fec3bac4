"""Samplers for any denoiser ``D(Y, sigma)`` (linear, empirical or deep), on shared noise levels.

All samplers run in variance-exploding coordinates ``y_t = x_0 + σ_t z`` on noise levels
``σ_0 = 0 < σ_1 < … < σ_T`` (``sigma_bar`` of a :class:`lindiff.linear.schedules.Schedule`;
VP schedules via :mod:`lindiff.diffusion.schedules`, ``ᾱ_t = 1/(1 + σ_t²)``, ``x_t = sqrt(ᾱ_t) y_t``).
The denoiser is the x₀-estimate ``x̂_0 = D(y_t, σ_t)`` (Eq. 27's D as a function of x_t).
Every step of ``ddpm``, ``ddim`` and ``ode``/euler has the form::

    y_{t−1} = x̂_0 + k_t (y_t − x̂_0) + n_t z,      z ~ N(0, I),            (t = T … 1)

with (:func:`step_coefficients`):

``ddpm`` — ancestral sampling, Eq. 7 with ``e_t² = β_t`` (Ho et al.'s ``σ_t² = β_t``):
    ``k_t = σ_{t−1}² / σ_t²`` (the posterior mean of Eq. 6, written in x̂_0) and
    ``n_t² = β_t / ᾱ_{t−1}``, ``β_t = 1 − ᾱ_t/ᾱ_{t−1}``; no noise at the last step (``z_1 = 0``).
``ddim`` — Song et al. with ``η ∈ [0, 1]``: ``n_t = η σ_{t−1} sqrt(σ_t² − σ_{t−1}²) / σ_t``,
    ``k_t = sqrt(σ_{t−1}² − n_t²) / σ_t``.  ``η = 0`` is deterministic; ``η = 1`` is DDPM with the
    posterior variance ``β̃_t`` (``n_t² = β̃_t/ᾱ_{t−1}``, the same mean as ``ddpm``).
``ode`` — the probability-flow ODE ``dy/dσ = (y − D(y, σ)) / σ`` (the VP PF-ODE in these
    coordinates).  ``euler``: ``k_t = σ_{t−1}/σ_t``, ``n_t = 0`` — exactly DDIM with η = 0.
    ``heun``: Karras et al.'s second-order step (a second denoiser call at ``σ_{t−1}``; the
    last step, to ``σ_0 = 0``, is Euler).
``ve_chain`` — the paper's chain (Eqs. 8–11, 25) for any denoiser::

        y_T = D(ξ_T, σ_T),     y_t = D(y_{t+1} + ξ_t, σ_t)   (t = T−1 … 0),

    ``ξ_T ~ N(0, s_T² I)`` (``initial_std``, default ``σ_T``), ``ξ_t ~ N(0, e_t² I)``
    (``noise_std``, length T; None: the deterministic chain).  With the projection denoiser this
    is :func:`lindiff.linear.generate.run_chain` with ``noise_space="pixel"``, draw for draw.

Start: ``ddpm``, ``ddim`` and ``ode`` start from ``x_T ~ N(0, I)`` in VP coordinates
(``y_T = x_T / sqrt(ᾱ_T)``) unless a ``start`` (VE coordinates) is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lindiff.diffusion.schedules import check_levels
from lindiff.errors import ConfigError

SAMPLERS = ("ve_chain", "ddpm", "ddim", "ode")
ODE_SOLVERS = ("euler", "heun")

Denoiser = Callable[[np.ndarray, float], np.ndarray]

__all__ = ["ODE_SOLVERS", "SAMPLERS", "SamplePath", "Sampler", "sample", "step_coefficients"]


@dataclass(frozen=True)
class Sampler:
    """A sampler and its options: ``name`` in :data:`SAMPLERS`; ``eta`` (ddim) in [0, 1];
    ``solver`` (ode) in :data:`ODE_SOLVERS`."""

    name: str
    eta: float = 0.0
    solver: str = "euler"

    def __post_init__(self):
        if self.name not in SAMPLERS:
            raise ConfigError(f"unknown sampler {self.name!r}; allowed: {', '.join(SAMPLERS)}")
        try:
            eta = float(self.eta)
        except (TypeError, ValueError):
            raise ConfigError(f"eta must be a number in [0, 1], got eta={self.eta!r}") from None
        if not 0.0 <= eta <= 1.0:
            raise ConfigError(f"eta must be in [0, 1], got eta={self.eta}")
        object.__setattr__(self, "eta", eta)
        if self.solver not in ODE_SOLVERS:
            raise ConfigError(f"unknown ode solver {self.solver!r}; allowed: {', '.join(ODE_SOLVERS)}")

    @property
    def label(self) -> str:
        """A short display name (``ddim(η=0.5)``, ``ode(heun)``)."""
        if self.name == "ddim":
            return f"ddim(η={self.eta:g})"
        if self.name == "ode":
            return f"ode({self.solver})"
        return self.name


@dataclass
class SamplePath:
    """A recorded sampling path.

    Attributes
    ----------
    path : ndarray (points, n, d)
        The recorded points, ``path[-1]`` the generated samples (``path[0]`` the start when the
        whole path is recorded).
    sigma : ndarray (points, n)
        Noise level of every recorded point (estimated or nominal, see the sampler).
    method : str
    params : dict
    """

    path: np.ndarray
    sigma: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def samples(self) -> np.ndarray:
        """The generated samples (n, d)."""
        return self.path[-1]

    @property
    def steps(self) -> int:
        return self.path.shape[0] - 1


def step_coefficients(sampler: Sampler, sigma_bar) -> tuple[np.ndarray, np.ndarray]:
    """``(k, n)`` of shape (T,): index ``t − 1`` holds step ``t`` (from ``σ_t`` to ``σ_{t−1}``) of
    ``y_{t−1} = x̂_0 + k_t (y_t − x̂_0) + n_t z`` (ddpm, ddim, ode/euler; see the module doc).

    For ``ode``/heun ``k`` is Euler's (the Heun correction depends on the denoiser).  A torch
    ``sigma_bar`` (already checked) gives torch tensors, differentiable (the design uses them)."""
    if sampler.name == "ve_chain":
        raise ConfigError("the ve_chain sampler has no (k, n) step form; it applies the denoiser to y + ξ")
    torch_mode = type(sigma_bar).__module__.startswith("torch")
    xp = __import__("torch") if torch_mode else np
    if not torch_mode:
        sigma_bar = check_levels(sigma_bar)
    hi, lo = sigma_bar[1:], sigma_bar[:-1]
    if sampler.name == "ddpm":
        noise = xp.sqrt((1.0 + lo**2) * (hi**2 - lo**2) / (1.0 + hi**2))
        noise = noise * (xp.arange(len(hi)) > 0)  # z_1 = 0 (Eq. 7)
        return lo**2 / hi**2, noise
    if sampler.name == "ddim":
        eta = sampler.eta
        noise = eta * lo * xp.sqrt(hi**2 - lo**2) / hi
        return lo / hi * xp.sqrt(1.0 - eta**2 * (1.0 - lo**2 / hi**2)), noise  # sqrt(lo² − noise²) / hi
    return lo / hi, xp.zeros_like(hi)


def _generator(seed) -> np.random.Generator:
    from lindiff.linear.learn import as_generator

    return as_generator(seed)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {name}={value!r}")
    return int(value)


def _check_chain_noise(noise_std, initial_std, T: int, sigma_T: float) -> tuple[np.ndarray, float]:
    noise_std = np.zeros(T) if noise_std is None else np.asarray(noise_std, dtype=np.float64)
    if noise_std.shape != (T,) or not np.all(np.isfinite(noise_std)) or np.any(noise_std < 0):
        raise ConfigError(f"noise_std must be {T} finite non-negative stds (one per t < T)")
    initial_std = sigma_T if initial_std is None else float(initial_std)
    if not np.isfinite(initial_std) or initial_std <= 0:
        raise ConfigError(f"initial_std must be positive and finite, got initial_std={initial_std}")
    return noise_std, initial_std


def sample(
    denoiser: Denoiser,
    sigma_bar,
    sampler: Sampler,
    n: int,
    d: int,
    seed=0,
    start: np.ndarray | None = None,
    noise_std=None,
    initial_std: float | None = None,
    stop: int = 0,
    record: int | None = 0,
) -> SamplePath:
    """Run ``sampler`` with ``denoiser`` on the levels ``sigma_bar`` (T + 1,).

    Parameters
    ----------
    denoiser : callable ``(Y (m, d), sigma) -> X̂_0 (m, d)``
    sigma_bar : ndarray (T + 1,) or Schedule
    sampler : Sampler
    n, d : int
        Number of samples and their dimension.
    seed : int, SeedSequence or Generator
        All randomness (start and injected noise), drawn in step order.
    start : ndarray (n, d), optional
        ``y_T`` (VE coordinates; ddpm, ddim, ode).  Default ``N(0, I) / sqrt(ᾱ_T)``.
    noise_std, initial_std
        ``ve_chain`` only: the stds of ``ξ_t`` (T,) and of ``ξ_T`` (see the module doc).
    stop : int
        Stop at level ``stop`` (default 0: the generated samples).
    record : int or None
        Record the last ``record`` steps of the path (``None``: all, from the start).

    Returns
    -------
    SamplePath whose ``path[-1]`` is ``y_stop`` and ``sigma`` the nominal ``σ`` of each point.
    """
    if hasattr(sigma_bar, "sigma_bar"):
        sigma_bar = sigma_bar.sigma_bar
    sigma_bar = check_levels(sigma_bar)
    if not isinstance(sampler, Sampler):
        raise ConfigError(f"sampler must be a lindiff.diffusion.samplers.Sampler, got {type(sampler).__name__}")
    n, d = _check_count("n", n), _check_count("d", d)
    T = len(sigma_bar) - 1
    if isinstance(stop, bool) or not isinstance(stop, (int, np.integer)) or not 0 <= stop < T:
        raise ConfigError(f"stop must be an integer in [0, T-1={T - 1}], got stop={stop!r}")
    if record is not None and (isinstance(record, bool) or not isinstance(record, (int, np.integer)) or record < 0):
        raise ConfigError(f"record must be None or an integer >= 0, got record={record!r}")
    rng = _generator(seed)
    points, levels = [], []

    def keep(y: np.ndarray, level: int) -> None:
        points.append(y.copy())
        levels.append(sigma_bar[level])
        if record is not None and len(points) > record + 1:
            del points[0], levels[0]

    if sampler.name == "ve_chain":
        noise_std, initial_std = _check_chain_noise(noise_std, initial_std, T, sigma_bar[-1])
        y = denoiser(initial_std * rng.standard_normal((n, d)), sigma_bar[T])
        keep(y, T)
        for t in range(T - 1, stop - 1, -1):
            if noise_std[t] > 0:
                y = y + noise_std[t] * rng.standard_normal((n, d))
            y = denoiser(y, sigma_bar[t])
            keep(y, t)
    else:
        if noise_std is not None or initial_std is not None:
            raise ConfigError(f"noise_std and initial_std belong to the ve_chain sampler, not {sampler.name}")
        if start is None:
            y = np.sqrt(1.0 + sigma_bar[T] ** 2) * rng.standard_normal((n, d))
        else:
            y = np.array(start, dtype=np.float64)
            if y.shape != (n, d):
                raise ConfigError(f"start must have shape {(n, d)}, got {y.shape}")
        keep(y, T)
        gains, noises = step_coefficients(sampler, sigma_bar)
        heun = sampler.name == "ode" and sampler.solver == "heun"
        for t in range(T, stop, -1):
            x0 = denoiser(y, sigma_bar[t])
            if heun and sigma_bar[t - 1] > 0:
                step = sigma_bar[t - 1] - sigma_bar[t]
                slope = (y - x0) / sigma_bar[t]
                y_euler = y + step * slope
                slope_next = (y_euler - denoiser(y_euler, sigma_bar[t - 1])) / sigma_bar[t - 1]
                y = y + 0.5 * step * (slope + slope_next)
            else:
                y = x0 + gains[t - 1] * (y - x0)
            if noises[t - 1] > 0:
                y = y + noises[t - 1] * rng.standard_normal((n, d))
            keep(y, t - 1)
    params = {"sampler": sampler.name, "eta": sampler.eta, "solver": sampler.solver, "T": T, "stop": int(stop)}
    sigma = np.repeat(np.asarray(levels)[:, None], n, axis=1)
    return SamplePath(np.stack(points), sigma, sampler.name, params)
