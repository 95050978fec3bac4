"""Fig. 7 statistics: does an eigenbasis keep its low indices longest as the noise grows?

The same functions serve the deep denoiser's Jacobian eigenvectors along sampling paths
(:class:`lindiff.deep.jacobian.PathJacobians`, Sec. 5 / Fig. 7) and the linear PCA bases
learned on noisy data (:func:`lindiff.linear.analysis.sin_theta`, Sec. 4 / Fig. 2), so the
two can be compared number for number.  Everything works on plain arrays.

Conventions
-----------
``sigma`` : (m, P) or (P,)
    Noise level of each of the ``P`` points of ``m`` paths.  The point axis is ordered as
    sampled: the first point is the noisiest, the **last point is the reference** (the
    generated image for the deep paths, the clean data ``σ = 0`` for the linear bases).
``sin`` : (m, P, K)
    ``sin θ_i = sqrt(1 − <v_i^t, v_i^ref>²)`` for the top ``K`` eigenvectors, index-matched
    to the reference (0 at the last point).

Definitions
-----------
Median curve
    ``s_i(p)``: the median of ``sin[:, p, i]`` over the paths (NaNs ignored); its noise level
    ``σ(p)`` is the median of ``sigma[:, p]``; ``σ_ref = σ(P − 1)``.  Points are taken in
    increasing ``σ`` order (stable), so paths whose estimated ``σ`` is not monotone still
    give a well-defined curve.
Small-σ slope (Eq. 12 analogue)
    The least-squares slope through the origin of ``s_i`` against ``σ − σ_ref`` over the
    points with ``σ > σ_ref`` and ``s_i ≤ max_sin``, taken as the contiguous run starting
    next to the reference (the curve's small-noise regime: a point beyond the first one
    where ``s_i > max_sin`` is not used, even if the curve dips back).  NaN with fewer than
    2 such points.  Eq. 12, ``sin θ_i ≈ (σ / λ_i) sqrt(d / n)``, predicts a slope ``∝ 1/λ_i``:
    a log-log slope of −1 against ``λ_i`` (the paper's spike strength), i.e. −1/2 against
    the covariance eigenvalue ``λ_i²`` (what :func:`linear_reference` returns).
Crossing noise level
    ``σ_×(i)``: the smallest ``σ > σ_ref`` at which ``s_i`` first reaches ``level``,
    interpolated linearly in ``log σ`` between the bracketing points (the last point below
    ``level`` and the first at or above it); linearly in ``σ`` when the lower bracket is a
    reference at ``σ_ref = 0``.  NaN if the curve never reaches ``level``.
Fig. 7 ordering
    The paper's claim ("the correlation of the low indices withstands higher noise levels")
    means ``σ_×(i)`` decreases with ``i``: a clearly negative Spearman correlation between
    ``σ_×`` and the index, over the indices that cross.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _stats

from lindiff.errors import ConfigError, DataError
from lindiff.linear.analysis import loglog_slope  # noqa: F401 (part of this study's API)

__all__ = [
    "analysis_points",
    "crossing_sigma",
    "fig7_statistics",
    "index_summary",
    "linear_reference",
    "loglog_slope",
    "median_curves",
    "reference_eigvals",
    "small_sigma_slopes",
    "verdict",
]


# --------------------------------------------------------------------------- input checks


def _check_arrays(sigma, sin) -> tuple[np.ndarray, np.ndarray]:
    """``sigma`` as (m, P) and ``sin`` as (m, P, K), float64, checked against each other."""
    sin = np.asarray(sin, dtype=np.float64)
    if sin.ndim != 3 or min(sin.shape) < 1:
        raise DataError(f"sin must have shape (m, P, K) with m, P, K >= 1, got shape {sin.shape}")
    m, P, _ = sin.shape
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.ndim == 1:
        if sigma.shape != (P,):
            raise DataError(f"sigma must have shape ({P},) or ({m}, {P}) to match sin {sin.shape}, got {sigma.shape}")
        sigma = np.broadcast_to(sigma, (m, P))
    elif sigma.shape != (m, P):
        raise DataError(f"sigma must have shape ({P},) or ({m}, {P}) to match sin {sin.shape}, got {sigma.shape}")
    if not np.all(np.isfinite(sigma)):
        raise DataError("sigma holds NaN or infinite values")
    if np.any(sigma < 0):
        raise DataError("sigma holds negative noise levels")
    return sigma, sin


def _check_level(name: str, value, low_open: float = 0.0, high: float = math.inf) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not (np.isfinite(value) and low_open < value <= high):
        raise ConfigError(f"{name} must be in ({low_open:g}, {high:g}], got {name}={value}")
    return value


def _check_eigvals(eigvals, K: int) -> np.ndarray:
    eigvals = np.asarray(eigvals, dtype=np.float64)
    if eigvals.shape != (K,):
        raise DataError(f"eigvals must have shape ({K},) (one per index of sin), got {eigvals.shape}")
    return eigvals


# --------------------------------------------------------------------------- medians


def _quantiles(values: np.ndarray, qs: Sequence[float], axis: int) -> np.ndarray:
    """``np.nanquantile`` without the all-NaN warning (NaN there); ``np.quantile`` (the same
    values, vectorised instead of one call per column) when nothing is NaN."""
    if not np.isnan(values).any():
        return np.quantile(values, qs, axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, qs, axis=axis)


def analysis_points(sigma, n_points: int, sigma_max: float) -> np.ndarray:
    """Indices of the path points where the Jacobians are taken: ``n_points`` targets log-spaced
    in ``σ`` from the final iteration (the last point with ``σ > 0``, the reference) up to
    ``sigma_max``, each matched, from the reference up, to the recorded point nearest in
    ``log σ`` that no earlier target took, in path order; the reference always included.  So
    ``min(n_points, recorded points in range)`` distinct points: where the recorded levels are
    sparse in ``log σ`` (a ``vplinear`` path near σ = 0) a target takes the next free neighbour
    instead of merging with the previous one.

    ``sigma`` : (P,) or (m, P) noise levels of the recorded points (first = noisiest); the
    median over paths is used.
    """
    level = np.asarray(sigma, dtype=np.float64)
    level = np.median(level, axis=0) if level.ndim == 2 else level
    if level.ndim != 1 or level.size < 1:
        raise DataError(f"sigma must have shape (P,) or (m, P), got {np.shape(sigma)}")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ConfigError(f"n_points must be an integer >= 2, got n_points={n_points!r}")
    sigma_max = _check_level("sigma_max", sigma_max)
    noisy = np.flatnonzero(level > 0)
    if noisy.size == 0:
        raise DataError("sigma: no recorded point has a positive noise level")
    ref = noisy[-1]
    candidates = noisy[level[noisy] <= max(sigma_max, level[ref])]
    targets = np.geomspace(level[ref], max(sigma_max, level[ref]), n_points)
    log_levels = np.log(level[candidates])
    free = np.ones(candidates.size, dtype=bool)
    chosen = []
    for target in targets:  # from the reference up: the nearest recorded point not yet chosen
        if not free.any():
            break
        distance = np.where(free, np.abs(log_levels - np.log(target)), np.inf)
        best = int(np.argmin(distance))
        free[best] = False
        chosen.append(int(candidates[best]))
    return np.array(sorted(set(chosen) | {int(ref)}))


def median_curves(sigma, sin) -> tuple[np.ndarray, np.ndarray]:
    """Median over paths of the noise level and of ``sin θ_i``.

    Parameters
    ----------
    sigma : array (m, P) or (P,)
    sin : array (m, P, K)

    Returns
    -------
    sigma_med : ndarray (P,)
        Median noise level of each point (point order as given; last = reference).
    sin_med : ndarray (P, K)
        Median ``sin θ_i`` per point and index (NaN where all paths are NaN).
    """
    sigma, sin = _check_arrays(sigma, sin)
    return np.median(sigma, axis=0), _quantiles(sin, [0.5], axis=0)[0]


def _sorted_above_reference(sigma_med: np.ndarray, sin_med: np.ndarray):
    """Reference σ and the points with σ > σ_ref, sorted by σ (stable)."""
    sigma_ref = float(sigma_med[-1])
    order = np.argsort(sigma_med, kind="stable")
    order = order[sigma_med[order] > sigma_ref]
    return sigma_ref, sigma_med[order], sin_med[order]


def index_summary(sigma, sin, quantiles: Sequence[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
    """Per-point, per-index quantiles of ``sin θ_i`` over the paths.

    Parameters
    ----------
    sigma : array (m, P) or (P,)
        Noise level of each point (last = reference).
    sin : array (m, P, K)
        ``sin θ_i`` to the reference basis.
    quantiles : (low, mid, high)
        Quantiles over the paths.  The defaults give the columns ``q25, median, q75``; in
        general the columns are ``q<100·low>``, ``median`` (the ``mid`` quantile) and
        ``q<100·high>``, and ``summary.attrs["band"]`` names the low/high columns.

    Returns
    -------
    DataFrame, one row per (point, index), ``P · K`` rows: ``point`` (0 = first/noisiest,
    ``P − 1`` = reference), ``sigma`` (median over paths), ``index``, ``median``, ``q25``,
    ``q75``, ``n_paths`` (paths with a finite value).
    """
    sigma, sin = _check_arrays(sigma, sin)
    qs = [float(q) for q in quantiles]
    if len(qs) != 3 or not all(0.0 <= q <= 1.0 for q in qs) or not qs[0] <= qs[1] <= qs[2]:
        raise ConfigError(f"quantiles must be three increasing numbers in [0, 1] (low, mid, high), got {quantiles!r}")
    _, P, K = sin.shape
    low, mid, high = _quantiles(sin, qs, axis=0)  # each (P, K)
    low_col, high_col = (f"q{100 * q:g}" for q in (qs[0], qs[2]))
    point, index = np.meshgrid(np.arange(P), np.arange(K), indexing="ij")
    table = pd.DataFrame(
        {
            "point": point.ravel(),
            "sigma": np.median(sigma, axis=0)[point].ravel(),
            "index": index.ravel(),
            "median": mid.ravel(),
            low_col: low.ravel(),
            high_col: high.ravel(),
            "n_paths": np.isfinite(sin).sum(axis=0).ravel(),
        }
    )
    table.attrs["band"] = (low_col, high_col)
    return table


def reference_eigvals(eigvals, K: int) -> np.ndarray:
    """Median over paths of the top ``K`` Jacobian eigenvalues at the reference (last) point.

    Parameters
    ----------
    eigvals : array (m, P, d)
        Descending eigenvalues along the paths (``PathJacobians.eigvals``).
    K : int
        Number of indices (``sin.shape[-1]``).

    Returns
    -------
    ndarray (K,)
    """
    eigvals = np.asarray(eigvals, dtype=np.float64)
    if eigvals.ndim != 3:
        raise DataError(f"eigvals must have shape (m, P, d), got {eigvals.shape}")
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= eigvals.shape[2]:
        raise ConfigError(f"K must be an integer in [1, d={eigvals.shape[2]}], got K={K!r}")
    return _quantiles(eigvals[:, -1, : int(K)], [0.5], axis=0)[0]


# --------------------------------------------------------------------------- slopes and crossings


def small_sigma_slopes(sigma, sin, eigvals, max_sin: float = 0.5) -> pd.DataFrame:
    """Small-noise slope of each median curve (the Eq. 12 analogue).

    Parameters
    ----------
    sigma : array (m, P) or (P,)
    sin : array (m, P, K)
    eigvals : array (K,)
        One eigenvalue per index, chosen by the caller (e.g. :func:`reference_eigvals`).
    max_sin : float in (0, 1]
        Upper end of the small-noise regime.

    Returns
    -------
    DataFrame (K rows): ``index, slope, eigval, n_fit``.  ``slope`` is the least-squares
    slope through the origin of ``s_i`` against ``σ − σ_ref`` over the contiguous run of
    points above the reference with ``s_i ≤ max_sin`` (``n_fit`` points); NaN when
    ``n_fit < 2``.
    """
    sigma, sin = _check_arrays(sigma, sin)
    K = sin.shape[2]
    eigvals = _check_eigvals(eigvals, K)
    max_sin = _check_level("max_sin", max_sin, 0.0, 1.0)
    sigma_ref, x_all, curves = _sorted_above_reference(*median_curves(sigma, sin))
    x_all = x_all - sigma_ref
    rows = []
    for i in range(K):
        y = curves[:, i]
        above = np.flatnonzero(~(y <= max_sin))  # NaN ends the regime too
        n = int(above[0]) if len(above) else len(y)
        if n >= 2:
            x, yy = x_all[:n], y[:n]
            slope = float(np.dot(x, yy) / np.dot(x, x))
        else:
            slope = math.nan
        rows.append((i, slope, float(eigvals[i]), n))
    return pd.DataFrame(rows, columns=["index", "slope", "eigval", "n_fit"])


def crossing_sigma(sigma, sin, level: float = 0.5) -> pd.DataFrame:
    """Noise level at which each median curve first reaches ``level``.

    Parameters
    ----------
    sigma : array (m, P) or (P,)
    sin : array (m, P, K)
    level : float in (0, 1]

    Returns
    -------
    DataFrame (K rows): ``index, sigma_cross``.  ``sigma_cross`` is interpolated in
    ``log σ`` between the bracketing points (in ``σ`` when the lower bracket is a reference
    at ``σ = 0``); NaN when the curve never reaches ``level`` above ``σ_ref``.
    """
    sigma, sin = _check_arrays(sigma, sin)
    level = _check_level("level", level, 0.0, 1.0)
    sigma_med, sin_med = median_curves(sigma, sin)
    sigma_ref, xs, curves = _sorted_above_reference(sigma_med, sin_med)
    ref_values = sin_med[-1]
    out = []
    for i in range(sin.shape[2]):
        y = curves[:, i]
        hits = np.flatnonzero(y >= level)
        if not len(hits):
            out.append((i, math.nan))
            continue
        j = int(hits[0])
        x1, y1 = xs[j], y[j]
        if j > 0:
            x0, y0 = xs[j - 1], y[j - 1]
        else:
            x0, y0 = sigma_ref, ref_values[i]
        if not np.isfinite(y0) or y0 >= y1:  # no usable lower bracket: the first point reaching it
            out.append((i, float(x1)))
            continue
        frac = (level - y0) / (y1 - y0)
        if x0 > 0:
            cross = math.exp(math.log(x0) + frac * (math.log(x1) - math.log(x0)))
        else:
            cross = x0 + frac * (x1 - x0)
        out.append((i, float(cross)))
    return pd.DataFrame(out, columns=["index", "sigma_cross"])


# --------------------------------------------------------------------------- statistics


def _spearman(x, y) -> tuple[float, float, int]:
    """Spearman ρ and p over the finite pairs; NaN when fewer than 3 or a constant side."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    n = int(keep.sum())
    if n < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return math.nan, math.nan, n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _stats.spearmanr(x[keep], y[keep])
    return float(res.statistic), float(res.pvalue), n


