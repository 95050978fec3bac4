"""Multi-scale wavelet conditional denoisers and their coarse-to-fine synthesis.

Kadkhodaie, Guth, Mallat & Simoncelli (ICLR 2023) model an image through an orthonormal wavelet
transform (:mod:`lindiff.data.wavelets`) as a global prior on a small low-pass image times local
conditional densities of the details given the coarser image::

    p(x) = p(x_J) · Π_{j=J…1} p(x̄_j | x_j),

``x_j`` the low-pass image at scale ``j`` (``x_0 = x``), ``x̄_j`` its three detail bands, and
``x_{j−1}`` the inverse one-level transform of ``(x_j, x̄_j)``.  Each factor is learned by a blind
bias-free denoiser (:class:`~lindiff.deep.models.FlatDenoiser`):

* the low-pass model: ``bands = 1`` on ``x_J`` (a small image; its receptive field covers it);
* the model of scale ``j``: ``bands = 3``, ``condition_bands = 1``, denoising the details
  ``x̄_j + σ z`` given the clean ``x_j`` (``D(y | x_j) = y − net(cat(y, x_j))``), with a receptive
  field ``receptive_field`` (5, 9, 13) on the grid of that scale.

All are trained by :func:`lindiff.deep.train.train_denoiser` on the rows of
:func:`multiscale_training_data` (``condition=`` for the scales).  The orthonormal transform keeps
white noise white with the same σ in every band, so the training noise range means the same in
every band; the Haar low-pass at scale ``J`` is ``2^J`` times the block mean (values in ``[0, 2^J]``
for images in [0, 1]).

Synthesis (:func:`synthesize`) draws ``x_J``, then for ``j = J … 1`` draws ``x̄_j`` given ``x_j`` and
reconstructs ``x_{j−1}``.  Each draw is any sampler of a denoiser; :func:`ascent_synthesis` uses
Kadkhodaie & Simoncelli's stochastic ascent (:func:`lindiff.deep.sample.sample_ascent`) at every
scale, as the paper does.  Shapes: images ``(n, h, w)``; rows ``(n, bands·h_j·w_j)``, the details
flattened band-major (the ``(n, 3, h_j, w_j)`` arrays of the transform, reshaped).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lindiff.data.wavelets import check_levels, check_wavelet, wavelet_analysis, wavelet_synthesis
from lindiff.errors import ConfigError

__all__ = [
    "MultiscaleData",
    "ascent_synthesis",
    "check_multiscale_models",
    "multiscale_denoise",
    "multiscale_training_data",
    "scale_shapes",
    "synthesize",
]


def scale_shapes(image_shape: Sequence[int], levels: int) -> list[tuple[int, int]]:
    """The grids ``(h/2^j, w/2^j)`` of scales ``j = J … 1`` (coarsest first; also the shape of
    ``x_J`` for the first)."""
    h, w = (int(s) for s in image_shape)
    levels = check_levels(levels, (h, w))
    return [(h >> j, w >> j) for j in range(levels, 0, -1)]


@dataclass(frozen=True)
class MultiscaleData:
    """The training rows of the multi-scale models of one image set.

    Attributes
    ----------
    low : ndarray (n, h_J·w_J)
        The coarsest low-pass images ``x_J``, flattened.
    details : list of ndarray (n, 3·h_j·w_j)
        ``x̄_j`` for ``j = J … 1`` (coarsest first), band-major.
    conditions : list of ndarray (n, h_j·w_j)
        ``x_j``, the clean low-pass each ``x̄_j`` is conditioned on.
    shapes : list of (h_j, w_j)
        The grid of each scale, coarsest first.
    """

    low: np.ndarray
    details: list[np.ndarray]
    conditions: list[np.ndarray]
    shapes: list[tuple[int, int]]


def multiscale_training_data(images, levels: int, wavelet: str = "haar") -> MultiscaleData:
    """Decompose images ``(n, h, w)`` over ``levels`` scales into the rows each model trains on."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ConfigError(f"images must have shape (n, h, w), got shape {images.shape}")
    shapes = scale_shapes(images.shape[1:], levels)
    wavelet = check_wavelet(wavelet)
    n = len(images)
    details, conditions = [], []
    low = images
    for _ in shapes:
        low, bands = wavelet_analysis(low, wavelet)
        details.append(bands.reshape(n, -1))
        conditions.append(low.reshape(n, -1))
    return MultiscaleData(low.reshape(n, -1), details[::-1], conditions[::-1], shapes)


