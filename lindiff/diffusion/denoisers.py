"""Denoisers per noise level: ``D(Y, sigma) -> X̂_0`` for rows ``Y = X_0 + sigma Z``.

Every sampler of :mod:`lindiff.diffusion.samplers` calls a denoiser as ``D(Y, sigma)`` with
``Y`` of shape (m, d) in variance-exploding coordinates and a scalar noise std ``sigma >= 0``;
it returns the estimate of the clean rows (m, d).  Kadkhodaie et al. read every denoiser as a
shrinkage ``λ_i / (λ_i + σ²)`` in some basis; the three linear-algebra families here are:

``projection`` (:class:`ProjectionDenoiser`) — the paper's ``P_t = U_t U_tᵀ`` (rank ``r``), the
    PCA basis learned on the noisy training set at level ``t`` (Eqs. 8–11): a hard threshold.
    Defined only at the levels it was learned on (``bases.sigma_bar``).
``wiener`` (:class:`WienerDenoiser`) — ``μ + U diag(λ_i / (λ_i + σ²)) Uᵀ (y − μ)`` from the
    training covariance (centred, ``1/n``): the exact posterior mean for Gaussian data, and the
    best affine denoiser for any data with those two moments.
``empirical`` (:class:`EmpiricalDenoiser`) — the exact posterior mean of the training set itself
    (a mixture of deltas at the training rows): ``Σ_j w_j x_j`` with
    ``w = softmax_j(−‖y − x_j‖² / 2σ²)``.  It memorizes: sampled with it, a diffusion model
    reproduces training rows.  ``O(n d)`` per row, computed in chunks of ``chunk`` rows so that
    the (chunk, n) weights bound the memory; at ``σ = 0`` it is the nearest training row.

The local analytic denoisers (a posterior over training patches per pixel: Kamb & Ganguli's LS
and ELS machines, Lukoianov et al.'s locality denoiser) are in :mod:`lindiff.diffusion.local`.
Deep torch models are adapted by :class:`lindiff.deep.evaluate.BlindDenoiser` (a blind model
ignores ``sigma``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindiff.errors import ConfigError
from lindiff.validation import check_matrix

DENOISERS = ("projection", "wiener", "empirical", "deep")

__all__ = [
    "DENOISERS",
    "DiagonalWiener",
    "EmpiricalDenoiser",
    "ProjectionDenoiser",
    "WienerDenoiser",
    "check_sigma",
    "fit_wiener",
]


def check_sigma(sigma) -> float:
    """A noise std: a finite number >= 0 (else ConfigError naming ``sigma``)."""
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise ConfigError(f"sigma must be a number >= 0, got {sigma!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ConfigError(f"sigma must be finite and >= 0, got sigma={sigma}")
    return value


@dataclass(frozen=True)
class WienerDenoiser:
    """Wiener filter of a training set: mean ``mean`` (d,), covariance ``V diag(eigvals) Vᵀ``.

    ``eigvals`` (d,) ascending and ``eigvecs`` (d, d) as ``numpy.linalg.eigh`` returns them;
    :attr:`spectrum` and :attr:`basis` give them in decreasing order.
    """

    mean: np.ndarray
    eigvals: np.ndarray
    eigvecs: np.ndarray

    @property
    def spectrum(self) -> np.ndarray:
        """The covariance eigenvalues ``λ_i`` (d,), decreasing."""
        return self.eigvals[::-1]

    @property
    def basis(self) -> np.ndarray:
        """The eigenvectors (d, d) as columns, in the order of :attr:`spectrum`."""
        return self.eigvecs[:, ::-1]

    def shrinkage(self, sigma: float) -> np.ndarray:
        """Per-component factors ``λ / (λ + σ²)`` (d,), in ``eigvecs`` order (ascending λ)."""
        sigma = check_sigma(sigma)
        if sigma == 0:
            return np.ones_like(self.eigvals)
        return self.eigvals / (self.eigvals + sigma**2)

    def matrix(self, sigma: float) -> np.ndarray:
        """``C (C + σ² I)⁻¹`` (d, d)."""
        return (self.eigvecs * self.shrinkage(sigma)) @ self.eigvecs.T

    def denoise(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        """``μ + C (C + σ² I)⁻¹ (y − μ)`` for every row of ``Y`` (n, d)."""
        Y = check_matrix(Y, "Y", d=len(self.mean), min_rows=1)
        coeffs = (Y - self.mean) @ self.eigvecs
        return self.mean + (coeffs * self.shrinkage(sigma)) @ self.eigvecs.T

    __call__ = denoise

    def in_eigenbasis(self) -> DiagonalWiener:
        """The same filter acting on coordinates ``Uᵀ y`` (columns in :attr:`spectrum` order):
        diagonal, O(d) per row instead of O(d²)."""
        return DiagonalWiener(mean=self.basis.T @ self.mean, eigvals=self.spectrum.copy())


@dataclass(frozen=True)
class DiagonalWiener:
    """The Wiener filter in its eigenbasis: ``m + diag(λ / (λ + σ²)) (w − m)`` on coordinate rows ``w``
    (``mean`` (d,) = ``Uᵀ μ``, ``eigvals`` (d,))."""

    mean: np.ndarray
    eigvals: np.ndarray

    def __call__(self, W: np.ndarray, sigma: float) -> np.ndarray:
        sigma = check_sigma(sigma)
        if sigma == 0:
            return np.array(W, dtype=np.float64, copy=True)
        return self.mean + (W - self.mean) * (self.eigvals / (self.eigvals + sigma**2))


def fit_wiener(X_train: np.ndarray) -> WienerDenoiser:
    """The Wiener filter of ``X_train`` (n, d): centred covariance (``1/n``), eigh."""
    X_train = check_matrix(X_train, "X_train", min_rows=1)
    mean = X_train.mean(axis=0)
    centred = X_train - mean
    cov = centred.T @ centred / len(X_train)
    eigvals, eigvecs = np.linalg.eigh(cov)
    return WienerDenoiser(mean=mean, eigvals=np.clip(eigvals, 0.0, None), eigvecs=eigvecs)


class ProjectionDenoiser:
    """The paper's PCA projection ``P_t = U_t[:, :rank] U_t[:, :rank]ᵀ`` at each learned level.

    ``bases`` is a :class:`lindiff.linear.learn.Bases`; a centred one projects about its mean
    (``μ + P_t (y − μ)``).  Called at a ``sigma`` that is not one of ``bases.sigma_bar`` (relative
    tolerance 1e-9) it raises ConfigError: the projection exists only where it was learned.
    """

    def __init__(self, bases, rank: int | None = None):
        from lindiff.linear.learn import check_rank

        self.bases = bases
        self.rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
        self.U = bases.U[:, :, : self.rank]

    def level(self, sigma: float) -> int:
        """The index ``t`` of the learned level with ``sigma_bar[t] == sigma``."""
        sigma = check_sigma(sigma)
        hits = np.flatnonzero(np.isclose(self.bases.sigma_bar, sigma, rtol=1e-9, atol=0.0))
        if not len(hits):
            raise ConfigError(
                f"the projection denoiser has no basis at sigma={sigma:g}: it was learned at "
                f"sigma_bar={np.array2string(self.bases.sigma_bar, precision=4, threshold=8)}; "
                "sample on the schedule it was learned on"
            )
        return int(hits[0])

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        Y = check_matrix(Y, "Y", d=self.bases.d, min_rows=1)
        U = self.U[self.level(sigma)]
        mean = self.bases.mean
        if mean is None:
            return (Y @ U) @ U.T
        return mean + ((Y - mean) @ U) @ U.T


class EmpiricalDenoiser:
    """The exact posterior mean of the training rows ``X_train`` (n, d) (see the module doc).

    Parameters
    ----------
    X_train : (n, d)
    chunk : int
        Rows of ``Y`` denoised at once: memory ``chunk · n`` floats for the weights.
    """

    def __init__(self, X_train: np.ndarray, chunk: int = 256):
        self.X = check_matrix(X_train, "X_train", min_rows=1)
        if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
            raise ConfigError(f"chunk must be an integer >= 1, got chunk={chunk!r}")
        self.chunk = int(chunk)
        self.sq_norms = np.einsum("ij,ij->i", self.X, self.X)

    @staticmethod
    def memory_bytes(n: int, d: int, chunk: int) -> int:
        """Bytes the denoiser holds: the training rows (n, d) and one chunk's (chunk, n) weights."""
        return 8 * (n * d + 2 * chunk * n + n)

    def weights(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        """The posterior weights (m, n) of the training rows given the rows of ``Y`` (m, d)."""
        sigma = check_sigma(sigma)
        sq_dist = np.einsum("ij,ij->i", Y, Y)[:, None] - 2.0 * (Y @ self.X.T) + self.sq_norms[None, :]
        if sigma == 0:
            weights = np.zeros_like(sq_dist)
            weights[np.arange(len(Y)), np.argmin(sq_dist, axis=1)] = 1.0
            return weights
        logits = -sq_dist / (2.0 * sigma**2)
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        weights /= weights.sum(axis=1, keepdims=True)
        return weights

    def jacobian(self, y: np.ndarray, sigma: float) -> np.ndarray:
        """``∂D/∂y`` (d, d) at one point ``y`` (d,), in closed form: the covariance of the training
        rows under the posterior weights, over ``σ²`` (``D(y) = Σ w_i x_i`` with ``w ∝ exp(−‖y −
        x_i‖² / 2σ²)``, so ``∂D/∂y = (Σ w_i x_i x_iᵀ − D Dᵀ) / σ²``); symmetric, positive
        semi-definite. ``sigma`` > 0."""
        sigma = check_sigma(sigma)
        if sigma == 0:
            raise ConfigError("sigma must be > 0 for the empirical denoiser's Jacobian (it is 0 almost everywhere at 0)")
        y = check_matrix(np.asarray(y, dtype=np.float64).reshape(1, -1), "y", d=self.X.shape[1], min_rows=1)
        w = self.weights(y, sigma)[0]
        # the rows that carry all but 1e-12 of the weight (at small sigma a few): the rest changes
        # nothing at float64 precision and would cost O(n d^2)
        order = np.argsort(w)[::-1]
        keep = order[: int(np.searchsorted(np.cumsum(w[order]), 1.0 - 1e-12)) + 1]
        w, X = w[keep], self.X[keep]
        mean = w @ X / w.sum()
        centred = X - mean
        return (centred.T * w) @ centred / (w.sum() * sigma**2)

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        Y = check_matrix(Y, "Y", d=self.X.shape[1], min_rows=1)
        out = np.empty_like(Y)
        for start in range(0, len(Y), self.chunk):
            rows = slice(start, start + self.chunk)
            out[rows] = self.weights(Y[rows], sigma) @ self.X
        return out
