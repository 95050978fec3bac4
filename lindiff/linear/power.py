"""Power iteration against the chain: the predicted energy of generated samples on the leading component.

The chain's generated variances (:func:`lindiff.linear.spectral.predicted_spectrum`) give its
predicted energy on component 0 (:func:`energy_on_leading_predicted`); power iteration on the
data's covariance gives ``(λ_1²/λ_0²)^T``-type retention (:func:`power_iteration_energy_predicted`).
"""

from __future__ import annotations

import numpy as np

from lindiff.errors import ConfigError
from lindiff.linear.spectral import _check_eigvals, _variances_of, predicted_spectrum

__all__ = ["energy_on_leading_predicted", "power_iteration_energy_predicted", "predicted_leading_energy"]


def energy_on_leading_predicted(variances, method: str = "gaussian") -> float:
    """Predicted energy fraction of generated samples on component 0.

    Parameters
    ----------
    variances : array of shape (r,) or a :func:`predicted_spectrum` frame
        Per-component generated variances ``v_i`` of *all* components a sample has (for an
        uncentered chain of rank ``r``, ``x_g`` lies in the span of ``U_0``'s ``r`` columns).
    method : {"gaussian", "ratio"}
        ``ratio``: ``v_0 / Σ_i v_i`` (energy fraction of the mean second moment).
        ``gaussian`` (default): ``E[a_0² / Σ_i a_i²]`` for independent ``a_i ~ N(0, v_i)``,
        the quantity :func:`lindiff.linear.analysis.leading_energy` averages, from
        ``E[a_0²/Q] = ∫_0^∞ v_0 (1 + 2 v_0 s)^{-3/2} Π_{i>0} (1 + 2 v_i s)^{-1/2} ds``
        (using ``1/Q = ∫_0^∞ e^{-sQ} ds``).  Equals 1/r for equal variances.
    """
    import scipy.integrate

    v = _variances_of(variances)
    total = v.sum()
    if total <= 0:
        return float("nan")
    v = v / total
    if method == "ratio":
        return float(v[0])
    if method != "gaussian":
        raise ConfigError(f"method must be 'gaussian' or 'ratio', got {method!r}")
    if v[0] == 0:
        return 0.0
    rest = v[1:][v[1:] > 0]

    def integrand(s):
        return v[0] * (1 + 2 * v[0] * s) ** -1.5 * np.prod((1 + 2 * rest * s) ** -0.5)

    value, _ = scipy.integrate.quad(integrand, 0.0, np.inf, epsabs=1e-12, epsrel=1e-10, limit=200)
    return float(min(max(value, 0.0), 1.0))


def predicted_leading_energy(
    sigma_bar, eigvals, d: int, n: int, noise_std=None, initial_std=None, cosines=None, method: str = "gaussian"
) -> float:
    """:func:`energy_on_leading_predicted` of :func:`predicted_spectrum` (same arguments).

    Compare with ``analysis.leading_energy(samples, U0[:, 0]).mean()`` of the chain's samples.
    """
    spectrum = predicted_spectrum(sigma_bar, eigvals, d, n, noise_std, initial_std, cosines)
    return energy_on_leading_predicted(spectrum, method)


def power_iteration_energy_predicted(eigvals, n_iter: int) -> float:
    """Expected energy on ``u_0`` after ``n_iter >= 1`` steps of power iteration.

    ``Σ^T ξ`` with ``ξ ~ N(0, I_d)`` and ``Σ`` of eigenvalues ``eigvals`` (``λ_i²``, the
    components kept, as in :func:`lindiff.linear.analysis.power_iteration_comparison`) has
    independent coordinates of variance ``λ_i^{4T}``; the fraction follows as in
    :func:`energy_on_leading_predicted` (``method="gaussian"``).  Normalization does not
    change the direction, so this is the mean of ``leading_energy`` of
    :func:`lindiff.linear.analysis.power_iteration`'s output.
    """
    eigvals = _check_eigvals(eigvals)
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ConfigError(f"n_iter must be an integer >= 1, got {n_iter!r}")
    if eigvals[0] <= 0:
        raise ConfigError("eigvals[0] must be positive")
    relative = eigvals / eigvals[0]
    return energy_on_leading_predicted(relative ** (2 * int(n_iter)))
