"""Synthetic images with known geometry (Kadkhodaie et al., the GAHB tests).

Two families whose optimal denoisers are known, generated from a seed (nothing is downloaded):

* **Geometric C^α images** (:func:`make_calpha`): two textured regions separated by a regular
  contour.  The contour is a row offset per column, drawn from uniform noise filtered by
  ``|ω|^(-α)`` in 1-D (:func:`power_law_noise_1d`); each region's texture is uniform noise filtered
  by ``(ω₁² + ω₂²)^(-α_b/2)`` in 2-D (:func:`power_law_noise_2d`) around its own mean intensity;
  the image takes one texture above the contour and the other below it (a boundary pixel mixes
  them by the fraction of it above the contour), then a light Gaussian blur.  The talk quotes the
  optimal denoiser's MSE slope ``α / (α + 1)`` for these images.
* **The manifold of disks** (:func:`make_disks`): one disk on a flat background, with five
  parameters — vertical and horizontal position of the centre, radius, foreground and background
  intensity — drawn uniformly in documented ranges.  The edge is anti-aliased by a Gaussian
  profile, ``I(x) = b + (f − b) Φ((r − ‖x − c‖) / w)``, so the image is smooth in its parameters
  and :func:`disk_tangents` gives the exact tangent space (closed form).

Images are ``size × size`` with values in ``[0, 1]`` and are returned flattened (row-major) as
the rows of a :class:`~lindiff.data.Dataset` with ``image_shape = (size, size)``.

:func:`subspace_alignment` is the measurement the disk study reports: the mean squared cosine
of the principal angles between two subspaces (1 when they coincide, ``p / d`` on average for a
random ``p``-dimensional subspace of ``R^d``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lindiff.data.dataset import Dataset, check_integer
from lindiff.errors import ConfigError, DataError

__all__ = [
    "DISK_PARAMETERS",
    "DiskData",
    "disk_images",
    "disk_tangents",
    "make_calpha",
    "make_disks",
    "power_law_noise_1d",
    "power_law_noise_2d",
    "subspace_alignment",
]

MIN_SIZE = 8
CALPHA_STREAM = 0xCA1FA  # spawn keys of the data-generation streams
DISKS_STREAM = 0xD15C5
DISK_PARAMETERS = ("center_row", "center_col", "radius", "foreground", "background")
"""The five coordinates of the disk manifold, in the order of :attr:`DiskData.params`."""


# --------------------------------------------------------------------------- checks


def _check_positive(value: Any, name: str, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}={value!r}: must be a number") from exc
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name}={value!r}: must be finite and {bound}")
    return number


def _check_range(value: Any, name: str, low: float, high: float) -> tuple[float, float]:
    """A ``[min, max]`` pair inside ``[low, high]``."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}={value!r}: must be a pair [min, max]") from exc
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi or lo < low or hi > high:
        raise ConfigError(f"{name}={[lo, hi]}: must be a pair [min, max] with {low} <= min <= max <= {high}")
    return lo, hi


def _check_intensities(value: Any) -> tuple[float, float]:
    """Two distinct mean intensities in ``[0, 1]`` (above, below the contour)."""
    try:
        upper, lower = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"intensities={value!r}: must be a pair of numbers in [0, 1]") from exc
    if not (0.0 <= upper <= 1.0 and 0.0 <= lower <= 1.0) or upper == lower:
        raise ConfigError(f"intensities={[upper, lower]}: must be two distinct numbers in [0, 1]")
    return upper, lower


def _generator(seed, stream: int) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


# --------------------------------------------------------------------------- C^alpha images


def _frequencies(length: int) -> np.ndarray:
    return np.fft.fftfreq(length) * length  # integer frequencies 0, 1, ..., -1


