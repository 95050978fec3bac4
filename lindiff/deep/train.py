"""Training a bias-free denoiser, with deterministic, resumable checkpoints.

Objective (Kadkhodaie et al.): for a clean batch ``x`` (rows of ``X``), draw one noise level
per example, ``y = x + σ z`` with ``z`` iid N(0, 1), and minimise the mean squared error
between the network's output and the noise ``σ z``.  The network is residual (the denoiser
is ``D(y) = y − net(y)``), so this MSE equals the denoising MSE ``mean (D(y) − x)²``.

Noise levels are drawn **uniformly in sqrt-space**: ``√σ ~ U(√σ_min, √σ_max)``, i.e.
``σ = (√σ_min + (√σ_max − √σ_min) u)²`` with ``u ~ U(0, 1)``, default ``[0, 1]`` (images in
[0, 1]), which puts more weight on small σ (density ∝ σ^(-1/2) on [0, 1]).

A **noise-conditional** model (``model.kind = "ddpm"``) is trained instead as a DDPM (Ho et
al.; Eqs. 1–2 of the paper) over a continuous noise range: per example a time
``t ~ U(vp_t_min, 1)``, the level ``σ_t`` of the continuous ``vplinear`` schedule
(:func:`lindiff.diffusion.schedules.vplinear_sigma`, ``ᾱ_t = 1/(1 + σ_t²)``), the data scaled to
[−1, 1] (``x_0 = 2x − 1``), ``x_t = sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε`` and the loss
``mean (ε̂(x_t, σ_t) − ε)²``.  ``sigma_min``/``sigma_max`` do not apply to it.  With
``ema_decay > 0`` an exponential moving average of the weights is kept (updated after every
step with the warmed-up decay of ``ema_warmup``, checkpointed with the rest) and is the model
validated and returned, as in DDPM.

Optimiser: Adam with a cosine learning-rate decay from ``lr`` to ``lr · lr_final_ratio``
over the epochs (a function of the epoch, so it needs no scheduler state).  Batches are
shuffled every epoch; an incomplete last batch is dropped (the bias-free batch norm
divides by batch statistics).

Determinism and resuming: every random draw of training (shuffling, σ, noise) comes from
one CPU :class:`torch.Generator` seeded with ``seed``; initial weights from
``torch.manual_seed(seed)`` (inside ``torch.random.fork_rng``, so the caller's global RNG is
untouched); ``torch.use_deterministic_algorithms(True)`` is on during
training (restored afterwards).  After every ``checkpoint_every`` epochs (and the last), the
model and optimizer state, the epoch, the generator state and the history are written
atomically to ``checkpoint_dir/checkpoint.pt``.  A later call with the same data, config and
seed continues from there and reaches the same final weights as an uninterrupted run (on
CPU with the same thread count).  Checkpoints are read with ``torch.load(weights_only=True)``.

Validation: a held-out part of ``X`` (``val_fraction``, at most ``max_val`` rows, chosen
with the seed) is denoised after every epoch at the fixed ``val_sigmas`` with fixed noise,
and its PSNR recorded in the history and passed to ``log_fn(epoch, record)``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lindiff.artifacts import load_torch, save_torch
from lindiff.data import sha256_of_array
from lindiff.deep.config import (
    DATA_CENTER,
    DATA_SCALE,
    DEFAULT_CONFIGS,
    DenoiserConfig,
    TrainConfig,
    default_config,
    preset_config,
)
from lindiff.deep.evaluate import add_noise, psnr
from lindiff.deep.models import ImageDenoiser, check_class_labels, wrap_denoiser
from lindiff.diffusion.schedules import vplinear_sigma
from lindiff.errors import ConfigError, DataError
from lindiff.validation import check_image_shape, check_matrix

__all__ = [
    "CHECKPOINT_NAME",
    "DEFAULT_CONFIGS",
    "checkpoint_dir_for",
    "TrainConfig",
    "TrainResult",
    "default_config",
    "initial_model",
    "preset_config",
    "load_checkpoint",
    "load_model",
    "resolve_device",
    "save_model",
    "train_denoiser",
    "untrained_model",
]

CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = 1


# --------------------------------------------------------------------------- result


@dataclass
class TrainResult:
    """Outcome of :func:`train_denoiser`.

    Attributes
    ----------
    model : FlatDenoiser or ConditionalDenoiser
        Trained denoiser (the EMA weights when ``ema_decay > 0``) in eval mode, on the
        training device.
    history : list of dict
        One record per epoch: ``epoch`` (1-based), ``loss`` (mean training MSE), ``lr``,
        ``psnr_<σ>`` (validation PSNR, dB) per validation σ, ``seconds`` (epoch wall time).
    config : TrainConfig
    seed : int
    seconds : float
        Wall time of this call (excluding epochs done by an earlier, resumed-from call).
    resumed_from : int
        Epoch of the checkpoint this call started from (0 for a fresh start).
    snapshots : dict of int to Path
        The model files of the ``snapshot_epochs`` asked for (see :func:`train_denoiser`).
    """

    model: ImageDenoiser
    history: list[dict[str, float]]
    config: TrainConfig
    seed: int
    seconds: float
    resumed_from: int = 0
    snapshots: dict[int, Path] = field(default_factory=dict)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cpu"``/``"cuda"`` checked."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or (isinstance(device, str) and device.startswith("cuda:")):
        if not torch.cuda.is_available():
            raise ConfigError(f"device={device!r}: CUDA is not available on this machine")
        return torch.device(device)
    raise ConfigError(f"device={device!r}: must be 'cpu', 'cuda' or 'auto'")


# --------------------------------------------------------------------------- helpers


@contextmanager
def _deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic algorithms on (restored on exit); on CUDA only warn where an op has no
    deterministic implementation (determinism is promised on CPU only)."""
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


