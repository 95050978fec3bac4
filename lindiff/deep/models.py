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
    side, ``channels·channel_mult[s]`` feature maps at scale ``s`` (default ``2^s``), average
    pooling down and a 2×2 stride-2 transposed convolution up, skip connections by
    concatenation.  Inputs whose sides are not multiples of ``2^(depth-1)`` are zero-padded (a
    linear operation) and the output cropped, so 8×8 and 28×28 images both work.

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

import copy
import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lindiff.deep.config import CONDITIONAL_KINDS, DATA_CENTER, DATA_SCALE, KINDS, DenoiserConfig
from lindiff.errors import ConfigError
from lindiff.validation import check_image_shape

__all__ = [
    "BFCNN",
    "KINDS",
    "BFBatchNorm2d",
    "BFUNet",
    "CONDITIONAL_KINDS",
    "ConditionalDenoiser",
    "DenoiserConfig",
    "FixedLevel",
    "NoiseConditionalUNet",
    "FlatDenoiser",
    "GatedReLU",
    "ImageDenoiser",
    "DATA_CENTER",
    "DATA_SCALE",
    "ProjectionDenoiser",
    "build_denoiser",
    "count_parameters",
    "measured_receptive_field",
    "wrap_denoiser",
    "frozen_gates",
]


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
    """BF-CNN residual network: input (b, bands + condition_bands, h, w) -> predicted noise
    (b, bands, h, w); its convolutions have the sizes ``cfg.kernel_sizes`` (the receptive field)."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        c, sizes = cfg.channels, cfg.kernel_sizes
        layers: list[nn.Module] = [_conv(cfg.bands + cfg.condition_bands, c, sizes[0]), GatedReLU()]
        for k in sizes[1:-1]:
            layers += _conv_bn_relu(c, c, k, cfg.batch_norm)
        layers.append(_conv(c, cfg.bands, sizes[-1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class BFUNet(nn.Module):
    """Bias-free UNet residual network: input (b, bands + condition_bands, h, w) -> predicted noise
    (b, bands, h, w)."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        k, bn = cfg.kernel_size, cfg.batch_norm
        widths = cfg.widths
        self.levels = cfg.depth
        self.down = nn.ModuleList()
        c_in = cfg.bands + cfg.condition_bands
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
        self.out = _conv(widths[0], cfg.bands, k)

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


def _groups(channels: int) -> int:
    """Group-norm groups: the largest divisor of ``channels`` that is at most 8."""
    return max(g for g in range(1, 9) if channels % g == 0)


