"""Local analytic denoisers: every output pixel is a posterior mean over training *patches*.

They sit between the linear denoisers (Wiener, projection) and the memorizing one
(:class:`lindiff.diffusion.denoisers.EmpiricalDenoiser`), and are the leading analytic accounts of
how convolutional denoisers generalize.  All act on flattened images: rows ``Y`` (m, d) of
``image_shape`` (h, w), ``D(Y, sigma)`` in the variance-exploding coordinates of the samplers
(``Y = X_0 + σ Z``), like every denoiser of :mod:`lindiff.diffusion.denoisers`.

``local`` (:class:`LocalDenoiser`, the LS machine of Kamb & Ganguli) — pixel ``p`` of the estimate
    is ``Σ_j w_j(p) x_{j,p}`` with ``w(p) = softmax_j(−‖y_{Ω_p} − x_{j,Ω_p}‖² / 2σ²)``: the posterior
    over the training images given only the patch ``Ω_p`` (``P × P`` around ``p``) of ``y``.
    Patches are clipped at the border (the same as zero padding both images).
``equivariant`` (:class:`EquivariantLocalDenoiser`, the ELS machine) — the same, over the patches
    of every training image *at every position* (zero padding at the border):
    ``Σ_{j,q} w_{j,q}(p) x_{j,q}``, ``w(p) = softmax_{j,q}(−‖y_{Ω_p} − x_{j,Ω_q}‖² / 2σ²)``.  Equal
    patches are merged with their count as a weight (exact), and the pool may be subsampled.
``locality`` (:class:`LocalityDenoiser`, Lukoianov et al.) — the LS form with a data-derived patch:
    pixel ``q`` is in the patch of ``p`` where the Wiener filter ``W_σ = C (C + σ² I)⁻¹`` of the
    training set weighs it at least ``threshold`` times the pixel itself,
    ``|W_σ[p, q]| ≥ threshold · W_σ[p, p]``.  The locality comes from the data's covariance, not
    from the image grid (no ``image_shape`` needed).  The published code thresholds at a fraction
    of the largest entry of the diagonal-normalized matrix; this one per row, so that every pixel
    keeps its own scale.

Every softmax runs over the whole training set (or pool) with an exact streaming log-sum-exp
(:class:`StreamingSoftmaxMean`): chunking changes nothing but rounding.  At ``σ = 0`` each
softmax is its limit, the nearest candidate (the first of equals).

A patch size per noise level is a :class:`PatchSizes` (fit by :func:`calibrate_patch_sizes`);
a plain int is the same size at every level.

Cost per sample and step (n training images of d pixels, patch side P, flops up to a small
constant): LS ``~10 n d`` (box sums by summed-area tables, independent of P); locality
``2 n d²`` (a dense product with the masks); ELS ``2 d M P²`` for a pool of M distinct patches
(``M ≤ n d``) and memory ``8 M P²`` bytes for the pool.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from lindiff.diffusion.denoisers import check_sigma, fit_wiener
from lindiff.errors import ConfigError
from lindiff.validation import check_image_shape, check_matrix, check_vector

LOCAL_DENOISERS = ("local", "equivariant", "locality")

__all__ = [
    "LOCAL_DENOISERS",
    "ClassConditional",
    "EquivariantLocalDenoiser",
    "LocalDenoiser",
    "LocalityDenoiser",
    "PatchCalibration",
    "PatchSizes",
    "StreamingSoftmaxMean",
    "box_sums",
    "calibrate_patch_sizes",
    "check_patch_size",
    "whole_image_patch",
]

#: elements of the largest temporary array a denoiser builds per block (32 MiB of float64)
BLOCK_ELEMENTS = 1 << 22


def _check_count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def check_patch_size(value, name: str = "patch_size") -> int:
    """A patch side: an odd integer >= 1 (the patch is centred on its pixel), else ConfigError
    naming ``name``."""
    size = _check_count(value, name)
    if size % 2 == 0:
        raise ConfigError(f"{name} must be odd (a patch centred on its pixel), got {name}={value!r}")
    return size


def whole_image_patch(image_shape) -> int:
    """The smallest patch side that covers the whole image from every pixel: ``2 max(h, w) − 1``."""
    h, w = check_image_shape(image_shape)
    return 2 * max(h, w) - 1


@dataclass(frozen=True)
class PatchSizes:
    """A patch side per noise level: ``size[i]`` at ``sigma[i]`` (ascending, > 0); called at any
    ``σ`` it returns the size of the nearest level in ``log σ`` (``σ = 0``: the smallest level's)."""

    sigma: np.ndarray
    size: np.ndarray

    def __post_init__(self):
        sigma = check_vector(self.sigma, "patch_sizes.sigma", error=ConfigError)
        if not len(sigma) or np.any(sigma <= 0) or np.any(np.diff(sigma) <= 0):
            raise ConfigError(f"patch_sizes.sigma must be positive and increasing, got {sigma}")
        sizes = np.asarray(self.size)
        if sizes.shape != sigma.shape:
            raise ConfigError(f"patch_sizes.size must have one size per sigma ({len(sigma)}), got {sizes.shape}")
        sizes = np.array([check_patch_size(s, "patch_sizes.size") for s in sizes.tolist()], dtype=np.int64)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "size", sizes)

    def __call__(self, sigma: float) -> int:
        sigma = check_sigma(sigma)
        if sigma == 0:
            return int(self.size[0])
        return int(self.size[np.argmin(np.abs(np.log(self.sigma) - np.log(sigma)))])

    def to_dict(self) -> dict:
        return {"sigma": self.sigma.tolist(), "size": self.size.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping) -> PatchSizes:
        if not isinstance(data, Mapping) or set(data) != {"sigma", "size"}:
            raise ConfigError(f"patch sizes must be a mapping with keys 'sigma' and 'size', got {data!r}")
        return cls(np.asarray(data["sigma"], dtype=np.float64), np.asarray(data["size"]))