def _check_data(X, image_shape, bands: int = 1) -> tuple[np.ndarray, tuple[int, int]]:
    X = check_matrix(X, "X", min_rows=2)
    shape = check_image_shape(image_shape)
    if bands * shape[0] * shape[1] != X.shape[1]:
        per = "" if bands == 1 else f" with model.bands={bands}"
        raise ConfigError(f"image_shape={shape}{per} does not match d={X.shape[1]} (columns of X)")
    return X, shape


def _check_condition(condition, n: int, shape: tuple[int, int], cfg: TrainConfig) -> np.ndarray | None:
    """The clean bands ``(n, condition_bands·h·w)`` a conditional blind model trains on, else None."""
    bands = cfg.model.condition_bands
    if not bands:
        if condition is not None:
            raise ConfigError("condition: given for a model without condition_bands (model.condition_bands=0)")
        return None
    if condition is None:
        raise ConfigError(f"condition: a conditional model (model.condition_bands={bands}) trains on clean bands "
                          f"beside the noisy ones")
    condition = check_matrix(condition, "condition")
    if condition.shape != (n, bands * shape[0] * shape[1]):
        raise ConfigError(f"condition must have shape {(n, bands * shape[0] * shape[1])} (one row per row of X, "
                          f"model.condition_bands={bands} bands of {shape[0]}x{shape[1]}), got {condition.shape}")
    return condition


def _split_indices(n: int, cfg: TrainConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) into ``n`` rows, sorted, chosen with ``seed``."""
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(n)
    n_train, n_val = split_sizes(n, cfg)
    val, train = order[:n_val], order[n_val : n_val + n_train]
    return np.sort(train), np.sort(val)


def _check_labels(labels, n: int, cfg: TrainConfig) -> np.ndarray | None:
    """The class labels of a class-conditional model's ``n`` training rows (n,) int64, else None."""
    classes = cfg.model.classes
    if not classes:
        if labels is not None:
            raise ConfigError("labels: given for an unconditional model (model.classes=0)")
        return None
    if labels is None:
        raise ConfigError(f"labels: a class-conditional model (model.classes={classes}) trains on labelled rows")
    return check_class_labels(labels, n, classes, bound=f"model.classes={classes}")


