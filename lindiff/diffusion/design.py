"""A sampler's noise schedule designed from the data's spectrum (Benita et al.).

At fixed ``T``, choose the levels ``σ_1 < … < σ_T`` that minimize the distance between the
generated variances ``v_i`` of the closed form (:func:`lindiff.diffusion.transfer.transfer_function`,
Wiener denoiser) and the data's eigenvalues ``λ_i``:

* ``w2``: ``W2² = Σ_i (sqrt(λ_i) − sqrt(v_i))²`` (the two Gaussians share their eigenbasis);
* ``kl``: ``KL(generated ‖ data) = ½ Σ_i (v_i/λ_i − 1 − log(v_i/λ_i))``.

Parametrization (monotone by construction): ``log σ_t = log lo + (log hi − log lo) · u_t`` with
``u_t = Σ_{τ≤t} softplus(θ_τ) / (Σ_{τ≤T} softplus(θ_τ) + softplus(θ_{T+1}))`` ∈ (0, 1), so
``lo < σ_1 < … < σ_T < hi`` and both ends are free inside ``bounds = (lo, hi)``.  Adam on θ by
torch autograd through the closed form, started from a hand schedule (``init``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindiff.diffusion.samplers import Sampler
from lindiff.diffusion.schedules import SAMPLER_SCHEDULES, noise_levels
from lindiff.errors import ConfigError
from lindiff.linear.optimize import OBJECTIVES, adam_minimize, inverse_softplus
from lindiff.linear.schedules import Schedule, from_sigma_bar

__all__ = ["OBJECTIVES", "SamplerDesign", "design_levels", "spectrum_distance"]


@dataclass(frozen=True)
class SamplerDesign:
    """A designed schedule (``schedule.name == "designed"``) and its optimization history."""

    schedule: Schedule
    sampler: Sampler
    objective: str
    loss_initial: float
    loss_final: float
    history: np.ndarray  # (steps,) the objective per Adam step


def spectrum_distance(variances, eigvals, objective: str = "w2", mean_error=None):
    """W2² or KL between ``N(e, diag(v))`` and ``N(0, diag(λ))`` (numpy or torch, same formula):
    ``Σ (sqrt λ − sqrt v)² + Σ e²`` or ``½ Σ (v/λ − 1 − log(v/λ) + e²/λ)``; ``mean_error`` ``e``
    (the generated mean minus the data's, in the eigenbasis) defaults to 0."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown design objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    if type(variances).__module__.startswith("torch"):
        import torch

        xp, eigvals = torch, torch.as_tensor(eigvals, dtype=variances.dtype)
    else:
        xp, variances, eigvals = np, np.asarray(variances, float), np.asarray(eigvals, float)
    mean_sq = 0.0 if mean_error is None else mean_error**2
    if objective == "w2":
        return ((xp.sqrt(eigvals) - xp.sqrt(variances + 1e-30)) ** 2 + mean_sq).sum()
    ratio = variances / eigvals
    return 0.5 * (ratio - 1.0 - xp.log(ratio) + mean_sq / eigvals).sum()


def _mean_error(closed, mean_coords):
    """The generated mean minus the data's, per component (None when the mean is not given)."""
    return None if mean_coords is None else closed.mean_gain * mean_coords


def _check_bounds(bounds) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigError(f"bounds must be two numbers (lo, hi), got bounds={bounds!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise ConfigError(f"bounds must satisfy 0 < lo < hi (finite), got bounds=({lo}, {hi})")
    return lo, hi


def _initial_theta(sigma_bar: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """θ whose levels are ``sigma_bar`` clipped into (lo, hi) (the inverse of the parametrization)."""
    T = len(sigma_bar) - 1
    inside = np.clip(sigma_bar[1:], lo * (hi / lo) ** (0.5 / (T + 1)), hi * (lo / hi) ** (0.5 / (T + 1)))
    inside = np.maximum.accumulate(inside) * (1 + 1e-9 * np.arange(T))
    u = np.log(inside / lo) / np.log(hi / lo)
    increments = np.diff(np.concatenate([[0.0], u, [1.0]]))
    increments = np.maximum(increments, 1e-6)
    return inverse_softplus(increments)


def _levels_torch(theta, lo: float, hi: float):
    import torch

    w = torch.nn.functional.softplus(theta)
    u = torch.cumsum(w[:-1], 0) / w.sum()
    sigma = torch.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * u)
    return torch.cat([torch.zeros(1, dtype=sigma.dtype), sigma])


def design_levels(
    eigvals,
    T: int,
    sampler: Sampler,
    objective: str = "w2",
    bounds=(0.002, 80.0),
    init: str = "best",
    steps: int = 300,
    lr: float = 0.05,
    mean_coords=None,
) -> SamplerDesign:
    """Design the ``T`` levels of ``sampler`` for data with covariance eigenvalues ``eigvals``.

    ``mean_coords`` (m,): the data mean in the eigenbasis (``basisᵀ μ``); given, the objective
    includes the generated mean's error ``M_i μ_i`` (see :class:`~lindiff.diffusion.transfer.Transfer`),
    so that the design cannot gain by starting from a level that is not noise-dominated.

    ``init`` names the starting hand schedule (:data:`lindiff.diffusion.schedules.SAMPLER_SCHEDULES`),
    or ``"best"`` (default): the hand schedule with the lowest objective, so the design never ends
    worse than every hand schedule.  Deterministic (no randomness: the objective is the closed form)."""
    import torch

    from lindiff.diffusion.transfer import transfer_function

    if sampler.name == "ve_chain":
        raise ConfigError("design_levels designs ddpm, ddim and ode schedules; the chain's design is "
                          "lindiff.linear.design.design_schedule")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigError(f"steps must be an integer >= 1, got steps={steps!r}")
    if not np.isfinite(lr) or lr <= 0:
        raise ConfigError(f"lr must be positive, got lr={lr}")
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown design objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    lo, hi = _check_bounds(bounds)
    eigvals = np.asarray(eigvals, dtype=np.float64)
    if mean_coords is not None:
        mean_coords = np.asarray(mean_coords, dtype=np.float64)
        if mean_coords.shape != eigvals.shape:
            raise ConfigError(f"mean_coords must have the shape of eigvals {eigvals.shape}, got {mean_coords.shape}")

    def distance(sigma_bar) -> float:
        closed = transfer_function(sampler, sigma_bar, eigvals)
        return float(spectrum_distance(closed.variance, eigvals, objective, _mean_error(closed, mean_coords)))

    if init == "best":
        start = min((noise_levels(name, T).sigma_bar for name in SAMPLER_SCHEDULES), key=distance)
    else:
        start = noise_levels(init, T).sigma_bar
    theta = torch.tensor(_initial_theta(start, lo, hi), dtype=torch.float64, requires_grad=True)
    target = torch.as_tensor(eigvals)
    mean_torch = None if mean_coords is None else torch.as_tensor(mean_coords)
    def loss():
        closed = transfer_function(sampler, _levels_torch(theta, lo, hi), target)
        return spectrum_distance(closed.variance, target, objective, _mean_error(closed, mean_torch))

    _, (best,), history = adam_minimize(loss, [theta], steps, lr, final_evaluation=False)
    with torch.no_grad():
        levels = _levels_torch(best, lo, hi).numpy()
    initial, final = distance(start), distance(levels)
    return SamplerDesign(from_sigma_bar("designed", levels), sampler, objective, initial, final, history)