def level_embedding(sigma: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features (b, dim) of ``c = ln(σ)/4`` (Karras et al.'s ``c_noise``), σ (b,) > 0
    clamped at 1e-4; frequencies geometric from 1 to 1000."""
    c = torch.log(sigma.clamp_min(1e-4)) / 4
    half = dim // 2
    freqs = torch.exp(torch.linspace(0.0, math.log(1000.0), half, device=sigma.device, dtype=sigma.dtype))
    angles = c[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class _ResBlock(nn.Module):
    """GroupNorm–SiLU–conv, plus a per-channel shift from the level embedding, GroupNorm–SiLU–conv,
    with a (1×1 when the width changes) skip connection."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, k: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(_groups(c_in), c_in), nn.Conv2d(c_in, c_out, k, padding=k // 2)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(_groups(c_out), c_out), nn.Conv2d(c_out, c_out, k, padding=k // 2)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class _SelfAttention(nn.Module):
    """GroupNorm, one-head self-attention over the positions of a map, a 1×1 projection, added
    to the input (Ho et al.'s attention block; plain matmuls, so forward-mode AD works)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)  # (b, hw, hw)
        return x + self.proj((v @ weights.transpose(1, 2)).reshape(b, c, h, w))


class NoiseConditionalUNet(nn.Module):
    """The noise-conditional UNet of a DDPM (Ho et al.), small: ``(x_t, σ) -> ε̂``.

    Input ``x_t`` (b, 1, h, w) in the variance-preserving coordinates of Eqs. 1–2
    (``x_t = sqrt(ᾱ) x_0 + sqrt(1 − ᾱ) ε`` with ``x_0`` in [−1, 1]) and the noise level
    ``σ = sqrt((1 − ᾱ)/ᾱ)`` (b,) of the equivalent variance-exploding process; output the
    predicted noise ``ε̂`` (b, 1, h, w).  The level enters through :func:`level_embedding` and
    an MLP, added as a per-channel shift in every residual block, so one network serves every
    schedule and step count.  ``depth`` scales of ``channels·channel_mult[s]`` maps (default
    ``2^s``), ``blocks`` residual blocks per scale and side, average pooling down, nearest
    up-sampling plus a conv up, skip connections by concatenation, one residual block at the
    coarsest scale (followed by a self-attention block with ``attention``); sides that are not
    multiples of ``2^(depth-1)`` are zero-padded and the output cropped.  With ``classes > 0``,
    ``forward(x, sigma, labels)`` adds a learned embedding of the class label (index ``classes``,
    or ``labels=None``: no label) to the level embedding.
    """

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        k, c = cfg.kernel_size, cfg.channels
        widths = cfg.widths
        self.levels, self.features = cfg.depth, 2 * (c // 2 + 1)
        emb_dim = 4 * c
        self.embed = nn.Sequential(nn.Linear(self.features, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.stem = nn.Conv2d(1, widths[0], k, padding=k // 2)
        self.down = nn.ModuleList()
        c_in = widths[0]
        for width in widths:
            self.down.append(nn.ModuleList(_ResBlock(c_in if b == 0 else width, width, emb_dim, k)
                                           for b in range(cfg.blocks)))
            c_in = width
        self.mid = _ResBlock(widths[-1], widths[-1], emb_dim, k)
        self.attention = _SelfAttention(widths[-1]) if cfg.attention else None
        self.up_sample = nn.ModuleList(nn.Conv2d(widths[s + 1], widths[s], k, padding=k // 2)
                                       for s in range(cfg.depth - 1))
        self.up = nn.ModuleList(
            nn.ModuleList(_ResBlock(2 * widths[s] if b == 0 else widths[s], widths[s], emb_dim, k)
                          for b in range(cfg.blocks))
            for s in range(cfg.depth - 1)
        )
        self.out_norm = nn.GroupNorm(_groups(widths[0]), widths[0])
        self.out = nn.Conv2d(widths[0], 1, k, padding=k // 2)
        # created last, so that an unconditional net draws the same initial weights as before it existed
        self.classes = cfg.classes
        self.label_embed = nn.Embedding(cfg.classes + 1, emb_dim) if cfg.classes else None

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h_in, w_in = x.shape[-2:]
        multiple = 2 ** (self.levels - 1)
        ph, pw = (-h_in) % multiple, (-w_in) % multiple
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        emb = self.embed(level_embedding(sigma.reshape(-1).to(x.dtype), self.features))
        if self.label_embed is not None:  # labels (b,) in 0 … classes; None or ``classes``: no label
            if labels is None:
                labels = torch.full((len(x),), self.classes, dtype=torch.long, device=x.device)
            emb = emb + self.label_embed(labels)
        elif labels is not None:
            raise ConfigError("labels: the network is unconditional (model.classes=0)")
        h, skips = self.stem(x), []
        for s, blocks in enumerate(self.down):
            if s > 0:
                h = F.avg_pool2d(h, 2)
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
        h = self.mid(h, emb)
        if self.attention is not None:
            h = self.attention(h)
        for s in reversed(range(self.levels - 1)):
            h = self.up_sample[s](F.interpolate(h, scale_factor=2, mode="nearest"))
            h = torch.cat([skips[s], h], dim=1)
            for block in self.up[s]:
                h = block(h, emb)
        return self.out(F.silu(self.out_norm(h)))[..., :h_in, :w_in]


def build_denoiser(cfg: DenoiserConfig) -> nn.Module:
    """The network of ``cfg``: a blind residual BF-CNN or UNet predicting the noise from ``y``,
    or (``ddpm``) the :class:`NoiseConditionalUNet` predicting ``ε`` from ``(x_t, σ)``."""
    if not isinstance(cfg, DenoiserConfig):
        raise ConfigError(f"cfg must be a DenoiserConfig, got {type(cfg).__name__}")
    return {"bfcnn": BFCNN, "unet": BFUNet, "ddpm": NoiseConditionalUNet}[cfg.kind](cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def measured_receptive_field(model: FlatDenoiser, band: str = "noisy", trials: int = 3, seed: int = 0) -> int:
    """The receptive field of a blind denoiser as its outputs see it (the architecture's is
    :attr:`DenoiserConfig.field_side`): the side ``2·e + 1`` of the
    square around the centre pixel outside which no output moves when that one input pixel is
    changed (``e`` the largest offset that moves), in float64 on random inputs (the union over
    ``trials`` of them, so that a ReLU switched off by chance hides nothing).

    ``band``: ``"noisy"`` perturbs the centre pixel of the first noisy band; ``"condition"`` that of
    the first clean band of a conditional denoiser.  Capped by the image: at most
    ``2·⌊min(h, w)/2⌋ + 1`` (a larger field reads as the whole image seen from its centre).
    """
    if band not in ("noisy", "condition"):
        raise ConfigError(f"band must be 'noisy' or 'condition', got band={band!r}")
    if band == "condition" and not model.condition_bands:
        raise ConfigError("band='condition': the denoiser has no condition_bands")
    net = copy.deepcopy(model).double().eval()
    h, w = net.image_shape
    pixels = h * w
    center = (h // 2) * w + w // 2
    gen = torch.Generator().manual_seed(seed)
    moved = torch.zeros(net.bands, h, w, dtype=torch.bool)
    for _ in range(trials):
        y = torch.rand(1, net.d, generator=gen, dtype=torch.float64)
        cond = torch.rand(1, net.condition_bands * pixels, generator=gen, dtype=torch.float64) if net.condition_bands else None
        base = net(y, cond)
        if band == "noisy":
            y = y.clone()
            y[0, center] += 1.0
        else:
            cond = cond.clone()
            cond[0, center] += 1.0
        diff = (net(y, cond) - base).reshape(net.bands, h, w)
        if band == "noisy":
            diff[0, h // 2, w // 2] -= 1.0  # the identity part of D = y − net(y)
        moved |= diff.abs() > 1e-12
    rows, cols = torch.nonzero(moved.any(dim=0), as_tuple=True)
    if len(rows) == 0:
        return 0
    extent = int(torch.max(torch.maximum((rows - h // 2).abs(), (cols - w // 2).abs())))
    return 2 * extent + 1


# --------------------------------------------------------------------------- wrappers


class ImageDenoiser(nn.Module):
    """Base of the flat-image wrappers: a network on (b, 1, h, w) images applied to flat rows.

    Parameters
    ----------
    net : nn.Module
        The network (see :func:`build_denoiser`).
    image_shape : (h, w)
    config : DenoiserConfig, optional
        Kept for saving.
    channels_last : bool, optional
        Keep the weights (hence activations) in ``torch.channels_last`` memory format.
        Default: True for the bias-free UNet, where oneDNN's convolutions were 1.5–2× faster
        here on the batched Jacobian and ~10% on training; False for the BF-CNN (no gain
        measured) and the noise-conditional UNet (no gain measured, and ``torch.func``'s vmap,
        which its Jacobians use, does not take channels-last group norms).
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
        self.bands = 1 if config is None else config.bands
        self.condition_bands = 0 if config is None else config.condition_bands
        if channels_last is None:
            channels_last = isinstance(net, BFUNet)
        if channels_last:
            self.net.to(memory_format=torch.channels_last)

    @property
    def d(self) -> int:
        """Length of a row: ``bands·h·w``."""
        return self.bands * math.prod(self.image_shape)

    @property
    def conditional(self) -> bool:
        """Whether the denoiser takes the noise level: ``D(y, sigma)`` rather than ``D(y)``."""
        return False

    def _tensor(self) -> torch.Tensor:
        """A parameter (or buffer): the dtype and device the denoiser computes in."""
        return next(itertools.chain(self.parameters(), self.buffers()))

    def _dtype(self) -> torch.dtype:
        return self._tensor().dtype

    def _images(self, y: torch.Tensor) -> torch.Tensor:
        """Flat ``(n, d)`` or ``(d,)`` -> (n, bands, h, w) in the parameters' dtype."""
        if y.shape[-1] != self.d or y.ndim not in (1, 2):
            raise ValueError(f"expected shape (n, {self.d}) or ({self.d},), got {tuple(y.shape)}")
        return y.reshape(-1, self.bands, *self.image_shape).to(self._dtype())

    @torch.no_grad()
    def _denoise_rows(self, Y: np.ndarray, batch_size: int, *args, rows: dict | None = None) -> np.ndarray:
        """``self(rows, *args, **rows)`` over batches of ``Y`` (n, d) in eval mode; float64 (n, d).
        ``rows``: keyword arguments with one entry per row of ``Y`` (arrays, cut into the same batches)
        or one for all (scalars)."""
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[1] != self.d:
            raise ConfigError(f"Y must have shape (n, {self.d}), got {Y.shape}")
        was_training = self.training
        self.eval()
        device = self._tensor().device
        try:
            chunks = [
                self(torch.as_tensor(Y[i : i + batch_size], device=device), *args,
                     **{k: v if np.ndim(v) == 0 else v[i : i + batch_size] for k, v in (rows or {}).items()})
                .double().cpu().numpy()
                for i in range(0, len(Y), batch_size)
            ]
        finally:
            self.train(was_training)
        return np.concatenate(chunks, axis=0) if chunks else np.empty_like(Y)


class FlatDenoiser(ImageDenoiser):
    """Blind denoiser ``D(y) = y − net(y)`` on flat images (``net`` a residual BF-CNN / UNet).

    ``forward`` takes ``(n, d)`` or ``(d,)`` with ``d = bands·h·w`` and returns the same shape,
    computed in the parameters' dtype.  :meth:`denoise` is the numpy entry point.

    A network with ``condition_bands > 0`` is a *conditional* blind denoiser ``D(y | c) = y −
    net(cat(y, c))`` (a wavelet scale's details given its clean low-pass image): ``condition``
    holds ``c``, ``(n, condition_bands·h·w)``, one row per row of ``y``.
    """

    def _condition(self, condition, n: int) -> torch.Tensor | None:
        """``condition`` as (n, condition_bands, h, w), checked against the network's inputs."""
        if not self.condition_bands:
            if condition is not None:
                raise ConfigError("condition: given to a denoiser without condition_bands")
            return None
        width = self.condition_bands * math.prod(self.image_shape)
        if condition is not None:
            condition = torch.as_tensor(condition, device=self._tensor().device)
        if condition is None or condition.numel() != n * width or condition.shape[-1] != width:
            got = None if condition is None else tuple(condition.shape)
            raise ConfigError(f"condition: this denoiser is conditioned on {self.condition_bands} clean band(s); "
                              f"expected shape ({n}, {width}), got {got}")
        return condition.reshape(n, self.condition_bands, *self.image_shape).to(self._dtype())

    def forward(self, y: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        single = y.ndim == 1
        images = self._images(y)
        clean = self._condition(condition, len(images))
        inputs = images if clean is None else torch.cat([images, clean], dim=1)
        out = (images - self.net(inputs)).reshape(-1, self.d)
        return out[0] if single else out

    def denoise(self, Y: np.ndarray, sigma: float | None = None, batch_size: int = 1024, condition=None) -> np.ndarray:
        """Denoise rows of ``Y`` (n, d) in eval mode; returns float64 (n, d).  ``sigma`` is
        accepted for a common interface with :class:`ConditionalDenoiser` and not used;
        ``condition`` (n, condition_bands·h·w): the clean bands of a conditional denoiser."""
        if condition is None:
            return self._denoise_rows(Y, batch_size)
        condition = np.ascontiguousarray(condition, dtype=np.float64)
        if condition.ndim != 2 or len(condition) != len(Y):
            raise ConfigError(f"condition must have one row per row of Y ({len(Y)}), got shape {condition.shape}")
        return self._denoise_rows(Y, batch_size, rows={"condition": condition})


class ConditionalDenoiser(ImageDenoiser):
    """The x₀-estimate of a noise-conditional (ε-predicting) net, in data units.

    For ``y = x_0 + σ z`` (variance-exploding coordinates, data in [0, 1], σ the noise std in
    those units)::

        y_s = (y − c)·s,  σ_s = s·σ,  ᾱ = 1/(1 + σ_s²),  x_t = sqrt(ᾱ) y_s,
        D(y, σ) = c + (y_s − σ_s ε̂(x_t, σ_s)) / s,

    with ``c, s = DATA_CENTER, DATA_SCALE`` (the net sees data in [−1, 1], DDPM's convention).
    ``D`` is the x₀-estimate of Eq. 27 as a function of the noisy point; as a function of the
    VP point ``x_t`` its Jacobian is ``∇_y D / (s·sqrt(ᾱ))`` — the same eigenvectors, the
    eigenvalues scaled by one positive factor per level — so the Fig. 7 analysis (eigenvectors)
    is the same in either coordinate, and ``∇_y D`` has the shrinkage scale of the linear
    denoisers (eigenvalues in [0, 1] for a Wiener filter).

    ``forward(y, sigma, labels=None, guidance=0.0)``: ``y`` (n, d) or (d,), ``sigma`` a float or
    (n,) tensor; same shape out.  A class-conditional net (``classes > 0``) takes ``labels`` (an
    int or (n,) ints in ``0 … classes − 1``; None: the unconditional estimate) and, with
    ``guidance = w > 0``, classifier-free guidance (Ho & Salimans 2022):
    ``ε̃ = ε̂(x_t, σ, c) + w (ε̂(x_t, σ, c) − ε̂(x_t, σ, ∅))`` (both in one batch), so that
    ``D`` is the guided x₀-estimate.
    """

    @property
    def conditional(self) -> bool:
        return True

    @property
    def classes(self) -> int:
        """Number of class labels the net takes (0: unconditional)."""
        return int(getattr(self.net, "classes", 0))

    def _eps(self, x_t: torch.Tensor, level: torch.Tensor, labels, guidance: float) -> torch.Tensor:
        if labels is None:
            return self.net(x_t, level)
        labels = torch.as_tensor(labels, dtype=torch.long, device=x_t.device).reshape(-1)
        labels = labels.expand(len(x_t)) if labels.numel() == 1 else labels
        if not guidance:
            return self.net(x_t, level, labels)
        both = self.net(torch.cat([x_t, x_t]), torch.cat([level, level]),
                        torch.cat([labels, torch.full_like(labels, self.classes)]))
        cond, uncond = both.chunk(2)
        return cond + guidance * (cond - uncond)

    def forward(self, y: torch.Tensor, sigma, labels=None, guidance: float = 0.0) -> torch.Tensor:
        single = y.ndim == 1
        images = self._images(y)
        level = torch.as_tensor(sigma, dtype=images.dtype, device=images.device).reshape(-1)
        level = level.expand(len(images)) if level.numel() == 1 else level
        y_s = (images - DATA_CENTER) * DATA_SCALE
        sigma_s = (level * DATA_SCALE)[:, None, None, None]
        eps = self._eps(torch.rsqrt(1.0 + sigma_s**2) * y_s, sigma_s.reshape(-1), labels, guidance)
        out = ((y_s - sigma_s * eps) / DATA_SCALE + DATA_CENTER).reshape(-1, self.d)
        return out[0] if single else out

    def check_labels(self, labels, n: int, guidance: float = 0.0) -> tuple[np.ndarray | None, float]:
        """``(labels, guidance)`` checked for ``n`` rows: ``labels`` None or (n,) integers in
        ``0 … classes − 1`` (a class-conditional net), ``guidance`` a number >= 0 (> 0 needs labels)."""
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float, np.number)) or not (
            np.isfinite(guidance) and guidance >= 0
        ):
            raise ConfigError(f"guidance must be a number >= 0, got guidance={guidance!r}")
        if labels is None:
            if guidance:
                raise ConfigError(f"guidance={guidance} needs class labels")
            return None, 0.0
        if not self.classes:
            raise ConfigError("labels: the denoiser is unconditional (model.classes=0)")
        return check_class_labels(labels, n, self.classes), float(guidance)

    def denoise(self, Y: np.ndarray, sigma: float, batch_size: int = 1024, labels=None,
                guidance: float = 0.0) -> np.ndarray:
        """``D(Y, sigma)`` for rows of ``Y`` (n, d) at one noise level (data units), eval mode;
        float64 (n, d).  ``labels`` (n,) and ``guidance``: see the class docstring."""
        if sigma is None:
            raise ConfigError("sigma: a noise-conditional denoiser needs the noise level")
        labels, guidance = self.check_labels(labels, len(Y), guidance)
        return self._denoise_rows(Y, batch_size, float(sigma),
                                  rows=None if labels is None else {"labels": labels, "guidance": guidance})


def check_class_labels(labels, n: int, classes: int, bound: str | None = None) -> np.ndarray:
    """``labels`` as (n,) int64 in ``0 … classes − 1``, else a ConfigError (``bound``: how the
    message names ``classes``, default its value)."""
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels must be {n} integers, got shape {labels.shape} ({labels.dtype})")
    if n and (labels.min() < 0 or labels.max() >= classes):
        raise ConfigError(f"labels must be in [0, {bound or classes}), got {labels.min()} .. {labels.max()}")
    return labels.astype(np.int64)


def check_conditioning(model, labels, n: int, guidance: float = 0.0) -> tuple[np.ndarray | None, float]:
    """``(labels, guidance)`` for ``n`` rows of ``model``, checked by
    :meth:`ConditionalDenoiser.check_labels`; ``(None, 0.0)`` when neither is given."""
    if labels is None and not guidance:
        return None, 0.0
    if not hasattr(model, "check_labels"):
        raise ConfigError("labels: only a ConditionalDenoiser takes class labels")
    return model.check_labels(labels, n, guidance)


class FixedLevel(nn.Module):
    """``y ↦ D(y, sigma)``: a :class:`ConditionalDenoiser` at one noise level (and, for a
    class-conditional one, one ``label`` and ``guidance``), as a map (d,) -> (d,) for
    :mod:`lindiff.deep.jacobian`."""

    def __init__(self, model: ConditionalDenoiser, sigma: float, label: int | None = None,
                 guidance: float = 0.0) -> None:
        super().__init__()
        self.model, self.sigma = model, float(sigma)
        self.label, self.guidance = (None if label is None else int(label)), float(guidance)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.model(y, self.sigma, self.label, self.guidance)


def wrap_denoiser(cfg: DenoiserConfig, image_shape: tuple[int, int]) -> ImageDenoiser:
    """A fresh denoiser of ``cfg`` on images of ``image_shape``: a :class:`FlatDenoiser` for the
    blind kinds, a :class:`ConditionalDenoiser` for ``ddpm``."""
    wrapper = ConditionalDenoiser if cfg.conditional else FlatDenoiser
    return wrapper(build_denoiser(cfg), image_shape, cfg)


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