def _patch_schedule(patch_size) -> Callable[[float], int]:
    if isinstance(patch_size, PatchSizes):
        return patch_size
    size = check_patch_size(patch_size)
    return lambda sigma: size


class StreamingSoftmaxMean:
    """Exact ``Σ_k softmax(logits)_k values_k`` over the last axis, accumulated chunk by chunk.

    It keeps the running maximum ``m`` of the logits, ``s = Σ exp(l − m)`` and ``a = Σ exp(l − m) v``;
    a chunk with a larger maximum rescales both sums by ``exp(m_old − m_new)``, so the result
    :meth:`mean` ``= a / s`` is the softmax over everything added, however it was chunked (to
    rounding: about 1e-15 relative).  ``hard=True`` is the zero-temperature limit: the value of
    the largest logit (the first of equals, in the order added).
    """

    def __init__(self, hard: bool = False):
        self.hard = bool(hard)
        self.max: np.ndarray | None = None
        self.total: np.ndarray | None = None
        self.weighted: np.ndarray | None = None

    def add(self, logits: np.ndarray, values: np.ndarray) -> None:
        """Add a chunk: ``logits`` (..., k) and the ``values`` they weigh: (k,) one per candidate, or
        any shape that broadcasts to ``logits``.  ``logits`` is overwritten (it holds the weights after)."""
        chunk_max = logits.max(axis=-1)
        if self.hard:
            best = np.take_along_axis(np.broadcast_to(values, logits.shape), logits.argmax(axis=-1)[..., None], axis=-1)[..., 0]
            if self.max is None:
                self.max, self.weighted = chunk_max, best.copy()
            else:
                better = chunk_max > self.max
                self.max = np.where(better, chunk_max, self.max)
                self.weighted = np.where(better, best, self.weighted)
            return
        new_max = chunk_max if self.max is None else np.maximum(self.max, chunk_max)
        weights = np.subtract(logits, new_max[..., None], out=logits if logits.flags.writeable else None)
        np.exp(weights, out=weights)
        total = weights.sum(axis=-1)
        if values.ndim == 1:  # one value per candidate: a matrix-vector product
            weighted = weights @ values
        else:
            weighted = np.einsum("...k,...k->...", weights, np.broadcast_to(values, logits.shape))
        if self.max is not None:
            scale = np.exp(self.max - new_max)
            total += self.total * scale
            weighted += self.weighted * scale
        self.max, self.total, self.weighted = new_max, total, weighted

    def mean(self) -> np.ndarray:
        if self.max is None:
            raise ValueError("nothing was added")
        return self.weighted.copy() if self.hard else self.weighted / self.total


