"""Fig. 7's controls: is the ordering learned from the data, or a property of any denoiser?

The trained model's Fig. 7 (:mod:`lindiff.studies.fig7`) says that, along a sampling path, the
Jacobian eigenvectors lose their alignment with the final point's gradually, the low indices
last. A control is another denoiser ``D(y, σ)`` whose Jacobian is taken at the **same path
points** (the trained model's recorded paths, the same σ and K) and put through the same
statistics:

``untrained``
    The same architecture and noise-level conditioning with the initial weights its training
    started from (:func:`lindiff.deep.train.untrained_model`): what a network does before it has
    seen the data.
``empirical``
    The exact posterior mean of the training set (:class:`~lindiff.diffusion.denoisers.EmpiricalDenoiser`,
    the memorizing denoiser): its Jacobian is the posterior covariance of the training images over
    σ², in closed form.
``wiener``
    The Wiener filter of the training set: ``C (C + σ² I)⁻¹``, the same eigenvectors at every point
    and level, so sin θ = 0 up to ties of its eigenvalues (the reference for "no rotation").
``permuted``
    The same network and training (seed included) on the training images with one fixed random
    permutation of their pixel positions, its Jacobians taken at the path points permuted the same
    way: the same spectrum, no spatial structure.
``seed1``, ``seed2``
    The same network trained with other seeds: how much of the statistics is the seed's.
``early``, ``middle``
    The model's own weights at 10% and 50% of its epochs (its training snapshots): how the
    statistics evolve as the network learns.

Uncertainty: :func:`bootstrap_statistics` resamples the paths (with replacement) and gives each
statistic's median and 95% interval; :func:`permutation_p` is a permutation null for the
crossing-σ-vs-index correlation (the labels ``i`` shuffled against the crossing levels).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lindiff.deep.config import FIG7_CONTROLS as CONTROLS
from lindiff.errors import ConfigError, DataError
from lindiff.studies import fig7

__all__ = ["CLOSED_FORMS", "CONTROLS", "bootstrap_statistics", "closed_form_spectra", "controls_table",
           "degenerate_fraction", "permutation_p"]

#: the controls with a Jacobian in closed form (:func:`closed_form_spectra`); the others are networks
CLOSED_FORMS = ("empirical", "wiener")

#: the statistics :func:`bootstrap_statistics` resamples (keys of :func:`lindiff.studies.fig7.fig7_statistics`)
BOOTSTRAPPED = ("spearman_crossing_vs_index", "spearman_slope_vs_eigval", "n_crossed")


def _point_statistics(out: np.ndarray, J: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(J, ‖f(y) − J y‖ / ‖f(y)‖, ‖f(y) − y‖ / √d)`` for a denoiser output ``out = f(y)``."""
    norm = np.linalg.norm(out)
    homogeneity = 0.0 if norm == 0 else float(np.linalg.norm(out - J @ y) / norm)
    return J, homogeneity, float(np.linalg.norm(out - y) / math.sqrt(len(y)))


def _closed_form(control: str, X: np.ndarray, chunk: int):
    """``(denoise(y, σ) -> (d,), jacobian(y, σ) -> (d, d))`` of the ``empirical`` or ``wiener``
    denoiser of the rows ``X``."""
    from lindiff.diffusion.denoisers import EmpiricalDenoiser, fit_wiener

    if control == "empirical":
        empirical = EmpiricalDenoiser(X, chunk=chunk)
        return (lambda y, level: empirical(y[None], level)[0]), empirical.jacobian
    if control == "wiener":
        wiener = fit_wiener(X)
        return (lambda y, level: wiener(y[None], level)[0]), (lambda y, level: wiener.matrix(level))
    raise ConfigError(f"control must be one of {CLOSED_FORMS} for a closed form, got {control!r}")


def _guided(conditional: tuple, unconditional: tuple, w: float) -> tuple:
    """Classifier-free guidance of both functions of the pairs: ``(1 + w) f_c − w f``."""

    def combine(f_c, f):
        def guided(y, level):
            return (1 + w) * f_c(y, level) - w * f(y, level)

        return guided

    return tuple(combine(f_c, f) for f_c, f in zip(conditional, unconditional, strict=True))


