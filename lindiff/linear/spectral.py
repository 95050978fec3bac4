"""Closed-form spectral model of the linear chain: predicted, exact and measured spectra, distances.

The model (Sec. 4.1, Eqs. 21–25, in the diagonal approximation)
----------------------------------------------------------------
:func:`lindiff.linear.generate.run_chain` computes, with ``P_t = U_t U_tᵀ`` (rank ``r``)::

    x_T = P_T ξ_T,   x_t = P_t (x_{t+1} + ξ_t)   (t = T-1 .. 0),   x_g = x_0,

with ``ξ_T ~ N(0, s_T² I_d)`` (``s_T = initial_std``, default ``sigma_bar[T]``) and
``ξ_t ~ N(0, e_t² I_d)`` (``e_t = noise_std[t]``, ``t = 0 .. T-1``).  In coefficients
``x_t = U_t a_t``::

    a_T = U_Tᵀ ξ_T,    a_t = M_t a_{t+1} + U_tᵀ ξ_t,    M_t = U_tᵀ U_{t+1}  (r × r).

Since ``x_g = U_0 a_0``, the coordinate of a generated sample on the clean (learned, level-0)
component ``u_i = u_i^0`` is exactly ``<u_i, x_g> = a_0[i]``.

*Projecting isotropic noise onto one component.*  For a unit vector ``u`` and
``ξ ~ N(0, e² I_d)``, ``<u, ξ> ~ N(0, e²)``: the factor is 1 per component (not ``d``, not
``1/d``).  The columns of ``U_t`` are orthonormal, so ``U_tᵀ ξ_t ~ N(0, e_t² I_r)`` with
independent entries; of the ``d e_t²`` of injected energy only ``r e_t²`` survives ``P_t``.

*Diagonal approximation.*  Keep only the diagonals ``c_{i,t} = [M_t]_{ii} = <u_i^t, u_i^{t+1}>``
(Eq. 21; Assumption 4.2 makes the off-diagonals negligible).  Then::

    a_0[i] = (Π_{τ=0}^{T-1} c_{i,τ}) a_T[i]  +  Σ_{t=0}^{T-1} (Π_{τ=0}^{t-1} c_{i,τ}) (U_tᵀ ξ_t)[i].

The noise injected at step ``t`` passes ``P_t`` (its own projection) and then the transitions
``M_{t-1} … M_0``, hence the product over ``τ < t`` (empty, = 1, for ``t = 0``: ``P_0 ξ_0``
reaches every component unattenuated; Eq. 25's last term).  The terms are independent, so::

    retention_i = Π_{t=0}^{T-1} c_{i,t}
    v_i = E<u_i, x_g>² = s_T² Π_{t<T} c_{i,t}²  +  Σ_{t<T} e_t² Π_{τ<t} c_{i,τ}².

*Cosines.*  Either measured from learned bases (:func:`lindiff.linear.analysis.step_cosines`), or the
closed form of :func:`lindiff.linear.theory.predicted_step_cosines`,
``c_{i,t} = cos θ_i(σ̄_{t+1}) / cos θ_i(σ̄_t)`` with the information-plus-noise limit
``cos² θ_i(σ̄) = (1 − c x²)_+ / (1 + c x)``, ``x = σ̄² / λ_i²``, ``c = d / n`` (NOTES §3;
equal to ``(s² − c) / (s (s + c))`` with ``s = 1/x``, and 0 once ``s <= sqrt(c)``: the
component is "lost in the noise").  ``cos² θ_i`` decreases in ``σ̄`` and is 1 at ``σ̄ = 0``,
so with these cosines the products telescope: ``Π_{τ<t} c_{i,τ}² = cos² θ_i(σ̄_t)``.  The
closed-form deterministic chain thus keeps ``cos θ_i(σ̄_T)`` of component ``i`` whatever the
number of steps; any dependence on ``T`` comes from the measured cosines.

Accuracy (established in ``tests/unit/test_spectral.py``; spiked model d=100, n=2000,
λ = 5, 3, 2, rank 3, T=20, σ̄_T=4, 4 data/learn seeds, 4 schedule shapes, 3 injections):
with measured cosines the prediction is within 5% of the Monte Carlo variance of
``run_chain`` on every component (max observed 4.3%; the test allows 10%).  With the
asymptotic cosines it is within 8% on the two leading components (test: 10%), but the third
(``s = λ²/σ̄_T² ≈ 0.25``, just above the threshold ``sqrt(d/n) ≈ 0.22``) is off by up to a
factor 3 either way (predicted/measured 0.30–2.96 over the seeds and shapes; 0.43–0.93 for
the linear schedule): near the threshold the finite-``n`` eigenvectors fluctuate far from the
``n → ∞`` limit, and the real chain depends on the schedule's shape, which the telescoped
closed form cannot see.  With a chain rank above the data's rank (null or bulk components in the
chain), the off-diagonal mixing the diagonal model ignores moves variance between
components; :func:`chain_second_moment` is then the exact reference.

The design of a schedule from this closed form is :mod:`lindiff.linear.design`; the predicted
energy of power iteration and of the chain on the leading component is :mod:`lindiff.linear.power`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lindiff.errors import ConfigError, DataError
from lindiff.linear import theory
from lindiff.linear.generate import run_chain, transitions
from lindiff.linear.learn import Bases, check_rank
from lindiff.validation import check_vector

if TYPE_CHECKING:  # pandas is imported where a table is made (a job that makes none does not pay for it)
    import pandas as pd

__all__ = [
    "chain_second_moment",
    "cumulative_gains",
    "data_spectrum",
    "exact_gains",
    "gaussian_kl",
    "measured_spectrum",
    "monte_carlo_check",
    "predicted_spectrum",
    "spectrum_comparison",
    "spectrum_errors",
    "w2_to_data",
]


# --------------------------------------------------------------------------- validation


def _check_eigvals(eigvals) -> np.ndarray:
    eigvals = check_vector(eigvals, "eigvals", error=ConfigError)
    if len(eigvals) < 1 or np.any(eigvals < 0):
        raise ConfigError("eigvals must be a non-empty array of non-negative eigenvalues λ_i²")
    return eigvals


def _check_sigma_bar(sigma_bar) -> np.ndarray:
    sigma_bar = check_vector(sigma_bar, "sigma_bar", error=ConfigError)
    if len(sigma_bar) < 2 or sigma_bar[0] != 0 or np.any(np.diff(sigma_bar) < 0):
        raise ConfigError("sigma_bar must have length T + 1 >= 2, start at 0 and be non-decreasing")
    return sigma_bar


def _check_noise(noise_std, initial_std, T: int, sigma_bar_T: float) -> tuple[np.ndarray, float]:
    if noise_std is None:
        noise_std = np.zeros(T)
    noise_std = check_vector(noise_std, "noise_std", length=T, error=ConfigError)
    if np.any(noise_std < 0):
        raise ConfigError("noise_std must be non-negative")
    initial_std = float(sigma_bar_T) if initial_std is None else float(initial_std)
    if not np.isfinite(initial_std) or initial_std < 0:
        raise ConfigError(f"initial_std must be finite and >= 0, got {initial_std}")
    return noise_std, initial_std


# --------------------------------------------------------------------------- the closed form


def cumulative_gains(cosines) -> np.ndarray:
    """``G[t, i] = Π_{τ<t} c_{i,τ}²`` for ``t = 0 .. T``, shape ``(T + 1, r)``; ``G[0] = 1``.

    ``G[t]`` is the variance gain of noise injected at step ``t`` (``t < T``) on its way to
    ``x_0``; ``G[T]`` is the gain of ``ξ_T``.
    """
    cosines = np.asarray(cosines, dtype=np.float64)
    if cosines.ndim != 2 or not np.all(np.isfinite(cosines)):
        raise ConfigError(f"cosines must be a finite (T, r) array, got shape {cosines.shape}")
    gains = np.cumprod(cosines**2, axis=0)
    return np.vstack([np.ones((1, cosines.shape[1])), gains])


def predicted_spectrum(
    sigma_bar,
    eigvals,
    d: int,
    n: int,
    noise_std=None,
    initial_std: float | None = None,
    cosines=None,
) -> pd.DataFrame:
    """Predicted per-component retention and generated variance of the chain (Eqs. 21–25).

    Parameters
    ----------
    sigma_bar : array of shape (T + 1,)
        Cumulative noise stds of the schedule (``Schedule.sigma_bar``).
    eigvals : array of shape (r,)
        Clean eigenvalues ``λ_i²`` of ``X_0ᵀ X_0 / n`` for the ``r`` components of the chain.
    d, n : int
        Dimension and number of training samples (enter the closed-form cosines only).
    noise_std : array of shape (T,), optional
        Std ``e_t`` of the injected ``ξ_t`` (as given to ``run_chain``); None: deterministic.
    initial_std : float, optional
        Std of ``ξ_T``; default ``sigma_bar[T]`` (``run_chain``'s default).
    cosines : array of shape (T, r), optional
        Step cosines ``c_{i,t}``, e.g. measured by :func:`lindiff.linear.analysis.step_cosines`;
        default: the closed form :func:`lindiff.linear.theory.predicted_step_cosines`.

    Returns
    -------
    DataFrame with one row per component and columns ``index, eigval, retention``
    (``Π_t c_{i,t}``), ``variance_initial`` (``s_T² Π_t c_{i,t}²``), ``variance_injected``
    (``Σ_{t<T} e_t² Π_{τ<t} c_{i,τ}²``) and ``variance`` (their sum: ``E<u_i, x_g>²``).
    """
    import pandas as pd
    sigma_bar = _check_sigma_bar(sigma_bar)
    eigvals = _check_eigvals(eigvals)
    T = len(sigma_bar) - 1
    noise_std, initial_std = _check_noise(noise_std, initial_std, T, sigma_bar[-1])
    if cosines is None:
        cosines = theory.predicted_step_cosines(sigma_bar, eigvals, d, n)
    cosines = np.asarray(cosines, dtype=np.float64)
    if cosines.shape != (T, len(eigvals)):
        raise ConfigError(f"cosines must have shape (T, r) = {(T, len(eigvals))}, got {cosines.shape}")
    gains = cumulative_gains(cosines)
    var_initial = initial_std**2 * gains[T]
    var_injected = (noise_std[:, None] ** 2 * gains[:T]).sum(axis=0)
    return pd.DataFrame(
        {
            "index": np.arange(len(eigvals)),
            "eigval": eigvals,
            "retention": np.prod(cosines, axis=0),
            "variance_initial": var_initial,
            "variance_injected": var_injected,
            "variance": var_initial + var_injected,
        }
    )


def chain_second_moment(
    bases: Bases, rank: int | None = None, noise_std=None, initial_std: float | None = None
) -> np.ndarray:
    """Exact ``E[a_0 a_0ᵀ]`` (``r × r``) of ``run_chain`` given the learned bases.

    ``a_0 = U_0ᵀ (x_g − mean)`` are the coordinates on the level-0 components, so the diagonal
    is the exact expected ``<u_i, x_g>²``: ``s_T² Q_T Q_Tᵀ + Σ_{t<T} e_t² Q_t Q_tᵀ`` with
    ``Q_t = M_0 ⋯ M_{t-1}`` (full transitions, no diagonal approximation).  The reference
    against which both the diagonal model and Monte Carlo can be checked.
    """
    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    noise_std, initial_std = _check_noise(noise_std, initial_std, bases.T, bases.sigma_bar[-1])
    stds = np.append(noise_std, initial_std)  # noise at t = 0 .. T-1, then xi_T
    moment = np.zeros((rank, rank))
    for std, prefix in zip(stds, _prefix_products(bases, rank)):
        if std > 0:
            moment += std**2 * prefix @ prefix.T
    return moment


def _prefix_products(bases: Bases, rank: int):
    """``Q_t = M_0 ⋯ M_{t-1}`` (``r × r``, ``Q_0 = I``) for ``t = 0 .. T``, one at a time."""
    steps = transitions(bases, rank)
    prefix = np.eye(rank)
    for t in range(bases.T + 1):
        yield prefix
        if t < bases.T:
            prefix = prefix @ steps[t]


def exact_gains(bases: Bases, rank: int | None = None) -> np.ndarray:
    """``G[t, i] = [Q_t Q_tᵀ]_{ii}`` with ``Q_t = M_0 ⋯ M_{t-1}``, shape ``(T + 1, r)``.

    The exact (full-transition) variance gain of isotropic noise injected at step ``t`` on its
    way to component ``i`` of ``x_0`` (``G[T]``: the gain of ``ξ_T``), so that
    ``diag(chain_second_moment) = s_T² G[T] + Σ_{t<T} e_t² G[t]``: linear in the injected
    variances.  The exact counterpart of :func:`cumulative_gains`.
    """
    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    return np.array([np.einsum("ij,ij->i", prefix, prefix) for prefix in _prefix_products(bases, rank)])


def measured_spectrum(samples: np.ndarray, basis: np.ndarray, mean: np.ndarray | None = None) -> pd.DataFrame:
    """Monte Carlo ``E<u_i, x>²`` over samples, with its standard error.

    Parameters
    ----------
    samples : ndarray of shape (n_samples, d)
    basis : ndarray of shape (d, r)
        Components (columns), e.g. ``Bases.U[0]``.
    mean : ndarray of shape (d,), optional
        Subtracted first (bases learned centered).

    Returns
    -------
    DataFrame with columns ``index, variance, stderr``.
    """
    import pandas as pd
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != basis.shape[0]:
        raise DataError(f"samples must have shape (n_samples, {basis.shape[0]}), got {samples.shape}")
    x = samples if mean is None else samples - mean
    sq = (x @ basis) ** 2
    stderr = sq.std(axis=0, ddof=1) / np.sqrt(len(sq)) if len(sq) > 1 else np.full(sq.shape[1], np.nan)
    return pd.DataFrame({"index": np.arange(basis.shape[1]), "variance": sq.mean(axis=0), "stderr": stderr})


def spectrum_comparison(
    bases: Bases,
    samples,
    rank: int | None = None,
    noise_std=None,
    initial_std: float | None = None,
) -> pd.DataFrame:
    """Predicted against measured per-component variance of generated samples.

    Compares the measured ``E<u_i, x>²`` of ``samples`` (generated by ``run_chain`` with the
    given ``rank``, ``noise_std`` and ``initial_std``) on the level-0 components with the exact
    value given the bases (:func:`chain_second_moment`), the diagonal model with measured
    cosines, and the diagonal model with the closed-form (asymptotic) cosines.

    Parameters
    ----------
    bases : Bases
    samples : ndarray of shape (n_samples, d)
    rank : int, optional
        Chain rank (default ``bases.k``).
    noise_std : array of shape (T,), optional
        Injected-noise stds the samples were generated with (None: deterministic chain).
    initial_std : float, optional
        Std of ``ξ_T`` (default ``sigma_bar[T]``).

    Returns
    -------
    DataFrame, one row per component: ``index, eigval, measured, stderr, exact,
    predicted_measured_cos, predicted_asymptotic, rel_err_measured_cos,
    rel_err_asymptotic`` (relative errors of the predictions against ``measured``).
    """
    import pandas as pd

    from lindiff.linear.analysis import step_cosines

    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    noise_std, initial_std = _check_noise(noise_std, initial_std, bases.T, bases.sigma_bar[-1])
    measured = measured_spectrum(samples, bases.U[0][:, :rank], bases.mean)
    eigvals = bases.eigvals[0, :rank]
    n_eff = bases.n_train - 1 if bases.mean is not None else bases.n_train
    kwargs = {"noise_std": noise_std, "initial_std": initial_std}
    with_measured = predicted_spectrum(
        bases.sigma_bar, eigvals, bases.d, n_eff, cosines=step_cosines(bases, rank), **kwargs
    )
    asymptotic = predicted_spectrum(bases.sigma_bar, eigvals, bases.d, n_eff, **kwargs)
    exact = np.diag(chain_second_moment(bases, rank, noise_std, initial_std))
    m = measured["variance"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "index": np.arange(rank),
                "eigval": eigvals,
                "measured": m,
                "stderr": measured["stderr"].to_numpy(),
                "exact": exact,
                "predicted_measured_cos": with_measured["variance"].to_numpy(),
                "predicted_asymptotic": asymptotic["variance"].to_numpy(),
                "rel_err_measured_cos": with_measured["variance"].to_numpy() / m - 1.0,
                "rel_err_asymptotic": asymptotic["variance"].to_numpy() / m - 1.0,
            }
        )


PREDICTIONS = ("exact", "predicted_measured_cos", "predicted_asymptotic")


def spectrum_errors(table: pd.DataFrame) -> dict[str, float]:
    """Scalar errors of a :func:`spectrum_comparison` table.

    For each prediction ``p`` in ``exact, predicted_measured_cos, predicted_asymptotic``:

    * ``spectrum_err/<p>``: relative L1 error over the spectrum, ``Σ_i |p_i − m_i| / Σ_i m_i``
      (robust where single components have variance near 0, unlike per-component ratios);
    * ``w2/<p>``: the W2² distance of the predicted spectrum to the data's (:func:`w2_to_data`),

    plus ``w2/measured`` (the measured spectrum's W2² to the data) and ``w2_err/<p>``, the
    prediction's W2² minus the measured one.
    """
    measured = table["measured"].to_numpy()
    eigvals = table["eigval"].to_numpy()
    total = measured.sum()
    out = {"w2/measured": w2_to_data(measured, eigvals)}
    for name in PREDICTIONS:
        predicted = np.maximum(table[name].to_numpy(), 0.0)
        out[f"spectrum_err/{name}"] = float(np.abs(predicted - measured).sum() / total) if total > 0 else float("nan")
        out[f"w2/{name}"] = w2_to_data(predicted, eigvals)
        out[f"w2_err/{name}"] = out[f"w2/{name}"] - out["w2/measured"]
    return out


def monte_carlo_check(
    bases: Bases,
    rank: int | None = None,
    noise_std=None,
    initial_std: float | None = None,
    n_samples: int = 20_000,
    seed=0,
) -> pd.DataFrame:
    """:func:`spectrum_comparison` on ``n_samples`` fresh samples of the chain.

    Runs ``run_chain(bases, n_samples, rank, noise_std, initial_std, seed)`` and compares the
    measured ``E<u_i, x>²`` with the predictions (same columns as :func:`spectrum_comparison`).
    """
    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    noise_std, initial_std = _check_noise(noise_std, initial_std, bases.T, bases.sigma_bar[-1])
    out = run_chain(bases, n_samples, rank=rank, noise_std=noise_std, initial_std=initial_std, seed=seed)
    return spectrum_comparison(bases, out.samples, rank, noise_std, initial_std)


# --------------------------------------------------------------------------- distances


def _variances_of(variances) -> np.ndarray:
    import pandas as pd
    if isinstance(variances, pd.DataFrame):
        variances = variances["variance"].to_numpy()
    variances = check_vector(variances, "variances", error=ConfigError)
    if np.any(variances < 0):
        raise ConfigError("variances must be non-negative")
    return variances


def w2_to_data(variances, eigvals) -> float:
    """Squared 2-Wasserstein distance between ``N(0, diag(v))`` and ``N(0, diag(λ²))``.

    Both Gaussians are zero-mean with the same eigenbasis, so
    ``W2² = Σ_i (λ_i − sqrt(v_i))²`` with ``λ_i = sqrt(eigvals_i)``.  ``variances`` may be a
    :func:`predicted_spectrum` / :func:`measured_spectrum` frame (its ``variance`` column).
    """
    variances = _variances_of(variances)
    eigvals = _check_eigvals(eigvals)
    if len(eigvals) != len(variances):
        raise ConfigError(f"variances ({len(variances)}) and eigvals ({len(eigvals)}) differ in length")
    return float(np.sum((np.sqrt(eigvals) - np.sqrt(variances)) ** 2))


def gaussian_kl(variances, eigvals, direction: str = "generated||data") -> float:
    """KL divergence between ``N(0, diag(v))`` (generated) and ``N(0, diag(λ²))`` (data).

    ``direction="generated||data"`` (default): ``½ Σ_i (v_i/λ_i² − 1 − log(v_i/λ_i²))``;
    ``"data||generated"`` swaps the roles.  Infinite when a variance or eigenvalue is zero
    (the Gaussians are then mutually singular).
    """
    variances = _variances_of(variances)
    eigvals = _check_eigvals(eigvals)
    if len(eigvals) != len(variances):
        raise ConfigError(f"variances ({len(variances)}) and eigvals ({len(eigvals)}) differ in length")
    if direction == "generated||data":
        p, q = variances, eigvals
    elif direction == "data||generated":
        p, q = eigvals, variances
    else:
        raise ConfigError(f"direction must be 'generated||data' or 'data||generated', got {direction!r}")
    if np.any(p <= 0) or np.any(q <= 0):
        return float("inf")
    ratio = p / q
    return float(0.5 * np.sum(ratio - 1.0 - np.log(ratio)))


# --------------------------------------------------------------------------- schedule design


def data_spectrum(X, k: int, centered: bool = False) -> tuple[np.ndarray, int]:
    """The clean spectrum a design targets, in the convention of :class:`lindiff.linear.learn.Bases`.

    Parameters
    ----------
    X : array of shape (n, d)
        Training samples as rows.
    k : int
        Number of leading eigenvalues returned (``1 <= k <= d``).
    centered : bool
        Eigenvalues of the centered data (as learned with ``centered=True``).

    Returns
    -------
    (eigvals (k,), n_noise)
        The top ``k`` eigenvalues ``λ_i²`` of ``X_cᵀ X_c / n`` (what ``learn_bases`` stores
        as ``eigvals[0]``), decreasing, and the ``n`` of the closed form's ``c = d / n``
        (``n - 1`` when centered).
    """
    from lindiff.linear.learn import data_moments, symmetrize_lower

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2 or not np.all(np.isfinite(X)):
        raise DataError(f"X must be a finite (n, d) array with n >= 2, got shape {X.shape}")
    check_rank(k, X.shape[1])
    gram, n_noise, _ = data_moments(X, centered)
    vals = np.linalg.eigvalsh(symmetrize_lower(gram))[::-1][:k] / len(X)
    return np.maximum(vals, 0.0), n_noise