def _logits(sq_dist: np.ndarray, sigma: float, temperature: float = 1.0) -> np.ndarray:
    """``−‖·‖² / 2σ²T`` (σ > 0); at σ = 0 just ``−‖·‖²`` (the hard limit ranks by distance)."""
    if sigma == 0:
        return -sq_dist
    return sq_dist * (-0.5 / (sigma**2 * temperature))


def box_sums(images: np.ndarray, half: int) -> np.ndarray:
    """Sums over the ``(2 half + 1)²`` window around every pixel of ``images`` (..., h, w),
    clipped at the border (zero padding), by summed-area tables: O(1) per pixel for any window."""
    *lead, h, w = images.shape
    table = np.zeros((*lead, h + 1, w + 1))
    np.cumsum(images, axis=-2, out=table[..., 1:, 1:])
    np.cumsum(table[..., 1:, 1:], axis=-1, out=table[..., 1:, 1:])
    rows, cols = np.arange(h), np.arange(w)
    r_lo, r_hi = np.clip(rows - half, 0, h), np.clip(rows + half + 1, 0, h)
    c_lo, c_hi = np.clip(cols - half, 0, w), np.clip(cols + half + 1, 0, w)
    top, bottom = table[..., r_lo, :], table[..., r_hi, :]
    return bottom[..., c_hi] - top[..., c_hi] - bottom[..., c_lo] + top[..., c_lo]