def _float(value) -> float:
    return float(value) if value is not None else math.nan


def fig7_statistics(sigma, sin, eigvals, level: float = 0.5, max_sin: float = 0.5) -> dict:
    """The Fig. 7 numbers for one set of curves (deep or linear).

    Parameters
    ----------
    sigma : array (m, P) or (P,)
    sin : array (m, P, K)
    eigvals : array (K,)
        One eigenvalue per index (see :func:`small_sigma_slopes`).
    level : float
        ``sin θ`` level of the crossing noise level.
    max_sin : float
        Upper end of the small-noise regime of the slopes.

    Returns
    -------
    dict of JSON-able floats/ints (NaN where undefined):

    ``spearman_crossing_vs_index``, ``spearman_crossing_vs_index_p``, ``n_crossed``
        Spearman ρ between ``σ_×(i)`` and ``i`` over the crossing indices (the paper:
        clearly negative), its p-value, and the number of indices that cross.
    ``spearman_slope_vs_eigval``, ``spearman_slope_vs_eigval_p``, ``n_slopes``
        The same between the small-σ slopes and ``eigvals`` (Eq. 12: negative).
    ``loglog_slope_vs_eigval``
        Slope of ``log slope`` vs ``log eigval`` (Eq. 12: −1 against ``λ_i``).
    ``median_sin_at_first_point_index0``, ``median_sin_at_first_point_mean``
        Median ``sin θ`` at the noisiest point for index 0, and its mean over indices.
    ``sigma_cross_index0``, ``sigma_ref``, ``sigma_max``, ``n_paths``, ``n_points``,
    ``n_indices``, ``level``, ``max_sin``.
    """
    sigma, sin = _check_arrays(sigma, sin)
    m, P, K = sin.shape
    eigvals = _check_eigvals(eigvals, K)
    cross = crossing_sigma(sigma, sin, level)
    slopes = small_sigma_slopes(sigma, sin, eigvals, max_sin)
    sigma_med, sin_med = median_curves(sigma, sin)
    rho_c, p_c, n_c = _spearman(cross["sigma_cross"], cross["index"])
    rho_s, p_s, n_s = _spearman(slopes["slope"], slopes["eigval"])
    first = sin_med[int(np.argmax(sigma_med))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first_mean = float(np.nanmean(first)) if np.isfinite(first).any() else math.nan
    return {
        "spearman_crossing_vs_index": rho_c,
        "spearman_crossing_vs_index_p": p_c,
        "n_crossed": n_c,
        "spearman_slope_vs_eigval": rho_s,
        "spearman_slope_vs_eigval_p": p_s,
        "n_slopes": n_s,
        "loglog_slope_vs_eigval": loglog_slope(slopes["eigval"], slopes["slope"]),
        "median_sin_at_first_point_index0": _float(sin_med[0, 0]),
        "median_sin_at_first_point_mean": first_mean,
        "sigma_cross_index0": _float(cross["sigma_cross"].iloc[0]),
        "sigma_ref": float(sigma_med[-1]),
        "sigma_max": float(sigma_med.max()),
        "n_paths": int(m),
        "n_points": int(P),
        "n_indices": int(K),
        "level": float(level),
        "max_sin": float(max_sin),
    }


def _fmt(value: float, spec: str = ".2f") -> str:
    return "nan" if value is None or not np.isfinite(value) else format(value, spec)


def verdict(stats: dict, threshold: float = -0.5) -> str:
    """One sentence: does the paper's ordering (low indices cross at higher σ) appear?

    Parameters
    ----------
    stats : dict
        From :func:`fig7_statistics`.
    threshold : float in [-1, 1]
        The ordering appears when ``spearman_crossing_vs_index <= threshold``.

    Returns
    -------
    str
    """
    if not isinstance(stats, dict):
        raise DataError(f"stats must be the dict of fig7_statistics, got {type(stats).__name__}")
    missing = [k for k in ("spearman_crossing_vs_index", "spearman_crossing_vs_index_p", "n_crossed") if k not in stats]
    if missing:
        raise DataError(f"stats lacks key(s) {missing}: pass the dict of fig7_statistics")
    threshold = _check_level("threshold", threshold, -1.0 - 1e-12, 1.0)
    rho = float(stats["spearman_crossing_vs_index"])
    p = float(stats["spearman_crossing_vs_index_p"])
    n = int(stats["n_crossed"])
    level = float(stats.get("level", 0.5))
    total = stats.get("n_indices")
    of = f" of {int(total)}" if total is not None else ""
    numbers = f"Spearman ρ = {_fmt(rho, '+.2f')} (p = {_fmt(p, '.2g')}), n = {n}{of} indices crossed"
    if np.isfinite(rho) and rho <= threshold:
        return f"The paper's ordering appears: low indices cross sin θ = {level:g} at higher σ: {numbers}."
    if not np.isfinite(rho):
        return (f"The paper's ordering does not appear: too few indices reach sin θ = {level:g} "
                f"for a rank correlation ({numbers}).")
    return (f"The paper's ordering does not appear: the noise level where sin θ reaches {level:g} does not "
            f"clearly decrease with the index ({numbers}; threshold ρ ≤ {threshold:+.2f}).")


# --------------------------------------------------------------------------- linear reference


def linear_reference(X, sigma_grid, k: int, seed=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linear Fig. 2 on the same data and noise levels, in the deep arrays' conventions.

    Learns the top-``k`` PCA bases of ``X + σ E`` (fresh noise per level, the exact
    sampler) at the levels ``[0, *sorted(unique positive sigma_grid)]`` and measures
    ``sin θ_i`` to the clean basis.

    Parameters
    ----------
    X : array (n, d)
        Clean data, samples as rows (n >= 2).
    sigma_grid : array of any shape
        Noise levels (e.g. the deep paths' ``sigma``); non-positive and repeated values are
        dropped (the schedule needs ``0`` first and strictly increasing levels).
    k : int in [1, d]
        Number of components.
    seed : int, SeedSequence or Generator

    Returns
    -------
    sigma : ndarray (P,)
        The levels in decreasing order; the last is 0 (the reference, the clean basis).
        ``P = 1 + number of distinct positive levels``.
    sin : ndarray (1, P, k)
        ``sin θ_i`` between the noisy and the clean components (0 at the last point).
    eigvals : ndarray (k,)
        Clean covariance eigenvalues of ``Xᵀ X / n`` (the paper's ``λ_i²``; Eq. 12 predicts
        a log-log slope of −1/2 of the small-σ slope against them).
    """
    from lindiff.linear.analysis import sin_theta
    from lindiff.linear.learn import learn_bases
    from lindiff.linear.schedules import from_sigma_bar

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D array (n, d), got shape {X.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= X.shape[1]:
        raise ConfigError(f"k must be an integer in [1, d={X.shape[1]}], got k={k!r}")
    grid = np.asarray(sigma_grid, dtype=np.float64).ravel()
    if not np.all(np.isfinite(grid)):
        raise DataError("sigma_grid holds NaN or infinite values")
    levels = np.unique(grid[grid > 0])
    if not len(levels):
        raise DataError("sigma_grid holds no positive noise level")
    schedule = from_sigma_bar("fig7_reference", np.concatenate([[0.0], levels]))
    bases = learn_bases(X, schedule, int(k), method="exact", noise="independent", seed=seed)
    sin = sin_theta(bases)  # (P, k), row 0 = clean
    sin[0] = 0.0
    return bases.sigma_bar[::-1].copy(), sin[::-1][None].copy(), bases.eigvals[0].copy()
