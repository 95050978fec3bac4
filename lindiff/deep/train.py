"""Training a bias-free denoiser, with deterministic, resumable checkpoints.

Objective (Kadkhodaie et al.): for a clean batch ``x`` (rows of ``X``), draw one noise level
per example, ``y = x + σ z`` with ``z`` iid N(0, 1), and minimise the mean squared error
between the network's output and the noise ``σ z``.  The network is residual (the denoiser
is ``D(y) = y − net(y)``), so this MSE equals the denoising MSE ``mean (D(y) − x)²``.

Noise levels are drawn **uniformly in sqrt-space**: ``√σ ~ U(√σ_min, √σ_max)``, i.e.
``σ = (√σ_min + (√σ_max − √σ_min) u)²`` with ``u ~ U(0, 1)``, default ``[0, 1]`` (images in
[0, 1]), which puts more weight on small σ (density ∝ σ^(-1/2) on [0, 1]).

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

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lindiff.artifacts import atomic_write
from lindiff.data import sha256_of_array
from lindiff.deep.evaluate import add_noise, psnr
from lindiff.deep.models import (
    DenoiserConfig,
    FlatDenoiser,
    build_denoiser,
    check_image_shape,
)
from lindiff.errors import ConfigError, DataError
from lindiff.validation import check_keys, check_matrix

__all__ = [
    "CHECKPOINT_NAME",
    "checkpoint_dir_for",
    "TrainConfig",
    "TrainResult",
    "default_config",
    "preset_config",
    "load_checkpoint",
    "load_model",
    "resolve_device",
    "save_model",
    "train_denoiser",
]

CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = 1


# --------------------------------------------------------------------------- config


def _positive(name: str, value: Any, integer: bool = False, allow_zero: bool = False) -> None:
    if integer and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not integer and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {name}={value}")


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

    def __post_init__(self) -> None:
        if not isinstance(self.model, DenoiserConfig):
            raise ConfigError(f"model must be a DenoiserConfig, got {type(self.model).__name__}")
        _positive("epochs", self.epochs, integer=True)
        _positive("batch_size", self.batch_size, integer=True)
        _positive("lr", self.lr)
        _positive("lr_final_ratio", self.lr_final_ratio)
        _positive("sigma_min", self.sigma_min, allow_zero=True)
        _positive("sigma_max", self.sigma_max)
        if self.sigma_min > self.sigma_max:
            raise ConfigError(f"sigma_min={self.sigma_min} exceeds sigma_max={self.sigma_max}")
        if self.max_train is not None:
            _positive("max_train", self.max_train, integer=True)
        _positive("val_fraction", self.val_fraction, allow_zero=True)
        if self.val_fraction >= 1:
            raise ConfigError(f"val_fraction must be < 1, got val_fraction={self.val_fraction}")
        _positive("max_val", self.max_val, integer=True, allow_zero=True)
        object.__setattr__(self, "val_sigmas", tuple(float(s) for s in self.val_sigmas))
        for s in self.val_sigmas:
            _positive("val_sigmas", s)
        _positive("checkpoint_every", self.checkpoint_every, integer=True)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["val_sigmas"] = list(self.val_sigmas)
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
}


def default_config(dataset_name: str) -> TrainConfig:
    """The default :class:`TrainConfig` for ``"digits"`` or ``"mnist"``.

    Sized so that training meets its time budget on 2 CPU cores (digits ≤ 2 min, MNIST ≤
    10 min) and beats the best linear denoiser at σ = 0.1, 0.2, 0.4 (see the package README
    notes / the module docstring of :mod:`lindiff.deep`).
    """
    if dataset_name not in DEFAULT_CONFIGS:
        raise ConfigError(f"dataset_name={dataset_name!r}: no default config; known: {sorted(DEFAULT_CONFIGS)}")
    return DEFAULT_CONFIGS[dataset_name]


def preset_config(preset: str, overrides: dict | None = None) -> TrainConfig:
    """The :func:`default_config` preset ``preset`` with ``overrides`` applied: TrainConfig
    fields, and ``model`` a dict of DenoiserConfig fields merged into the preset's model (the
    workflow's named sizes, ``deep.sizes.<size>``, are such overrides)."""
    base = default_config(preset).to_dict()
    overrides = dict(overrides or {})
    base["model"].update(overrides.pop("model", None) or {})
    return TrainConfig.from_dict({**base, **overrides})


