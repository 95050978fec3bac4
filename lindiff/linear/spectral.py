"""Closed-form spectral model of the linear chain, and schedule design from it.

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

Schedule design (in the spirit of Benita et al.)
------------------------------------------------
:func:`design_schedule` chooses the increments (and the injected-noise stds) that minimize the
W2² (or KL) distance between the predicted generated spectrum and the data's spectrum, by
torch autograd through the closed form above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lindiff.errors import ConfigError, DataError
from lindiff.linear import theory
from lindiff.linear.generate import run_chain, transitions
from lindiff.linear.learn import Bases, check_rank
from lindiff.linear.schedules import Schedule, from_increments, make_schedule
from lindiff.validation import check_vector

if TYPE_CHECKING:  # pandas is imported where a table is made (a job that makes none does not pay for it)
    import pandas as pd

OBJECTIVES = ("w2", "kl")
INJECTION_MODES = ("free", "increment", "none")

__all__ = [
    "INJECTION_MODES",
    "OBJECTIVES",
    "ScheduleDesign",
    "chain_second_moment",
    "closed_form_cos2_torch",
    "data_spectrum",
    "cumulative_gains",
    "design_schedule",
    "energy_on_leading_predicted",
    "exact_gains",
    "gaussian_kl",
    "measured_spectrum",
    "monte_carlo_check",
    "spectrum_comparison",
    "spectrum_errors",
    "power_iteration_energy_predicted",
    "predicted_leading_energy",
    "predicted_spectrum",
    "predicted_variances_torch",
    "refine_injection",
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

    optimizer = torch.optim.Adam(params, lr=lr)
    history, best = [], (np.inf, None)
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = _torch_objective(variances(), target, objective)
        value = float(loss.detach())
        history.append(value)
        if value < best[0]:
            best = (value, [q.detach().clone() for q in params])
        if step == steps:
            break
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        log_noise.copy_(best[1][0])
        if free_initial_std:
            log_initial.copy_(best[1][1])
        variance = variances().numpy().copy()
        return (torch.exp(log_noise).numpy().copy(), float(torch.exp(log_initial)), variance, np.asarray(history))


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


def _inverse_softplus(y: np.ndarray) -> np.ndarray:
    y = np.maximum(np.asarray(y, dtype=np.float64), 1e-8)
    return np.where(y > 20, y, np.log(np.expm1(np.minimum(y, 20))))


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
    raw_inc = _inverse_softplus(shape.sigma[1:] / shape.sigma[1:].max())
    w = torch.tensor(raw_inc, dtype=dtype) + init_jitter * torch.randn(T, generator=gen, dtype=dtype)
    z = torch.zeros((), dtype=dtype)
    params = [w.requires_grad_(), z.requires_grad_()]
    v = None
    if mode == "free":
        mid = 0.5 * (lo + hi)
        raw_noise = _inverse_softplus(mid * shape.sigma[1:])  # start at the increment injection
        v = torch.tensor(raw_noise, dtype=dtype) + init_jitter * torch.randn(T, generator=gen, dtype=dtype)
        params.append(v.requires_grad_())
    q = None
    if free_initial_std:
        q = torch.tensor(float(_inverse_softplus(0.5 * (lo + hi))), dtype=dtype)
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

    optimizer = torch.optim.Adam(params, lr=lr)
    history = []
    best = (np.inf, None)
    for _ in range(steps + 1):
        optimizer.zero_grad()
        loss = loss_of(*unpack(params))
        value = float(loss.detach())
        history.append(value)
        if value < best[0]:
            best = (value, [p.detach().clone() for p in params])
        if len(history) == steps + 1:
            break
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        sigma, _, noise, initial = build(*unpack(best[1]))
    sigma = np.concatenate([[0.0], sigma.numpy()])
    schedule = from_increments("spectral", sigma)
    noise_std = noise.numpy().copy()
    initial_std = float(initial) if free_initial_std else float(schedule.sigma_bar[-1])
    predicted = predicted_spectrum(schedule.sigma_bar, eigvals, d, n, noise_std=noise_std, initial_std=initial_std)
    return ScheduleDesign(
        schedule=schedule,
        noise_std=noise_std,
        initial_std=initial_std,
        objective=float(best[0]),
        history=np.asarray(history),
        predicted=predicted,
    )


# --------------------------------------------------------------------------- power iteration


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
