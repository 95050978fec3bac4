"""The measurements of the GAHB tests (Kadkhodaie et al.) on images with known geometry.

The same two measurements apply to any denoiser ``D(Y, sigma)`` acting on rows (a function of the
noisy images and the noise level), the deep ones and the linear baseline alike:

* **Denoising curve and slope** (C^α images): :func:`denoising_curve` adds Gaussian noise of each
  ``sigma`` to held-out images and measures the MSE of ``D``; :func:`psnr_slope` is the slope of
  output PSNR against input PSNR (equivalently of ``log MSE`` against ``log σ²``) over a range of
  ``sigma``.  The talk: the optimal denoiser of C^α images has slope ``α / (α + 1)``.
* **Tangent alignment** (disks): the mean ``cos²`` of the principal angles between the top
  eigenvectors of the denoiser's Jacobian at an image and the manifold's tangent space there
  (:func:`lindiff.data.subspace_alignment`); 1 when they coincide, ``p / d`` for chance.

The optimal linear denoiser, the Wiener filter of the training covariance
(:func:`lindiff.diffusion.denoisers.fit_wiener`), is the baseline: :func:`wiener_tangent_alignment`
measures its alignment (its Jacobian is the same matrix at every image and noise level, so its
top eigenvectors are the training set's top principal components).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lindiff.data.geometric import subspace_alignment
from lindiff.errors import ConfigError, DataError
from lindiff.studies.fig7 import loglog_slope
from lindiff.validation import check_matrix

__all__ = [
    "DiskJacobians", "denoising_curve", "disk_jacobians", "linear_baseline", "optimal_calpha_slope", "psnr_margin", "psnr_slope",
    "tangent_capture", "wiener_tangent_alignment",
]

Denoiser = Callable[[np.ndarray, float], np.ndarray]


def optimal_calpha_slope(alpha: float) -> float:
    """The slope ``α / (α + 1)`` of the optimal denoiser on C^α images (Korostelev & Tsybakov)."""
    if not (math.isfinite(alpha) and alpha > 0):
        raise ConfigError(f"alpha={alpha!r}: must be finite and > 0")
    return alpha / (alpha + 1)


def denoising_curve(denoise: Denoiser, X_test: np.ndarray, sigmas: Sequence[float], seed=0) -> pd.DataFrame:
    """MSE of ``denoise`` on ``X_test`` (n, d) with Gaussian noise of each ``sigma``.

    Returns one row per ``sigma``: ``sigma``, ``mse`` (mean over pixels and images),
    ``input_psnr = −10 log₁₀ σ²`` and ``output_psnr = −10 log₁₀ mse`` (peak 1: images in [0, 1]).
    The same noise draw (scaled) is used at every ``sigma``.
    """
    X_test = check_matrix(X_test, "X_test", min_rows=1)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.ndim != 1 or sigmas.size == 0 or not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ConfigError(f"sigmas={sigmas.tolist()}: must be a non-empty list of positive numbers")
    noise = np.random.default_rng(seed).standard_normal(X_test.shape)
    rows = []
    for sigma in sigmas:
        estimate = np.asarray(denoise(X_test + sigma * noise, float(sigma)), dtype=np.float64)
        if estimate.shape != X_test.shape:
            raise DataError(f"the denoiser returned shape {estimate.shape} for input {X_test.shape}")
        mse = float(np.mean((estimate - X_test) ** 2))
        rows.append({"sigma": float(sigma), "mse": mse, "input_psnr": -10 * math.log10(sigma**2),
                     "output_psnr": -10 * math.log10(mse) if mse > 0 else math.inf})
    return pd.DataFrame(rows)


def _in_range(curve: pd.DataFrame, sigma_range: tuple[float, float] | None) -> pd.DataFrame:
    """The rows of ``curve`` with ``sigma`` in the inclusive ``sigma_range`` (all rows for None)."""
    if sigma_range is None:
        return curve
    low, high = sigma_range
    return curve[(curve["sigma"] >= low) & (curve["sigma"] <= high)]


def psnr_slope(curve: pd.DataFrame, sigma_range: tuple[float, float] | None = None) -> float:
    """Slope of output PSNR against input PSNR (``d log MSE / d log σ²``) over ``sigma_range``.

    ``sigma_range`` is inclusive; default all rows.  NaN with fewer than two rows in range.
    """
    table = _in_range(curve, sigma_range)
    return loglog_slope(table["sigma"].to_numpy() ** 2, table["mse"].to_numpy())


def psnr_margin(curve: pd.DataFrame, baseline: pd.DataFrame, sigma_range: tuple[float, float] | None = None) -> float:
    """The smallest output-PSNR lead (dB) of ``curve`` over ``baseline`` at the ``sigma`` of both
    in ``sigma_range``: ``>= 0`` when the denoiser is at least as good as the baseline at every
    level of the range (a slope compared with the baseline's means something only then).
    NaN when no level is in both."""
    joined = _in_range(curve, sigma_range).merge(baseline[["sigma", "output_psnr"]], on="sigma",
                                                 suffixes=("", "_baseline"))
    if joined.empty:
        return math.nan
    return float((joined["output_psnr"] - joined["output_psnr_baseline"]).min())


def wiener_tangent_alignment(basis: np.ndarray, tangents: np.ndarray, top: int = 5) -> np.ndarray:
    """Alignment of a Wiener filter's top ``top`` eigenvectors with each image's tangent space.

    Parameters
    ----------
    basis : ndarray of shape (d, >= top)
        The filter's eigenvectors in decreasing-eigenvalue order
        (:attr:`lindiff.diffusion.denoisers.WienerDenoiser.basis`): they are its Jacobian's
        eigenvectors at every image and noise level, in the same order (the shrinkage
        ``λ / (λ + σ²)`` is increasing in ``λ``).
    tangents : ndarray of shape (n, d, top)
        The tangent vectors at each image (:func:`lindiff.data.disk_tangents`).

    Returns
    -------
    ndarray of shape (n,): :func:`lindiff.data.subspace_alignment` per image.
    """
    tangents = np.asarray(tangents, dtype=np.float64)
    if tangents.ndim != 3 or tangents.shape[2] != top or basis.shape[0] != tangents.shape[1]:
        raise DataError(f"tangents must have shape (n, {basis.shape[0]}, {top}), got {tangents.shape}")
    return np.array([subspace_alignment(basis[:, :top], tangent) for tangent in tangents])


def tangent_capture(basis: np.ndarray, tangents: np.ndarray, top: int = 5) -> np.ndarray:
    """The fraction of each tangent vector inside ``span(basis[:, :top])``: ``(n, n_directions)``.

    ``‖Qᵀ t‖² / ‖t‖²`` with ``Q`` an orthonormal basis of the span, per image and tangent
    direction (for disks, in the order of :data:`lindiff.data.DISK_PARAMETERS`): which of the
    manifold's directions a denoiser's top eigenvectors hold.
    """
    tangents = np.asarray(tangents, dtype=np.float64)
    if tangents.ndim != 3 or basis.shape[0] != tangents.shape[1]:
        raise DataError(f"tangents must have shape (n, {basis.shape[0]}, k), got {tangents.shape}")
    span = np.linalg.qr(np.asarray(basis, dtype=np.float64)[:, :top])[0]
    inside = np.einsum("dp,ndk->npk", span, tangents)
    norms = np.einsum("ndk,ndk->nk", tangents, tangents)
    return np.einsum("npk,npk->nk", inside, inside) / np.where(norms > 0, norms, np.inf)


@dataclass(frozen=True)
class DiskJacobians:
    """The Jacobian of a denoiser at noisy disk images, one entry per (noise level, image).

    Attributes
    ----------
    sigma : ndarray (s,)
        The noise levels.
    eigvals : ndarray (s, m, K)
        The top ``K`` eigenvalues of the symmetrized Jacobian ``(J + Jᵀ)/2`` at ``x_j + σ z_j``,
        descending.
    alignment : ndarray (s, m)
        :func:`lindiff.data.subspace_alignment` of its top ``top`` eigenvectors with the exact
        tangent space at the clean image ``x_j``.
    capture : ndarray (s, m, 5)
        :func:`tangent_capture` of each tangent direction by the same eigenvectors.
    asymmetry : ndarray (s, m)
        ``‖J − Jᵀ‖_F / ‖J‖_F``.
    vectors : ndarray (s, d, n_vectors)
        The top eigenvectors at the first image, per noise level (the GAHB pictures).
    noisy : ndarray (s, d)
        That image with its noise, per noise level.
    top : int
        How many eigenvectors are compared with the tangent space.
    """

    sigma: np.ndarray
    eigvals: np.ndarray
    alignment: np.ndarray
    capture: np.ndarray
    asymmetry: np.ndarray
    vectors: np.ndarray
    noisy: np.ndarray
    top: int

    def table(self) -> pd.DataFrame:
        """One row per (sigma, image): ``sigma, image, alignment, asymmetry,
        captured_<parameter>`` and ``eigval_<i>`` for ``i < K``."""
        from lindiff.data.geometric import DISK_PARAMETERS

        s, m, K = self.eigvals.shape
        level, image = np.meshgrid(np.arange(s), np.arange(m), indexing="ij")
        columns = {"sigma": self.sigma[level].ravel(), "image": image.ravel(),
                   "alignment": self.alignment.ravel(), "asymmetry": self.asymmetry.ravel()}
        columns.update({f"captured_{name}": self.capture[:, :, k].ravel() for k, name in enumerate(DISK_PARAMETERS)})
        columns.update({f"eigval_{i}": self.eigvals[:, :, i].ravel() for i in range(K)})
        return pd.DataFrame(columns)


def disk_jacobians(denoiser, X: np.ndarray, tangents: np.ndarray, sigmas: Sequence[float], K: int = 20,
                   top: int = 5, n_vectors: int = 10, seed=0, method: str = "auto") -> DiskJacobians:
    """The Jacobian of ``denoiser`` at noisy disk images and its alignment with the manifold.

    Parameters
    ----------
    denoiser : torch callable (d,) -> (d,)
        A blind denoiser on flat images (a :class:`lindiff.deep.models.FlatDenoiser`; a module is
        evaluated in eval mode), differentiated by :func:`lindiff.deep.jacobian.jacobian`.
    X : ndarray (m, d)
        Clean disk images.
    tangents : ndarray (m, d, top)
        Their exact tangent vectors (:func:`lindiff.data.disk_tangents`: ``top = 5``).
    sigmas : sequence of float
        Noise levels; the image ``j`` is ``x_j + σ z_j`` with the same ``z_j`` at every level.
    K, top, n_vectors : int
        Eigenvalues kept, eigenvectors compared with the tangent space, eigenvectors kept for the
        pictures (of the first image).
    """
    from lindiff.deep.jacobian import asymmetry, jacobian, symmetric_eigh

    X = check_matrix(X, "X", min_rows=1)
    m, d = X.shape
    tangents = np.asarray(tangents, dtype=np.float64)
    if tangents.ndim != 3 or tangents.shape != (m, d, top):
        raise DataError(f"tangents must have shape ({m}, {d}, top={top}), got {tangents.shape}")
    for name, value, high in (("K", K, d), ("top", top, d), ("n_vectors", n_vectors, d)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= high:
            raise ConfigError(f"{name}={value!r}: must be an integer in [1, d={high}]")
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.ndim != 1 or sigmas.size == 0 or not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ConfigError(f"sigmas={sigmas.tolist()}: must be a non-empty list of positive numbers")
    noise = np.random.default_rng(seed).standard_normal(X.shape)
    shape = (len(sigmas), m)
    eigvals, alignment, asym = np.empty((*shape, K)), np.empty(shape), np.empty(shape)
    capture = np.empty((*shape, top))
    vectors, noisy = np.empty((len(sigmas), d, n_vectors)), np.empty((len(sigmas), d))
    for s, sigma in enumerate(sigmas):
        for j in range(m):
            y = X[j] + sigma * noise[j]
            J = jacobian(denoiser, y, method)
            vals, vecs = symmetric_eigh(J)
            eigvals[s, j], asym[s, j] = vals[:K], asymmetry(J)
            alignment[s, j] = subspace_alignment(vecs[:, :top], tangents[j])
            capture[s, j] = tangent_capture(vecs[:, :top], tangents[j][None], top)[0]
            if j == 0:
                vectors[s], noisy[s] = vecs[:, :n_vectors], y
    return DiskJacobians(sigmas, eigvals, alignment, capture, asym, vectors, noisy, int(top))


def linear_baseline(size: int = 32, alphas: Sequence[float] = (1, 2, 3, 4, 5), n_train: int = 2000,
                    n_test: int = 200, sigma_range: tuple[float, float] = (0.01, 0.2),
                    disk_n_train: Sequence[int] = (100, 1000, 10000), seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Wiener filter's measurements on both families: ``(calpha_table, disks_table)``.

    C^α: per ``alpha``, the PSNR slope over ``sigma_range`` beside ``α / (α + 1)`` and the output
    PSNR at σ = 0.1.  Disks: per training-set size, the median (and quartiles) over ``n_test``
    held-out images of the tangent alignment and the captured fraction of each direction.
    """
    from lindiff.data.geometric import DISK_PARAMETERS, make_calpha, make_disks
    from lindiff.diffusion.denoisers import fit_wiener

    sigmas = np.logspace(math.log10(sigma_range[0]), math.log10(sigma_range[1]), 9)
    calpha_rows = []
    for alpha in alphas:
        X = make_calpha(n_train + n_test, size=size, alpha=float(alpha), seed=seed).X
        wiener = fit_wiener(X[:n_train])
        curve = denoising_curve(wiener.denoise, X[n_train:], sigmas, seed=seed)
        at_01 = denoising_curve(wiener.denoise, X[n_train:], [0.1], seed=seed)["output_psnr"].iloc[0]
        calpha_rows.append({"alpha": float(alpha), "wiener_slope": psnr_slope(curve),
                            "optimal_slope": optimal_calpha_slope(float(alpha)), "output_psnr_at_0.1": at_01})
    disk_rows = []
    for n in disk_n_train:
        disks = make_disks(n + n_test, size=size, seed=seed)
        wiener = fit_wiener(disks.dataset.X[:n])
        tangents = disks.tangents()[n:]
        alignment = wiener_tangent_alignment(wiener.basis, tangents)
        capture = np.median(tangent_capture(wiener.basis, tangents), axis=0)
        disk_rows.append({"n_train": n, "alignment_median": float(np.median(alignment)),
                          "alignment_q25": float(np.quantile(alignment, 0.25)),
                          "alignment_q75": float(np.quantile(alignment, 0.75)),
                          "chance": 5 / size**2,
                          **{f"captured_{name}": float(c) for name, c in zip(DISK_PARAMETERS, capture)}})
    return pd.DataFrame(calpha_rows), pd.DataFrame(disk_rows)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The Wiener filter's GAHB measurements (C^α slopes, disk alignment)")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    calpha, disks = linear_baseline(size=args.size, seed=args.seed)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("C^alpha images: Wiener PSNR slope (sigma 0.01-0.2) vs the optimal alpha/(alpha+1)")
        print(calpha.round(3).to_string(index=False))
        print("\nDisks: Wiener top-5 eigenvectors vs the tangent space (median over held-out images)")
        print(disks.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