def _filtered_uniform(shape: tuple[int, ...], amplitude: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform noise on [-1, 1] filtered by ``amplitude`` over its trailing axes (DC removed),
    scaled to unit variance in expectation.

    The scale is the filter's own (Parseval: ``var = var_u · mean |A|²``), not each sample's
    standard deviation, which would correlate with the sample's low frequencies and bend the
    spectrum's slope.
    """
    axes = tuple(range(len(shape) - amplitude.ndim, len(shape)))
    spectrum = np.fft.fftn(rng.uniform(-1.0, 1.0, size=shape), axes=axes) * amplitude
    field = np.real(np.fft.ifftn(spectrum, axes=axes))
    return field / math.sqrt(np.mean(amplitude**2) / 3.0)


def power_law_noise_1d(n: int, length: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform noise filtered by ``|ω|^(-alpha)`` (periodic, zero mean, unit variance in
    expectation): ``(n, length)``.  Its expected power spectrum is ``∝ |ω|^(-2 alpha)``.
    """
    alpha = _check_positive(alpha, "alpha")
    freq = np.abs(_frequencies(length))
    amplitude = np.where(freq > 0, freq, np.inf) ** -alpha
    return _filtered_uniform((n, length), amplitude, rng)


def power_law_noise_2d(n: int, size: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform noise filtered by ``(ω₁² + ω₂²)^(-alpha/2)`` (periodic, zero mean, unit variance
    in expectation): ``(n, size, size)``.  Its expected power spectrum is ``∝ |ω|^(-2 alpha)``."""
    alpha = _check_positive(alpha, "alpha_background")
    freq = _frequencies(size)
    radius = np.hypot(freq[:, None], freq[None, :])
    amplitude = np.where(radius > 0, radius, np.inf) ** -alpha
    return _filtered_uniform((n, size, size), amplitude, rng)


def make_calpha(
    n: int,
    size: int = 32,
    alpha: float = 2.0,
    alpha_background: float | None = None,
    intensities: Sequence[float] = (0.3, 0.7),
    contour_amplitude: float = 0.12,
    texture: float = 0.05,
    blur: float = 0.5,
    seed=0,
) -> Dataset:
    """Geometric C^α images: two textured regions separated by a C^α contour.

    Parameters
    ----------
    n : int
        Number of images.
    size : int
        Pixels per side (>= 8).
    alpha : float
        Regularity of the contour (> 0): its offsets are uniform noise filtered by ``|ω|^(-α)``.
    alpha_background : float, optional
        Regularity of the two textures (> 0); default ``alpha``.
    intensities : (float, float)
        Mean intensity above and below the contour, in ``[0, 1]`` and distinct.
    contour_amplitude : float
        Standard deviation of the contour's row offset, as a fraction of ``size`` (the contour
        is centred on the middle row and kept one pixel inside the image).
    texture : float
        Standard deviation of each texture around its mean (>= 0).
    blur : float
        Standard deviation in pixels of the final Gaussian blur (>= 0; 0 = none).
    seed : int, SeedSequence or Generator

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, size**2)`` in ``[0, 1]`` (clipped), ``image_shape=(size, size)``.
    """
    n, size = check_integer(n, "n"), check_integer(size, "size", MIN_SIZE)
    alpha = _check_positive(alpha, "alpha")
    alpha_background = alpha if alpha_background is None else _check_positive(alpha_background, "alpha_background")
    upper, lower = _check_intensities(intensities)
    contour_amplitude = _check_positive(contour_amplitude, "contour_amplitude", allow_zero=True)
    texture = _check_positive(texture, "texture", allow_zero=True)
    blur = _check_positive(blur, "blur", allow_zero=True)
    rng = _generator(seed, CALPHA_STREAM)

    contour = size / 2 + contour_amplitude * size * power_law_noise_1d(n, size, alpha, rng)
    contour = np.clip(contour, 1.0, size - 1.0)  # (n, size): the boundary's row in each column
    # the fraction of pixel (i, j), rows [i, i + 1), above the contour (anti-aliased mask)
    above = np.clip(contour[:, None, :] - np.arange(size)[None, :, None], 0.0, 1.0)
    textures = power_law_noise_2d(2 * n, size, alpha_background, rng).reshape(n, 2, size, size)
    images = above * (upper + texture * textures[:, 0]) + (1 - above) * (lower + texture * textures[:, 1])
    if blur > 0:
        from scipy.ndimage import gaussian_filter

        images = gaussian_filter(images, sigma=(0, blur, blur), mode="nearest")
    X = np.clip(images, 0.0, 1.0).reshape(n, size * size)
    return Dataset(X=X, name="calpha", image_shape=(size, size))


# --------------------------------------------------------------------------- disks


@dataclass(frozen=True, eq=False)
class DiskData:
    """Disk images and their parameters.

    Attributes
    ----------
    dataset : Dataset
        The images, ``X`` of shape ``(n, size**2)``, ``image_shape=(size, size)``.
    params : np.ndarray, shape (n, 5)
        Each image's coordinates on the manifold, in the order of :data:`DISK_PARAMETERS`
        (centre row and column in pixels, radius in pixels, foreground and background intensity).
    edge : float
        Width in pixels of the Gaussian edge profile.
    """

    dataset: Dataset
    params: np.ndarray
    edge: float

    def tangents(self) -> np.ndarray:
        """The exact tangent vectors at every image, ``(n, size**2, 5)`` (:func:`disk_tangents`)."""
        return disk_tangents(self.params, self.dataset.image_shape[0], self.edge)


def _disk_geometry(params: np.ndarray, size: int, edge: float):
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != len(DISK_PARAMETERS):
        raise DataError(f"disk params must have shape (n, {len(DISK_PARAMETERS)}), got {params.shape}")
    grid = np.arange(size) + 0.5  # pixel centres
    d_row = grid[None, :, None] - params[:, 0, None, None]
    d_col = grid[None, None, :] - params[:, 1, None, None]
    distance = np.hypot(d_row, d_col)
    margin = (params[:, 2, None, None] - distance) / edge
    return params, d_row, d_col, distance, margin


def disk_images(params: np.ndarray, size: int, edge: float = 0.5) -> np.ndarray:
    """Disk images ``b + (f − b) Φ((r − ‖x − c‖) / edge)``, flattened: ``(n, size**2)``.

    ``params`` has shape ``(n, 5)`` in the order of :data:`DISK_PARAMETERS`; pixel ``(i, j)`` sits
    at ``(i + 0.5, j + 0.5)``.
    """
    from scipy.special import ndtr

    size, edge = check_integer(size, "size", MIN_SIZE), _check_positive(edge, "edge")
    params, _, _, _, margin = _disk_geometry(params, size, edge)
    fg, bg = params[:, 3, None, None], params[:, 4, None, None]
    return (bg + (fg - bg) * ndtr(margin)).reshape(len(params), size * size)


def disk_tangents(params: np.ndarray, size: int, edge: float = 0.5) -> np.ndarray:
    """The derivatives of :func:`disk_images` in the five parameters: ``(n, size**2, 5)``.

    Closed form, with ``m = (r − ρ) / edge``, ``ρ = ‖x − c‖`` and ``φ`` the normal density:
    ``∂I/∂c = (f − b) φ(m) (x − c) / (ρ edge)``, ``∂I/∂r = (f − b) φ(m) / edge``,
    ``∂I/∂f = Φ(m)``, ``∂I/∂b = 1 − Φ(m)``.  The columns span the manifold's tangent space.
    """
    from scipy.special import ndtr

    size, edge = check_integer(size, "size", MIN_SIZE), _check_positive(edge, "edge")
    params, d_row, d_col, distance, margin = _disk_geometry(params, size, edge)
    contrast = params[:, 3, None, None] - params[:, 4, None, None]
    slope = contrast * np.exp(-0.5 * margin**2) / (math.sqrt(2 * math.pi) * edge)
    safe = np.where(distance > 0, distance, 1.0)
    coverage = ndtr(margin)
    columns = [slope * d_row / safe, slope * d_col / safe, slope, coverage, 1.0 - coverage]
    return np.stack(columns, axis=-1).reshape(len(params), size * size, len(DISK_PARAMETERS))


def make_disks(
    n: int,
    size: int = 32,
    radius: Sequence[float] | None = None,
    foreground: Sequence[float] = (0.6, 1.0),
    background: Sequence[float] = (0.0, 0.4),
    edge: float = 0.5,
    seed=0,
) -> DiskData:
    """Images of one disk on a flat background: the five-dimensional curved manifold of the talk.

    Parameters are drawn independently and uniformly: the radius in ``radius`` (pixels; default
    ``[size / 8, size / 4]``), the
    foreground and background intensities in ``foreground`` and ``background`` (within
    ``[0, 1]``), and the centre's row and column each in ``[r_max + edge, size − r_max − edge]``,
    so that every disk lies inside the image whatever its radius.

    Returns
    -------
    DiskData
        The images (values in ``[0, 1]``), their parameters and the edge width.
    """
    n, size = check_integer(n, "n"), check_integer(size, "size", MIN_SIZE)
    edge = _check_positive(edge, "edge")
    radius = (size / 8, size / 4) if radius is None else radius
    r_min, r_max = _check_range(radius, "radius", 0.0, size / 2)
    if r_min <= 0:
        raise ConfigError(f"radius={[r_min, r_max]}: the smallest radius must be > 0 pixels")
    if 2 * (r_max + edge) >= size:
        raise ConfigError(
            f"radius={[r_min, r_max]}: a disk of radius {r_max} (plus its edge {edge}) does not fit inside "
            f"a {size}x{size} image; the largest radius must be < {size / 2 - edge}"
        )
    fg = _check_range(foreground, "foreground", 0.0, 1.0)
    bg = _check_range(background, "background", 0.0, 1.0)
    rng = _generator(seed, DISKS_STREAM)
    low, high = r_max + edge, size - r_max - edge
    params = np.column_stack([
        rng.uniform(low, high, n),
        rng.uniform(low, high, n),
        rng.uniform(r_min, r_max, n),
        rng.uniform(*fg, n),
        rng.uniform(*bg, n),
    ])
    X = disk_images(params, size, edge)
    return DiskData(dataset=Dataset(X=X, name="disks", image_shape=(size, size)), params=params, edge=edge)


# --------------------------------------------------------------------------- measurement


def subspace_alignment(vectors: np.ndarray, reference: np.ndarray) -> float:
    """Mean ``cos²`` of the principal angles between ``span(vectors)`` and ``span(reference)``.

    Both are ``(d, p)`` matrices of ``p <= d`` linearly independent columns (not necessarily
    orthonormal).  1 when the spans coincide; for a uniformly random ``p``-dimensional subspace the
    expected value is ``p / d``.
    """
    vectors, reference = np.asarray(vectors, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape != reference.shape or vectors.shape[1] > vectors.shape[0]:
        raise DataError(
            f"subspace_alignment needs two (d, p) matrices with p <= d, got {vectors.shape} and {reference.shape}"
        )
    q_vectors, q_reference = np.linalg.qr(vectors)[0], np.linalg.qr(reference)[0]
    cosines = np.linalg.svd(q_vectors.T @ q_reference, compute_uv=False)
    return float(np.mean(np.clip(cosines, 0.0, 1.0) ** 2))
