"""Bias-free deep denoisers (Mohan et al. 2020; Kadkhodaie et al. 2023).

A *bias-free* network has no additive constant anywhere: convolutions have
``bias=False``, the batch norm only divides by a (running) standard deviation and
multiplies by a learned gain (no mean subtraction, no shift), the nonlinearity is ReLU,
down-sampling is average pooling and up-sampling a bias-free transposed convolution.  In
evaluation mode the network is therefore piecewise linear and positively homogeneous of
degree one::

    f(a·y) = a·f(y)   for a >= 0,        f(y) = ∇f(y) y,

so the denoiser acts locally as the linear map given by its Jacobian (Sec. 5 of the paper,
Eq. 27).  In training mode the batch norm divides by batch statistics, which couples the
examples of a batch; Jacobians and homogeneity are always meant in evaluation mode.

Two architectures (both *residual*: the network predicts the noise and the denoiser is
``D(y) = y − net(y)``):

``bfcnn``
    Mohan et al.'s BF-CNN: ``depth`` 3×3 convolutions with ``channels`` feature maps,
    batch norm and ReLU between them.
``unet``
    A small bias-free UNet: ``depth`` scales, ``blocks`` conv–BN–ReLU layers per scale and
    side, ``channels·2^s`` feature maps at scale ``s``, average pooling down and a 2×2
    stride-2 transposed convolution up, skip connections by concatenation.  Inputs whose
    sides are not multiples of ``2^(depth-1)`` are zero-padded (a linear operation) and
    the output cropped, so 8×8 and 28×28 images both work.

Noise level: the denoisers are **blind** (no σ input).  A σ input enters either as an
additive feature (a bias, which breaks ``f(a·y) = a·f(y)``) or must be scaled together
with ``y`` (``f(a·y, a·σ) = a·f(y, σ)``), in which case ``f(y) = ∇_y f(y) y`` no longer
holds (a ``σ ∂f/∂σ`` term appears) and the Jacobian would no longer be the local linear
map the analysis of Sec. 5 studies.  Blind bias-free nets also generalize across noise
levels (Mohan et al.), so conditioning is omitted.

Shapes: the conv modules take ``(batch, 1, h, w)``; :class:`FlatDenoiser` applies one to
flat rows ``(n, d)`` or a single ``(d,)`` vector (``d = h·w``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lindiff.errors import ConfigError
from lindiff.validation import check_keys

KINDS = ("bfcnn", "unet")

__all__ = [
    "BFCNN",
    "KINDS",
    "BFBatchNorm2d",
    "BFUNet",
    "DenoiserConfig",
    "FlatDenoiser",
    "GatedReLU",
    "ProjectionDenoiser",
    "build_denoiser",
    "count_parameters",
    "frozen_gates",
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
    kind : {"bfcnn", "unet"}
    channels : int
        Feature maps (BF-CNN) or feature maps at the finest scale (UNet, doubled per scale).
    depth : int
        BF-CNN: number of conv layers (>= 2).  UNet: number of scales (>= 1).
    blocks : int
        UNet only: conv–BN–ReLU layers per scale on each side (>= 1).
    kernel_size : int
        Odd convolution size.
    batch_norm : bool
        Use the bias-free batch norm between convolutions.
    """

    kind: str = "bfcnn"
    channels: int = 32
    depth: int = 8
    blocks: int = 2
    kernel_size: int = 3
    batch_norm: bool = True

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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenoiserConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        check_keys(data, (f.name for f in fields(cls)), "model config", ConfigError)
        return cls(**data)


# --------------------------------------------------------------------------- layers


