"""Orthonormal 2-D wavelet transforms of image batches (the multi-scale denoisers' domain).

Kadkhodaie, Guth, Mallat & Simoncelli (ICLR 2023) factor an image density over the scales of
an orthonormal wavelet transform: ``p(x) = p(x_J) Π_j p(x̄_j | x_j)``, with ``x_j`` the low-pass
image at scale ``j`` and ``x̄_j`` its three detail bands.  This module computes that transform.

Library: PyWavelets (``pywt``), with ``mode="periodization"``, which makes the transform of an
orthogonal wavelet (Haar, Daubechies ``dbN``, symlets ``symN``, coiflets ``coifN``) an
*orthonormal* change of basis of ``R^(h·w)``: sizes halve exactly at each level, energy is kept
(``‖x‖² = ‖x_J‖² + Σ_j ‖x̄_j‖²``) and white noise of std σ stays white with std σ in every band,
which is what lets one noise level σ mean the same thing in every band.  PyWavelets is the
maintained reference implementation, depends only on numpy, and is exact to float64.  The
transform is applied to arrays only (to training images and between the scales of synthesis),
never inside a network's gradient, so a differentiable torch transform (ptwt) is not needed.

Shapes: images ``(n, h, w)``; one level gives the low-pass ``(n, h/2, w/2)`` and the details
``(n, 3, h/2, w/2)`` (horizontal, vertical, diagonal: PyWavelets' ``cH, cV, cD``).  ``levels = J``
needs ``h`` and ``w`` divisible by ``2^J``.  Multi-level results list the details **coarsest
first** (the order of coarse-to-fine synthesis).  The Haar low-pass is ``2^J`` times the block
mean, so an image in [0, 1] has a coarsest low-pass in ``[0, 2^J]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lindiff.errors import ConfigError

__all__ = [
    "WAVELET_FAMILIES",
    "check_levels",
    "check_wavelet",
    "pad_images",
    "wavelet_analysis",
    "wavelet_decompose",
    "wavelet_reconstruct",
    "wavelet_synthesis",
]

#: PyWavelets' orthogonal families (their periodized transforms are orthonormal)
WAVELET_FAMILIES = ("haar", "db", "sym", "coif")
_MODE = "periodization"
_AXES = (-2, -1)


def check_wavelet(wavelet, key: str = "wavelet") -> str:
    """An orthogonal discrete wavelet known to PyWavelets (``haar``, ``db1``–``db38``, ``sym2``–
    ``sym20``, ``coif1``–``coif17``), else a ConfigError naming ``key``."""
    import pywt

    if not isinstance(wavelet, str) or wavelet not in pywt.wavelist(kind="discrete"):
        raise ConfigError(f"{key}={wavelet!r} is not a discrete wavelet of PyWavelets; "
                          f"use an orthogonal one: haar, dbN, symN or coifN")
    if not pywt.Wavelet(wavelet).orthogonal or not wavelet.startswith(WAVELET_FAMILIES):
        raise ConfigError(f"{key}={wavelet!r} is not orthogonal (its transform would not be orthonormal); "
                          f"use haar, dbN, symN or coifN")
    return wavelet


def check_levels(levels, image_shape: Sequence[int], key: str = "levels") -> int:
    """A number of scales ``J >= 1`` such that both sides of ``image_shape`` are divisible by
    ``2^J``, else a ConfigError naming ``key``."""
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ConfigError(f"{key} must be an integer >= 1, got {key}={levels!r}")
    h, w = (int(s) for s in image_shape)
    if h % 2**levels or w % 2**levels:
        raise ConfigError(f"{key}={levels} needs image sides divisible by 2^{levels} = {2**levels}, "
                          f"got image shape {h}x{w} (pad the images, e.g. MNIST to 32x32)")
    return int(levels)


def _check_images(images, name: str = "images") -> np.ndarray:
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ConfigError(f"{name} must have shape (n, h, w), got shape {images.shape}")
    return images


def wavelet_analysis(images, wavelet: str = "haar") -> tuple[np.ndarray, np.ndarray]:
    """One level: images ``(n, h, w)`` -> low-pass ``(n, h/2, w/2)``, details ``(n, 3, h/2, w/2)``."""
    import pywt

    images = _check_images(images)
    check_levels(1, images.shape[1:])
    low, bands = pywt.dwt2(images, check_wavelet(wavelet), mode=_MODE, axes=_AXES)
    return low, np.stack(bands, axis=1)


def wavelet_synthesis(low, details, wavelet: str = "haar") -> np.ndarray:
    """Inverse of :func:`wavelet_analysis`: low-pass ``(n, h, w)`` and details ``(n, 3, h, w)``
    -> images ``(n, 2h, 2w)``."""
    import pywt

    low, details = _check_images(low, "low"), np.asarray(details, dtype=np.float64)
    if details.shape != (low.shape[0], 3, *low.shape[1:]):
        raise ConfigError(f"details must have shape {(low.shape[0], 3, *low.shape[1:])} (n, 3, h, w) to match "
                          f"the low-pass {low.shape}, got {details.shape}")
    bands = (details[:, 0], details[:, 1], details[:, 2])
    return pywt.idwt2((low, bands), check_wavelet(wavelet), mode=_MODE, axes=_AXES)


def wavelet_decompose(images, levels: int, wavelet: str = "haar") -> tuple[np.ndarray, list[np.ndarray]]:
    """``levels = J`` levels: images ``(n, h, w)`` -> the coarsest low-pass ``x_J`` ``(n, h/2^J,
    w/2^J)`` and the details ``[x̄_J, …, x̄_1]`` (coarsest first), ``x̄_j`` of shape
    ``(n, 3, h/2^j, w/2^j)``."""
    images = _check_images(images)
    levels = check_levels(levels, images.shape[1:])
    details = []
    low = images
    for _ in range(levels):
        low, bands = wavelet_analysis(low, wavelet)
        details.append(bands)
    return low, details[::-1]


def wavelet_reconstruct(low, details: Sequence[np.ndarray], wavelet: str = "haar") -> np.ndarray:
    """Inverse of :func:`wavelet_decompose` (``details`` coarsest first)."""
    image = _check_images(low, "low")
    for bands in details:
        image = wavelet_synthesis(image, bands, wavelet)
    return image


def pad_images(images, size: Sequence[int], value: float = 0.0) -> np.ndarray:
    """Pad images ``(n, h, w)`` symmetrically (extra row/column at the end) with ``value`` to
    ``size = (H, W)``: MNIST's 28×28 to 32×32, so that it has ``J = 5`` dyadic scales."""
    images = _check_images(images)
    (h, w), (H, W) = images.shape[1:], (int(size[0]), int(size[1]))
    if H < h or W < w:
        raise ConfigError(f"pad size {H}x{W} is smaller than the images ({h}x{w})")
    top, left = (H - h) // 2, (W - w) // 2
    return np.pad(images, ((0, 0), (top, H - h - top), (left, W - w - left)), constant_values=value)
