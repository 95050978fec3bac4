"""Learning the PCA denoisers ``P_t = U_t U_tᵀ`` along the forward noise path.

For every level ``t = 0..T`` we need the top-``k`` eigenpairs of
``Σ̂_t = X_tᵀ X_t / n`` with ``X_t = X_0 + E_t`` (samples as rows) and ``E_t`` the
cumulative Gaussian noise of Eq. 3 (one forward sample path shared by all levels), or,
with ``noise="independent"``, fresh noise of std ``sigma_bar[t]`` at every level.

Two samplers give the same joint distribution of ``(Σ̂_0, …, Σ̂_T)``:

``naive``
    Draws the ``n × d`` noise and forms the covariance at every step: ``O(n d²)`` time and
    ``O(n d)`` memory per step.  The reference.
``exact`` (default)
    The Wishart-process sampler (see ``NOTES.md`` §2 of the project).  By rotation
    invariance only ``n Σ̂_t = X_tᵀ X_t`` matters, and ``X_tᵀ`` (d × n) is a Gaussian
    random walk from ``X_0ᵀ``.  With ``X_{t-1}ᵀ = F Vᵀ`` (``F`` d × d, ``V`` orthonormal),
    the new increment's part along ``V`` is an iid d × d Gaussian ``H`` and its part
    outside ``V`` has a ``Wishart_d(n - d)`` Gram ``C``, independent of ``H`` and of the
    past, so

    ``n Σ̂_t = (F + H)(F + H)ᵀ + σ_t² C``,  ``F ← chol(n Σ̂_t)``,

    started from ``F_0 = A S`` (``X_0ᵀ X_0 = A S² Aᵀ``).  ``O(d³)`` per step,
    independent of ``n``: one ``d × d`` Gaussian draw and a Bartlett factor (1.5 d²
    normals), a ``syrk``, a triangular ``lauum``, a Cholesky and the top-``k``
    eigenproblem (:func:`top_eigh`, mixed precision for large ``d``).  With
    ``noise="independent"`` the data's row space is handled explicitly:
    ``n Σ̂_t = (A S + Y_t)(A S + Y_t)ᵀ + σ̄_t² Wishart_d(n - k)``.

Eigenvector signs are arbitrary; they are aligned so that ``<u_i^t, u_i^{t-1}> >= 0``
(and at ``t = 0`` so that each vector's largest-magnitude entry is positive).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lindiff.errors import ConfigError, DataError
from lindiff.linear.schedules import Schedule

METHODS = ("exact", "naive")
NOISE_MODES = ("cumulative", "independent")


@dataclass(frozen=True)
class Bases:
    """PCA bases learned along a noise schedule.

    Attributes
    ----------
    U : ndarray of shape (T + 1, d, k)
        Orthonormal top-``k`` eigenvectors of ``Σ̂_t`` (columns, decreasing eigenvalue).
    eigvals : ndarray of shape (T + 1, k)
        The matching eigenvalues of ``Σ̂_t = X_tᵀ X_t / n`` (decreasing).
    sigma_bar : ndarray of shape (T + 1,)
        Cumulative noise std per level (``sigma_bar[0] == 0``).
    n_train : int
        Number of training samples ``n``.
    mean : ndarray of shape (d,) or None
        Training mean when learned centered (added back by the generators).
    """

    U: np.ndarray
    eigvals: np.ndarray
    sigma_bar: np.ndarray
    n_train: int
    mean: np.ndarray | None = None

    def __post_init__(self):
        if self.U.ndim != 3:
            raise DataError(f"U must have shape (T+1, d, k), got {self.U.shape}")
        T1, d, k = self.U.shape
        if self.eigvals.shape != (T1, k):
            raise DataError(f"eigvals must have shape {(T1, k)}, got {self.eigvals.shape}")
        if self.sigma_bar.shape != (T1,):
            raise DataError(f"sigma_bar must have shape {(T1,)}, got {self.sigma_bar.shape}")
        if self.mean is not None and self.mean.shape != (d,):
            raise DataError(f"mean must have shape {(d,)}, got {self.mean.shape}")
        for name in ("U", "eigvals", "sigma_bar"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise DataError(f"{name} holds non-finite values")

    @property
    def T(self) -> int:
        return self.U.shape[0] - 1

    @property
    def d(self) -> int:
        return self.U.shape[1]

    @property
    def k(self) -> int:
        return self.U.shape[2]

    def truncate(self, rank: int) -> Bases:
        """The first ``rank`` components (a rank-``rank`` chain), without relearning."""
        rank = check_rank(rank, self.d, self.k)
        return replace(self, U=self.U[:, :, :rank], eigvals=self.eigvals[:, :rank])


def check_rank(rank, d: int, k: int | None = None) -> int:
    """Validate a rank against the dimension ``d`` and the stored basis size ``k``."""
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)):
        raise ConfigError(f"rank must be an integer >= 1, got {rank!r}")
    if rank < 1:
        raise ConfigError(f"rank must be >= 1, got rank={rank}")
    if rank > d:
        raise ConfigError(f"rank={rank} exceeds the data dimension d={d}")
    if k is not None and rank > k:
        raise ConfigError(
            f"rank={rank} exceeds the number of stored components k={k}; relearn with k >= {rank}"
        )
    return int(rank)


def as_generator(seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- helpers
#
# Performance note: numpy and scipy each ship their own OpenBLAS with its own thread pool.
# Interleaving numpy products with scipy eigensolvers makes the two pools spin against each
# other (measured here: the per-step cost doubled on 2 cores), so every BLAS/LAPACK call in
# the per-level loops goes through scipy's.  Gram matrices are then built with ``syrk`` and
# carried as their lower triangle ("lower Grams"); :func:`noisy_grams` symmetrizes what it
# hands out.


def lower_gram(M: np.ndarray) -> np.ndarray:
    """Lower triangle of ``M Mᵀ`` (upper part zero) for ``M`` of shape (d, p), via BLAS syrk."""
    import scipy.linalg
    if M.shape[1] == 0:
        return np.zeros((M.shape[0], M.shape[0]), order="F")
    if M.flags.f_contiguous:
        return scipy.linalg.blas.dsyrk(1.0, M, trans=0, lower=1)
    return scipy.linalg.blas.dsyrk(1.0, np.ascontiguousarray(M).T, trans=1, lower=1)


def symmetrize_lower(gram: np.ndarray) -> np.ndarray:
    """Full symmetric matrix from a lower Gram."""
    return np.tril(gram) + np.tril(gram, k=-1).T


#: Below this dimension, or for more than ``d / MIXED_MAX_FRACTION`` eigenpairs, the
#: eigenproblem is solved in double precision only (the single-precision reduction pays for
#: itself only on large matrices and small subsets).
MIXED_MIN_D = 256
MIXED_MAX_FRACTION = 4
PRECISIONS = ("auto", "mixed", "double")


def check_precision(precision: str) -> str:
    """Validate an eigensolver precision (one of :data:`PRECISIONS`)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; allowed: {', '.join(PRECISIONS)}")
    return precision


