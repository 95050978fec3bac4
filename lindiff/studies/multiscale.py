"""The receptive-field study ("how local?"): flat and multi-scale wavelet denoisers at the same
receptive field (Kadkhodaie, Guth, Mallat & Simoncelli, ICLR 2023).

The claim: a pixel-domain (flat) denoiser whose receptive field (RF) is small learns a Markov random
field and cannot synthesize images, while a multi-scale model, ``p(x) = p(x_J) Π_j p(x̄_j | x_j)``
with the same small RF in every conditional model (:mod:`lindiff.deep.multiscale`), synthesizes well.

The models of one training set (``scale`` / ``rf``, see :func:`model_names`):

* ``flat`` at each RF (a BF-CNN with ``receptive_field = rf``) and ``flat`` at ``full`` (the
  reference whose RF covers the image: the study's ``full`` architecture);
* ``low`` at ``full``: the multi-scale low-pass model on ``x_J`` (a BF-CNN of the study's depth, whose
  RF covers the small image);
* ``j<j>`` at each RF: the conditional model of scale ``j`` (details given the low-pass).

Noise ranges: the transform is orthonormal, so a pixel-domain σ is the same σ in every band, but a
band's values grow with its scale (the Haar low-pass ``x_J`` is ``2^J`` times a block mean, the
details of scale ``j`` reach ``2^(j−1)``).  Each model is trained over σ up to the study's
``sigma_max`` times :func:`band_scale` of its band, and its synthesis starts at that σ.

Everything here works on arrays; the workflow's rule scripts call it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from lindiff.data.wavelets import check_levels, pad_images
from lindiff.deep.config import DenoiserConfig, TrainConfig
from lindiff.errors import ConfigError
from lindiff.validation import check_image_shape, check_matrix

__all__ = [
    "ARCHS",
    "FULL",
    "HELD_OUT_STAGE",
    "SCALE_PATTERN",
    "band_scale",
    "crop_images",
    "model_config",
    "model_names",
    "padded_shape",
    "radial_power_spectrum",
    "scale_of",
    "spectrum_error_db",
    "total_variance",
    "summary_table",
    "synthesis_models",
    "training_rows",
]

#: the stage name the held-out images of a study are drawn with (the same for every model and synthesis)
HELD_OUT_STAGE = "ms_held_out"
#: the ``rf`` of the models whose receptive field covers their image (the flat reference, the low-pass)
FULL = "full"
#: a model's band: the pixels, the coarsest low-pass, or the details of scale ``j`` (the path field's regex)
SCALE_PATTERN = r"flat|low|j([0-9]+)"
#: the syntheses: by a flat model, or coarse to fine by a wavelet model
ARCHS = ("flat", "wavelet")
_SCALE = re.compile(SCALE_PATTERN)


def padded_shape(image_shape: Sequence[int], levels: int) -> tuple[int, int]:
    """The dyadic shape the study's images are zero-padded to: each side up to the next power of two,
    at least ``2^levels`` (MNIST's 28×28 -> 32×32; digits 8×8 and C^α 32×32 unchanged)."""
    return tuple(max(2 ** int(levels), 2 ** math.ceil(math.log2(int(s)))) for s in image_shape)  # type: ignore[return-value]


def scale_of(scale: str) -> int | None:
    """``j`` of a scale name ``j<j>``; None for ``flat`` and ``low``."""
    match = _SCALE.fullmatch(str(scale))
    if match is None:
        raise ConfigError(f"scale={scale!r}: must be 'flat', 'low' or 'j<scale>'")
    return int(match.group(1)) if match.group(1) else None


def model_names(rfs: Sequence[int], levels: int) -> list[tuple[str, str]]:
    """Every model ``(scale, rf)`` of one training set: ``flat`` at each RF and at ``full``, the
    low-pass ``(low, full)`` and ``j<j>`` for ``j = levels … 1`` at each RF."""
    models = [("flat", FULL)] + [m for rf in rfs for arch in ARCHS for m in synthesis_models(arch, str(rf), levels)]
    return list(dict.fromkeys(models))  # the low-pass model once


def synthesis_models(arch: str, rf: str, levels: int) -> list[tuple[str, str]]:
    """The models ``(scale, rf)`` a synthesis of ``arch`` (``flat`` or ``wavelet``) at ``rf`` reads:
    the flat model itself; the low-pass and the scales ``J … 1`` (coarsest first)."""
    if arch == "flat":
        return [("flat", str(rf))]
    if arch == "wavelet":
        return [("low", FULL)] + [(f"j{j}", str(rf)) for j in range(int(levels), 0, -1)]
    raise ConfigError(f"arch={arch!r}: must be one of {list(ARCHS)}")


def band_scale(scale: str, levels: int) -> float:
    """The factor of a band's noise range: 1 (``flat``), ``2^J`` (``low``), ``2^(j−1)`` (``j<j>``)."""
    j = scale_of(scale)
    if scale == "flat":
        return 1.0
    return float(2 ** int(levels)) if scale == "low" else float(2 ** (j - 1))


def model_config(base: TrainConfig, scale: str, rf: str, levels: int, full: Mapping | None = None) -> TrainConfig:
    """The training config of model ``(scale, rf)``: ``base`` (a BF-CNN) with the RF, the bands and
    the noise range of its band (:func:`band_scale`); ``flat`` at ``full`` takes the model overrides
    ``full`` instead (a UNet whose RF covers the image)."""
    j = scale_of(scale)
    model = base.model.to_dict()
    if scale == "flat" and rf == FULL:
        model = {**model, **dict(full or {})}
    elif rf == FULL:
        if scale != "low":
            raise ConfigError(f"scale={scale!r} takes an integer rf; only 'flat' and 'low' have rf='full'")
    else:
        if scale == "low":
            raise ConfigError(f"the low-pass model's RF covers its image (rf='full'), got rf={rf!r}")
        model["receptive_field"] = int(rf)
        if j is not None:
            model.update(bands=3, condition_bands=1)
    sigma_max = base.sigma_max * band_scale(scale, levels)
    return dataclasses.replace(base, model=DenoiserConfig.from_dict(model), sigma_max=sigma_max,
                               sigma_min=min(base.sigma_min, sigma_max))


def training_rows(X, image_shape: Sequence[int], levels: int, wavelet: str, scale: str):
    """The rows model ``scale`` trains on from images ``X`` (n, h·w): ``(rows, condition, shape)``
    with ``condition`` None but for the scales (their clean low-pass) and ``shape`` the grid of
    the rows.  Images are zero-padded to :func:`padded_shape` (dyadic) first."""
    from lindiff.deep.multiscale import multiscale_training_data

    X = np.asarray(X, dtype=np.float64)
    h, w = (int(s) for s in image_shape)
    size = padded_shape((h, w), levels)
    check_levels(levels, size)
    images = pad_images(X.reshape(len(X), h, w), size)
    if scale == "flat":
        return images.reshape(len(X), -1), None, size
    data = multiscale_training_data(images, levels, wavelet)
    if scale == "low":
        return data.low, None, data.shapes[0]
    j = scale_of(scale)
    if not 1 <= j <= levels:
        raise ConfigError(f"scale={scale!r}: the model has scales j1 … j{levels}")
    k = levels - j  # coarsest first
    return data.details[k], data.conditions[k], data.shapes[k]


def crop_images(X, padded: Sequence[int], image_shape: Sequence[int]) -> np.ndarray:
    """Inverse of the padding of :func:`training_rows`: rows (n, H·W) -> (n, h·w)."""
    (H, W), (h, w) = (int(s) for s in padded), (int(s) for s in image_shape)
    top, left = (H - h) // 2, (W - w) // 2
    X = np.asarray(X, dtype=np.float64).reshape(-1, H, W)
    return X[:, top : top + h, left : left + w].reshape(len(X), h * w)


def radial_power_spectrum(X, image_shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The mean power spectrum of images ``X`` (n, h·w), averaged over rings of radial frequency.

    The power of an image is ``|F(ω)|² / (h·w)`` of its 2-D DFT (so that it sums to the image's
    ``Σ x²``, Parseval); its mean over the images is averaged over the frequencies of each ring
    ``k = round(max(h, w) · |ω|)``, ``|ω|`` in cycles per pixel, for ``k = 0 … max(h, w) // 2``.

    Returns ``(frequency, power)``: the rings' radial frequencies ``k / max(h, w)`` (cycles per
    pixel) and their mean power, both of shape ``(max(h, w) // 2 + 1,)``.  Ring 0 holds only the
    mean intensity.
    """
    h, w = check_image_shape(image_shape)
    X = check_matrix(X, "radial_power_spectrum: X", d=h * w, min_rows=1, finite=False, error=ConfigError)
    power = (np.abs(np.fft.fft2(X.reshape(-1, h, w))) ** 2).mean(axis=0) / (h * w)
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    side = max(h, w)
    rings = np.rint(side * np.hypot(fy, fx)).astype(int).ravel()
    keep = rings <= side // 2
    total = np.bincount(rings[keep], weights=power.ravel()[keep], minlength=side // 2 + 1)
    count = np.bincount(rings[keep], minlength=side // 2 + 1)
    return np.arange(side // 2 + 1) / side, total / count


def spectrum_error_db(power, reference) -> float:
    """The mean absolute log ratio, in dB, of a radial power spectrum to a reference one over the
    rings above 0 (``mean |10 log₁₀(P / P_ref)|``; the mean intensity, ring 0, left out): 0 for the
    same spectrum, 3 for one twice or half the reference's power at every frequency."""
    power, reference = np.asarray(power, dtype=np.float64)[1:], np.asarray(reference, dtype=np.float64)[1:]
    if power.shape != reference.shape or power.size == 0:
        raise ConfigError(f"spectrum_error_db: spectra of {power.size + 1} and {reference.size + 1} rings")
    tiny = np.finfo(np.float64).tiny
    return float(np.mean(np.abs(10 * np.log10(np.maximum(power, tiny) / np.maximum(reference, tiny)))))


def total_variance(X) -> float:
    """The variance of images ``X`` (n, d) about their mean image, summed over pixels and divided by
    ``d`` (the mean per-pixel variance across the images).  Samples whose value is a small fraction of
    the data's are near copies of one image, whatever their spectrum."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ConfigError(f"total_variance: X of shape {X.shape} needs two or more rows")
    return float(X.var(axis=0).mean())


def summary_table(rows: Sequence[Mapping]):
    """One row per synthesis (``arch``, ``rf``) from their metrics, flat first, by RF (``full`` last)."""
    import pandas as pd  # here: the path fields import this module, and a job's fixed cost stays without pandas

    table = pd.DataFrame(list(rows))
    if table.empty:
        return table
    order = table["rf"].map(lambda rf: math.inf if rf == FULL else int(rf))
    return table.assign(_order=order).sort_values(["_order", "arch"]).drop(columns="_order").reset_index(drop=True)
