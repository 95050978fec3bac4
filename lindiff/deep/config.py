"""Configuration of the deep denoisers: architecture (:class:`DenoiserConfig`), training
(:class:`TrainConfig`) and the named presets (:func:`default_config`, :func:`preset_config`).

Plain dataclasses without torch, so that the pipeline validates a sweep's model variants at
config time (before any job) without paying for the torch import; :mod:`lindiff.deep.models`
and :mod:`lindiff.deep.train` re-export them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from lindiff.errors import ConfigError
from lindiff.validation import check_keys

KINDS = ("bfcnn", "unet", "ddpm")
#: kinds whose network takes the noise level as an input (the others are blind)
CONDITIONAL_KINDS = ("ddpm",)
#: data in [0, 1] enter a noise-conditional net as ``(x − DATA_CENTER) · DATA_SCALE`` in [−1, 1]
#: (the DDPM convention); its noise levels are in those units too
DATA_CENTER, DATA_SCALE = 0.5, 2.0
#: Jacobian methods of :mod:`lindiff.deep.jacobian` (``auto`` picks one of them)
JACOBIAN_METHODS = ("loop", "jacrev", "jacfwd", "gated")
#: the data sets :mod:`lindiff.deep.quality` has a digit-classifier preset for (their samples' quality is measured)
CLASSIFIER_DATA = ("digits", "mnist")
#: Fig. 7's controls (:mod:`lindiff.studies.fig7_controls`): denoisers whose Jacobians are taken at a
#: trained model's path points
FIG7_CONTROLS = ("untrained", "permuted", "empirical", "wiener", "seed1", "seed2", "early", "middle")
#: the controls that are networks trained by the workflow beside the model (one fixed pixel
#: permutation of its data; other training seeds)
TRAINED_CONTROLS = ("permuted", "seed1", "seed2")
#: the controls that are the model's own training snapshots, at these fractions of its epochs
SNAPSHOT_CONTROLS = {"early": 0.1, "middle": 0.5}

__all__ = [
    "CLASSIFIER_DATA",
    "CONDITIONAL_KINDS",
    "DATA_CENTER",
    "DATA_SCALE",
    "DEFAULT_CONFIGS",
    "DenoiserConfig",
    "FIG7_CONTROLS",
    "JACOBIAN_METHODS",
    "KINDS",
    "PRECISIONS",
    "SNAPSHOT_CONTROLS",
    "TRAINED_CONTROLS",
    "TrainConfig",
    "default_config",
    "preset_config",
]


# --------------------------------------------------------------------------- config


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {name}={value}")
    return int(value)


@dataclass(frozen=True)
class DenoiserConfig:
    """Architecture of a bias-free denoiser.

    Attributes
    ----------
    kind : {"bfcnn", "unet", "ddpm"}
        ``bfcnn`` and ``unet`` are blind and bias-free; ``ddpm`` is the noise-conditional UNet
        of :class:`NoiseConditionalUNet` (biases, group norm, a noise-level embedding).
    channels : int
        Feature maps (BF-CNN) or feature maps at the finest scale (UNets; see ``channel_mult``).
    depth : int
        BF-CNN: number of conv layers (>= 2).  UNets: number of scales (>= 1).
    blocks : int
        UNets only: conv–BN–ReLU layers (``ddpm``: residual blocks) per scale on each side (>= 1).
    kernel_size : int
        Odd convolution size.
    batch_norm : bool
        Use the bias-free batch norm between convolutions (blind kinds; ``ddpm`` always uses
        group norm).
    channel_mult : tuple of int, optional
        UNets only: the width of scale ``s`` is ``channels · channel_mult[s]`` (one positive
        integer per scale, ``depth`` in all; the ``channel_mult`` of Ho et al.'s and diffusers'
        UNets).  ``None`` doubles per scale: ``(1, 2, 4, …)``.  Widening the coarse scales is
        cheap: a 7×7 map has 1/16 of the pixels of the 28×28 one.
    attention : bool
        ``ddpm`` only: a self-attention block (one head, Ho et al.'s) after the residual block at
        the coarsest scale, so every position there sees the whole image.
    receptive_field : int, optional
        ``bfcnn`` only: the side of the network's receptive field, ``1 + (kernel_size − 1)·m``
        with ``m <= depth`` the number of ``kernel_size`` convolutions; the other ``depth − m`` are
        1×1, spread evenly between them (Kadkhodaie, Guth, Mallat & Simoncelli's way of fixing the
        RF at a fixed depth).  ``None`` (default): every layer is ``kernel_size``, RF
        ``1 + (kernel_size − 1)·depth``.  :attr:`field_side` computes it and
        :func:`lindiff.deep.models.measured_receptive_field` checks it.
    bands : int
        Blind kinds: the channels of the image being denoised (1; 3 for the detail bands of a
        wavelet scale).  The rows the wrapper takes have ``d = bands·h·w``.
    condition_bands : int
        Blind kinds: clean channels given to the network beside the noisy ones, ``D(y | c)``
        (0: none; 1 for the low-pass image a wavelet scale's details are conditioned on).  The
        network sees ``cat(y, c)`` and predicts the noise of ``y``.
    classes : int
        ``ddpm`` only: ``> 0`` makes the network class-conditional, ``ε̂(x_t, σ, c)`` with a
        label ``c`` in ``0 … classes − 1`` or "no label" (index ``classes``), embedded and added
        to the noise-level embedding (Ho & Salimans' classifier-free guidance needs both; see
        ``TrainConfig.label_dropout``).  0 (default): unconditional.
    """

    kind: str = "bfcnn"
    channels: int = 32
    depth: int = 8
    blocks: int = 2
    kernel_size: int = 3
    batch_norm: bool = True
    channel_mult: tuple[int, ...] | None = None
    attention: bool = False
    classes: int = 0
    receptive_field: int | None = None
    bands: int = 1
    condition_bands: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"kind={self.kind!r}: must be one of {list(KINDS)}")
        _check_int("channels", self.channels, 1)
        _check_int("depth", self.depth, 2 if self.kind == "bfcnn" else 1)
        _check_int("blocks", self.blocks, 1)
        _check_int("kernel_size", self.kernel_size, 1)
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be odd, got kernel_size={self.kernel_size}")
        if not isinstance(self.batch_norm, bool):
            raise ConfigError(f"batch_norm must be a bool, got {self.batch_norm!r}")
        if not isinstance(self.attention, bool):
            raise ConfigError(f"attention must be a bool, got attention={self.attention!r}")
        if self.attention and self.kind != "ddpm":
            raise ConfigError(f"attention applies to kind='ddpm' only (the blind kinds are bias-free), "
                              f"got kind={self.kind!r}")
        _check_int("classes", self.classes, 0)
        if self.classes and self.kind != "ddpm":
            raise ConfigError(f"classes applies to kind='ddpm' only, got classes={self.classes} with kind={self.kind!r}")
        _check_int("bands", self.bands, 1)
        _check_int("condition_bands", self.condition_bands, 0)
        if (self.bands != 1 or self.condition_bands) and self.kind not in ("bfcnn", "unet"):
            raise ConfigError(f"bands and condition_bands apply to the blind kinds (bfcnn, unet), got kind={self.kind!r}")
        if self.receptive_field is not None:
            self._check_receptive_field()
        if self.channel_mult is not None:
            if self.kind == "bfcnn":
                raise ConfigError("channel_mult applies to the UNet kinds only, got it with kind='bfcnn'")
            mult = self.channel_mult
            if isinstance(mult, (str, bytes)) or not hasattr(mult, "__len__") or len(mult) != self.depth:
                raise ConfigError(f"channel_mult must be a list of {self.depth} integers (one per scale, "
                                  f"depth={self.depth}), got channel_mult={mult!r}")
            object.__setattr__(self, "channel_mult",
                               tuple(_check_int(f"channel_mult[{s}]", m, 1) for s, m in enumerate(mult)))

    def _check_receptive_field(self) -> None:
        rf, k = self.receptive_field, self.kernel_size
        if self.kind != "bfcnn":
            raise ConfigError(f"receptive_field applies to kind='bfcnn' only, got kind={self.kind!r}")
        _check_int("receptive_field", rf, 1)
        if k == 1 or (rf - 1) % (k - 1):
            raise ConfigError(f"receptive_field={rf} is not 1 + (kernel_size − 1)·m with kernel_size={k}: "
                              f"use an odd size such as 5, 9 or 13 (kernel_size 3)")
        if (rf - 1) // (k - 1) > self.depth:
            raise ConfigError(f"receptive_field={rf} needs {(rf - 1) // (k - 1)} convolutions of size {k}; "
                              f"the network has depth={self.depth} (at most {1 + (k - 1) * self.depth})")

    @property
    def kernel_sizes(self) -> list[int]:
        """``bfcnn``: the kernel size of each of its ``depth`` convolutions (see ``receptive_field``)."""
        k, depth = self.kernel_size, self.depth
        if self.receptive_field is None:
            return [k] * depth
        m = (self.receptive_field - 1) // (k - 1)
        wide = set() if m == 0 else {depth // 2} if m == 1 else {round(i) for i in np.linspace(0, depth - 1, m)}
        return [k if layer in wide else 1 for layer in range(depth)]

    @property
    def field_side(self) -> int | None:
        """``bfcnn``: the side of its receptive field, ``1 + Σ (k_l − 1)`` over its convolutions; None
        for the UNets (their pooling makes it depend on the position)."""
        return 1 + sum(k - 1 for k in self.kernel_sizes) if self.kind == "bfcnn" else None

    @property
    def widths(self) -> list[int]:
        """UNets: the feature maps of each scale, finest first (``channels · channel_mult``)."""
        mult = self.channel_mult or tuple(2**s for s in range(self.depth))
        return [self.channels * m for m in mult]

    @property
    def conditional(self) -> bool:
        """Whether the network takes the noise level as an input (``kind in CONDITIONAL_KINDS``)."""
        return self.kind in CONDITIONAL_KINDS

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``channel_mult`` a list).  ``channel_mult``, ``attention``,
        ``classes``, ``receptive_field``, ``bands`` and ``condition_bands`` are left out at their
        defaults, so that the configs, checkpoint digests and model files written before they
        existed stay the same."""
        data = asdict(self)
        if data["channel_mult"] is None:
            del data["channel_mult"]
        else:
            data["channel_mult"] = list(data["channel_mult"])
        for key, default in (("attention", False), ("classes", 0), ("receptive_field", None), ("bands", 1),
                             ("condition_bands", 0)):
            if data[key] == default:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenoiserConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        check_keys(data, (f.name for f in fields(cls)), "model config", ConfigError)
        return cls(**data)


# --------------------------------------------------------------------------- config


def check_number(name: str, value: Any, integer: bool = False, allow_zero: bool = False) -> None:
    """``value`` is a finite number (an integer with ``integer``), > 0 (>= 0 with ``allow_zero``),
    else a ConfigError naming ``name`` (the deep configs' one field check)."""
    if integer and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
        raise ConfigError(f"{name} must be an integer, got {name}={value!r}")
    if not integer and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
        raise ConfigError(f"{name} must be a number, got {name}={value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {name}={value}")


PRECISIONS = ("32", "bf16-mixed")  # TrainConfig.precision


@dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters (JSON-able through :meth:`to_dict`).

    Attributes
    ----------
    model : DenoiserConfig
    epochs : int
    batch_size : int
    lr : float
        Initial Adam learning rate.
    lr_final_ratio : float
        Cosine decay to ``lr · lr_final_ratio`` at the last epoch (1 = constant).
    sigma_min, sigma_max : float
        Range of the training noise std (sampled uniformly in sqrt-space).
    max_train : int or None
        Use a random subset (chosen with the seed) of at most this many training rows.
    val_fraction : float
        Fraction of rows held out for validation (0 for none).
    max_val : int
        At most this many validation rows.
    val_sigmas : tuple of float
        Noise levels of the per-epoch validation PSNR.
    checkpoint_every : int
        Write a checkpoint every this many epochs (and after the last).
    ema_decay : float in [0, 1)
        Decay of the moving average of the weights (0: none; the model is the last iterate).
    vp_t_min : float in [0, 1)
        Noise-conditional kinds: the smallest training time ``t`` (the level ``σ(t)``).
    ema_warmup : bool
        Warm the moving average up: after optimizer step ``k`` (1-based, counted over the whole
        run) the average moves with decay ``min(ema_decay, (1 + k) / (10 + k))``, so it forgets
        the random initial weights within the first steps.  Without it a decay of 0.999 over a
        run of 1838 steps keeps ``0.999^1838 ≈ 16%`` of the initial weights (measured on MNIST:
        34% confident DDIM samples against 55% for the last iterate; docs/studies/deep.md).
    precision : {"32", "bf16-mixed"}
        Arithmetic of the training steps (Lightning's names): ``"32"`` float32 throughout;
        ``"bf16-mixed"`` runs the forward pass and the loss under ``torch.autocast`` in bfloat16
        (weights, gradients, optimizer state and the EMA stay float32).  On CPUs with AMX/AVX-512
        bf16 units a step of the MNIST DDPM UNet is about 1.4× faster (docs/studies/deep.md).  Validation,
        sampling and Jacobians always run in float32.
    min_snr_gamma : float >= 0
        Min-SNR-γ weighting (Hang et al. 2023; ``SNR = 1/σ²`` in the model's units): the error of the
        clean estimate at level ``σ`` weighted by ``min(SNR, γ)``, up to a constant.  For
        noise-conditional kinds the loss is the ε-prediction error weighted by ``min(SNR, γ) / SNR =
        min(1, γ σ²)``, which lowers the weight of the nearly clean levels (0: Ho et al.'s simple
        loss).  For blind kinds it is the denoising error weighted by ``min(SNR, γ) / γ = min(1,
        1/(γ σ²))``: every level above ``σ = 1/√γ`` counts as much as its relative error, which
        raises the weight of the nearly clean levels that the unweighted MSE (0) all but ignores.
    label_dropout : float in [0, 1)
        Class-conditional models (``model.classes > 0``): the fraction of training images whose
        label is replaced by "no label", so that one network learns the conditional and the
        unconditional ``ε̂`` (classifier-free guidance; Ho & Salimans use 0.1–0.2).  Must be 0
        for an unconditional model.
    """

    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    lr_final_ratio: float = 0.05
    sigma_min: float = 0.0
    sigma_max: float = 1.0
    max_train: int | None = None
    val_fraction: float = 0.1
    max_val: int = 512
    val_sigmas: tuple[float, ...] = (0.1, 0.2, 0.4)
    checkpoint_every: int = 1
    ema_decay: float = 0.0
    vp_t_min: float = 1e-3
    ema_warmup: bool = True
    precision: str = "32"
    min_snr_gamma: float = 0.0
    label_dropout: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.model, DenoiserConfig):
            raise ConfigError(f"model must be a DenoiserConfig, got {type(self.model).__name__}")
        check_number("epochs", self.epochs, integer=True)
        check_number("batch_size", self.batch_size, integer=True)
        check_number("lr", self.lr)
        check_number("lr_final_ratio", self.lr_final_ratio)
        check_number("sigma_min", self.sigma_min, allow_zero=True)
        check_number("sigma_max", self.sigma_max)
        if self.sigma_min > self.sigma_max:
            raise ConfigError(f"sigma_min={self.sigma_min} exceeds sigma_max={self.sigma_max}")
        if self.max_train is not None:
            check_number("max_train", self.max_train, integer=True)
        check_number("val_fraction", self.val_fraction, allow_zero=True)
        if self.val_fraction >= 1:
            raise ConfigError(f"val_fraction must be < 1, got val_fraction={self.val_fraction}")
        check_number("max_val", self.max_val, integer=True, allow_zero=True)
        object.__setattr__(self, "val_sigmas", tuple(float(s) for s in self.val_sigmas))
        for s in self.val_sigmas:
            check_number("val_sigmas", s)
        check_number("checkpoint_every", self.checkpoint_every, integer=True)
        if not isinstance(self.ema_warmup, bool):
            raise ConfigError(f"ema_warmup must be a bool, got ema_warmup={self.ema_warmup!r}")
        if isinstance(self.precision, int) and not isinstance(self.precision, bool):
            object.__setattr__(self, "precision", str(self.precision))  # precision=32 from YAML or the command line
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {list(PRECISIONS)}, got precision={self.precision!r}")
        check_number("min_snr_gamma", self.min_snr_gamma, allow_zero=True)
        check_number("label_dropout", self.label_dropout, allow_zero=True)
        if self.label_dropout >= 1:
            raise ConfigError(f"label_dropout must be < 1, got label_dropout={self.label_dropout}")
        if self.label_dropout > 0 and not self.model.classes:
            raise ConfigError(f"label_dropout={self.label_dropout} drops class labels; the model is unconditional "
                              f"(model.classes=0)")
        for name in ("ema_decay", "vp_t_min"):
            check_number(name, getattr(self, name), allow_zero=True)
            if getattr(self, name) >= 1:
                raise ConfigError(f"{name} must be < 1, got {name}={getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"] = self.model.to_dict()
        data["val_sigmas"] = list(self.val_sigmas)
        for key in ("min_snr_gamma", "label_dropout"):
            if data[key] == 0:  # the default: absent, so configs and checkpoints written before it stay equal
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(check_keys(data, (f.name for f in fields(cls)), "train config", ConfigError))
        if isinstance(data.get("model"), dict):
            data["model"] = DenoiserConfig.from_dict(data["model"])
        if "val_sigmas" in data:
            data["val_sigmas"] = tuple(data["val_sigmas"])
        return cls(**data)


DEFAULT_CONFIGS: dict[str, TrainConfig] = {
    # 8×8 digits (~1600 training images): a 3-scale UNet (8→4→2), 150 epochs.
    "digits": TrainConfig(
        model=DenoiserConfig(kind="unet", channels=32, depth=3, blocks=1),
        epochs=150,
        batch_size=32,
        lr=1e-3,
    ),
    # 28×28 MNIST: a 3-scale UNet (28→14→7) on a 16000-image subset; small enough for a
    # full 784×784 Jacobian in well under 1 s on 2 CPU cores (benchmarks/bench_jacobian.py).
    "mnist": TrainConfig(
        model=DenoiserConfig(kind="unet", channels=16, depth=3, blocks=1),
        epochs=10,
        batch_size=64,
        lr=2e-3,
        max_train=16000,
    ),
    # 32×32 synthetic images of known geometry (C^α contours, disks; the GAHB study): a small
    # 3-scale blind UNet (32→16→8) trained over σ ∈ [0, 1] with Min-SNR-400 weighting (every level
    # above σ = 0.05 counts by its relative error: the unweighted MSE left a 30–35 dB floor at
    # σ = 0.01); the study fixes the number of optimizer steps (sweep.gahb.steps), not the epochs.
    "geometric": TrainConfig(
        model=DenoiserConfig(kind="unet", channels=16, depth=3, blocks=1),
        epochs=20,
        batch_size=32,
        lr=2e-3,
        sigma_max=1.0,
        min_snr_gamma=400.0,
    ),
    # Noise-conditional DDPM UNets (model.kind = "ddpm"): trained on the VP forward process,
    # sampled with DDPM / DDIM; an EMA of the weights is the model.
    "digits_ddpm": TrainConfig(
        model=DenoiserConfig(kind="ddpm", channels=32, depth=2, blocks=1),
        epochs=200,
        batch_size=64,
        lr=2e-3,
        ema_decay=0.995,
    ),
    "mnist_ddpm": TrainConfig(
        model=DenoiserConfig(kind="ddpm", channels=16, depth=3, blocks=1),
        epochs=6,
        batch_size=64,
        lr=2e-3,
        ema_decay=0.999,
        precision="bf16-mixed",
        min_snr_gamma=5.0,
    ),
}


def default_config(dataset_name: str) -> TrainConfig:
    """The default :class:`TrainConfig` of a preset: ``"digits"``, ``"mnist"``, ``"geometric"``
    (blind bias-free UNets) or ``"digits_ddpm"``, ``"mnist_ddpm"`` (noise-conditional DDPM UNets).

    Sized so that training meets its time budget on 2 CPU cores (digits ≤ 2 min, MNIST ≤
    10 min blind and ≤ 15 min DDPM) and the blind ones beat the best linear denoiser at
    σ = 0.1, 0.2, 0.4 (docs/studies/deep.md).
    """
    if dataset_name not in DEFAULT_CONFIGS:
        raise ConfigError(f"dataset_name={dataset_name!r}: no default config; known: {sorted(DEFAULT_CONFIGS)}")
    return DEFAULT_CONFIGS[dataset_name]


def preset_config(preset: str, overrides: dict | None = None) -> TrainConfig:
    """The :func:`default_config` preset ``preset`` with ``overrides`` applied: TrainConfig
    fields, ``model`` a dict of DenoiserConfig fields merged into the preset's model, and
    ``preset`` another preset to start from (the workflow's named model variants,
    ``deep.sizes.<size>``, are such overrides)."""
    overrides = dict(overrides or {})
    base = default_config(overrides.pop("preset", preset)).to_dict()
    base["model"].update(overrides.pop("model", None) or {})
    return TrainConfig.from_dict({**base, **overrides})


def check_count(name: str, value, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (not a bool), else a ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def check_range(name: str, value, lo: float, hi: float, lo_open: bool = True) -> float:
    """A finite number in ``(lo, hi]`` (``[lo, hi]`` with ``lo_open=False``), else a ConfigError
    naming ``name``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or value > hi or value < lo or (lo_open and value == lo):
        raise ConfigError(f"{name} must be in {'(' if lo_open else '['}{lo}, {hi}], got {name}={value}")
    return value


#: the options of :func:`lindiff.deep.sample.sample_ascent` a configuration may set
ASCENT_OPTIONS = ("sigma_0", "sigma_final", "h0", "beta", "init_mean", "max_steps")


def check_ascent_options(options) -> dict:
    """The options of :func:`lindiff.deep.sample.sample_ascent` (a mapping of :data:`ASCENT_OPTIONS` keys), checked
    as the sampler checks them: an unknown key or a value out of its range fails naming it."""
    options = dict(options)
    unknown = sorted(set(options) - set(ASCENT_OPTIONS))
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown}; allowed: {', '.join(ASCENT_OPTIONS)}")
    if "max_steps" in options:
        check_count("max_steps", options["max_steps"])
    sigma_0 = check_range("sigma_0", options.get("sigma_0", 1.0), 0.0, np.inf)
    check_range("sigma_final", options.get("sigma_final", 0.01), 0.0, sigma_0)
    check_range("h0", options.get("h0", 0.01), 0.0, 1.0)
    check_range("beta", options.get("beta", 0.5), 0.0, 1.0)
    mean = np.asarray(options.get("init_mean", 0.5), dtype=np.float64)
    if mean.ndim > 1 or not np.all(np.isfinite(mean)):
        raise ConfigError(f"init_mean must be a finite number or (d,) vector, got init_mean={options['init_mean']!r}")
    return options
