"""Noise schedules of the variance-exploding forward process (Eq. 3).

A schedule for ``T`` steps is a pair of arrays of length ``T + 1``:

* ``sigma[t]``: std of the noise increment added at step ``t``; ``sigma[0] = 0``
  (level 0 is the clean data);
* ``sigma_bar[t] = sqrt(sum_{s<=t} sigma[s]**2)``: cumulative std of the noise in ``X_t``.

Shapes (``f(t)`` for ``t = 1..T``, before scaling):

============  ==========================================================  =========================
name          definition                                                  paper
============  ==========================================================  =========================
``linear``    ``sigma[t] ∝ t``                                            experiments (Sec. 3–4)
``constant``  ``sigma[t] = const``                                        Theorem 4.3 (``σ/T``)
``geometric`` ``sigma_bar[t] ∝ ratio**((t-1)/(T-1))`` (VE / NCSN), i.e.   —
              ``sigma_bar`` geometric from ``sigma_max/ratio`` to max
``cosine``    ``sigma_bar[t] ∝ sin(π t / 2T)``: the noise std of the      —
              cosine schedule (Nichol & Dhariwal) without signal scaling
============  ==========================================================  =========================

Scaling: by default the schedule is scaled so that ``sigma_bar[T] == sigma_max``.
Alternatively pass ``step``: the shape is then scaled so that its *largest increment*
equals ``step`` (for ``constant`` every increment equals ``step``; Theorem 4.3's
``σ_t = σ/T`` is ``make_schedule("constant", T, step=σ / T)``, whose ``sigma_bar[T]``
goes to zero as ``T`` grows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindiff.errors import ConfigError

SCHEDULES = ("linear", "constant", "geometric", "cosine")


@dataclass(frozen=True)
class Schedule:
    """A noise schedule.

    Attributes
    ----------
    name : str
    sigma : ndarray of shape (T + 1,)
        Increment std per step, ``sigma[0] == 0``.
    sigma_bar : ndarray of shape (T + 1,)
        Cumulative std, ``sigma_bar[0] == 0``, non-decreasing.
    """

    name: str
    sigma: np.ndarray
    sigma_bar: np.ndarray

    @property
    def T(self) -> int:
        return len(self.sigma) - 1


def _check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise ConfigError(f"T must be an integer >= 1, got {T!r}")
    if T < 1:
        raise ConfigError(f"T must be >= 1, got T={T}")
    return int(T)


def _check_positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a positive finite number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive finite number, got {name}={value}")
    return value


def from_sigma_bar(name: str, sigma_bar: np.ndarray) -> Schedule:
    """Build a schedule from cumulative stds ``sigma_bar`` of shape (T + 1,).

    ``sigma_bar[0]`` must be 0 and the sequence strictly increasing.
    """
    sigma_bar = np.asarray(sigma_bar, dtype=np.float64)
    if sigma_bar.ndim != 1 or len(sigma_bar) < 2:
        raise ConfigError(f"sigma_bar must be 1-D with at least 2 entries, got shape {sigma_bar.shape}")
    if not np.all(np.isfinite(sigma_bar)):
        raise ConfigError("sigma_bar must be finite")
    if sigma_bar[0] != 0:
        raise ConfigError(f"sigma_bar[0] must be 0 (clean data), got {sigma_bar[0]}")
    if np.any(np.diff(sigma_bar) <= 0):
        raise ConfigError("sigma_bar must be strictly increasing")
    sigma = np.sqrt(np.diff(sigma_bar**2, prepend=0.0))
    return Schedule(name=name, sigma=sigma, sigma_bar=sigma_bar)


def from_increments(name: str, sigma: np.ndarray) -> Schedule:
    """Build a schedule from increment stds ``sigma`` of shape (T + 1,), ``sigma[0] == 0``."""
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.ndim != 1 or len(sigma) < 2:
        raise ConfigError(f"sigma must be 1-D with at least 2 entries, got shape {sigma.shape}")
    if not np.all(np.isfinite(sigma)) or np.any(sigma < 0):
        raise ConfigError("sigma (noise increments) must be finite and non-negative")
    if sigma[0] != 0:
        raise ConfigError(f"sigma[0] must be 0 (clean data), got {sigma[0]}")
    if np.any(sigma[1:] <= 0):
        raise ConfigError("sigma[t] must be > 0 for t >= 1")
    return Schedule(name=name, sigma=sigma, sigma_bar=np.sqrt(np.cumsum(sigma**2)))


def _shape(name: str, T: int, ratio: float) -> Schedule:
    """Unscaled schedule of the given shape."""
    t = np.arange(T + 1, dtype=np.float64)
    if name == "linear":
        return from_increments(name, t)
    if name == "constant":
        return from_increments(name, np.where(t > 0, 1.0, 0.0))
    if name == "geometric":
        if T == 1:
            return from_sigma_bar(name, np.array([0.0, 1.0]))
        exponent = (t[1:] - 1) / (T - 1)
        return from_sigma_bar(name, np.concatenate([[0.0], ratio ** (exponent - 1.0)]))
    if name == "cosine":
        return from_sigma_bar(name, np.sin(0.5 * np.pi * t / T))
    raise ConfigError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")


def make_schedule(
    name: str,
    T: int,
    sigma_max: float | None = 1.0,
    step: float | None = None,
    ratio: float = 100.0,
) -> Schedule:
    """Make a named schedule with ``T`` steps.

    Parameters
    ----------
    name : {"linear", "constant", "geometric", "cosine"}
    T : int
        Number of noisy levels (>= 1); arrays have length ``T + 1``.
    sigma_max : float, optional
        Target ``sigma_bar[T]``.  Ignored when ``step`` is given.
    step : float, optional
        Scale the shape so that its largest increment equals ``step``.
    ratio : float
        ``geometric`` only: ``sigma_bar[T] / sigma_bar[1]`` (> 1).

    Raises
    ------
    ConfigError
        Naming ``schedule``, ``T``, ``sigma_max``, ``step`` or ``ratio``.
    """
    if name not in SCHEDULES:
        raise ConfigError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")
    T = _check_T(T)
    if name == "geometric":
        ratio = _check_positive("ratio", ratio)
        if ratio <= 1:
            raise ConfigError(f"ratio must be > 1 for the geometric schedule, got ratio={ratio}")
    shape = _shape(name, T, ratio)
    if step is not None:
        scale = _check_positive("step", step) / shape.sigma.max()
    else:
        if sigma_max is None:
            raise ConfigError("give either sigma_max or step")
        scale = _check_positive("sigma_max", sigma_max) / shape.sigma_bar[-1]
    return Schedule(name=name, sigma=shape.sigma * scale, sigma_bar=shape.sigma_bar * scale)