def split_sizes(n: int, cfg: TrainConfig) -> tuple[int, int]:
    """(training rows, validation rows) that training takes from ``n`` rows of data:
    ``min(round(val_fraction·n), max_val, n − 1)`` held out, the rest (at most ``max_train``) trained on."""
    n_val = min(round(cfg.val_fraction * n), cfg.max_val, n - 1)
    n_train = n - n_val if cfg.max_train is None else min(n - n_val, cfg.max_train)
    return n_train, n_val


def _lr(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate for 1-based ``epoch``: cosine from ``lr`` to ``lr·lr_final_ratio``."""
    if cfg.epochs == 1:
        return cfg.lr
    progress = (epoch - 1) / (cfg.epochs - 1)
    ratio = cfg.lr_final_ratio + (1 - cfg.lr_final_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return cfg.lr * ratio


def _draw_sigma(n: int, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """(n, 1, 1, 1) noise stds, uniform in sqrt-space over [sigma_min, sigma_max]."""
    lo, hi = math.sqrt(cfg.sigma_min), math.sqrt(cfg.sigma_max)
    u = torch.rand(n, generator=gen)
    return ((lo + (hi - lo) * u) ** 2).reshape(n, 1, 1, 1)


def _blind_loss(net, x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator, condition=None) -> torch.Tensor:
    """Residual MSE of a blind net: ``mean (net(x + σz) − σz)²`` (a conditional one sees
    ``cat(x + σz, condition)``), each example weighted by ``min(1, 1/(γσ²))`` with
    ``cfg.min_snr_gamma = γ > 0``."""
    sigma = _draw_sigma(len(x), cfg, gen)
    noise = (sigma * torch.randn(x.shape, generator=gen)).to(x.device)
    inputs = x + noise if condition is None else torch.cat([x + noise, condition], dim=1)
    squared_error = (net(inputs) - noise) ** 2
    if cfg.min_snr_gamma > 0:  # min(SNR, γ) / γ with SNR = 1/σ²
        squared_error = torch.clamp(1.0 / (cfg.min_snr_gamma * sigma**2), max=1.0).to(x.device) * squared_error
    return torch.mean(squared_error)


def _ddpm_loss(net, x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator, labels=None) -> torch.Tensor:
    """ε-prediction MSE of a noise-conditional net on the VP forward process (module docstring),
    weighted by ``min(1, γ σ²)`` with ``cfg.min_snr_gamma = γ > 0``; ``labels`` (b,) of a
    class-conditional net, each replaced by "no label" with probability ``cfg.label_dropout``."""
    t = cfg.vp_t_min + (1.0 - cfg.vp_t_min) * torch.rand(len(x), generator=gen, dtype=torch.float64)
    sigma = torch.as_tensor(vplinear_sigma(t.numpy()), dtype=x.dtype)
    eps = torch.randn(x.shape, generator=gen)
    sigma, eps = sigma.to(x.device), eps.to(x.device)
    root_alpha = torch.rsqrt(1.0 + sigma**2)[:, None, None, None]
    x_t = root_alpha * (x - DATA_CENTER) * DATA_SCALE + torch.sqrt(1.0 - root_alpha**2) * eps
    if labels is None:
        squared_error = (net(x_t, sigma) - eps) ** 2
    else:
        dropped = torch.rand(len(x), generator=gen).to(x.device) < cfg.label_dropout
        labels = torch.where(dropped, torch.full_like(labels, cfg.model.classes), labels)
        squared_error = (net(x_t, sigma, labels) - eps) ** 2
    if cfg.min_snr_gamma > 0:
        weight = torch.clamp(cfg.min_snr_gamma * sigma**2, max=1.0)  # min(SNR, γ) / SNR with SNR = 1/σ²
        squared_error = weight[:, None, None, None] * squared_error
    return torch.mean(squared_error)


def ema_decay_at(cfg: TrainConfig, step: int) -> float:
    """The decay of the weight average after optimizer step ``step`` (1-based, whole run):
    ``min(ema_decay, (1 + step) / (10 + step))`` with ``ema_warmup``, else ``ema_decay``."""
    return min(cfg.ema_decay, (1 + step) / (10 + step)) if cfg.ema_warmup else cfg.ema_decay


@torch.no_grad()
def _update_ema(ema: ImageDenoiser, model: ImageDenoiser, decay: float) -> None:
    for avg, param in zip(ema.parameters(), model.parameters(), strict=True):
        avg.lerp_(param, 1.0 - decay)
    for avg, buf in zip(ema.buffers(), model.buffers(), strict=True):
        avg.copy_(buf)


def run_epoch(opt, n: int, batch: int, gen: torch.Generator, batch_loss: Callable[[torch.Tensor], torch.Tensor],
              device: torch.device, drop_last: bool, before_step: Callable[[int], None] | None = None,
              after_step: Callable[[int], None] | None = None, bar=None, postfix: str = ".2e") -> list[tuple[float, int]]:
    """One epoch of minibatch training, the loop every lindiff network trains with.

    The ``n`` training rows in a random order drawn from ``gen``; for each batch of ``batch``
    row indices (on ``device``; a last, smaller batch is dropped with ``drop_last``):
    ``before_step(i)`` (0-based batch of the epoch: a learning-rate schedule), ``batch_loss(idx)``
    (the loss tensor of those rows), an optimizer step, ``after_step(i)`` (a weight average).
    Returns ``(loss, rows)`` per batch; ``bar`` (a progress bar) advances once per batch.
    """
    order = torch.randperm(n, generator=gen)
    losses = []
    for i, start in enumerate(range(0, n - batch + 1 if drop_last else n, batch)):
        idx = order[start : start + batch].to(device)
        if before_step is not None:
            before_step(i)
        loss = batch_loss(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if after_step is not None:
            after_step(i)
        value = loss.item()
        losses.append((value, len(idx)))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=format(value, postfix), refresh=False)
    return losses


def _train_epoch(model, opt, images: torch.Tensor, cfg: TrainConfig, gen: torch.Generator, bar, ema=None,
                 first_step: int = 1, labels: torch.Tensor | None = None,
                 condition: torch.Tensor | None = None) -> float:
    """One epoch over ``images`` (n, bands, h, w) (and their ``labels`` (n,), class-conditional
    nets; their clean ``condition`` bands, conditional blind nets) on the net's device; returns
    the mean batch loss.  ``first_step`` is the run's 1-based number of the epoch's first
    optimizer step (EMA warm-up)."""
    net = model.net
    net.train()
    loss_fn = _ddpm_loss if cfg.model.conditional else _blind_loss

    def batch_loss(idx):
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16-mixed"):
            if labels is not None:
                return loss_fn(net, images[idx], cfg, gen, labels[idx])
            if condition is not None:
                return loss_fn(net, images[idx], cfg, gen, condition[idx])
            return loss_fn(net, images[idx], cfg, gen)

    def average(i):
        _update_ema(ema, model, ema_decay_at(cfg, first_step + i))

    losses = run_epoch(opt, len(images), min(cfg.batch_size, len(images)), gen, batch_loss, images.device,
                       drop_last=True, after_step=average if ema is not None else None, bar=bar)
    return sum(value for value, _ in losses) / len(losses)


def _validate(model: ImageDenoiser, X_val: np.ndarray, sigmas: Sequence[float], seed: int,
              condition: np.ndarray | None = None) -> dict[str, float]:
    if len(X_val) == 0:
        return {}
    out = {}
    for j, sigma in enumerate(sigmas):
        Y = add_noise(X_val, sigma, np.random.default_rng([seed, 11, j]))
        denoised = model.denoise(Y, sigma) if condition is None else model.denoise(Y, sigma, condition=condition)
        out[f"psnr_{sigma:g}"] = psnr(X_val, denoised)
    return out


def _progress_bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from lindiff.progress import progress_bar

    return progress_bar(total=total, initial=initial, desc="train denoiser")


# --------------------------------------------------------------------------- checkpoints


def _checkpoint_meta(cfg: TrainConfig, seed: int, image_shape, data_hash: str) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "config": cfg.to_dict(),
        "seed": int(seed),
        "image_shape": list(image_shape),
        "data_sha256": data_hash,
    }


def _cpu_state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _save_checkpoint(path: Path, model, opt, epoch: int, gen: torch.Generator, history, meta, ema=None) -> None:
    state = {
        **meta,
        "epoch": int(epoch),
        "model": _cpu_state(model),
        "optimizer": opt.state_dict(),
        "rng": gen.get_state(),
        "history": history,
    }
    if ema is not None:
        state["ema"] = _cpu_state(ema)
    save_torch(path, state)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a training checkpoint with ``torch.load(weights_only=True)``; DataError if unreadable."""
    state = load_torch(path, "checkpoint")
    missing = [k for k in ("format", "config", "seed", "epoch", "model", "optimizer", "rng", "history") if k not in state]
    if missing:
        raise DataError(f"{path}: checkpoint lacks {missing}")
    return state


def _resume(path: Path, meta: dict[str, Any], model, opt, gen: torch.Generator, ema=None) -> tuple[int, list]:
    """Load ``path`` into model/opt/gen (and the EMA) if it exists; returns (epoch done, history)."""
    if not path.exists():
        return 0, []
    state = load_checkpoint(path)
    for key in ("format", "config", "seed", "image_shape", "data_sha256"):
        if state.get(key) != meta[key]:
            raise ConfigError(
                f"checkpoint_dir: {path} was written for a different {key} "
                f"({state.get(key)!r} != {meta[key]!r}); use a new checkpoint_dir or delete it"
            )
    model.load_state_dict(state["model"])
    if ema is not None:
        ema.load_state_dict(state["ema"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["rng"])
    return int(state["epoch"]), list(state["history"])


# --------------------------------------------------------------------------- training


def train_denoiser(
    X: np.ndarray,
    image_shape: tuple[int, int],
    cfg: TrainConfig | None = None,
    seed: int = 0,
    device: str = "auto",
    checkpoint_dir: str | Path | None = None,
    progress: bool = True,
    log_fn: Callable[[int, dict[str, float]], None] | None = None,
    labels: np.ndarray | None = None,
    snapshot_epochs: Sequence[int] = (),
    condition: np.ndarray | None = None,
) -> TrainResult:
    """Train a bias-free residual denoiser on the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Clean images (in [0, 1] for the presets' noise ranges), one per row, ``d = bands·h·w``
        (``bands = cfg.model.bands``, 1 but for a wavelet scale's details).
    image_shape : (h, w)
    cfg : TrainConfig, optional
        Default ``TrainConfig()``; see :func:`default_config`.
    seed : int
        Seeds the weights, the train/validation split and every training draw.
    device : {"auto", "cpu", "cuda"}
    checkpoint_dir : path, optional
        Where ``checkpoint.pt`` is written; when it already holds one for the same data,
        config and seed, training resumes from it.
    progress : bool
        tqdm bar over batches on stderr.
    log_fn : callable(epoch, record), optional
        Called after every epoch (after the checkpoint is written) with the history record.
    labels : ndarray of shape (n,), optional
        Class labels of the rows, in ``0 … model.classes − 1``: required by a class-conditional
        model (``cfg.model.classes > 0``), refused by the others.  The validation PSNR is that of
        the unconditional estimate.
    snapshot_epochs : sequence of int, optional
        Epochs (1 … ``cfg.epochs``) after which the returned model's weights (the EMA's when
        used) are saved as model files (:func:`save_model`) in ``checkpoint_dir``, which they
        need: a resumed run finds the snapshots its earlier run wrote there.
    condition : ndarray of shape (n, condition_bands·h·w), optional
        The clean bands of each row a conditional blind model (``cfg.model.condition_bands > 0``)
        is given beside its noisy ones (the low-pass image of a wavelet scale): required by such a
        model, refused by the others.  The validation PSNR is that of ``D(y | condition)``.

    Returns
    -------
    TrainResult
    """
    cfg = TrainConfig() if cfg is None else cfg
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    seed = int(seed)
    X, shape = _check_data(X, image_shape, cfg.model.bands)
    dev = resolve_device(device)
    labels = _check_labels(labels, len(X), cfg)
    condition = _check_condition(condition, len(X), shape, cfg)
    snapshot_epochs = _check_snapshot_epochs(snapshot_epochs, cfg, checkpoint_dir)
    train_rows, val_rows = _split_indices(len(X), cfg, seed)
    X_train, X_val = X[train_rows], X[val_rows]
    data_hash = "+".join(sha256_of_array(a) for a in (X, labels, condition) if a is not None)
    meta = _checkpoint_meta(cfg, seed, shape, data_hash)
    start = time.perf_counter()

    with _deterministic(dev):
        model = initial_model(cfg.model, shape, seed).to(dev)
        ema = copy.deepcopy(model).eval() if cfg.ema_decay > 0 else None
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(seed)
        path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
        done, history = _resume(path, meta, model, opt, gen, ema) if path is not None else (0, [])
        trained = model if ema is None else ema  # the model validated and returned
        images = torch.as_tensor(X_train, dtype=torch.float32, device=dev).reshape(-1, cfg.model.bands, *shape)
        train_labels = None if labels is None else torch.as_tensor(labels[train_rows], device=dev)
        train_condition, val_condition = (None, None) if condition is None else (
            torch.as_tensor(condition[train_rows], dtype=torch.float32, device=dev).reshape(
                -1, cfg.model.condition_bands, *shape), condition[val_rows])
        batches = len(images) // min(cfg.batch_size, len(images))
        bar = _progress_bar(cfg.epochs * batches, done * batches, progress)
        try:
            for epoch in range(done + 1, cfg.epochs + 1):
                t0 = time.perf_counter()
                for group in opt.param_groups:
                    group["lr"] = _lr(cfg, epoch)
                loss = _train_epoch(model, opt, images, cfg, gen, bar, ema, first_step=(epoch - 1) * batches + 1,
                                    labels=train_labels, condition=train_condition)
                model.eval()
                record = {"epoch": epoch, "loss": loss, "lr": _lr(cfg, epoch)}
                record.update(_validate(trained, X_val, cfg.val_sigmas, seed, val_condition))
                record["seconds"] = time.perf_counter() - t0
                record = {k: (int(v) if k == "epoch" else float(v)) for k, v in record.items()}
                history.append(record)
                if path is not None and (epoch % cfg.checkpoint_every == 0 or epoch == cfg.epochs):
                    _save_checkpoint(path, model, opt, epoch, gen, history, meta, ema)
                if epoch in snapshot_epochs:
                    save_model(snapshot_path(checkpoint_dir, epoch), trained, extra={"seed": seed, "epoch": epoch})
                if log_fn is not None:
                    log_fn(epoch, dict(record))
        finally:
            if bar is not None:
                bar.close()
    trained.eval()
    snapshots = {epoch: snapshot_path(checkpoint_dir, epoch) for epoch in snapshot_epochs}
    missing = [str(path) for path in snapshots.values() if not path.is_file()]
    if missing:  # resumed from a checkpoint written past them by a run that did not snapshot
        raise DataError(f"training resumed at epoch {done} from {path}, but the snapshot(s) {missing} were not "
                        f"written before it; delete {Path(checkpoint_dir)} to train afresh")
    return TrainResult(trained, history, cfg, seed, time.perf_counter() - start, resumed_from=done, snapshots=snapshots)


def snapshot_path(checkpoint_dir, epoch: int) -> Path:
    """Where :func:`train_denoiser` saves the snapshot of ``epoch``."""
    return Path(checkpoint_dir) / f"snapshot_e{int(epoch)}.pt"


def snapshot_epoch(fraction: float, epochs: int) -> int:
    """The epoch at ``fraction`` of a training of ``epochs`` epochs (at least the first)."""
    return min(int(epochs), max(1, round(float(fraction) * int(epochs))))


def _check_snapshot_epochs(snapshot_epochs, cfg: TrainConfig, checkpoint_dir) -> tuple[int, ...]:
    epochs = tuple(sorted({int(e) for e in snapshot_epochs}))
    if epochs and checkpoint_dir is None:
        raise ConfigError("snapshot_epochs: snapshots are saved in checkpoint_dir; give one")
    bad = [e for e in epochs if not 1 <= e <= cfg.epochs]
    if bad:
        raise ConfigError(f"snapshot_epochs: {bad} outside the epochs 1 … {cfg.epochs}")
    return epochs


# --------------------------------------------------------------------------- save / load


def save_model(path: str | Path, model: ImageDenoiser, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (state dict, architecture config, image shape, ``extra``) atomically.

    ``extra`` must hold only JSON-like values (it is read back with ``weights_only=True``).
    """
    if not isinstance(model, ImageDenoiser) or model.config is None:
        raise ConfigError("model must be a FlatDenoiser or ConditionalDenoiser built with a DenoiserConfig "
                          "(from train_denoiser)")
    state = {
        "format": _FORMAT,
        "model_config": model.config.to_dict(),
        "image_shape": list(model.image_shape),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": dict(extra or {}),
    }
    return save_torch(path, state)


def initial_model(model_cfg: DenoiserConfig, image_shape: tuple[int, int], seed: int) -> ImageDenoiser:
    """The weights :func:`train_denoiser` starts from with ``seed``, before its first step (on
    the CPU; drawn inside ``torch.random.fork_rng``, so the caller's RNG is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return wrap_denoiser(model_cfg, tuple(image_shape))


def untrained_model(path: str | Path, device: str = "cpu") -> ImageDenoiser:
    """The untrained twin of the model saved at ``path`` by the workflow: the same
    architecture, image shape and noise-level conditioning, with the initial weights its training
    started from (the seed in the file's ``extra``), in eval mode on ``device``."""
    state = load_torch(path, "model file")
    if "state_dict" not in state or "seed" not in state.get("extra", {}):
        raise DataError(f"{path}: not a saved model with its training seed (save_model(..., extra={{'seed': ...}}))")
    model_cfg = DenoiserConfig.from_dict(state["model_config"])
    model = initial_model(model_cfg, tuple(state["image_shape"]), int(state["extra"]["seed"]))
    return model.to(resolve_device(device)).eval()


def load_model(path: str | Path, device: str = "cpu") -> ImageDenoiser:
    """Inverse of :func:`save_model`: a :class:`FlatDenoiser` (blind) or
    :class:`ConditionalDenoiser` in eval mode on ``device``.

    Also accepts a training checkpoint (``checkpoint.pt``; its EMA weights when it has them).
    """
    state = load_torch(path, "model file")
    if "state_dict" in state:
        model_cfg, weights = DenoiserConfig.from_dict(state["model_config"]), state["state_dict"]
    elif "model" in state and "config" in state:  # a training checkpoint
        model_cfg, weights = TrainConfig.from_dict(state["config"]).model, state.get("ema", state["model"])
    else:
        raise DataError(f"{path}: neither a saved model nor a training checkpoint")
    model = wrap_denoiser(model_cfg, tuple(state["image_shape"]))
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise DataError(f"{path}: weights do not match the stored config ({exc})") from None
    return model.to(resolve_device(device)).eval()


def checkpoint_dir_for(root, cfg, seed: int, data_sha256: str, snapshot_epochs=()):
    """``root/<digest>``: a checkpoint directory keyed by the training config, seed and data (and
    the ``snapshot_epochs`` of :func:`train_denoiser`, when any: a checkpoint written without them
    cannot give them).

    :func:`lindiff.deep.train.train_denoiser` refuses a checkpoint written for another config;
    keyed this way, a job rerun after a config change starts afresh instead of failing, while a
    killed job with an unchanged config still resumes.  Other digests' directories under
    ``root`` (stale checkpoints of earlier configs) are removed.
    """
    import hashlib
    import json
    import shutil

    key = {"config": cfg.to_dict(), "seed": int(seed), "data": str(data_sha256)}
    if snapshot_epochs:
        key["snapshots"] = sorted(int(e) for e in snapshot_epochs)
    key = json.dumps(key, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    root = Path(root)
    if root.is_dir():
        for stale in root.iterdir():
            if stale.name != digest:
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return root / digest
