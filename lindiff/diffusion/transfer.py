"""The closed-form spectral transfer function of a sampler with a linear denoiser (Benita et al.).

For Gaussian data ``N(μ, U diag(λ) Uᵀ)`` and the Wiener denoiser (the exact posterior mean),
``D(y, σ) = μ + U diag(s(σ)) Uᵀ (y − μ)`` with ``s_i(σ) = λ_i / (λ_i + σ²)``.  In the
coordinates ``w_i = u_iᵀ (y − μ)`` every step of every sampler of
:mod:`lindiff.diffusion.samplers` is a scalar affine map per component::

    w_i ← a_{j,i} w_i + b_{j,i} z,       z ~ N(0, 1),         (steps j = 0 … J−1, in order)

* ddpm, ddim, ode/euler (``y ← x̂_0 + k_t (y − x̂_0) + n_t z``):
  ``a = s_t + k_t (1 − s_t)``, ``b = n_t``;
* ode/heun: ``a = 1 + Δ/2 · (f_t + f_{t−1} (1 + Δ f_t))`` with ``Δ = σ_{t−1} − σ_t`` and
  ``f(σ) = (1 − s(σ)) / σ`` (``a = s_t`` on the last step, which is Euler), ``b = 0``;
* ve_chain (``y ← D(y + ξ_t, σ_t)``): ``a = s_t``, ``b = s_t e_t``.

The start is the sampler's initial noise ``ξ``: ``x_T ~ N(0, I)`` for ddpm/ddim/ode, entering as
``w = ξ/sqrt(ᾱ_T)`` (a first gain ``sqrt(1 + σ_T²)``), and ``ξ_T ~ N(0, s_T²)`` for the chain,
entering through ``D(·, σ_T)`` (a first gain ``s_T``).  So, with the first gain ``a_0``::

    H_i = Π_j a_{j,i}                                   (the transfer function: ξ_i → x_{0,i})
    v_i = Var(ξ) H_i² + Σ_j b_{j,i}² Π_{k>j} a_{k,i}²    (the generated variance)

``v_i / λ_i = 1`` is a perfect sampler of the Gaussian's covariance.  The start is centred at 0,
not at the data mean ``μ``, so the generated mean misses ``μ`` by ``M_i μ_i`` per component
(:attr:`Transfer.mean_gain`); a schedule whose last level is not noise-dominated pays for it.
The same functions run on torch tensors
(``sigma_bar`` a tensor): :mod:`lindiff.diffusion.design` differentiates ``v`` through them.

For the projection denoiser in the chain, the diagonal model of
:func:`lindiff.linear.spectral.predicted_spectrum` is the counterpart (its cosines replace ``s``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindiff.diffusion.samplers import Sampler, step_coefficients
from lindiff.errors import ConfigError
from lindiff.validation import check_vector

__all__ = ["Transfer", "linear_steps", "transfer_function"]


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


@dataclass(frozen=True)
class Transfer:
    """The closed form of one sampler on one spectrum, for the data eigenvalues ``eigvals`` ``λ_i``
    (m,): ``gain`` ``H_i``, ``variance`` ``v_i`` and ``mean_gain`` ``M_i`` (m,), the factor by which
    the start's mean error reaches the generated mean: the generated mean is ``μ_i − M_i μ_i`` in
    the eigenbasis (the start is centred at 0, not at the data mean; ``M_i = Π_j a_{j,i}`` without
    the start's gain for ddpm/ddim/ode, ``= H_i`` for the chain)."""

    gain: np.ndarray
    variance: np.ndarray
    eigvals: np.ndarray
    mean_gain: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """``v_i / λ_i`` (1 = the data's variance reproduced)."""
        return self.variance / self.eigvals


def _noise_fraction(sigma_bar, eigvals):
    """``r[t − 1, i] = σ_t² / (λ_i + σ_t²) = 1 − s_i(σ_t)`` for the levels ``t = 1 … T`` (T, m)."""
    var = sigma_bar[1:, None] ** 2
    return var / (eigvals[None, :] + var)


def _check_inputs(sigma_bar, eigvals):
    if _is_torch(sigma_bar):
        import torch

        eigvals = torch.as_tensor(eigvals, dtype=sigma_bar.dtype)
        return sigma_bar, eigvals
    from lindiff.diffusion.schedules import check_levels

    eigvals = check_vector(eigvals, "eigvals", error=ConfigError)
    if len(eigvals) < 1 or np.any(eigvals <= 0):
        raise ConfigError("eigvals must be a non-empty array of positive eigenvalues (the data's variances)")
    return check_levels(sigma_bar), eigvals


def linear_steps(sampler: Sampler, sigma_bar, eigvals, noise_std=None, initial_std=None):
    """``(start_var, start_gain, a, b)``: the variance of the initial noise, its gain into the
    first state (m,), and the per-step gains ``a`` and noise stds ``b`` (T, m).

    Rows are in level order and apply from the last to the first: for ddpm/ddim/ode row ``t − 1``
    is the step from ``σ_t`` to ``σ_{t−1}``; for the chain row ``t`` is the step that lands on level
    ``t`` (``t = 0 … T−1``).  Noise injected at row ``r`` then passes the rows ``< r``.

    ``sigma_bar`` (T + 1,) numpy or torch; ``eigvals`` (m,) the data's covariance eigenvalues;
    ``noise_std`` (T,) and ``initial_std``: the chain's ``e_t`` and ``s_T`` (see
    :func:`lindiff.diffusion.samplers.sample`)."""
    sigma_bar, eigvals = _check_inputs(sigma_bar, eigvals)
    torch_mode = _is_torch(sigma_bar)
    xp = __import__("torch") if torch_mode else np
    T = sigma_bar.shape[0] - 1
    r = _noise_fraction(sigma_bar, eigvals)  # 1 − s at the levels 1 … T
    if sampler.name == "ve_chain":
        from lindiff.diffusion.samplers import _check_chain_noise

        noise_std, initial_std = _check_chain_noise(noise_std, initial_std, T, float(sigma_bar[-1]))
        noise = xp.as_tensor(noise_std, dtype=sigma_bar.dtype) if torch_mode else noise_std
        ones = xp.ones_like(eigvals)[None]
        s = xp.cat([ones, 1.0 - r[:-1]]) if torch_mode else np.vstack([ones, 1.0 - r[:-1]])  # levels 0 … T−1
        return initial_std**2, 1.0 - r[-1], s, noise[:, None] * s
    if noise_std is not None or initial_std is not None:
        raise ConfigError(f"noise_std and initial_std belong to the ve_chain sampler, not {sampler.name}")
    start_gain = xp.sqrt(1.0 + sigma_bar[-1] ** 2) * xp.ones_like(eigvals)
    if sampler.name == "ode" and sampler.solver == "heun":
        hi, lo = sigma_bar[1:], sigma_bar[:-1]
        step = (lo - hi)[:, None]
        f_hi = r / hi[:, None]
        zero = xp.zeros_like(eigvals)[None]
        r_lo = xp.cat([zero, r[:-1]]) if torch_mode else np.vstack([zero, r[:-1]])
        lo_safe = xp.where(lo > 0, lo, xp.ones_like(lo)) if torch_mode else np.where(lo > 0, lo, 1.0)
        f_lo = r_lo / lo_safe[:, None]
        heun = 1.0 + 0.5 * step * (f_hi + f_lo * (1.0 + step * f_hi))
        gains = xp.where((lo > 0)[:, None], heun, 1.0 - r)  # the last step (to σ_0 = 0) is Euler
        return 1.0, start_gain, gains, xp.zeros_like(gains)
    k, n = step_coefficients(sampler, sigma_bar)
    gains = 1.0 - (1.0 - k)[:, None] * r  # s + k (1 − s)
    noise = n[:, None] * xp.ones_like(gains) if torch_mode else np.broadcast_to(n[:, None], gains.shape)
    return 1.0, start_gain, gains, noise


def transfer_function(sampler: Sampler, sigma_bar, eigvals, noise_std=None, initial_std=None) -> Transfer:
    """The transfer function ``H`` and generated variance ``v`` of ``sampler`` on ``sigma_bar`` with
    the Wiener denoiser of a Gaussian with covariance eigenvalues ``eigvals`` (see the module doc).

    Cost ``O(T m)``.  With a torch ``sigma_bar`` the result holds torch tensors (differentiable)."""
    start_var, start_gain, a, b = linear_steps(sampler, sigma_bar, eigvals, noise_std, initial_std)
    if _is_torch(a):
        import torch

        before = torch.cumprod(torch.cat([torch.ones_like(a[:1]), a[:-1] ** 2]), 0)  # Π_{r'<r} a²
        total = before[-1] * a[-1] ** 2
        variance = start_var * start_gain**2 * total + (b**2 * before).sum(0)
        rows = torch.prod(a, 0)
        gain = start_gain * rows
        mean_gain = gain if sampler.name == "ve_chain" else rows
        return Transfer(gain, variance, torch.as_tensor(eigvals, dtype=a.dtype), mean_gain)
    sq = a * a
    before = np.empty_like(sq)  # Π_{r'<r} a²: a row loop beats numpy's cumprod along axis 0
    before[0] = 1.0
    for row in range(1, len(sq)):
        np.multiply(before[row - 1], sq[row - 1], out=before[row])
    total = before[-1] * sq[-1]
    if b.strides[1] == 0:  # the same noise for every component (ddpm, ddim): a matrix-vector product
        injected = (b[:, 0] ** 2) @ before
    else:
        injected = np.einsum("ri,ri->i", b * b, before)
    variance = start_var * start_gain**2 * total + injected
    rows = np.prod(a, axis=0)
    gain = start_gain * rows
    mean_gain = gain if sampler.name == "ve_chain" else rows
    return Transfer(gain, variance, np.asarray(eigvals, dtype=np.float64), mean_gain)
