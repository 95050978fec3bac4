"""Generation by the chain of PCA denoisers.

Deterministic chain (Eq. 13–14)::

    x_g = P_0 P_1 ⋯ P_T ξ,            P_t = U_t U_tᵀ

Noise-injected chain (Eq. 25)::

    x_T = P_T ξ_T,   x_t = P_t (x_{t+1} + ξ_t)   (t = T-1 .. 0)
    ⇒ x_g = x_0 = P_0⋯P_T ξ_T + P_0⋯P_{T-1} ξ_{T-1} + … + P_0 ξ_0

Both are computed in factored form: the state is the coefficient vector ``a_t`` with
``x_t = U_t a_t`` and ``a_t = (U_tᵀ U_{t+1}) a_{t+1} + U_tᵀ ξ_t``, so the cost is
``O(T r² d)`` for the ``r × r`` transitions plus ``O(T r²)`` per sample; no ``d × d``
projection is ever formed.  Because ``U_t`` has orthonormal columns,
``U_tᵀ ξ_t ~ N(0, e_t² I_r)`` exactly when ``ξ_t ~ N(0, e_t² I_d)``, so the injected noise
is drawn directly in the ``r``-dimensional coefficient space.

Samples are rows: arrays of shape ``(n_samples, d)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindiff.errors import ConfigError
from lindiff.linear.learn import Bases, as_generator, check_rank

INJECTIONS = ("none", "increment", "constant")


@dataclass(frozen=True)
class ChainOutput:
    """Result of running a chain.

    Attributes
    ----------
    samples : ndarray of shape (n_samples, d)
        Generated samples ``x_0`` (with the training mean added back when the bases were
        learned centered).
    initial_noise : ndarray of shape (n_samples, d)
        The starting noise ``ξ_T`` (for comparisons with power iteration).
    trajectory : ndarray of shape (T + 1, n_trajectory, d) or None
        ``trajectory[t]`` is the state ``x_t`` after the denoiser ``P_t`` for the first
        ``n_trajectory`` samples (``trajectory[0]`` equals their final samples).
    """

    samples: np.ndarray
    initial_noise: np.ndarray
    trajectory: np.ndarray | None = None


def transitions(bases: Bases, rank: int | None = None) -> np.ndarray:
    """The basis correlation matrices ``U_tᵀ U_{t+1}``.

    Returns
    -------
    ndarray of shape (T, r, r)
        ``out[t] = U_t[:, :r]ᵀ U_{t+1}[:, :r]`` for ``t = 0 .. T-1``.
    """
    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    U = bases.U[:, :, :rank]
    return np.einsum("tdi,tdj->tij", U[:-1], U[1:])


def injection_std(
    sigma: np.ndarray, kind: str = "increment", scale: float = 1.0
) -> np.ndarray:
    """Std of the injected noise ``ξ_t`` for ``t = 0 .. T-1``.

    Parameters
    ----------
    sigma : ndarray of shape (T + 1,)
        Schedule increments (``Schedule.sigma``).
    kind : {"none", "increment", "constant"}
        ``none``: deterministic chain.  ``increment``: ``std(ξ_t) = σ_{t+1}``, the noise the
        forward process added between levels ``t`` and ``t + 1``.  ``constant``:
        ``std(ξ_t) = σ̄_T / sqrt(T)`` (the paper's example ``ξ_t ~ N(0, 1/T)`` for ``σ̄_T = 1``).
    scale : float
        Multiplies the stds (>= 0).

    Returns
    -------
    ndarray of shape (T,)
    """
    sigma = np.asarray(sigma, dtype=np.float64)
    if kind not in INJECTIONS:
        raise ConfigError(f"unknown injection {kind!r}; allowed: {', '.join(INJECTIONS)}")
    if not np.isfinite(scale) or scale < 0:
        raise ConfigError(f"injection scale must be finite and >= 0, got {scale}")
    T = len(sigma) - 1
    if kind == "none":
        return np.zeros(T)
    if kind == "increment":
        return scale * sigma[1:]
    sigma_bar_T = np.sqrt(np.sum(sigma**2))
    return np.full(T, scale * sigma_bar_T / np.sqrt(T))


def run_chain(
    bases: Bases,
    n_samples: int,
    rank: int | None = None,
    noise_std: np.ndarray | None = None,
    initial_std: float | None = None,
    seed=0,
    n_trajectory: int = 0,
    noise_space: str = "coefficient",
) -> ChainOutput:
    """Generate samples with the (optionally noise-injected) chain of PCA denoisers.

    Parameters
    ----------
    bases : Bases
        Learned bases with ``T + 1`` levels.
    n_samples : int
    rank : int, optional
        Number of components per denoiser (default: all stored).
    noise_std : ndarray of shape (T,), optional
        Std of the injected ``ξ_t`` for ``t = 0 .. T-1`` (see :func:`injection_std`);
        ``None`` gives the deterministic chain.
    initial_std : float, optional
        Std of ``ξ_T`` (default ``sigma_bar[T]``).
    seed : int, SeedSequence or Generator
    n_trajectory : int
        Record every step for the first ``n_trajectory`` samples.
    noise_space : {"coefficient", "pixel"}
        Draw the injected ``ξ_t`` as ``r``-dimensional coefficients (cheap, exact in
        distribution) or as ``d``-dimensional pixel noise projected by ``U_tᵀ`` (same
        distribution; two chains with different bases run with one seed then receive the
        same pixel-space noise, as the memorization/generalization study needs).

    Returns
    -------
    ChainOutput
    """
    rank = bases.k if rank is None else check_rank(rank, bases.d, bases.k)
    if noise_space not in ("coefficient", "pixel"):
        raise ConfigError(f"noise_space must be 'coefficient' or 'pixel', got {noise_space!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ConfigError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    if not 0 <= n_trajectory <= n_samples:
        raise ConfigError(f"n_trajectory must be in [0, n_samples={n_samples}], got {n_trajectory}")
    T = bases.T
    if noise_std is not None:
        noise_std = np.asarray(noise_std, dtype=np.float64)
        if noise_std.shape != (T,) or not np.all(np.isfinite(noise_std)) or np.any(noise_std < 0):
            raise ConfigError(f"noise_std must be {T} finite non-negative stds (one per t < T)")
    initial_std = float(bases.sigma_bar[-1]) if initial_std is None else float(initial_std)
    if not np.isfinite(initial_std) or initial_std <= 0:
        raise ConfigError(f"initial_std must be positive and finite, got {initial_std}")

    rng = as_generator(seed)
    U = bases.U[:, :, :rank]
    steps = transitions(bases, rank)
    initial_noise = initial_std * rng.standard_normal((n_samples, bases.d))
    coeffs = initial_noise @ U[T]  # a_T, (n_samples, r)
    trajectory = None
    if n_trajectory:
        trajectory = np.empty((T + 1, n_trajectory, bases.d))
        trajectory[T] = coeffs[:n_trajectory] @ U[T].T
    for t in range(T - 1, -1, -1):
        coeffs = coeffs @ steps[t].T
        if noise_std is not None and noise_std[t] > 0:
            if noise_space == "pixel":
                coeffs += (noise_std[t] * rng.standard_normal((n_samples, bases.d))) @ U[t]
            else:
                coeffs += noise_std[t] * rng.standard_normal(coeffs.shape)
        if n_trajectory:
            trajectory[t] = coeffs[:n_trajectory] @ U[t].T
    samples = coeffs @ U[0].T
    if bases.mean is not None:
        samples += bases.mean
        if trajectory is not None:
            trajectory += bases.mean
    return ChainOutput(samples=samples, initial_noise=initial_noise, trajectory=trajectory)


def run_chain_per_class(
    bases_by_class: dict[int, Bases], n_per_class: int, seed=0, **kwargs
) -> tuple[np.ndarray, np.ndarray]:
    """Class-conditional generation: ``n_per_class`` samples from each class's chain.

    Returns ``(samples (n_classes * n_per_class, d), labels (n_classes * n_per_class,))``.
    Each class gets its own child seed.  ``kwargs`` go to :func:`run_chain`.
    """
    classes = sorted(bases_by_class)
    seeds = np.random.SeedSequence(seed).spawn(len(classes))
    outputs = [
        run_chain(bases_by_class[c], n_per_class, seed=np.random.default_rng(s), **kwargs).samples
        for c, s in zip(classes, seeds)
    ]
    labels = np.repeat(np.asarray(classes, dtype=np.int64), n_per_class)
    return np.concatenate(outputs), labels