def top_eigh(sym: np.ndarray, k: int, precision: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` eigenpairs of a symmetric ``d × d`` matrix, eigenvalues decreasing.

    Only the lower triangle of ``sym`` is read.  Returns ``(vals (k,), vecs (d, k))``.

    ``precision``:

    ``"double"``
        LAPACK's ``dsyevr`` subset driver, which computes only the requested vectors.
    ``"mixed"``
        The reduction to tridiagonal form, most of the cost, in single precision
        (``ssyevx`` on the rounded matrix), then a Rayleigh–Ritz step in double precision
        on the subspace it found: ``Q`` orthonormalized (Cholesky QR), the ``k × k``
        problem ``Qᵀ Σ Q`` solved exactly.  The eigenvalues come out with double
        precision's relative accuracy on the subspace; the subspace is that of the
        single-precision solve (angle error ~ ``ε₃₂ ‖Σ‖ / gap``, measured ≤ 4e-5 on MNIST's
        noisy second moments, where the angles the analyses measure are ≥ 2e-3).  Falls back
        to ``"double"`` if the matrix does not fit single precision or the solve fails.
    ``"auto"`` (default)
        ``"mixed"`` when ``d >= MIXED_MIN_D`` and ``k <= d / MIXED_MAX_FRACTION``, else
        ``"double"``.
    """
    import scipy.linalg
    check_precision(precision)
    d = sym.shape[0]
    if not _lower_is_finite(sym):
        raise DataError(
            "top_eigh: the matrix holds NaN or infinite entries (its data overflowed?); "
            "rescale the data so that its Gram stays finite"
        )
    if precision == "auto":
        mixed = d >= MIXED_MIN_D and k * MIXED_MAX_FRACTION <= d
        precision = "mixed" if mixed else "double"
    if precision == "mixed" and k < d:
        found = _top_eigh_mixed(sym, k)
        if found is not None:
            return found
    subset = None if k >= d else (d - k, d - 1)
    vals, vecs = scipy.linalg.eigh(
        sym, lower=True, subset_by_index=subset, driver="evr", check_finite=False
    )
    return vals[::-1].copy(), vecs[:, ::-1].copy()


def _lower_is_finite(sym: np.ndarray) -> bool:
    """Whether the lower triangle (all that the solvers read) is finite; the whole matrix is
    checked first, which needs no copy, and the triangle only if that fails."""
    return bool(np.isfinite(sym).all() or np.isfinite(np.tril(sym)).all())


def _top_eigh_mixed(sym: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``top_eigh(precision="mixed")``; ``None`` where single precision cannot be used."""
    import scipy.linalg
    d = sym.shape[0]
    single = np.asfortranarray(sym, dtype=np.float32)
    if not _lower_is_finite(single):
        return None  # beyond single precision's range
    try:
        _, approx = scipy.linalg.eigh(
            single, lower=True, subset_by_index=(d - k, d - 1), driver="evx", check_finite=False
        )
    except np.linalg.LinAlgError:
        return None
    blas = scipy.linalg.blas  # scipy's BLAS throughout (see the performance note above)
    basis = np.asfortranarray(approx, dtype=np.float64)
    # Cholesky QR: exact orthonormalization of a nearly orthonormal basis
    chol, info = scipy.linalg.lapack.dpotrf(blas.dsyrk(1.0, basis, trans=1), lower=0, clean=1)
    if info != 0:
        return None
    basis = blas.dtrsm(1.0, chol, basis, side=1, lower=0)
    projected = blas.dgemm(1.0, basis, blas.dsymm(1.0, sym, basis, side=0, lower=1), trans_a=1)
    ritz_vals, ritz_vecs = scipy.linalg.eigh(projected, check_finite=False)
    return ritz_vals[::-1].copy(), blas.dgemm(1.0, basis, ritz_vecs[:, ::-1])


def align_signs(vecs: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Flip columns of ``vecs`` (d, k) so that ``<vecs_i, reference_i> >= 0``.

    With ``reference=None`` each column's largest-magnitude entry is made positive.
    """
    if reference is None:
        pivot = vecs[np.argmax(np.abs(vecs), axis=0), np.arange(vecs.shape[1])]
        signs = np.where(pivot < 0, -1.0, 1.0)
    else:
        signs = np.where(np.einsum("di,di->i", vecs, reference) < 0, -1.0, 1.0)
    return vecs * signs


def _bartlett_factor(d: int, dof: int, rng: np.random.Generator) -> np.ndarray:
    """Lower-triangular ``L`` (d, d) with ``Lᵀ L ~ Wishart_d(dof, I)``; needs ``dof >= d``.

    Bartlett's decomposition in reversed index order: ``L_ij ~ N(0, 1)`` for i > j and
    ``L_ii = sqrt(χ²_{dof-d+i})`` (i = 1..d).  With ``P`` the reversal permutation,
    ``Lᵀ`` is ``P C P`` for the textbook factor ``C`` (``C Cᵀ`` Wishart), so
    ``Lᵀ L = P C Cᵀ P`` is Wishart too.  ``Lᵀ L`` is what LAPACK's ``lauum`` forms, in a
    third of the flops of a general ``syrk``.  Only ``d (d - 1) / 2`` normals are drawn.
    """
    factor = np.zeros((d, d), order="F")
    below = rng.standard_normal(d * (d - 1) // 2)
    start = 0
    for column in range(d - 1):  # column j holds its d - 1 - j entries below the diagonal
        stop = start + d - 1 - column
        factor[column + 1 :, column] = below[start:stop]
        start = stop
    factor[np.diag_indices(d)] = np.sqrt(rng.chisquare(dof - d + 1 + np.arange(d)))
    return factor


def _wishart_lower_gram(d: int, dof: int, std: float, rng: np.random.Generator) -> np.ndarray:
    """Lower Gram of a draw of ``Z Zᵀ``, ``Z`` (d, dof) with iid ``N(0, std²)`` entries."""
    if dof >= d:
        import scipy.linalg

        gram, _ = scipy.linalg.lapack.dlauum(_bartlett_factor(d, dof, rng), lower=1, overwrite_c=1)
    else:
        gram = lower_gram(rng.standard_normal((d, max(dof, 0))))
    gram *= std**2
    return gram


def _cholesky_factor(lower: np.ndarray) -> np.ndarray:
    """Any ``L`` with ``L Lᵀ = gram`` from a lower Gram (Cholesky; eigen factor if not PD)."""
    import scipy.linalg
    factor, info = scipy.linalg.lapack.dpotrf(lower, lower=1, clean=1)
    if info == 0:
        return factor
    vals, vecs = scipy.linalg.eigh(lower, lower=True, check_finite=False)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


@dataclass
class _GaussianWalk:
    """The Gram ``W_t = Z_t Z_tᵀ`` of a ``d × m`` Gaussian random walk, without ``Z_t``.

    ``Z_t = Z_0 + Δ_1 + … + Δ_t`` with iid ``N(0, σ_s²)`` increments; ``Z_0`` is given
    through a factor ``F_0`` (``Z_0 = F_0 V_0ᵀ``, ``V_0`` with orthonormal columns).  The
    walk carries a factor ``F`` of ``W_t`` (d, min(d, m)) — any factor: only
    rotation-invariant quantities matter — or, when ``m <= d``, ``Z_t`` itself in a
    rotated basis.
    """

    d: int
    m: int
    factor: np.ndarray

    @classmethod
    def start(cls, d: int, m: int, factor: np.ndarray | None = None) -> _GaussianWalk:
        """A walk from ``Z_0 = 0`` or from ``factor`` (d, p) with ``p <= min(d, m)``."""
        start = np.zeros((d, min(d, m)), order="F")
        if factor is not None:
            start[:, : factor.shape[1]] = factor
        return cls(d=d, m=m, factor=start)

    def step(self, std: float, rng: np.random.Generator) -> np.ndarray:
        """Add an increment of iid ``N(0, std²)`` entries; return the new lower Gram ``W_t``."""
        increment = rng.standard_normal(self.factor.shape)
        increment *= std
        self.factor += increment
        gram = lower_gram(self.factor)
        if self.m <= self.d:  # the factor is Z_t itself (d x m)
            return gram
        # Z_{t-1} = F Vᵀ (V: m x d orthonormal). The increment's part along V is an iid
        # d x d Gaussian (added above); its part along V's complement has a
        # Wishart(d, m - d) Gram, independent of it and of the past.
        gram += _wishart_lower_gram(self.d, self.m - self.d, std, rng)
        self.factor = _cholesky_factor(gram)
        return gram


def data_moments(X: np.ndarray, centered: bool) -> tuple[np.ndarray, int, np.ndarray | None]:
    """The only statistics of the data the exact sampler needs.

    Returns ``(gram, n_noise, mean)``: the lower Gram ``X_cᵀ X_c`` (d, d) of ``X`` or of
    ``X`` minus its mean, the number of noise directions ``n_noise = n`` (``n - 1`` when
    centered), and the mean (d,) or None.
    """
    n, _ = X.shape
    mean = X.mean(axis=0) if centered else None
    Xc = X - mean if centered else X
    return lower_gram(Xc.T), (n - 1 if centered else n), mean


def factor_from_gram(gram: np.ndarray, n_noise: int) -> tuple[np.ndarray, int]:
    """Factor the data's Gram for the exact sampler.

    Parameters
    ----------
    gram : ndarray of shape (d, d)
        ``X_cᵀ X_c`` (only the lower triangle is read).
    n_noise : int
        Number of noise directions (``n``, or ``n - 1`` when centered).

    Returns
    -------
    scaled_basis : ndarray of shape (d, k)
        ``A S`` with ``X_cᵀ X_c = A S² Aᵀ`` restricted to its ``k`` numerically non-zero
        directions (``k <= min(d, n_noise)``).  Any orthonormal split of the noise
        directions that contains the data's row space is exact; dropping null directions
        only moves them to the complement.
    m : int
        Dimension of the noise directions outside the data's span: ``n_noise - k``.
    """
    d = gram.shape[0]
    vals, vecs = top_eigh(gram, min(d, n_noise), precision="double")
    keep = vals > max(vals[0], 0.0) * d * np.finfo(np.float64).eps
    return vecs[:, keep] * np.sqrt(vals[keep]), n_noise - int(keep.sum())


# --------------------------------------------------------------------------- samplers


def _check_inputs(X, schedule: Schedule, k, method: str, noise: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D array (n_samples, d), got shape {X.shape}")
    n, d = X.shape
    if n < 2:
        raise ConfigError(f"n must be >= 2 training samples, got n={n}")
    if not np.all(np.isfinite(X)):
        raise DataError("X holds NaN or infinite values")
    check_rank(k, d)
    if method not in METHODS:
        raise ConfigError(f"unknown learn method {method!r}; allowed: {', '.join(METHODS)}")
    if noise not in NOISE_MODES:
        raise ConfigError(f"unknown noise mode {noise!r}; allowed: {', '.join(NOISE_MODES)}")
    if not isinstance(schedule, Schedule):
        raise ConfigError(f"schedule must be a lindiff.linear.schedules.Schedule, got {type(schedule).__name__}")
    return X


def _progress(iterable, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from lindiff.progress import progress_bar

    return progress_bar(iterable, desc=desc)


def _exact_grams(X, schedule, centered, noise, rng, progress):
    """Yield lower Grams of ``n Σ̂_t`` for t = 0..T with the exact O(d³)-per-step sampler."""
    gram, n_noise, _ = data_moments(X, centered)
    yield from _exact_grams_from_moments(gram, n_noise, schedule, noise, rng, progress)


def _exact_grams_from_moments(gram, n_noise, schedule, noise, rng, progress):
    scaled_basis, m = factor_from_gram(gram, n_noise)
    d, k_data = scaled_basis.shape
    yield lower_gram(scaled_basis)
    levels = _progress(range(1, schedule.T + 1), progress, "learn (exact)")
    if noise == "cumulative":
        # The noisy data X_t (in the n_noise noise directions) is itself one Gaussian walk
        # from X_0 = [A S, 0] Vᵀ: n Σ̂_t is its Gram, carried through a d x d factor.
        walk = _GaussianWalk.start(d, n_noise, scaled_basis)
        for t in levels:
            yield walk.step(schedule.sigma[t], rng)
        return
    # Fresh noise at every level: A S + Y_t along the data's row space, Wishart outside it.
    for t in levels:
        shifted = rng.standard_normal((d, k_data))
        shifted *= schedule.sigma_bar[t]
        shifted += scaled_basis
        gram = lower_gram(shifted)
        gram += _wishart_lower_gram(d, m, schedule.sigma_bar[t], rng)
        yield gram


def _naive_grams(X, schedule, centered, noise, rng, progress):
    """Yield lower Grams of ``n Σ̂_t`` for t = 0..T, drawing the full ``n × d`` noise."""
    n, d = X.shape
    noise_matrix = np.zeros((n, d))
    draw = np.empty((n, d))
    noisy = np.empty((n, d))
    for t in _progress(range(schedule.T + 1), progress, "learn (naive)"):
        if t > 0:
            rng.standard_normal(out=draw)
            if noise == "cumulative":
                draw *= schedule.sigma[t]
                noise_matrix += draw
            else:
                np.multiply(schedule.sigma_bar[t], draw, out=noise_matrix)
        np.add(X, noise_matrix, out=noisy)
        if centered:
            noisy -= noisy.mean(axis=0)
        yield lower_gram(noisy.T)


_SAMPLERS = {"exact": _exact_grams, "naive": _naive_grams}


def noisy_grams(
    X: np.ndarray,
    schedule: Schedule,
    method: str = "exact",
    noise: str = "cumulative",
    centered: bool = False,
    seed=0,
    progress: bool = False,
):
    """Yield the random matrices ``n Σ̂_t`` (each ``d × d``) for ``t = 0 .. T``.

    ``n Σ̂_t = X_tᵀ X_t`` (centered: ``X_tᵀ J X_t``), drawn jointly over ``t`` by the
    ``exact`` or the ``naive`` sampler (see the module docstring).  Parameters as in
    :func:`learn_bases`.
    """
    X = _check_inputs(X, schedule, 1, method, noise)
    for gram in _SAMPLERS[method](X, schedule, centered, noise, as_generator(seed), progress):
        yield symmetrize_lower(gram)


def learn_bases(
    X: np.ndarray,
    schedule: Schedule,
    k: int,
    method: str = "exact",
    noise: str = "cumulative",
    centered: bool = False,
    seed=0,
    progress: bool = False,
    precision: str = "auto",
) -> Bases:
    """Learn the top-``k`` PCA bases of the noisy training data at every level.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Clean training data, samples as rows.
    schedule : Schedule
        Noise schedule with ``T + 1`` levels.
    k : int
        Number of components stored per level (>= the largest rank used later).
    method : {"exact", "naive"}
    noise : {"cumulative", "independent"}
        One forward sample path (Eq. 3) or fresh noise of std ``sigma_bar[t]`` per level.
    centered : bool
        Subtract the (noisy) mean before the second moment; the clean mean is stored.
    seed : int, SeedSequence or Generator
    progress : bool
        Show a tqdm bar over ``t`` on stderr.
    precision : {"auto", "mixed", "double"}
        How each level's eigenproblem is solved (:func:`top_eigh`); the Grams are always
        drawn in double precision.

    Returns
    -------
    Bases
    """
    X = _check_inputs(X, schedule, k, method, noise)
    check_precision(precision)
    grams = _SAMPLERS[method](X, schedule, centered, noise, as_generator(seed), progress)
    mean = X.mean(axis=0) if centered else None
    return _bases_from_grams(grams, schedule, k, len(X), mean, precision)


def _bases_from_grams(grams, schedule: Schedule, k: int, n: int, mean, precision: str) -> Bases:
    U, eigvals, previous = None, np.empty((schedule.T + 1, k)), None
    for t, gram in enumerate(grams):
        vals, vecs = top_eigh(gram, k, precision)
        previous = align_signs(vecs, previous)
        if U is None:
            U = np.empty((schedule.T + 1, vecs.shape[0], k))
        U[t], eigvals[t] = previous, vals / n
    return Bases(U=U, eigvals=eigvals, sigma_bar=schedule.sigma_bar.copy(), n_train=n, mean=mean)


def learn_bases_from_gram(
    gram: np.ndarray,
    n_train: int,
    schedule: Schedule,
    k: int,
    mean: np.ndarray | None = None,
    noise: str = "cumulative",
    seed=0,
    progress: bool = False,
    precision: str = "auto",
) -> Bases:
    """The exact learn from the data's Gram alone: cost independent of ``n``.

    The exact sampler needs only ``X_cᵀ X_c`` and ``n``, so the Gram can be computed once
    (or accumulated in chunks for data that does not fit in memory) and cached per data
    set and ``n``.  Same distribution as :func:`learn_bases` with ``method="exact"``.

    Parameters
    ----------
    gram : ndarray of shape (d, d)
        ``Xᵀ X``, or ``(X - mean)ᵀ (X - mean)`` for centered learning.
    n_train : int
    schedule, k, noise, seed, progress, precision
        As in :func:`learn_bases`.
    mean : ndarray of shape (d,), optional
        Given for centered learning (the noise then lives in ``n_train - 1`` directions).
    """
    gram = np.asarray(gram, dtype=np.float64)
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or not np.all(np.isfinite(gram)):
        raise DataError(f"gram must be a finite square matrix, got shape {gram.shape}")
    if n_train < 2:
        raise ConfigError(f"n must be >= 2 training samples, got n={n_train}")
    check_rank(k, gram.shape[0])
    if noise not in NOISE_MODES:
        raise ConfigError(f"unknown noise mode {noise!r}; allowed: {', '.join(NOISE_MODES)}")
    check_precision(precision)
    n_noise = n_train - 1 if mean is not None else n_train
    grams = _exact_grams_from_moments(np.asfortranarray(gram), n_noise, schedule, noise, as_generator(seed), progress)
    return _bases_from_grams(grams, schedule, k, n_train, mean, precision)


def learn_per_class(
    X: np.ndarray, labels: np.ndarray, schedule: Schedule, k: int, seed=0, **kwargs
) -> dict[int, Bases]:
    """Class-conditional learning: one independent chain per class.

    Each class gets its own child seed (``SeedSequence(seed).spawn``), so adding a class
    does not change the others' noise.  ``kwargs`` go to :func:`learn_bases`.
    """
    labels = np.asarray(labels)
    if labels.shape != (len(X),):
        raise DataError(f"labels must have shape ({len(X)},), got {labels.shape}")
    classes = np.unique(labels)
    seeds = np.random.SeedSequence(seed).spawn(len(classes))
    return {
        int(c): learn_bases(X[labels == c], schedule, k, seed=np.random.default_rng(s), **kwargs)
        for c, s in zip(classes, seeds)
    }
