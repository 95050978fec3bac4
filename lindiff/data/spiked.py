"""The spiked covariance model with a known basis (:func:`make_spiked`, :class:`SpikedData`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lindiff.data.dataset import Dataset, check_integer
from lindiff.errors import ConfigError

__all__ = ["SpikedData", "SPIKED_STREAM", "make_spiked"]


@dataclass(frozen=True, eq=False)
class SpikedData:
    """Samples of the spiked covariance model and its ground truth.

    Attributes
    ----------
    dataset : Dataset
        The samples, ``X`` of shape (n, d).
    basis : np.ndarray, shape (d, rank)
        Orthonormal spike directions ``u_i`` (columns), ordered as ``lambdas``.
    lambdas : np.ndarray, shape (rank,)
        Standard deviation along each spike (non-increasing).
    floor : float
        Standard deviation of the isotropic noise floor.
    """

    dataset: Dataset
    basis: np.ndarray
    lambdas: np.ndarray
    floor: float = 0.0

    def covariance(self) -> np.ndarray:
        """Population covariance ``Σ λ_i² u_i u_iᵀ + floor² I``, shape (d, d)."""
        d = self.basis.shape[0]
        return (self.basis * self.lambdas**2) @ self.basis.T + self.floor**2 * np.eye(d)


def _check_lambdas(lambdas: Any, d: int) -> np.ndarray:
    try:
        lam = np.atleast_1d(np.asarray(lambdas, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"lambdas={lambdas!r}: must be a sequence of positive numbers") from exc
    if lam.ndim != 1 or lam.size == 0:
        raise ConfigError(f"lambdas={lambdas!r}: must be a non-empty 1-D sequence of positive numbers")
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ConfigError(f"lambdas={lam.tolist()}: every value must be positive and finite")
    if np.any(np.diff(lam) > 0):
        raise ConfigError(f"lambdas={lam.tolist()}: must be sorted non-increasing (largest spike first)")
    if lam.size > d:
        raise ConfigError(f"lambdas: {lam.size} spikes but d={d}; the number of spikes (rank) must be <= d")
    return lam


SPIKED_STREAM = 0x5B1CED  # spawn key of the data-generation stream of make_spiked


def make_spiked(
    d: int,
    n: int,
    lambdas: Sequence[float] | np.ndarray,
    floor: float = 0.0,
    seed: int | np.random.Generator = 0,
) -> SpikedData:
    """Draw samples of the spiked covariance model.

    ``x_j = Σ_i λ_i g_ij u_i + floor · z_j`` with ``g``, ``z`` iid N(0, 1) and
    ``u_i`` a random orthonormal basis (QR of a Gaussian matrix).

    Parameters
    ----------
    d : int
        Dimension (>= 1).
    n : int
        Number of samples (>= 1).
    lambdas : sequence of float, shape (rank,)
        Std along each spike: positive, finite, non-increasing, ``rank <= d``.
    floor : float
        Std of the isotropic noise floor (>= 0).
    seed : int or np.random.Generator
        The output is deterministic given it.  An int seeds a stream reserved for data
        generation (``SeedSequence(seed, spawn_key=(SPIKED_STREAM,))``), so the same integer
        used as a learn seed never reproduces the Gaussian that generated the spikes (with
        ``default_rng(seed)`` for both, the first noise column of the learn would be exactly
        ``u_0``).

    Returns
    -------
    SpikedData
        ``dataset.X`` of shape (n, d) (name ``"spiked"``, no labels), ``basis`` (d, rank),
        ``lambdas`` (rank,), ``floor``.

    Raises
    ------
    ConfigError
        For invalid ``d``, ``n``, ``lambdas`` or ``floor``.
    """
    d = check_integer(d, "d")
    n = check_integer(n, "n")
    lam = _check_lambdas(lambdas, d)
    if isinstance(floor, bool) or not isinstance(floor, (int, float, np.floating, np.integer)):
        raise ConfigError(f"floor={floor!r}: must be a finite number >= 0")
    if not (math.isfinite(floor) and floor >= 0):
        raise ConfigError(f"floor={floor!r}: must be a finite number >= 0")
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SPIKED_STREAM,)))
    q, r = np.linalg.qr(rng.standard_normal((d, lam.size)))
    basis = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # unique signs: Haar-distributed basis
    X = (rng.standard_normal((n, lam.size)) * lam) @ basis.T
    if floor > 0:
        X = X + float(floor) * rng.standard_normal((n, d))
    dataset = Dataset(X=X, labels=None, name="spiked", image_shape=None)
    return SpikedData(dataset=dataset, basis=basis, lambdas=lam, floor=float(floor))
