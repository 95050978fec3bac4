"""Schedule design for the linear chain from its closed-form spectrum (in the spirit of Benita et al.).

:func:`design_schedule` chooses the increments (and the injected-noise stds) that minimize the
W2² (or KL) distance between the predicted generated spectrum (the closed form of
:mod:`lindiff.linear.spectral`, with the asymptotic cosines) and the data's spectrum, by torch
autograd through the closed form; :func:`refine_injection` re-fits the injected stds to the exact
second moment of a learned chain.  Both minimize with :func:`lindiff.linear.optimize.adam_minimize`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lindiff.errors import ConfigError
from lindiff.linear.learn import Bases, check_rank
from lindiff.linear.optimize import OBJECTIVES, adam_minimize, inverse_softplus
from lindiff.linear.schedules import Schedule, from_increments, make_schedule
from lindiff.linear.spectral import _check_eigvals, _check_noise, exact_gains, predicted_spectrum

if TYPE_CHECKING:  # pandas is imported where a table is made (a job that makes none does not pay for it)
    import pandas as pd

INJECTION_MODES = ("free", "increment", "none")

__all__ = [
    "INJECTION_MODES",
    "OBJECTIVES",
    "ScheduleDesign",
    "closed_form_cos2_torch",
    "design_schedule",
    "predicted_variances_torch",
    "refine_injection",
]


@dataclass(frozen=True)
class ScheduleDesign:
    """Result of :func:`design_schedule`.

    Attributes
    ----------
    schedule : Schedule
        Named ``"spectral"``; ``sigma[0] = 0``, ``sigma_bar`` strictly increasing.
    noise_std : ndarray of shape (T,)
        Injected-noise stds for ``run_chain`` (zeros for ``injection="none"``).
    initial_std : float
        Std of ``ξ_T``: ``sigma_bar[T]`` (``run_chain``'s default) unless optimized.
    objective : float
        Objective of the returned design (the best iterate).
    history : ndarray of shape (steps + 1,)
        Objective at the initial parameters and after every optimizer step.
    predicted : DataFrame
        :func:`predicted_spectrum` of the design (closed-form cosines).
    """

    schedule: Schedule
    noise_std: np.ndarray
    initial_std: float
    objective: float
    history: np.ndarray
    predicted: pd.DataFrame = field(repr=False)


def closed_form_cos2_torch(sigma_bar, eigvals, c: float):
    """Differentiable ``cos² θ_i(σ̄_t)``, shape ``(T + 1, r)``, for torch tensors.

    ``(1 − c x²)_+ / (1 + c x)`` with ``x = σ̄² / λ²``: the same values as
    :func:`lindiff.linear.theory.asymptotic_cos2_theta`, written without a division by ``σ̄`` (1 at
    ``σ̄ = 0``, no NaN in the gradient).  The "lost in the noise" branch is a clamp at 0,
    continuous in ``σ̄`` (the numerator vanishes at the threshold ``s = sqrt(c)``).
    Components with ``λ² = 0`` give 1 at ``σ̄ = 0`` and 0 elsewhere.
    """
    import torch

    sb2 = (sigma_bar**2)[:, None]
    positive = eigvals > 0
    safe = torch.where(positive, eigvals, torch.ones_like(eigvals))[None, :]
    x = sb2 / safe
    cos2 = torch.clamp(1.0 - c * x**2, min=0.0) / (1.0 + c * x)
    lost = torch.where(sb2 > 0, torch.zeros_like(cos2), torch.ones_like(cos2))
    return torch.where(positive[None, :], cos2, lost)


def predicted_variances_torch(sigma_bar, eigvals, c: float, noise_std, initial_std):
    """Differentiable closed-form ``v_i`` (shape ``(r,)``).

    With the closed-form cosines the products telescope (module docstring):
    ``v_i = s_T² cos² θ_i(σ̄_T) + Σ_{t<T} e_t² cos² θ_i(σ̄_t)``.
    """
    cos2 = closed_form_cos2_torch(sigma_bar, eigvals, c)
    return initial_std**2 * cos2[-1] + (noise_std[:, None] ** 2 * cos2[:-1]).sum(dim=0)


def _torch_objective(variances, eigvals, objective: str, eps: float = 1e-12):
    import torch

    if objective == "w2":
        return torch.sum((torch.sqrt(eigvals) - torch.sqrt(variances + eps)) ** 2)
    ratio = (variances + eps) / eigvals
    return 0.5 * torch.sum(ratio - 1.0 - torch.log(ratio))


def _normalize_injection(injection) -> str:
    if injection is True:
        return "free"
    if injection is False or injection is None:
        return "none"
    if injection in INJECTION_MODES:
        return injection
    raise ConfigError(f"injection must be True, False or one of {', '.join(INJECTION_MODES)}; got {injection!r}")


def design_schedule(
    eigvals,
    d: int,
    n: int,
    T: int,
    sigma_max_bounds: tuple[float, float] | None = None,
    objective: str = "w2",
    steps: int = 300,
    lr: float = 0.05,
    seed: int = 0,
    injection: bool | str = True,
    init: str = "linear",
    init_jitter: float = 0.1,
    min_increment: float = 1e-3,
    grid_init: int = 32,
    free_initial_std: bool = False,
) -> ScheduleDesign:
    """Choose a noise schedule (and injected-noise stds) that matches the data's spectrum.

    Minimizes ``objective(v(schedule), eigvals)`` where ``v`` is the closed-form generated
    spectrum (:func:`predicted_variances_torch`, the torch twin of :func:`predicted_spectrum`
    with closed-form cosines) by Adam on a monotone parametrization:

    * ``σ̄_T = lo + (hi − lo) · sigmoid(z)`` within ``sigma_max_bounds = (lo, hi)``;
    * increments ``σ_t ∝ softplus(w_t) + min_increment`` (``t = 1 .. T``), rescaled so that
      ``sqrt(Σ σ_t²) = σ̄_T``: every increment is positive, so ``σ̄`` is strictly increasing;
    * injected stds (``injection``): ``True``/``"free"``: ``e_t = softplus(v_t)``, free
      parameters; ``"increment"``: tied, ``e_t = σ_{t+1}`` (``injection_std(kind="increment")``);
      ``False``/``"none"``: deterministic chain;
    * ``ξ_T`` has std ``σ̄_T`` (``run_chain``'s default), or with ``free_initial_std`` a free
      std ``s_T = softplus(q)`` (pass ``result.initial_std`` to ``run_chain``).

    Note: with the closed-form cosines the deterministic chain depends on ``σ̄_T`` only (the
    products telescope), so ``injection="none"`` optimizes ``σ̄_T`` and leaves the shape at
    its initial value.

    Parameters
    ----------
    eigvals : array of shape (r,)
        Target spectrum ``λ_i²`` (positive for ``objective="kl"``).
    d, n : int
        Dimension and training-set size (enter the cosines through ``c = d / n``).
    T : int
        Number of noisy levels.
    sigma_max_bounds : (float, float), optional
        Bounds on ``σ̄_T``, ``0 < lo <= hi``; default ``(0.1, 1) · sqrt(max eigval)``.
        Larger ``σ̄_T`` brings the leading component near its detection threshold, where
        the asymptotic cosines are unreliable: on the spiked test problem a design with
        ``σ̄_T ≈ 2 λ_0`` was predicted at W2² ≈ 0.04 but measured at 0.1–4.4 on the real
        chain, against 1.2–1.5 predicted and measured alike with ``σ̄_T <= λ_0``.
    objective : {"w2", "kl"}
        ``w2``: :func:`w2_to_data`; ``kl``: :func:`gaussian_kl` (generated || data).
    steps, lr : int, float
        Adam steps and learning rate.
    seed : int
        Seeds the jitter of the initial parameters; the result is deterministic given it.
    init : str
        Schedule shape of the initial increments (:func:`lindiff.linear.schedules.make_schedule`).
    init_jitter : float
        Std of the Gaussian jitter added to the initial raw parameters.
    min_increment : float
        Floor added to ``softplus(w_t)`` (relative to the typical raw increment of 1).
    grid_init : int
        Start ``σ̄_T`` at the best of ``grid_init`` values spread over the bounds (0: start at
        the middle).  The objective is not convex in ``σ̄_T``: once a component is lost in
        the noise its gradient vanishes, and plain descent from the middle of wide bounds
        can stop in such a local minimum.
    free_initial_std : bool
        Optimize the std of ``ξ_T`` too instead of tying it to ``σ̄_T``.  With the tie, the
        ``ξ_T`` term alone gives component ``i`` the variance ``σ̄_T² cos² θ_i(σ̄_T)``, which
        can exceed ``λ_i²`` for the second component and limits the fit.

    Returns
    -------
    ScheduleDesign
    """
    import torch

    eigvals = _check_eigvals(eigvals)
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    if objective == "kl" and np.any(eigvals <= 0):
        raise ConfigError("objective='kl' needs positive eigvals (the KL to a singular Gaussian is infinite)")
    if not np.any(eigvals > 0):
        raise ConfigError("eigvals must have a positive entry")
    mode = _normalize_injection(injection)
    for name, value in (("d", d), ("n", n), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ConfigError(f"lr must be positive, got {lr}")
    if sigma_max_bounds is None:
        top = float(np.sqrt(eigvals.max()))
        sigma_max_bounds = (0.1 * top, top)
    lo, hi = (float(b) for b in sigma_max_bounds)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        raise ConfigError(f"sigma_max_bounds must satisfy 0 < lo <= hi, got {sigma_max_bounds}")
    shape = make_schedule(init, T, sigma_max=1.0)  # validates T and init

    dtype = torch.float64
    gen = torch.Generator().manual_seed(int(seed))
    target = torch.as_tensor(eigvals, dtype=dtype)
    c = d / n
    raw_inc = inverse_softplus(shape.sigma[1:] / shape.sigma[1:].max())
    w = torch.tensor(raw_inc, dtype=dtype) + init_jitter * torch.randn(T, generator=gen, dtype=dtype)
    z = torch.zeros((), dtype=dtype)
    params = [w.requires_grad_(), z.requires_grad_()]
    v = None
    if mode == "free":
        mid = 0.5 * (lo + hi)
        raw_noise = inverse_softplus(mid * shape.sigma[1:])  # start at the increment injection
        v = torch.tensor(raw_noise, dtype=dtype) + init_jitter * torch.randn(T, generator=gen, dtype=dtype)
        params.append(v.requires_grad_())
    q = None
    if free_initial_std:
        q = torch.tensor(float(inverse_softplus(0.5 * (lo + hi))), dtype=dtype)
        params.append(q.requires_grad_())

    def build(w, z, v, q):
        sigma_max = lo + (hi - lo) * torch.sigmoid(z)
        inc = torch.nn.functional.softplus(w) + min_increment
        sigma = sigma_max * inc / torch.sqrt(torch.sum(inc**2))
        sigma_bar = torch.sqrt(torch.cumsum(torch.cat([torch.zeros(1, dtype=dtype), sigma**2]), 0))
        if mode == "free":
            noise = torch.nn.functional.softplus(v)
        elif mode == "increment":
            noise = sigma
        else:
            noise = torch.zeros(T, dtype=dtype)
        initial = torch.nn.functional.softplus(q) if q is not None else sigma_max
        return sigma, sigma_bar, noise, initial

    def loss_of(w, z, v, q):
        _, sigma_bar, noise, initial = build(w, z, v, q)
        variances = predicted_variances_torch(sigma_bar, target, c, noise, initial)
        return _torch_objective(variances, target, objective)

    def unpack(values):
        values = list(values)
        w_, z_ = values[0], values[1]
        v_ = values[2] if mode == "free" else None
        q_ = values[-1] if free_initial_std else None
        return w_, z_, v_, q_

    if grid_init > 0:  # start sigma_bar_T at the best of a grid (the objective is not convex in it)
        with torch.no_grad():
            grid = torch.logit(torch.linspace(0.0, 1.0, grid_init + 2, dtype=dtype)[1:-1])
            losses = torch.stack([loss_of(w, zz, v, q) for zz in grid])
            z.copy_(grid[int(torch.argmin(losses))])

    best_value, best, history = adam_minimize(lambda: loss_of(*unpack(params)), params, steps, lr)
    with torch.no_grad():
        sigma, _, noise, initial = build(*unpack(best))
    sigma = np.concatenate([[0.0], sigma.numpy()])
    schedule = from_increments("spectral", sigma)
    noise_std = noise.numpy().copy()
    initial_std = float(initial) if free_initial_std else float(schedule.sigma_bar[-1])
    predicted = predicted_spectrum(schedule.sigma_bar, eigvals, d, n, noise_std=noise_std, initial_std=initial_std)
    return ScheduleDesign(
        schedule=schedule,
        noise_std=noise_std,
        initial_std=initial_std,
        objective=float(best_value),
        history=history,
        predicted=predicted,
    )


def refine_injection(
    bases: Bases,
    eigvals,
    rank: int | None = None,
    noise_std=None,
    initial_std: float | None = None,
    objective: str = "w2",
    steps: int = 300,
    lr: float = 0.05,
    free_initial_std: bool = False,
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Re-fit the injected-noise stds to the *learned* chain (exact, no diagonal approximation).

    The closed form behind :func:`design_schedule` ignores the off-diagonal transitions; once
    the bases of a schedule are learned, the generated variance is exactly
    ``v = s_T² G[T] + Σ_t e_t² G[t]`` (:func:`exact_gains`), so the injected stds ``e_t`` (and
    optionally ``s_T``) can be chosen to minimize the objective against ``eigvals`` for the
    real chain.  Adam on ``log e_t``, started at ``noise_std`` (default: the increments'
    ``sigma_bar`` differences).

    Parameters
    ----------
    bases : Bases
    eigvals : array of shape (r,)
        Target spectrum ``λ_i²`` of the chain's ``r`` components (e.g. ``bases.eigvals[0, :r]``).
    rank : int, optional
    noise_std : array of shape (T,), optional
        Starting stds (e.g. the design's).
    initial_std : float, optional
        Std of ``ξ_T`` (default ``sigma_bar[T]``); optimized too with ``free_initial_std``.
    objective, steps, lr
        As in :func:`design_schedule`.

    Returns
    -------
    (noise_std (T,), initial_std, variance (r,) exact for the returned stds, history (steps + 1,))
    """
    import torch

    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    eigvals = _check_eigvals(eigvals)
    if len(eigvals) != rank:
        raise ConfigError(f"eigvals must have length rank={rank}, got {len(eigvals)}")
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    if noise_std is None:
        noise_std = np.sqrt(np.maximum(np.diff(bases.sigma_bar**2), 0.0))
    noise_std, initial_std = _check_noise(noise_std, initial_std, bases.T, bases.sigma_bar[-1])
    gains = torch.as_tensor(exact_gains(bases, rank), dtype=torch.float64)
    target = torch.as_tensor(eigvals, dtype=torch.float64)
    log_noise = torch.tensor(np.log(np.maximum(noise_std, 1e-6)), dtype=torch.float64, requires_grad=True)
    log_initial = torch.tensor(np.log(max(initial_std, 1e-6)), dtype=torch.float64, requires_grad=free_initial_std)
    params = [log_noise] + ([log_initial] if free_initial_std else [])

    def variances():
        return torch.exp(2 * log_initial) * gains[-1] + (torch.exp(2 * log_noise)[:, None] * gains[:-1]).sum(dim=0)

    _, best, history = adam_minimize(lambda: _torch_objective(variances(), target, objective), params, steps, lr)
    with torch.no_grad():
        log_noise.copy_(best[0])
        if free_initial_std:
            log_initial.copy_(best[1])
        variance = variances().numpy().copy()
        return (torch.exp(log_noise).numpy().copy(), float(torch.exp(log_initial)), variance, history)