def closed_form_spectra(control: str, X_train: np.ndarray, path, sigma, K: int, chunk: int = 256, labels=None,
                        path_labels=None, guidance: float = 0.0):
    """The ``empirical`` or ``wiener`` control's Jacobian eigenbases at the points of ``path``.

    Parameters
    ----------
    control : "empirical" or "wiener"
    X_train : (n, d) the training set the trained model saw.
    path : (S+1, m, d) the points (data units), as :func:`lindiff.deep.jacobian.path_jacobian_analysis` takes them.
    sigma : (S+1, m) their noise levels (> 0).
    K : int, the eigenvectors traced.
    labels, path_labels : (n,) and (m,) int, optional
        A class-conditional model's paths: path ``j`` is taken with the denoiser of the training rows
        of its class ``path_labels[j]``, guided as ``(1 + w) D_c − w D`` with ``w = guidance``
        (``D`` the whole training set's; the Jacobian alike). A guided Wiener filter mixes two
        eigenbases and turns with σ; unguided (``guidance=0``) a class's filter does not.

    Returns
    -------
    :class:`lindiff.deep.jacobian.PathJacobians`
    """
    from lindiff.deep.jacobian import path_spectra

    sigma = np.asarray(sigma, dtype=np.float64)
    whole = _closed_form(control, X_train, chunk)
    if (labels is None) != (path_labels is None):
        raise ConfigError("labels and path_labels go together (a class-conditional model's paths)")
    per_class: dict[int, tuple] = {}

    def of_path(j: int):
        if path_labels is None:
            return whole
        label = int(path_labels[j])
        if label not in per_class:
            rows = np.asarray(labels) == label
            if not rows.any():
                raise DataError(f"path {j} has label {label}, which no training row has")
            conditional = _closed_form(control, X_train[rows], chunk)
            per_class[label] = _guided(conditional, whole, float(guidance)) if guidance else conditional
        return per_class[label]

    def jacobian_at(j, s, y):
        level = float(sigma[s, j])
        denoise, jacobian = of_path(j)
        return _point_statistics(denoise(y, level), jacobian(y, level), y)

    return path_spectra(jacobian_at, path, K, sigma)


def _statistics(sigma: np.ndarray, sin: np.ndarray, eigvals: np.ndarray, level: float) -> dict[str, float]:
    stats = fig7.fig7_statistics(sigma, sin, eigvals, level=level)
    out = {key: float(stats[key]) for key in BOOTSTRAPPED}
    cross = fig7.crossing_sigma(sigma, sin, level)
    out.update({f"sigma_cross/{int(i)}": float(v) for i, v in zip(cross["index"], cross["sigma_cross"])})
    return out