class _PixelwisePosterior:
    """Shared machinery of LS and locality: pixel ``p`` of the estimate is ``Σ_j softmax_j(−dist_j(p)
    / 2σ²T) x_{j,p}``, streamed over chunks of training images; subclasses give ``dist``."""

    temperature = 1.0

    def __init__(self, X_train: np.ndarray, chunk: int):
        self.X = check_matrix(X_train, "X_train", min_rows=1)
        self.chunk = _check_count(chunk, "chunk")
        self.d = self.X.shape[1]

    def _distances(self, deltas_sq: np.ndarray, sigma: float) -> np.ndarray:
        """(b, k, d) squared differences -> (b, k, d) patch distances at every pixel."""
        raise NotImplementedError

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        sigma = check_sigma(sigma)
        Y = check_matrix(Y, "Y", d=self.d, min_rows=1)
        rows = max(1, BLOCK_ELEMENTS // (self.chunk * self.d))
        out = np.empty_like(Y)
        for start in range(0, len(Y), rows):
            block = Y[start : start + rows]
            acc = StreamingSoftmaxMean(hard=sigma == 0)
            for first in range(0, len(self.X), self.chunk):
                X = self.X[first : first + self.chunk]
                dist = self._distances((block[:, None, :] - X[None]) ** 2, sigma)
                acc.add(_logits(dist, sigma, self.temperature).transpose(0, 2, 1), X.T)
            out[start : start + rows] = acc.mean()
        return out


class LocalDenoiser(_PixelwisePosterior):
    """The local score (LS) machine: a per-pixel posterior over the training images at the same
    position, from the ``P × P`` patch around the pixel (see the module doc).

    Parameters
    ----------
    X_train : (n, d)
        Training images, flattened.
    image_shape : (h, w)
        ``h · w = d``.
    patch_size : odd int or PatchSizes
        The patch side ``P`` (per noise level with a PatchSizes); ``P ≥ 2 max(h, w) − 1`` covers
        the whole image: the empirical denoiser.
    chunk : int
        Training images per streamed chunk.
    """

    def __init__(self, X_train: np.ndarray, image_shape, patch_size, chunk: int = 64):
        super().__init__(X_train, chunk)
        self.image_shape = check_image_shape(image_shape, d=self.d)
        self.patch_size = _patch_schedule(patch_size)

    def _distances(self, deltas_sq: np.ndarray, sigma: float) -> np.ndarray:
        b, k, _ = deltas_sq.shape
        half = self.patch_size(sigma) // 2
        return box_sums(deltas_sq.reshape(b, k, *self.image_shape), half).reshape(b, k, self.d)


class LocalityDenoiser(_PixelwisePosterior):
    """Lukoianov et al.'s locality denoiser: the LS form with the patch of pixel ``p`` read from the
    Wiener filter of the training set at ``σ`` (see the module doc).

    Parameters
    ----------
    X_train : (n, d)
    threshold : float in (0, 1]
        Pixel ``q`` is in the patch of ``p`` where ``|W_σ[p, q]| ≥ threshold · W_σ[p, p]``.
    temperature : float > 0
        Divides the logits' ``2σ²`` (1: the posterior).
    chunk : int
    """

    def __init__(self, X_train: np.ndarray, threshold: float = 0.02, temperature: float = 1.0, chunk: int = 64):
        super().__init__(X_train, chunk)
        self.threshold = _check_fraction(threshold, "threshold")
        try:
            self.temperature = float(temperature)
        except (TypeError, ValueError):
            self.temperature = float("nan")
        if not np.isfinite(self.temperature) or self.temperature <= 0:
            raise ConfigError(f"temperature must be a positive number, got temperature={temperature!r}")
        self.wiener = fit_wiener(self.X)
        self._masks: dict[float, np.ndarray] = {}

    def masks(self, sigma: float) -> np.ndarray:
        """The patches as a 0/1 matrix (d, d): row ``p`` marks the pixels of ``p``'s patch (always
        ``p`` itself; only ``p`` where the training set does not vary at ``p``)."""
        sigma = check_sigma(sigma)
        if sigma not in self._masks:
            wiener = self.wiener.matrix(sigma)
            diagonal = np.diag(wiener)
            masks = np.abs(wiener) >= self.threshold * diagonal[:, None]
            masks[diagonal <= 0] = False
            np.fill_diagonal(masks, True)
            self._masks[sigma] = masks.astype(np.float64)
        return self._masks[sigma]

    def patch_sizes(self, sigma: float) -> np.ndarray:
        """Pixels in each pixel's patch (d,)."""
        return self.masks(sigma).sum(axis=1).astype(np.int64)

    def _distances(self, deltas_sq: np.ndarray, sigma: float) -> np.ndarray:
        return deltas_sq @ self.masks(sigma).T


def _check_fraction(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0.0 < number <= 1.0:
        raise ConfigError(f"{name} must be a number in (0, 1], got {name}={value!r}")
    return number


@dataclass
class _Pool:
    """Distinct patches (M, P²), the log of their counts (M,), their centre pixels (M,) and squared norms."""

    patches: np.ndarray
    log_counts: np.ndarray
    centres: np.ndarray
    sq_norms: np.ndarray = field(init=False)

    def __post_init__(self):
        self.sq_norms = np.einsum("ij,ij->i", self.patches, self.patches)


def _patches(images: np.ndarray, half: int) -> np.ndarray:
    """All ``(2 half + 1)²`` patches of zero-padded ``images`` (m, h, w), one per pixel: (m h w, P²)."""
    padded = np.pad(images, ((0, 0), (half, half), (half, half)))
    size = 2 * half + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))
    return windows.reshape(-1, size * size)