# --------------------------------------------------------------------------- result


@dataclass
class TrainResult:
    """Outcome of :func:`train_denoiser`.

    Attributes
    ----------
    model : FlatDenoiser
        Trained denoiser in eval mode, on the training device.
    history : list of dict
        One record per epoch: ``epoch`` (1-based), ``loss`` (mean training MSE), ``lr``,
        ``psnr_<σ>`` (validation PSNR, dB) per validation σ, ``seconds`` (epoch wall time).
    config : TrainConfig
    seed : int
    seconds : float
        Wall time of this call (excluding epochs done by an earlier, resumed-from call).
    resumed_from : int
        Epoch of the checkpoint this call started from (0 for a fresh start).
    """

    model: FlatDenoiser
    history: list[dict[str, float]]
    config: TrainConfig
    seed: int
    seconds: float
    resumed_from: int = 0


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


def _check_data(X, image_shape) -> tuple[np.ndarray, tuple[int, int]]:
    X = check_matrix(X, "X", min_rows=2)
    shape = check_image_shape(image_shape)
    if shape[0] * shape[1] != X.shape[1]:
        raise ConfigError(f"image_shape={shape} does not match d={X.shape[1]} (columns of X)")
    return X, shape


def _split(X: np.ndarray, cfg: TrainConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows), chosen with ``seed``."""
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(len(X))
    n_val = min(round(cfg.val_fraction * len(X)), cfg.max_val, len(X) - 1)
    val, train = order[:n_val], order[n_val:]
    if cfg.max_train is not None:
        train = train[: cfg.max_train]
    return X[np.sort(train)], X[np.sort(val)]


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


def _train_epoch(net, opt, images: torch.Tensor, cfg: TrainConfig, gen: torch.Generator, bar) -> float:
    """One epoch over ``images`` (n, 1, h, w) on the net's device; returns the mean batch loss."""
    net.train()
    n = len(images)
    batch = min(cfg.batch_size, n)
    order = torch.randperm(n, generator=gen)
    total, count = 0.0, 0
    for start in range(0, n - batch + 1, batch):
        idx = order[start : start + batch]
        x = images[idx.to(images.device)]
        noise = (_draw_sigma(batch, cfg, gen) * torch.randn(x.shape, generator=gen)).to(x.device)
        loss = torch.mean((net(x + noise) - noise) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total, count = total + loss.item(), count + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.2e}", refresh=False)
    return total / count


def _validate(model: FlatDenoiser, X_val: np.ndarray, sigmas: Sequence[float], seed: int) -> dict[str, float]:
    if len(X_val) == 0:
        return {}
    out = {}
    for j, sigma in enumerate(sigmas):
        Y = add_noise(X_val, sigma, np.random.default_rng([seed, 11, j]))
        out[f"psnr_{sigma:g}"] = psnr(X_val, model.denoise(Y))
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


def _save_checkpoint(path: Path, model, opt, epoch: int, gen: torch.Generator, history, meta) -> None:
    state = {
        **meta,
        "epoch": int(epoch),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict(),
        "rng": gen.get_state(),
        "history": history,
    }
    with atomic_write(path) as fh:
        torch.save(state, fh)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a training checkpoint with ``torch.load(weights_only=True)``; DataError if unreadable."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # noqa: BLE001 - torch raises several types for corrupt files
        raise DataError(f"{path}: not a readable checkpoint ({exc})") from None
    missing = [k for k in ("format", "config", "seed", "epoch", "model", "optimizer", "rng", "history") if k not in state]
    if missing:
        raise DataError(f"{path}: checkpoint lacks {missing}")
    return state


