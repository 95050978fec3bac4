"""Deep (bias-free) denoisers and their Jacobian eigenbases along the sampling path (Sec. 5).

Modules
-------
:mod:`~lindiff.deep.models`
    Bias-free BF-CNN / UNet (``DenoiserConfig``), the flat-array wrapper ``FlatDenoiser``
    and the linear ``ProjectionDenoiser`` (``y ↦ U Uᵀ y``).
:mod:`~lindiff.deep.train`
    ``train_denoiser`` (deterministic, checkpointed, resumable), ``default_config``,
    ``save_model`` / ``load_model``.
:mod:`~lindiff.deep.evaluate`
    PSNR of a deep denoiser and of the best linear (Wiener) denoiser.
:mod:`~lindiff.deep.sample`
    Path-recording samplers: coarse-to-fine stochastic ascent and a VE/DDIM reverse process.
:mod:`~lindiff.deep.jacobian`
    Jacobians (per-pixel loop, ``torch.func`` jacrev/jacfwd, frozen-gate batched forward),
    symmetric eigenbases and the Fig. 7 path analysis.
:mod:`~lindiff.plots.deep`
    Fig. 7, shrinkage spectra, eigenvectors as images, training curves.

Conventions follow :mod:`lindiff`: samples are rows (arrays ``(n, d)``); images are flattened
row-major with an explicit ``image_shape = (h, w)``.  Public functions take and return numpy
arrays; torch is used inside.
"""

from __future__ import annotations

from lindiff.deep.evaluate import (
    compare_psnr,
    denoiser_psnr,
    fit_linear_denoiser,
    linear_denoiser_psnr,
    psnr,
)
from lindiff.deep.jacobian import (
    PathJacobians,
    asymmetry,
    homogeneity_error,
    jacobian,
    jacobian_batched,
    jacobian_gated,
    jacobian_loop,
    path_jacobian_analysis,
    symmetric_eigh,
)
from lindiff.deep.models import (
    DenoiserConfig,
    FlatDenoiser,
    ProjectionDenoiser,
    build_denoiser,
)
from lindiff.deep.sample import SamplePath, sample_ascent, sample_ve
from lindiff.deep.train import (
    TrainConfig,
    TrainResult,
    default_config,
    load_model,
    save_model,
    train_denoiser,
)

__all__ = [
    "DenoiserConfig",
    "FlatDenoiser",
    "PathJacobians",
    "ProjectionDenoiser",
    "SamplePath",
    "TrainConfig",
    "TrainResult",
    "asymmetry",
    "build_denoiser",
    "compare_psnr",
    "default_config",
    "denoiser_psnr",
    "fit_linear_denoiser",
    "homogeneity_error",
    "jacobian",
    "jacobian_batched",
    "jacobian_gated",
    "jacobian_loop",
    "linear_denoiser_psnr",
    "load_model",
    "path_jacobian_analysis",
    "psnr",
    "sample_ascent",
    "sample_ve",
    "save_model",
    "symmetric_eigh",
    "train_denoiser",
]