def synthesize(
    sample_low: Callable[[int, np.random.Generator], np.ndarray],
    sample_details: Sequence[Callable[[np.ndarray, np.random.Generator], np.ndarray]],
    n: int,
    low_shape: Sequence[int],
    wavelet: str = "haar",
    seed=0,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Coarse-to-fine synthesis.

    Parameters
    ----------
    sample_low : callable ``(n, rng) -> (n, h_J·w_J)``
        Draws the coarsest low-pass images.
    sample_details : callables ``(x_j (n, h_j·w_j), rng) -> (n, 3·h_j·w_j)``, coarsest first
        Draw the details of scale ``j`` given its low-pass images (row ``i`` given row ``i``).
    n : int
    low_shape : (h_J, w_J)
    wavelet : str
    seed : int, SeedSequence or Generator
        One independent stream per scale (``SeedSequence.spawn``).

    Returns
    -------
    images : ndarray (n, h, w)
        ``x_0``.
    lows : list of ndarray (n, h_j, w_j)
        ``x_J, …, x_1, x_0``: the image after each scale (the last is ``images``).
    """
    wavelet = check_wavelet(wavelet)
    streams = len(sample_details) + 1
    if isinstance(seed, np.random.Generator):
        rngs = [seed] * streams
    else:
        sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rngs = [np.random.default_rng(child) for child in sequence.spawn(streams)]
    h, w = (int(s) for s in low_shape)
    low = np.asarray(sample_low(n, rngs[0]), dtype=np.float64).reshape(n, h, w)
    lows = [low]
    for draw, rng in zip(sample_details, rngs[1:], strict=True):
        details = np.asarray(draw(low.reshape(n, -1), rng), dtype=np.float64)
        if details.shape != (n, 3 * low[0].size):
            raise ConfigError(f"a detail sampler returned shape {details.shape}, expected {(n, 3 * low[0].size)}")
        low = wavelet_synthesis(low, details.reshape(n, 3, *low.shape[1:]), wavelet)
        lows.append(low)
    return low, lows


def check_multiscale_models(low_model, detail_models: Sequence, image_shape: Sequence[int]) -> list[tuple[int, int]]:
    """Check that ``low_model`` and ``detail_models`` (coarsest first) form a multi-scale model of
    images of ``image_shape``: the low-pass model blind on ``x_J`` (one band, no condition), each
    scale's model on three bands conditioned on one, on the grid of its scale.  Returns the grids."""
    shapes = scale_shapes(image_shape, len(detail_models))
    if getattr(low_model, "bands", 1) != 1 or getattr(low_model, "condition_bands", 0):
        raise ConfigError("the low-pass model must denoise one band without a condition (bands=1, condition_bands=0)")
    if tuple(low_model.image_shape) != shapes[0]:
        raise ConfigError(f"the low-pass model is for {tuple(low_model.image_shape)} images; x_J is {shapes[0]}")
    for j, (model, shape) in enumerate(zip(detail_models, shapes, strict=True)):
        if model.bands != 3 or model.condition_bands != 1 or tuple(model.image_shape) != shape:
            raise ConfigError(f"detail model {j} (coarsest first) must have bands=3, condition_bands=1 and "
                              f"image_shape={shape}; got bands={model.bands}, condition_bands={model.condition_bands}, "
                              f"image_shape={tuple(model.image_shape)}")
    return shapes


def _low_mean(low_mean, d: int) -> np.ndarray:
    """The mean ``x_J`` image a low-pass model was trained around (0: none), as (d,)."""
    mean = np.zeros(d) if low_mean is None else np.asarray(low_mean, dtype=np.float64)
    if mean.shape not in ((), (d,)):
        raise ConfigError(f"low_mean must be a number or shape ({d},) (the low-pass image), got shape {mean.shape}")
    return np.broadcast_to(mean, (d,))


def multiscale_denoise(low_model, detail_models: Sequence, Y, image_shape: Sequence[int], wavelet: str = "haar",
                       batch_size: int = 1024, low_mean=None) -> np.ndarray:
    """Denoise noisy images with a multi-scale model, coarse to fine: transform ``Y`` (n, h·w),
    denoise its low-pass ``y_J`` with the low-pass model (``x̂_J``), then at each scale the noisy
    details given the low-pass estimated so far (``x̂_j``), and reconstruct ``x̂_{j−1}``.
    ``low_mean`` (h_J·w_J,): the mean low-pass image the low-pass model was trained around (it
    denoises ``x_J − low_mean``); None: none.

    The transform is orthonormal, so the noise is white with the same σ in every band and each
    model sees the noise it was trained on; the estimate ``x̂_j`` stands in for the clean low-pass
    the conditional models were trained with.  Returns ``(n, h·w)``.
    """
    shapes = check_multiscale_models(low_model, detail_models, image_shape)
    Y = np.asarray(Y, dtype=np.float64)
    n = len(Y)
    data = multiscale_training_data(Y.reshape(n, *(int(s) for s in image_shape)), len(shapes), wavelet)
    mean = _low_mean(low_mean, low_model.d)
    low = (low_model.denoise(data.low - mean, batch_size=batch_size) + mean).reshape(n, *shapes[0])
    for model, details in zip(detail_models, data.details, strict=True):
        clean = model.denoise(details, condition=low.reshape(n, -1), batch_size=batch_size)
        low = wavelet_synthesis(low, clean.reshape(n, 3, *low.shape[1:]), wavelet)
    return low.reshape(n, -1)


def ascent_synthesis(
    low_model,
    detail_models: Sequence,
    n: int,
    image_shape: Sequence[int],
    wavelet: str = "haar",
    seed=0,
    low_options: Mapping | None = None,
    detail_options: Mapping | Sequence[Mapping] | None = None,
    low_mean=None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`synthesize` with the stochastic ascent of :func:`lindiff.deep.sample.sample_ascent`
    at every scale: on the low-pass model (``low_options``, e.g. ``init_mean`` the data's mean
    low-pass value and ``sigma_0`` in its units), then on each scale's conditional model given the
    synthesized low-pass (``detail_options``: one mapping for every scale or one per scale,
    coarsest first; the details start at mean 0).

    ``low_model`` and ``detail_models`` (coarsest first) are :class:`FlatDenoiser` s as
    :func:`check_multiscale_models` describes; ``low_mean`` as in :func:`multiscale_denoise` (the
    ascent then draws ``x_J − low_mean``, from ``init_mean`` 0 unless ``low_options`` says).
    Returns what :func:`synthesize` returns.
    """
    from lindiff.deep.sample import sample_ascent

    shapes = check_multiscale_models(low_model, detail_models, image_shape)
    low_options = dict(low_options or {})
    if detail_options is None or isinstance(detail_options, Mapping):
        detail_options = [detail_options or {}] * len(detail_models)
    if len(detail_options) != len(detail_models):
        raise ConfigError(f"detail_options: {len(detail_options)} mappings for {len(detail_models)} scales")
    detail_options = [{"init_mean": 0.0, **dict(options)} for options in detail_options]

    mean = _low_mean(low_mean, low_model.d)
    if low_mean is not None:
        low_options = {"init_mean": 0.0, **low_options}

    def draw_low(count: int, rng: np.random.Generator) -> np.ndarray:
        return sample_ascent(low_model, count, low_model.d, seed=rng, record=0, **low_options).path[-1] + mean

    def detail_sampler(model, options):
        def draw(low: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            def denoiser(Y: np.ndarray) -> np.ndarray:
                return model.denoise(Y, condition=low)

            return sample_ascent(denoiser, len(low), model.d, seed=rng, record=0, **options).path[-1]

        return draw

    samplers = [detail_sampler(m, options) for m, options in zip(detail_models, detail_options, strict=True)]
    return synthesize(draw_low, samplers, n, shapes[0], wavelet, seed)