class BFBatchNorm2d(nn.Module):
    """Bias-free batch norm: ``x / sd · gain`` per channel, no mean subtraction, no shift.

    Training mode divides by the batch standard deviation over ``(batch, h, w)`` and
    updates ``running_sd`` (momentum 0.1); evaluation mode divides by ``running_sd``, a
    fixed linear scaling.  (As in Kadkhodaie et al.'s code, the std is that of the
    centred activations, but the mean itself is never subtracted.)
    """

    def __init__(self, channels: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum = momentum
        self.eps = eps
        self.register_buffer("running_sd", torch.ones(1, channels, 1, 1))
        self.gain = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bypass = False  # set by frozen_gates when the scale is folded into the next gate

    def scale(self) -> torch.Tensor:
        """Eval-mode per-channel factor ``gain / running_sd`` (1, C, 1, 1)."""
        return self.gain / self.running_sd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bypass:
            return x
        if self.training:
            sd = torch.sqrt(x.var(dim=(0, 2, 3), keepdim=True, unbiased=False) + self.eps)
            with torch.no_grad():
                self.running_sd.mul_(1 - self.momentum).add_(self.momentum * sd)
        else:
            sd = self.running_sd
        return x / sd * self.gain


class GatedReLU(nn.Module):
    """ReLU that can record its on/off pattern and replay it as a fixed linear mask.

    Normal use is a plain ReLU.  Inside :func:`frozen_gates` the module first records
    ``x > 0`` of a single input and then multiplies every later input by that mask: the
    network becomes the linear map ``∇f(y)`` (for a piecewise-linear bias-free net), which
    is how :func:`lindiff.deep.jacobian.jacobian_gated` builds a Jacobian with one batched
    forward pass.
    """

    def __init__(self) -> None:
        super().__init__()
        self.mode = "relu"  # "relu" | "record" | "replay"
        self.mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "record":
            self.mask = (x > 0).to(x.dtype)
            return x * self.mask
        if self.mode == "replay":
            if self.mask is None:
                raise RuntimeError("GatedReLU: replay without a recorded mask")
            return x * self.mask
        return F.relu(x)


def _norm_gate_pairs(model: nn.Module) -> list[tuple[BFBatchNorm2d, GatedReLU]]:
    """Batch norms directly followed by a gate inside an ``nn.Sequential``."""
    pairs = []
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            pairs += [
                (a, b)
                for a, b in itertools.pairwise(seq)
                if isinstance(a, BFBatchNorm2d) and isinstance(b, GatedReLU)
            ]
    return pairs


@contextmanager
def frozen_gates(model: nn.Module, y: torch.Tensor) -> Iterator[None]:
    """Inside this context ``model`` is the linear map ``∇model(y)``.

    Runs ``model(y)`` once (``y`` a single input, e.g. shape (d,) for a
    :class:`FlatDenoiser`) recording every :class:`GatedReLU`'s on/off pattern, then makes
    every later call apply those fixed masks.  For a bias-free piecewise-linear network in
    eval mode that frozen network *is* the Jacobian at ``y``.  To save memory traffic, the
    eval-mode scale of a batch norm followed by a gate is folded into the gate's mask (the
    norm is bypassed).  Plain modules are restored on exit.  Call in ``torch.no_grad()``
    and eval mode.
    """
    if model.training:
        raise RuntimeError("frozen_gates needs the model in eval mode (batch norm uses running statistics)")
    gates = [m for m in model.modules() if isinstance(m, GatedReLU)]
    pairs = _norm_gate_pairs(model)
    try:
        with torch.no_grad():
            for gate in gates:
                gate.mode = "record"
            model(y)
            for gate in gates:
                gate.mode = "replay"
            for norm, gate in pairs:
                gate.mask = gate.mask * norm.scale()
                norm.bypass = True
        yield
    finally:
        for gate in gates:
            gate.mode, gate.mask = "relu", None
        for norm, _ in pairs:
            norm.bypass = False


def _conv(c_in: int, c_out: int, k: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)


def _conv_bn_relu(c_in: int, c_out: int, k: int, batch_norm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [_conv(c_in, c_out, k)]
    if batch_norm:
        layers.append(BFBatchNorm2d(c_out))
    layers.append(GatedReLU())
    return layers


# --------------------------------------------------------------------------- networks


class BFCNN(nn.Module):
    """BF-CNN residual network: input (b, 1, h, w) -> predicted noise (b, 1, h, w)."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        c, k = cfg.channels, cfg.kernel_size
        layers: list[nn.Module] = [_conv(1, c, k), GatedReLU()]
        for _ in range(cfg.depth - 2):
            layers += _conv_bn_relu(c, c, k, cfg.batch_norm)
        layers.append(_conv(c, 1, k))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class BFUNet(nn.Module):
    """Bias-free UNet residual network: input (b, 1, h, w) -> predicted noise (b, 1, h, w)."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        k, bn = cfg.kernel_size, cfg.batch_norm
        widths = [cfg.channels * 2**s for s in range(cfg.depth)]
        self.levels = cfg.depth
        self.down = nn.ModuleList()
        c_in = 1
        for width in widths:
            block: list[nn.Module] = []
            for b in range(cfg.blocks):
                block += _conv_bn_relu(c_in if b == 0 else width, width, k, bn)
            self.down.append(nn.Sequential(*block))
            c_in = width
        self.up_sample = nn.ModuleList(
            nn.ConvTranspose2d(widths[s + 1], widths[s], 2, stride=2, bias=False) for s in range(cfg.depth - 1)
        )
        self.up = nn.ModuleList()
        for s in range(cfg.depth - 1):
            block = []
            for b in range(cfg.blocks):
                block += _conv_bn_relu(2 * widths[s] if b == 0 else widths[s], widths[s], k, bn)
            self.up.append(nn.Sequential(*block))
        self.out = _conv(widths[0], 1, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        multiple = 2 ** (self.levels - 1)
        ph, pw = (-h) % multiple, (-w) % multiple
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))  # zero padding: linear, keeps the net bias-free
        skips = []
        for s, block in enumerate(self.down):
            if s > 0:
                x = F.avg_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for s in reversed(range(self.levels - 1)):
            x = self.up_sample[s](x)
            x = self.up[s](torch.cat([skips[s], x], dim=1))
        return self.out(x)[..., :h, :w]


def build_denoiser(cfg: DenoiserConfig) -> nn.Module:
    """The residual network of ``cfg`` (BF-CNN or UNet), predicting the noise."""
    if not isinstance(cfg, DenoiserConfig):
        raise ConfigError(f"cfg must be a DenoiserConfig, got {type(cfg).__name__}")
    return BFCNN(cfg) if cfg.kind == "bfcnn" else BFUNet(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- wrappers


def check_image_shape(image_shape: Any) -> tuple[int, int]:
    try:
        shape = tuple(int(s) for s in image_shape)
    except TypeError:
        raise ConfigError(f"image_shape must be a pair (h, w), got {image_shape!r}") from None
    if len(shape) != 2 or min(shape) < 1:
        raise ConfigError(f"image_shape must be a pair of positive ints (h, w), got {image_shape!r}")
    return shape  # type: ignore[return-value]


class FlatDenoiser(nn.Module):
    """Denoiser ``D(y) = y − net(y)`` on flat images.

    Parameters
    ----------
    net : nn.Module
        Residual network on (b, 1, h, w) (see :func:`build_denoiser`).
    image_shape : (h, w)
    config : DenoiserConfig, optional
        Kept for saving.
    channels_last : bool, optional
        Keep the weights (hence activations) in ``torch.channels_last`` memory format.
        Default: True for the UNet, where oneDNN's convolutions were 1.5–2× faster here on
        the batched Jacobian and ~10% on training; False for the BF-CNN (no gain measured).

    ``forward`` takes ``(n, d)`` or ``(d,)`` with ``d = h·w`` and returns the same shape,
    computed in the parameters' dtype.  :meth:`denoise` is the numpy entry point.
    """

    def __init__(
        self,
        net: nn.Module,
        image_shape: tuple[int, int],
        config: DenoiserConfig | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__()
        self.net = net
        self.image_shape = check_image_shape(image_shape)
        self.config = config
        if channels_last is None:
            channels_last = isinstance(net, BFUNet)
        if channels_last:
            self.net.to(memory_format=torch.channels_last)

    @property
    def d(self) -> int:
        return math.prod(self.image_shape)

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        single = y.ndim == 1
        if y.shape[-1] != self.d or y.ndim not in (1, 2):
            raise ValueError(f"expected shape (n, {self.d}) or ({self.d},), got {tuple(y.shape)}")
        images = y.reshape(-1, 1, *self.image_shape).to(self._dtype())
        out = (images - self.net(images)).reshape(-1, self.d)
        return out[0] if single else out

    @torch.no_grad()
    def denoise(self, Y: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Denoise rows of ``Y`` (n, d) in eval mode; returns float64 (n, d)."""
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[1] != self.d:
            raise ConfigError(f"Y must have shape (n, {self.d}), got {Y.shape}")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        try:
            chunks = [
                self(torch.as_tensor(Y[i : i + batch_size], device=device)).double().cpu().numpy()
                for i in range(0, len(Y), batch_size)
            ]
        finally:
            self.train(was_training)
        return np.concatenate(chunks, axis=0) if chunks else np.empty_like(Y)


class ProjectionDenoiser(nn.Module):
    """The linear denoiser ``y ↦ U Uᵀ y`` (a PCA projection; lindiff's ``P_t``).

    Parameters
    ----------
    U : array of shape (d, k)
        Orthonormal columns (e.g. ``Bases.U[t]``).  Stored in the dtype given (float64 by
        default) so that Jacobian checks are exact to rounding.

    ``forward`` maps (d,) -> (d,) or (n, d) -> (n, d).  Its Jacobian is ``U Uᵀ``.
    """

    def __init__(self, U: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        U = torch.as_tensor(np.asarray(U), dtype=dtype)
        if U.ndim != 2:
            raise ConfigError(f"U must have shape (d, k), got {tuple(U.shape)}")
        self.register_buffer("U", U)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y = y.to(self.U.dtype)
        return (y @ self.U) @ self.U.T
