"""Deep (bias-free) denoisers and their Jacobian eigenbases along the sampling path (Sec. 5).

Modules
-------
:mod:`~lindiff.deep.config`
    ``DenoiserConfig``, ``TrainConfig`` and the presets, without torch (the pipeline checks
    model variants with them at config time).
:mod:`~lindiff.deep.models`
    Bias-free BF-CNN / UNet and the blind wrapper ``FlatDenoiser``; the noise-conditional
    DDPM UNet and its x₀-estimate ``ConditionalDenoiser`` ``D(y, σ)``; the linear
    ``ProjectionDenoiser`` (``y ↦ U Uᵀ y``).
:mod:`~lindiff.deep.train`
    ``train_denoiser`` (blind: noise MSE; noise-conditional: DDPM ε-MSE on the VP process, EMA;
    deterministic, checkpointed, resumable), ``save_model`` / ``load_model``.
:mod:`~lindiff.deep.evaluate`
    PSNR of a deep denoiser and of the best linear (Wiener) denoiser.
:mod:`~lindiff.deep.sample`
    Path-recording samplers: coarse-to-fine stochastic ascent, a VE/DDIM reverse process (blind
    models), DDPM / DDIM / ODE for noise-conditional models (``sample_diffusion``).
:mod:`~lindiff.deep.multiscale`
    Multi-scale wavelet models: the training rows of the low-pass and per-scale conditional
    denoisers, coarse-to-fine synthesis (stochastic ascent at every scale).
:mod:`~lindiff.deep.quality`
    Sample quality: a small digit classifier, confident fraction, class histogram and a
    Fréchet distance in its features.
:mod:`~lindiff.deep.jacobian`
    Jacobians (per-pixel loop, ``torch.func`` jacrev/jacfwd, frozen-gate batched forward),
    symmetric eigenbases and the Fig. 7 path analysis.
:mod:`~lindiff.plots.deep`
    Fig. 7, shrinkage spectra, eigenvectors as images, training curves.

Conventions follow :mod:`lindiff`: samples are rows (arrays ``(n, d)``); images are flattened
row-major with an explicit ``image_shape = (h, w)``.  Public functions take and return numpy
arrays; torch is used inside.  Names are imported lazily (``import lindiff.deep`` loads no
torch until a torch-backed name is used).
"""

from __future__ import annotations

import importlib

#: public name -> submodule that defines it
_NAMES = {
    "config": ("DenoiserConfig", "TrainConfig", "default_config", "preset_config"),
    "evaluate": ("compare_psnr", "denoiser_psnr", "fit_linear_denoiser", "linear_denoiser_psnr", "psnr"),
    "jacobian": ("PathJacobians", "asymmetry", "homogeneity_error", "jacobian", "jacobian_batched",
                 "jacobian_gated", "jacobian_loop", "path_jacobian_analysis", "symmetric_eigh"),
    "models": ("ConditionalDenoiser", "FixedLevel", "FlatDenoiser", "ProjectionDenoiser", "build_denoiser",
               "measured_receptive_field", "wrap_denoiser"),
    "multiscale": ("MultiscaleData", "ascent_synthesis", "multiscale_training_data", "synthesize"),
    "sample": ("SamplePath", "sample_ascent", "sample_diffusion", "sample_ve"),
    "train": ("TrainResult", "load_model", "save_model", "train_denoiser"),
}
_MODULE_OF = {name: module for module, names in _NAMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'lindiff.deep' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lindiff.deep.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