def _merge_counts(patches: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, inverse = np.unique(patches, axis=0, return_inverse=True)
    return unique, np.bincount(inverse.reshape(-1), weights=counts, minlength=len(unique))


class EquivariantLocalDenoiser:
    """The equivariant local score (ELS) machine: a per-pixel posterior over the ``P × P`` patches
    of every training image at every position, zero padding at the border (see the module doc).

    Parameters
    ----------
    X_train : (n, d)
        Training images; for a class-conditional pool pass one class's images (and combine the
        classes with :class:`ClassConditional`).
    image_shape : (h, w)
    patch_size : odd int or PatchSizes
    pool_size : int, optional
        Keep this many of the ``n d`` patches, drawn without replacement (seeded by ``seed``);
        None keeps all.  Equal patches are then merged with their count as a weight.
    seed : int
    chunk : int
        Pool patches per streamed chunk.
    """

    def __init__(
        self, X_train: np.ndarray, image_shape, patch_size, pool_size: int | None = None, seed: int = 0, chunk: int = 4096
    ):
        self.X = check_matrix(X_train, "X_train", min_rows=1)
        self.d = self.X.shape[1]
        self.image_shape = check_image_shape(image_shape, d=self.d)
        self.patch_size = _patch_schedule(patch_size)
        self.pool_size = None if pool_size is None else _check_count(pool_size, "pool_size")
        self.seed = _check_count(seed, "seed", minimum=0)
        self.chunk = _check_count(chunk, "chunk")
        self._pools: dict[int, _Pool] = {}

    def pool(self, size: int) -> _Pool:
        """The (cached) pool of distinct patches of side ``size``."""
        size = check_patch_size(size)
        if size not in self._pools:
            self._pools[size] = self._build_pool(size)
        return self._pools[size]

    def _build_pool(self, size: int) -> _Pool:
        half, total = size // 2, self.X.size
        keep = None
        if self.pool_size is not None and self.pool_size < total:
            rng = np.random.default_rng(self.seed)
            keep = np.sort(rng.choice(total, size=self.pool_size, replace=False))
        images = self.X.reshape(-1, *self.image_shape)
        per_image = self.d
        step = max(1, BLOCK_ELEMENTS // (per_image * size * size))
        unique, counts = np.empty((0, size * size)), np.empty(0)
        for first in range(0, len(images), step):
            patches = _patches(images[first : first + step], half)
            if keep is not None:
                lo, hi = np.searchsorted(keep, [first * per_image, (first + step) * per_image])
                patches = patches[keep[lo:hi] - first * per_image]
            unique, counts = _merge_counts(np.concatenate([unique, patches]), np.concatenate([counts, np.ones(len(patches))]))
        centre = (size * size) // 2
        return _Pool(patches=unique, log_counts=np.log(counts), centres=unique[:, centre].copy())

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        sigma = check_sigma(sigma)
        Y = check_matrix(Y, "Y", d=self.d, min_rows=1)
        size = self.patch_size(sigma)
        pool = self.pool(size)
        # −‖q − p‖² / 2σ² + log count = q·p / σ² − ‖p‖² / 2σ² + log count − ‖q‖² / 2σ²; the last
        # term is the same for every candidate of a query, so it leaves the softmax (and the
        # nearest candidate at σ = 0) unchanged: the logits are one product with [p / σ², bias].
        if sigma == 0:
            weights, bias = 2.0 * pool.patches, -pool.sq_norms
        else:
            weights, bias = pool.patches / sigma**2, pool.log_counts - pool.sq_norms / (2.0 * sigma**2)
        keys = np.hstack([weights, bias[:, None]])
        queries = _patches(Y.reshape(-1, *self.image_shape), size // 2)
        queries = np.hstack([queries, np.ones((len(queries), 1))])
        block = max(1, BLOCK_ELEMENTS // self.chunk)
        out = np.empty(len(queries))
        for start in range(0, len(queries), block):
            q = queries[start : start + block]
            acc = StreamingSoftmaxMean(hard=sigma == 0)
            for first in range(0, len(keys), self.chunk):
                part = slice(first, first + self.chunk)
                acc.add(q @ keys[part].T, pool.centres[part])
            out[start : start + block] = acc.mean()
        return out.reshape(Y.shape)


class ClassConditional:
    """Class-conditional denoising: row ``i`` of ``Y`` goes to ``denoisers[labels[i]]`` (each built
    on one class's training images); ``D(Y, σ)`` like any denoiser, for a fixed ``labels`` (m,)."""

    def __init__(self, denoisers: Mapping[int, Callable], labels):
        self.denoisers = dict(denoisers)
        self.labels = np.asarray(labels)
        missing = sorted(set(self.labels.tolist()) - set(self.denoisers))
        if self.labels.ndim != 1 or missing:
            raise ConfigError(f"labels must be 1-D class labels with a denoiser each; no denoiser for {missing}")

    def __call__(self, Y: np.ndarray, sigma: float) -> np.ndarray:
        Y = check_matrix(Y, "Y", min_rows=1)
        if len(Y) != len(self.labels):
            raise ConfigError(f"Y has {len(Y)} rows but the class labels are {len(self.labels)}")
        out = np.empty_like(Y)
        for label in np.unique(self.labels):
            rows = self.labels == label
            out[rows] = self.denoisers[label.item()](Y[rows], sigma)
        return out


@dataclass(frozen=True)
class PatchCalibration:
    """The outcome of :func:`calibrate_patch_sizes`: ``mse`` (levels, sizes) of every candidate
    ``sizes`` at every ``sigma``, and the chosen :attr:`patch_sizes` (the smallest MSE per level)."""

    sigma: np.ndarray
    sizes: np.ndarray
    mse: np.ndarray
    reference: str

    @property
    def patch_sizes(self) -> PatchSizes:
        return PatchSizes(self.sigma, self.sizes[np.argmin(self.mse, axis=1)])

    def to_dict(self) -> dict:
        return {
            "sigma": self.sigma.tolist(),
            "sizes": self.sizes.tolist(),
            "mse": self.mse.tolist(),
            "reference": self.reference,
            "patch_sizes": self.patch_sizes.to_dict(),
        }


def calibrate_patch_sizes(
    make_denoiser: Callable[[int], Callable], X_eval: np.ndarray, sigma, sizes, seed: int = 0, target: Callable | None = None
) -> PatchCalibration:
    """Choose a patch side per noise level.

    For every ``σ`` in ``sigma`` the rows of ``X_eval`` (m, d) are noised once (``Y = X + σ Z``, Z
    drawn from ``seed``, the same Z for every size); each candidate ``make_denoiser(size)``
    denoises them, and its mean squared error is taken against the clean rows (``target`` None:
    held-out denoising MSE) or against ``target(Y, σ)``, a network's outputs on the same ``Y``
    (Kamb & Ganguli's calibration to a network).
    """
    X_eval = check_matrix(X_eval, "X_eval", min_rows=1)
    levels = check_vector(sigma, "sigma", error=ConfigError)
    if not len(levels) or np.any(levels <= 0) or np.any(np.diff(levels) <= 0):
        raise ConfigError(f"sigma must be positive and increasing, got {levels}")
    candidates = np.array([check_patch_size(s, "sizes") for s in np.atleast_1d(sizes).tolist()], dtype=np.int64)
    if not len(candidates) or len(set(candidates.tolist())) != len(candidates):
        raise ConfigError(f"sizes must be distinct patch sizes, got {candidates.tolist()}")
    denoisers = [make_denoiser(int(s)) for s in candidates]
    rng = np.random.default_rng(_check_count(seed, "seed", minimum=0))
    mse = np.empty((len(levels), len(candidates)))
    for i, level in enumerate(levels):
        Y = X_eval + level * rng.standard_normal(X_eval.shape)
        reference = X_eval if target is None else np.asarray(target(Y, float(level)), dtype=np.float64)
        for j, denoiser in enumerate(denoisers):
            mse[i, j] = np.mean((denoiser(Y, float(level)) - reference) ** 2)
    return PatchCalibration(levels, candidates, mse, "clean" if target is None else "target")