def _resume(path: Path, meta: dict[str, Any], model, opt, gen: torch.Generator) -> tuple[int, list]:
    """Load ``path`` into model/opt/gen if it exists; returns (epoch done, history)."""
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
) -> TrainResult:
    """Train a bias-free residual denoiser on the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Clean images in [0, 1], one per row, ``d = h·w``.
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
    X, shape = _check_data(X, image_shape)
    dev = resolve_device(device)
    X_train, X_val = _split(X, cfg, seed)
    meta = _checkpoint_meta(cfg, seed, shape, sha256_of_array(X))
    start = time.perf_counter()

    with _deterministic(dev):
        with torch.random.fork_rng(devices=[]):  # seed the initial weights, leave the caller's RNG alone
            torch.manual_seed(seed)
            model = FlatDenoiser(build_denoiser(cfg.model), shape, cfg.model).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(seed)
        path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
        done, history = _resume(path, meta, model, opt, gen) if path is not None else (0, [])
        images = torch.as_tensor(X_train, dtype=torch.float32, device=dev).reshape(-1, 1, *shape)
        batches = len(images) // min(cfg.batch_size, len(images))
        bar = _progress_bar(cfg.epochs * batches, done * batches, progress)
        try:
            for epoch in range(done + 1, cfg.epochs + 1):
                t0 = time.perf_counter()
                for group in opt.param_groups:
                    group["lr"] = _lr(cfg, epoch)
                loss = _train_epoch(model.net, opt, images, cfg, gen, bar)
                model.eval()
                record = {"epoch": epoch, "loss": loss, "lr": _lr(cfg, epoch)}
                record.update(_validate(model, X_val, cfg.val_sigmas, seed))
                record["seconds"] = time.perf_counter() - t0
                record = {k: (int(v) if k == "epoch" else float(v)) for k, v in record.items()}
                history.append(record)
                if path is not None and (epoch % cfg.checkpoint_every == 0 or epoch == cfg.epochs):
                    _save_checkpoint(path, model, opt, epoch, gen, history, meta)
                if log_fn is not None:
                    log_fn(epoch, dict(record))
        finally:
            if bar is not None:
                bar.close()
    model.eval()
    return TrainResult(model, history, cfg, seed, time.perf_counter() - start, resumed_from=done)


# --------------------------------------------------------------------------- save / load


def save_model(path: str | Path, model: FlatDenoiser, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (state dict, architecture config, image shape, ``extra``) atomically.

    ``extra`` must hold only JSON-like values (it is read back with ``weights_only=True``).
    """
    if not isinstance(model, FlatDenoiser) or model.config is None:
        raise ConfigError("model must be a FlatDenoiser built with a DenoiserConfig (from train_denoiser)")
    state = {
        "format": _FORMAT,
        "model_config": model.config.to_dict(),
        "image_shape": list(model.image_shape),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": dict(extra or {}),
    }
    path = Path(path)
    with atomic_write(path) as fh:
        torch.save(state, fh)
    return path


def load_model(path: str | Path, device: str = "cpu") -> FlatDenoiser:
    """Inverse of :func:`save_model`: a :class:`FlatDenoiser` in eval mode on ``device``.

    Also accepts a training checkpoint (``checkpoint.pt``).
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: model file not found") from None
    except Exception as exc:  # noqa: BLE001 - torch raises several types for corrupt files
        raise DataError(f"{path}: not a readable model file ({exc})") from None
    if "state_dict" in state:
        model_cfg, weights = DenoiserConfig.from_dict(state["model_config"]), state["state_dict"]
    elif "model" in state and "config" in state:  # a training checkpoint
        model_cfg, weights = TrainConfig.from_dict(state["config"]).model, state["model"]
    else:
        raise DataError(f"{path}: neither a saved model nor a training checkpoint")
    model = FlatDenoiser(build_denoiser(model_cfg), tuple(state["image_shape"]), model_cfg)
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise DataError(f"{path}: weights do not match the stored config ({exc})") from None
    return model.to(resolve_device(device)).eval()


def checkpoint_dir_for(root, cfg, seed: int, data_sha256: str):
    """``root/<digest>``: a checkpoint directory keyed by the training config, seed and data.

    :func:`lindiff.deep.train.train_denoiser` refuses a checkpoint written for another config;
    keyed this way, a job rerun after a config change starts afresh instead of failing, while a
    killed job with an unchanged config still resumes.  Other digests' directories under
    ``root`` (stale checkpoints of earlier configs) are removed.
    """
    import hashlib
    import json
    import shutil

    key = json.dumps({"config": cfg.to_dict(), "seed": int(seed), "data": str(data_sha256)}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    root = Path(root)
    if root.is_dir():
        for stale in root.iterdir():
            if stale.name != digest:
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return root / digest
