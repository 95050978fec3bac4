"""Jacobians of denoisers and their eigenbases along a sampling path (Sec. 5, Fig. 7).

Convention: for a map ``f: R^d -> R^d``, ``J[i, j] = ∂f_i / ∂y_j`` (rows = outputs), so
``f(y) ≈ J y`` for a bias-free denoiser (exact in eval mode).  Functions take ``f`` as a
callable on a flat torch vector ``(d,) -> (d,)`` (a :class:`~lindiff.deep.models.FlatDenoiser`,
a :class:`~lindiff.deep.models.ProjectionDenoiser`, or any torch function) and ``y`` as a
numpy array or tensor of shape ``(d,)``; they return numpy ``float64`` arrays.  A module
``f`` is evaluated in eval mode (restored afterwards) on its own device.

Methods
-------
``loop``
    The reference (Kadkhodaie et al.'s way): one autograd backward per output pixel in a
    Python loop.
``jacrev`` / ``jacfwd``
    ``torch.func.jacrev`` (vmap over VJPs) / ``vmap`` over ``torch.func.jvp`` (what
    ``jacfwd`` does, written out to accept ``chunk_size``); ``chunk_size`` bounds how many
    rows/columns are batched at once (default :data:`DEFAULT_CHUNK_SIZE`; ``None``: all ``d``).
``gated``
    For the package's bias-free piecewise-linear networks only: record the ReLU on/off
    pattern at ``y``, freeze it, and push the ``d`` basis images through the now-linear
    network in one batched forward without autograd (``J = f_frozen(I)ᵀ``).  Same numbers
    as the others (to float32 rounding), no autograd bookkeeping.

``method="auto"`` picks ``gated`` when ``f`` supports it and ``jacrev`` otherwise (on CPU
and CUDA).  All batched methods push the basis through in chunks of :data:`DEFAULT_CHUNK_SIZE`
columns unless told otherwise (``chunk_size=None``: all ``d`` at once).  Chunking changes no
number (the same products, grouped differently; the Jacobians are bit-identical) but keeps the
activations of a batch in the CPU caches: a batch of all 784 basis images of the MNIST DDPM UNet
holds ~40 MB per activation.  Evidence (``python benchmarks/bench_jacobian.py --repeats 3
--loop-repeats 1``, 2 quiet CPU cores, random weights, 28×28, one run, best of 3, seconds; the
table of docs/performance.md):

=================================  ==============  ================
model, method                      chunks of 64    all d at once
=================================  ==============  ================
class-conditional MNIST DDPM UNet  0.48 (jacrev)   1.27
blind MNIST UNet, jacrev           0.25            0.30
blind MNIST UNet, gated            0.12            0.19
8-layer 32-channel BF-CNN, jacrev  0.53            1.48
=================================  ==============  ================

(Chunks of 32 or 128 measured within 20% of 64 for these models.)  Earlier, with all ``d`` as the
default (``benchmarks/bench_jacobian.py``, 28×28, best of 5; "loaded" = other jobs keeping the
load ≈ 4), the methods compared as follows:

=========================  =====  ======  ===============  ======  =====
model, machine state       loop   jacrev  jacrev (c=196)   jacfwd  gated
=========================  =====  ======  ===============  ======  =====
default MNIST UNet, quiet  1.28   0.36    0.23             0.41    0.22
default MNIST UNet, loaded 22.5   0.81    2.08             0.49    0.28
8×32 BF-CNN, quiet         1.61   1.37    0.97             1.67    1.02
8×32 BF-CNN, loaded        20.4   2.57    1.73             3.52    1.04
=========================  =====  ======  ===============  ======  =====

The per-pixel loop was never the fastest here (it was reported faster than jacrev
elsewhere: loop 0.54 s vs jacrev 1.17 s for the BF-CNN), and its 784 small sequential
backward passes degrade worst when the cores are shared.  ``gated`` was fastest or tied
everywhere; on GPUs batched evaluation is the standard winner.  Since timings depend on
machine and model, :func:`fastest_method` measures the candidates on a given ``(f, y)`` and
returns the fastest, to pass explicitly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from lindiff.deep.config import JACOBIAN_METHODS as METHODS  # one list, torch-free for the config schema
from lindiff.deep.models import check_conditioning, frozen_gates
from lindiff.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "METHODS",
    "PathJacobians",
    "PointJacobian",
    "asymmetry",
    "asymmetry_estimate",
    "default_method",
    "fastest_method",
    "homogeneity_error",
    "jacobian",
    "jacobian_batched",
    "jacobian_gated",
    "jacobian_loop",
    "path_jacobian_analysis",
    "path_spectra",
    "supports_gating",
    "symmetric_eigh",
    "top_symmetric_eigenpairs",
]

TorchFn = Callable[[torch.Tensor], torch.Tensor]

#: Basis vectors per batched call of ``jacrev``, ``jacfwd`` and ``gated`` (see the module docstring:
#: 1.2-2.8x faster than all ``d`` at once on 2 CPU cores, bit-identical Jacobians).
DEFAULT_CHUNK_SIZE = 64


# --------------------------------------------------------------------------- helpers


def _device_of(f) -> torch.device:
    if isinstance(f, nn.Module):
        for tensor in [*f.parameters(), *f.buffers()]:
            return tensor.device
    return torch.device("cpu")


def _as_point(f, y) -> torch.Tensor:
    """``y`` as a 1-D tensor on ``f``'s device (numpy float64 stays float64)."""
    tensor = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if tensor.ndim != 1:
        raise DataError(f"y must be a single flat point of shape (d,), got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    return tensor.to(_device_of(f))


@contextmanager
def _eval_mode(f) -> Iterator[None]:
    if not isinstance(f, nn.Module):
        yield
        return
    was_training = f.training
    f.eval()
    try:
        yield
    finally:
        f.train(was_training)


def _to_numpy(J: torch.Tensor) -> np.ndarray:
    return J.detach().to("cpu", torch.float64).numpy()


def _check_square(J, name: str = "J") -> np.ndarray:
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise DataError(f"{name} must be a square (d, d) matrix, got shape {J.shape}")
    return J


# --------------------------------------------------------------------------- Jacobians


def _check_chunk_size(chunk_size) -> None:
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise ConfigError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")


def jacobian_loop(f: TorchFn, y) -> np.ndarray:
    """Reference Jacobian (d, d): one ``torch.autograd.grad`` per output ``f_i`` (row ``i``)."""
    with _eval_mode(f):
        point = _as_point(f, y).clone().requires_grad_(True)
        out = f(point)
        rows = [
            torch.autograd.grad(out[i], point, retain_graph=i < len(out) - 1)[0] for i in range(len(out))
        ]
        return _to_numpy(torch.stack(rows))


def jacobian_batched(f: TorchFn, y, method: str = "jacrev",
                     chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    """Jacobian (d, d) with ``torch.func.jacrev`` or ``jacfwd`` (vmapped), chunked by ``chunk_size``."""
    if method not in ("jacrev", "jacfwd"):
        raise ConfigError(f"method={method!r}: jacobian_batched takes 'jacrev' or 'jacfwd'")
    _check_chunk_size(chunk_size)
    with _eval_mode(f), torch.no_grad():
        point = _as_point(f, y)
        if method == "jacrev":
            return _to_numpy(torch.func.jacrev(f, chunk_size=chunk_size)(point))
        # jacfwd has no chunk_size: vmap the JVP over the basis directly (columns J e_j)
        eye = torch.eye(len(point), dtype=point.dtype, device=point.device)
        columns = torch.func.vmap(lambda v: torch.func.jvp(f, (point,), (v,))[1], chunk_size=chunk_size)(eye)
        return _to_numpy(columns.T)


def supports_gating(f) -> bool:
    """Whether :func:`jacobian_gated` applies: a module whose nonlinearities are all
    :class:`GatedReLU` (the package's bias-free networks; :class:`ProjectionDenoiser`,
    being linear, qualifies too)."""
    if not isinstance(f, nn.Module):
        return False
    from lindiff.deep.models import BFCNN, BFUNet, FlatDenoiser, ProjectionDenoiser

    if isinstance(f, ProjectionDenoiser):
        return True
    return isinstance(f, FlatDenoiser) and isinstance(f.net, (BFCNN, BFUNet))


def jacobian_gated(f: nn.Module, y, chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    """Jacobian (d, d) of a piecewise-linear bias-free ``f`` by one frozen-gate batched forward.

    ``chunk_size`` bounds the number of basis images per forward (memory: ``chunk_size``
    times the activations of one image).
    """
    if not supports_gating(f):
        raise ConfigError("method='gated' needs a FlatDenoiser of a BF-CNN/UNet or a ProjectionDenoiser")
    _check_chunk_size(chunk_size)
    with _eval_mode(f), torch.no_grad():
        point = _as_point(f, y)
        d = len(point)
        chunk = d if chunk_size is None else int(chunk_size)
        with frozen_gates(f, point):
            eye = torch.eye(d, dtype=point.dtype, device=point.device)
            cols = [f(eye[i : i + chunk]) for i in range(0, d, chunk)]  # row j = J e_j
        return _to_numpy(torch.cat(cols).T)


def default_method(f) -> str:
    """The method ``"auto"`` resolves to for ``f`` (see the module docstring)."""
    return "gated" if supports_gating(f) else "jacrev"


def jacobian(f: TorchFn, y, method: str = "auto", chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    """Jacobian ``J[i, j] = ∂f_i/∂y_j`` (d, d) at ``y`` (d,) with ``method`` in
    ``{"auto", "loop", "jacrev", "jacfwd", "gated"}``."""
    if method == "auto":
        method = default_method(f)
    if method == "loop":
        return jacobian_loop(f, y)
    if method in ("jacrev", "jacfwd"):
        return jacobian_batched(f, y, method, chunk_size)
    if method == "gated":
        return jacobian_gated(f, y, chunk_size)
    raise ConfigError(f"method={method!r}: must be 'auto' or one of {list(METHODS)}")


def fastest_method(f: TorchFn, y, methods: Sequence[str] | None = None, repeats: int = 2) -> tuple[str, dict[str, float]]:
    """Time each method on ``(f, y)`` (best of ``repeats`` after one warm-up) and return
    ``(fastest name, {name: seconds})``.  Default candidates: jacrev, jacfwd and gated when
    supported (the loop is left out; pass it explicitly to include it)."""
    if methods is None:
        methods = ["jacrev", "jacfwd"] + (["gated"] if supports_gating(f) else [])
    timings = {}
    for name in methods:
        jacobian(f, y, name)
        best = float("inf")
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            jacobian(f, y, name)
            best = min(best, time.perf_counter() - start)
        timings[name] = best
    return min(timings, key=timings.get), timings


# --------------------------------------------------------------------------- spectra


def symmetric_eigh(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of ``(J + Jᵀ)/2``: eigenvalues (d,) descending, eigenvectors (d, d)
    as columns in the same order."""
    J = _check_square(J)
    vals, vecs = np.linalg.eigh(0.5 * (J + J.T))
    return vals[::-1].copy(), vecs[:, ::-1].copy()


@dataclass(frozen=True)
class TopEigenpairs:
    """The top ``K`` eigenpairs of ``(J + Jᵀ)/2`` found matrix-free: ``eigvals`` (K,) descending,
    ``vectors`` (d, K) orthonormal columns in the same order, ``products``: the Jacobian-vector
    plus vector-Jacobian products spent (each counts one), ``iterations`` of the block solver,
    ``calls``: batched applications of the operator (each one backward pass per direction)."""

    eigvals: np.ndarray
    vectors: np.ndarray
    products: int
    iterations: int
    calls: int


class _JacobianProducts:
    """``J V`` and ``Jᵀ V`` (d, b) at one point, batched over the columns of ``V`` in one call,
    counting products and calls; calling it gives the symmetrised ``(J V + Jᵀ V)/2``.  ``Jᵀ v`` is
    a vector-Jacobian product; ``J v`` the vector-Jacobian product of the linear map ``u ↦ Jᵀ u``
    (double backward: on CPU as fast per column as ``jvp``, without its per-call cost)."""

    def __init__(self, f, point: torch.Tensor):
        _, pullback = torch.func.vjp(f, point)

        def transpose(v):
            return pullback(v)[0]

        _, forward_pullback = torch.func.vjp(transpose, torch.zeros_like(point))
        self._pair = torch.func.vmap(lambda v: (forward_pullback(v)[0], transpose(v)), in_dims=1, out_dims=1)
        self._point = point
        self.products = self.calls = 0

    def pair(self, block: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(J V, Jᵀ V)`` for ``V = block`` (d, b), in ``block``'s dtype."""
        self.products += 2 * block.shape[1]
        self.calls += 1
        V = block.to(self._point.dtype)
        return tuple(P.detach().to(block.dtype) for P in self._pair(V))

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        forward, backward = self.pair(block)
        return 0.5 * (forward + backward)


def _orthonormal_complement(W: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Orthonormal columns spanning ``W``'s part outside ``basis``'s span (orthonormal columns);
    directions already in the span are dropped."""
    scale = float(torch.linalg.vector_norm(W, dim=0).max())
    for _ in range(2):  # classical Gram-Schmidt, twice, is as stable as modified
        W = W - basis @ (basis.T @ W)
    Q, R = torch.linalg.qr(W)
    return Q[:, torch.diagonal(R).abs() > 1e-10 * scale]


def top_symmetric_eigenpairs(f: TorchFn, y, K: int, start=None, tol: float = 1e-4, max_iter: int = 100,
                             extra: int = 4, seed: int = 0, max_basis: int = 5) -> TopEigenpairs:
    """The top ``K`` eigenpairs of the symmetrised Jacobian ``S = (J + Jᵀ)/2`` of ``f`` at ``y``,
    without forming ``J``: block Davidson iteration, i.e. Rayleigh–Ritz on a basis grown each
    iteration by the residuals ``S x − θ x`` of the unconverged Ritz pairs (a block Krylov space of
    ``S``), restarted from the leading Ritz vectors when it grows too large.  ``S`` is applied to a
    whole block per call (see :class:`_JacobianProducts`): the cost is the products plus a fixed
    cost per call, and both are counted.

    Parameters
    ----------
    f : callable (d,) -> (d,)
    y : array (d,)
    K : int, 1 <= K <= d
        Eigenpairs wanted; the block holds ``K + extra`` Ritz vectors (the extra ones speed
        convergence when the eigenvalues around the K-th are close).
    start : array (d, m), optional
        Starting vectors, e.g. the previous point's eigenvectors along a path (warm start: the
        eigenvectors move little from one point to the next, so few iterations are needed);
        completed with random directions to the block size.
    tol : float
        Converged when every one of the top ``K`` residuals ``‖S x − θ x‖ ≤ tol · |θ_max|``; the
        eigenvalue error is then of order ``tol²`` relative.
    max_iter : int
        Iteration limit; the best Ritz pairs so far are returned past it.
    max_basis : int
        The basis is restarted from ``2 (K + extra)`` Ritz vectors when it would exceed
        ``max_basis · (K + extra)`` columns.

    Returns
    -------
    TopEigenpairs.  For ``d ≤ 4 (K + extra)`` the whole symmetrised Jacobian is formed instead
    (``d`` products each way): use :func:`jacobian` there.
    """
    point = _as_point(f, y)
    d = len(point)
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= d:
        raise ConfigError(f"K must be an integer in [1, d={d}], got K={K!r}")
    size = min(d, int(K) + int(extra))
    # the solver's dense algebra in float64 torch, on the model's device: numpy's BLAS threads
    # would compete with torch's for the cores between the batched products
    dense = {"dtype": torch.float64, "device": point.device}
    with _eval_mode(f):
        apply = _JacobianProducts(f, point)
        if d <= 4 * size:  # too small for an iteration to pay: the full symmetrised Jacobian
            vals, vecs = torch.linalg.eigh(apply(torch.eye(d, **dense)))
            order = torch.argsort(vals, descending=True)[:K]
            return TopEigenpairs(_to_numpy(vals[order]), _to_numpy(vecs[:, order]), apply.products, 0, apply.calls)
        X = torch.as_tensor(np.random.default_rng(seed).standard_normal((d, size)), **dense)
        if start is not None:
            start = torch.as_tensor(np.asarray(start, dtype=np.float64).reshape(d, -1)[:, :size], **dense)
            X[:, : start.shape[1]] = start
        basis = torch.linalg.qr(X)[0]
        images = apply(basis)
        iterations = 0
        while True:
            iterations += 1
            theta, C = torch.linalg.eigh(0.5 * (basis.T @ images + images.T @ basis))
            theta, C = theta.flip(0), C.flip(1)
            ritz, ritz_images = basis @ C[:, :size], images @ C[:, :size]
            residuals = ritz_images - ritz * theta[:size]
            norms = torch.linalg.vector_norm(residuals, dim=0) / max(float(theta[0].abs()), np.finfo(float).tiny)
            if bool(torch.all(norms[:K] <= tol)) or iterations == max_iter:
                break
            if basis.shape[1] + size > max_basis * size:  # thick restart: no new products
                keep = 2 * size
                basis, images = basis @ C[:, :keep], images @ C[:, :keep]
            new = _orthonormal_complement(residuals[:, norms > tol], basis)
            if new.shape[1] == 0 or basis.shape[1] + new.shape[1] > d:
                break
            basis, images = torch.cat([basis, new], dim=1), torch.cat([images, apply(new)], dim=1)
    return TopEigenpairs(_to_numpy(theta[:K]), _to_numpy(ritz[:, :K]), apply.products, iterations, apply.calls)


def asymmetry(J: np.ndarray) -> float:
    """``‖J − Jᵀ‖_F / ‖J‖_F`` (0 for a symmetric matrix; 0 for J = 0)."""
    J = _check_square(J)
    norm = np.linalg.norm(J)
    return 0.0 if norm == 0 else float(np.linalg.norm(J - J.T) / norm)


def asymmetry_estimate(f: TorchFn, y, probes: int = 32, seed: int = 0) -> float:
    """:func:`asymmetry` ``‖J − Jᵀ‖_F / ‖J‖_F`` of ``f`` at ``y`` without forming ``J``: Hutchinson's
    estimator, ``‖(J − Jᵀ) V‖_F / ‖J V‖_F`` for ``probes`` Gaussian directions ``V`` (d, probes),
    both norms' squares unbiased.  Costs ``2 · probes`` products in one batched call; its relative
    error shrinks as ``1/√probes`` (exact, 0, for a symmetric ``J``)."""
    if isinstance(probes, bool) or not isinstance(probes, (int, np.integer)) or probes < 1:
        raise ConfigError(f"probes must be a positive integer, got {probes!r}")
    point = _as_point(f, y)
    V = torch.as_tensor(np.random.default_rng(seed).standard_normal((len(point), int(probes))), device=point.device)
    with _eval_mode(f):
        forward, backward = _JacobianProducts(f, point).pair(V)
    norm = float(torch.linalg.vector_norm(forward))
    return float(torch.linalg.vector_norm(forward - backward)) / norm if norm > 0 else 0.0


def homogeneity_error(f: TorchFn, y, J: np.ndarray) -> float:
    """``‖f(y) − J y‖ / ‖f(y)‖`` (0 when ``f`` is locally linear without offset)."""
    J = _check_square(J)
    with _eval_mode(f), torch.no_grad():
        point = _as_point(f, y)
        out = _to_numpy(f(point))
    y64 = point.to("cpu", torch.float64).numpy()
    norm = np.linalg.norm(out)
    return 0.0 if norm == 0 else float(np.linalg.norm(out - J @ y64) / norm)


def _residual_sigma(f: TorchFn, y) -> float:
    """Noise level estimated from the residual, ``‖f(y) − y‖ / √d``."""
    with _eval_mode(f), torch.no_grad():
        point = _as_point(f, y)
        return float(torch.linalg.vector_norm((f(point) - point).double()) / len(point) ** 0.5)


# --------------------------------------------------------------------------- path analysis


@dataclass
class PathJacobians:
    """Jacobian eigenbases along one or more sampling paths.

    Step ``s = 0..S`` indexes the path as sampled (``s = 0`` the initial noise, ``s = S`` the
    generated image); ``t = S − s`` follows the paper (``t = 0`` the final image).  Arrays
    have a leading sample axis of length ``m`` (the number of paths analysed).

    Attributes
    ----------
    t : ndarray (S+1,)
    sigma : ndarray (m, S+1)
        Noise level at each point: as given, or estimated as ``‖f(y) − y‖/√d``.
    sin_theta : ndarray (m, S+1, K)
        ``sqrt(1 − <v_i^t, v_i^0>²)`` for the top ``K`` eigenvectors of the symmetrized
        Jacobian (0 at ``t = 0``).  Eigenvectors are matched by index, as in the paper,
        so near-degenerate eigenvalues that swap order show up as large angles.
    sin_theta_subspace : ndarray (m, S+1, K)
        ``sqrt(1 − ‖V_0ᵀ v_i^t‖²)`` with ``V_0`` the top ``K`` eigenvectors at ``t = 0``: the
        angle between ``v_i^t`` and the reference *subspace*, insensitive to reordering
        within it.
    eigvals : ndarray (m, S+1, d)
        Eigenvalues of ``(J + Jᵀ)/2``, descending: the shrinkage factors.
    vectors : ndarray (m, S+1, d, K), float32
        The top ``K`` eigenvectors (columns).
    asymmetry : ndarray (m, S+1)
        ``‖J − Jᵀ‖_F / ‖J‖_F``.
    homogeneity : ndarray (m, S+1)
        ``‖f(y) − J y‖ / ‖f(y)‖``.
    """

    t: np.ndarray
    sigma: np.ndarray
    sin_theta: np.ndarray
    sin_theta_subspace: np.ndarray
    eigvals: np.ndarray
    vectors: np.ndarray
    asymmetry: np.ndarray
    homogeneity: np.ndarray

    @property
    def K(self) -> int:
        return self.sin_theta.shape[-1]

    def table(self) -> pd.DataFrame:
        """Long format, one row per (sample, t, index): ``sample, step, t, sigma, index,
        sin_theta, sin_theta_subspace, eigval, asymmetry, homogeneity``."""
        m, S1, K = self.sin_theta.shape
        sample, step, index = np.meshgrid(np.arange(m), np.arange(S1), np.arange(K), indexing="ij")
        return pd.DataFrame(
            {
                "sample": sample.ravel(),
                "step": step.ravel(),
                "t": self.t[step].ravel(),
                "sigma": self.sigma[sample, step].ravel(),
                "index": index.ravel(),
                "sin_theta": self.sin_theta.ravel(),
                "sin_theta_subspace": self.sin_theta_subspace.ravel(),
                "eigval": self.eigvals[:, :, :K].ravel(),
                "asymmetry": self.asymmetry[sample, step].ravel(),
                "homogeneity": self.homogeneity[sample, step].ravel(),
            }
        )


def _check_path(path, sigma) -> tuple[np.ndarray, np.ndarray | None]:
    path = np.asarray(path, dtype=np.float64)
    if path.ndim == 2:
        path = path[:, None, :]
    if path.ndim != 3 or path.shape[0] < 1:
        raise DataError(f"path must have shape (steps+1, d) or (steps+1, n, d), got {path.shape}")
    if sigma is not None:
        sigma = np.asarray(sigma, dtype=np.float64)
        if sigma.ndim == 1:
            sigma = np.repeat(sigma[:, None], path.shape[1], axis=1)
        if sigma.shape != path.shape[:2]:
            raise DataError(f"sigma must have shape ({path.shape[0]},) or {path.shape[:2]}, got {sigma.shape}")
    return path, sigma


def _at_level(f, sigma: float | None, label: int | None = None, guidance: float = 0.0):
    """``f`` as a map (d,) -> (d,): a noise-conditional model fixed at ``sigma`` (and ``label``)."""
    if not getattr(f, "conditional", False):
        return f
    from lindiff.deep.models import FixedLevel

    return FixedLevel(f, sigma, label, guidance)


#: What a control hands :func:`path_spectra` at one point: ``(J (d, d), homogeneity error ‖f(y) − J y‖
#: / ‖f(y)‖, residual noise estimate ‖f(y) − y‖ / √d)``.
PointJacobian = tuple[np.ndarray, float, float]


def _one_path(jacobian_at: Callable[[int, np.ndarray], PointJacobian], points: np.ndarray, K: int,
              bar) -> dict[str, np.ndarray]:
    """Spectra along one path ``points`` (S+1, d): ``jacobian_at(s, y)`` gives the Jacobian (and
    the two point statistics) at step ``s``."""
    S1, d = points.shape
    eigvals = np.empty((S1, d))
    vectors = np.empty((S1, d, K), dtype=np.float32)
    asym, homog, sig = np.empty(S1), np.empty(S1), np.empty(S1)
    for s, y in enumerate(points):
        J, homog[s], sig[s] = jacobian_at(s, y)
        vals, vecs = symmetric_eigh(J)
        eigvals[s], vectors[s] = vals, vecs[:, :K]
        asym[s] = asymmetry(J)
        if bar is not None:
            bar.update(1)
    final, along = vectors[-1].astype(np.float64), vectors.astype(np.float64)
    cos = np.einsum("di,sdi->si", final, along)
    sin = np.sqrt(np.clip(1.0 - cos**2, 0.0, 1.0))
    in_span = np.einsum("dk,sdi->sik", final, along)  # <v_k^0, v_i^t>, k < K
    sin_span = np.sqrt(np.clip(1.0 - np.sum(in_span**2, axis=2), 0.0, 1.0))
    sin[-1] = sin_span[-1] = 0.0
    return {"eigvals": eigvals, "vectors": vectors, "asymmetry": asym, "homogeneity": homog,
            "sigma": sig, "sin_theta": sin, "sin_theta_subspace": sin_span}


def path_spectra(jacobian_at: Callable[[int, int, np.ndarray], PointJacobian], path, K: int, sigma=None,
                 progress: bool = False) -> PathJacobians:
    """Jacobian eigenbases along path(s), the Jacobian of each point given by ``jacobian_at``.

    The core of :func:`path_jacobian_analysis` (a torch model's Jacobian by autograd), open to
    any denoiser whose Jacobian is known otherwise (Fig. 7's controls: a closed form, a fixed
    matrix).

    Parameters
    ----------
    jacobian_at : callable (j, s, y) -> (J, homogeneity error, residual sigma)
        The Jacobian (d, d) at point ``y`` (d,), step ``s`` of path ``j``; see :data:`PointJacobian`.
    path : array (S+1, d) or (S+1, n, d)
    K : int
        Number of leading eigenvectors traced, ``1 <= K <= d``.
    sigma : array (S+1,) or (S+1, n), optional
        The points' noise levels; default: the residual estimates ``jacobian_at`` returns.
    progress : bool
        tqdm bar over Jacobians on stderr.
    """
    path, sigma = _check_path(path, sigma)
    S1, n, d = path.shape
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= d:
        raise ConfigError(f"K must be an integer in [1, d={d}], got K={K!r}")
    bar = None
    if progress:
        from lindiff.progress import progress_bar

        bar = progress_bar(total=S1 * n, desc="path Jacobians")
    try:
        runs = [_one_path(lambda s, y, j=j: jacobian_at(j, s, y), path[:, j], int(K), bar) for j in range(n)]
    finally:
        if bar is not None:
            bar.close()
    stacked = {key: np.stack([r[key] for r in runs]) for key in runs[0]}
    return PathJacobians(
        t=np.arange(S1)[::-1].copy(),
        sigma=stacked["sigma"] if sigma is None else sigma.T.copy(),
        sin_theta=stacked["sin_theta"],
        sin_theta_subspace=stacked["sin_theta_subspace"],
        eigvals=stacked["eigvals"],
        vectors=stacked["vectors"],
        asymmetry=stacked["asymmetry"],
        homogeneity=stacked["homogeneity"],
    )


def path_jacobian_analysis(
    f: TorchFn,
    path,
    K: int,
    sigma=None,
    method: str = "auto",
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
    labels=None,
    guidance: float = 0.0,
) -> PathJacobians:
    """Jacobian eigenbasis of ``f`` at every point of sampling path(s) (Fig. 7).

    Parameters
    ----------
    f : callable (d,) -> (d,), or a ConditionalDenoiser
        The denoiser (a module is used in eval mode).  A noise-conditional model is analysed at
        each point's level, ``y ↦ D(y, sigma)`` (its x₀-estimate; ``sigma`` is then required).
    path : array (S+1, d) or (S+1, n, d)
        Points ``x_T … x_0`` as returned by :mod:`lindiff.deep.sample` (last = generated).
    K : int
        Number of leading eigenvectors traced.
    sigma : array (S+1,) or (S+1, n), optional
        Noise level of each point (e.g. the sampler's); default: ``‖f(y) − y‖/√d``.
    method, chunk_size
        Passed to :func:`jacobian`.
    progress : bool
        tqdm bar over Jacobians on stderr.
    labels : array (n,) of int, optional
        A class-conditional model: the class each path was sampled with; with ``guidance`` (its
        weight) the Jacobian is that of the guided x₀-estimate the sampler used.

    Returns
    -------
    PathJacobians (``.table()`` for the long-format DataFrame).
    """
    path, sigma = _check_path(path, sigma)
    S1, n, d = path.shape
    labels, guidance = check_conditioning(f, labels, n, guidance)
    if sigma is None and getattr(f, "conditional", False):
        raise ConfigError("sigma: a noise-conditional model's Jacobian needs the noise level of every point")

    def jacobian_at(j: int, s: int, y: np.ndarray) -> PointJacobian:
        f_s = _at_level(f, None if sigma is None else sigma[s, j], None if labels is None else int(labels[j]),
                        guidance)
        J = jacobian(f_s, y, method, chunk_size)
        return J, homogeneity_error(f_s, y, J), _residual_sigma(f_s, y)

    return path_spectra(jacobian_at, path, K, sigma, progress)