def bootstrap_statistics(sigma, sin, eigvals, n_boot: int = 200, seed: int = 0, level: float = 0.5) -> pd.DataFrame:
    """Fig. 7's statistics with a bootstrap over paths.

    Parameters
    ----------
    sigma : (m, P) the points' noise levels, ``sin`` : (m, P, K) sin θ, ``eigvals`` : (K,) as for
        :func:`lindiff.studies.fig7.fig7_statistics`.
    n_boot : resamples of the ``m`` paths (drawn with replacement).

    Returns
    -------
    DataFrame, one row per statistic (``spearman_crossing_vs_index``, ``spearman_slope_vs_eigval``,
    ``n_crossed``, ``sigma_cross/<i>``): ``value`` (all paths), ``median``, ``low``, ``high`` (the
    2.5% and 97.5% quantiles over the resamples where the statistic is defined) and ``defined``
    (the fraction of resamples where it is).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ConfigError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), np.shape(sin)[:2])
    sin = np.asarray(sin, dtype=np.float64)
    full = _statistics(sigma, sin, eigvals, level)
    rng = np.random.default_rng(seed)
    m = sin.shape[0]
    draws = {key: [] for key in full}
    for _ in range(int(n_boot)):
        rows = rng.integers(0, m, size=m)
        for key, value in _statistics(sigma[rows], sin[rows], eigvals, level).items():
            draws[key].append(value)
    table = []
    for key, value in full.items():
        values = np.asarray(draws[key])
        finite = values[np.isfinite(values)]
        low, median, high = np.quantile(finite, [0.025, 0.5, 0.975]) if len(finite) else (math.nan,) * 3
        table.append({"statistic": key, "value": value, "median": float(median), "low": float(low),
                      "high": float(high), "defined": len(finite) / len(values)})
    return pd.DataFrame(table)


def degenerate_fraction(eigvals, tol: float = 1e-8) -> float:
    """The fraction of points (``eigvals`` (m, P, ≥1), descending) whose Jacobian has no
    eigenvector to follow: its top eigenvalue is below ``tol`` (the memorizing denoiser at small
    σ, its posterior on one training image, has the zero Jacobian; ``eigh`` then returns an
    arbitrary basis and sin θ means nothing there)."""
    eigvals = np.asarray(eigvals, dtype=np.float64)
    return float(np.mean(np.abs(eigvals[..., 0]) < tol))


def permutation_p(sigma, sin, n_perm: int = 2000, seed: int = 0, level: float = 0.5) -> float:
    """One-sided permutation p-value of a negative Spearman ρ between each index's crossing σ and
    the index: the fraction of ``n_perm`` shuffles of the indices against the crossing levels whose
    ρ is at most the observed one (with the observed one counted, so never 0). NaN when fewer than
    three indices cross."""
    from scipy.stats import rankdata

    if isinstance(n_perm, bool) or not isinstance(n_perm, (int, np.integer)) or n_perm < 1:
        raise ConfigError(f"n_perm must be an integer >= 1, got {n_perm!r}")
    cross = fig7.crossing_sigma(sigma, sin, level).dropna()
    if len(cross) < 3:
        return math.nan
    # Spearman's rho is Pearson's r of the ranks: rank once (centred, unit norm), shuffle the index ranks
    ranks, index = (_unit(rankdata(cross[column].to_numpy())) for column in ("sigma_cross", "index"))
    observed = float(ranks @ index)
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(index, (int(n_perm), 1)), axis=1) @ ranks
    return float((1 + np.sum(shuffled <= observed + 1e-12)) / (1 + len(shuffled)))


def _unit(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean()
    return centred / np.linalg.norm(centred)


def controls_table(statistics, metrics) -> pd.DataFrame:
    """One row per denoiser (the trained model first, then each control): ρ(σ_×, i) on all paths
    with its bootstrap median and 95% interval and the fraction of resamples where it is defined
    (``rho_defined``; ρ is undefined where fewer than three indices cross or all cross at one
    level), the permutation p-value and the crossing count.

    ``statistics`` and ``metrics``: each control job's :func:`bootstrap_statistics` table (its
    ``denoiser`` column naming the trained model and the control) and its metrics (with
    ``<denoiser>/permutation_p``), in the same order. The trained model's rows, computed by every
    control job from the same paired resamples, must agree (a DataError otherwise).
    """
    rows: dict[str, dict] = {}
    for table, values in zip(statistics, metrics, strict=True):
        indexed = table.set_index(["denoiser", "statistic"])
        for name in table["denoiser"].unique():
            rho = indexed.loc[(name, "spearman_crossing_vs_index")]
            row = {"denoiser": name, "rho": rho["value"], "rho_median": rho["median"], "rho_low": rho["low"],
                   "rho_high": rho["high"], "rho_defined": rho["defined"],
                   "permutation_p": values.get(f"{name}/permutation_p"),
                   "n_crossed": indexed.loc[(name, "n_crossed"), "value"]}
            row = {k: (math.nan if v is None else v) for k, v in row.items()}
            if name in rows and not _same_row(rows[name], row):
                raise DataError(f"the {name!r} statistics differ between the control jobs: {rows[name]} vs {row}")
            rows.setdefault(name, row)
    order = ["trained", *[c for c in CONTROLS if c in rows]]
    return pd.DataFrame([rows[name] for name in order if name in rows])


def _same_row(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] or (isinstance(a[k], float) and isinstance(b[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
               for k in a)
