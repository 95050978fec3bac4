"""Benchmark: the top-K eigenpairs of a denoiser's symmetrised Jacobian, full vs matrix-free, in one run.

    python benchmarks/bench_topk_jacobian.py                 # d = 784 (28x28) and 1024 (32x32), K = 20
    python benchmarks/bench_topk_jacobian.py --K 10 --sizes 28
    python benchmarks/bench_topk_jacobian.py --model M/model.pt --path M/ddpm_vplinear_T100/sample_path.npz

Random models (the default): for each image size a random UNet of the MNIST preset's architecture
(the cost does not depend on the weights, the convergence does), the full Jacobian (``jacrev``) and
``eigh`` of its symmetric part, against :func:`lindiff.deep.jacobian.top_symmetric_eigenpairs` from
a random start and warm-started from the eigenvectors of a nearby point; then the asymmetry
statistic from the full Jacobian against :func:`lindiff.deep.jacobian.asymmetry_estimate`.

A trained model (``--model``, ``--path``: the workflow's ``model.pt`` and a ``sample_path.npz`` of
it): along its first path, at Fig. 7's points (``--n-points`` log-spaced in σ up to
``--sigma-max``), the full decomposition against the matrix-free one warm-started from the previous
point's eigenvectors, as a path analysis would run it.

Prints seconds, the ratio to the full method (> 1: slower), the products and calls spent and the
eigenvalue error; ratios are what to compare.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lindiff.deep.jacobian import (
    DEFAULT_CHUNK_SIZE,
    asymmetry,
    asymmetry_estimate,
    jacobian,
    symmetric_eigh,
    top_symmetric_eigenpairs,
)
from lindiff.deep.models import BFBatchNorm2d, FlatDenoiser, build_denoiser
from lindiff.deep.train import default_config

HEADER = f"{'d':>5} {'sigma':>6} {'method':<24} {'seconds':>8} {'ratio':>6} {'products':>9} {'calls':>6} {'error':>8}"


def random_model(side: int, seed: int = 0) -> FlatDenoiser:
    torch.manual_seed(seed)
    cfg = default_config("mnist").model
    model = FlatDenoiser(build_denoiser(cfg), (side, side), cfg)
    for module in model.modules():
        if isinstance(module, BFBatchNorm2d):
            module.running_sd.uniform_(0.5, 2.0)
    return model.eval()


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _row(d, sigma, name, seconds, full, products, calls, error) -> dict:
    print(f"{d:>5} {sigma:>6} {name:<24} {seconds:>8.3f} {seconds / full:>6.2f} {products:>9} {calls:>6} {error:>8.1e}")
    return {"d": d, "sigma": sigma, "method": name, "seconds": seconds, "ratio": seconds / full,
            "products": products, "calls": calls, "error": error}


def _full(f, y) -> tuple[np.ndarray, float]:
    """Eigenvalues of the full symmetrised Jacobian at ``y``, and the seconds they took."""
    (vals, _), seconds = _timed(lambda: symmetric_eigh(jacobian(f, y, "jacrev")))
    return vals, seconds


def _matrix_free(f, y, K: int, start, vals: np.ndarray, full: float, name: str, sigma: str = "-") -> tuple[dict, np.ndarray]:
    """The matrix-free top-K at ``y`` against the full eigenvalues ``vals``: its row, and its vectors."""
    top, seconds = _timed(lambda: top_symmetric_eigenpairs(f, y, K, start=start))
    error = float(np.max(np.abs(top.eigvals - vals[:K]) / np.abs(vals[:K])))
    return _row(len(y), sigma, name, seconds, full, top.products, top.calls, error), top.vectors


def _full_row(d: int, sigma: str, seconds: float) -> dict:
    return _row(d, sigma, "full (jacrev + eigh)", seconds, seconds, d, -(-d // DEFAULT_CHUNK_SIZE), 0.0)


def random_models(sizes, K: int, probes: int) -> list[dict]:
    rng, rows = np.random.default_rng(0), []
    for side in sizes:
        model, d = random_model(side), side * side
        y = rng.uniform(size=d).astype(np.float32)
        near = y + 0.01 * rng.standard_normal(d).astype(np.float32)
        jacobian(model, y, "jacrev")  # warm-up
        vals, full = _full(model, near)
        rows.append(_full_row(d, "-", full))
        previous = top_symmetric_eigenpairs(model, y, K)
        for name, start in (("matrix-free, cold", None), ("matrix-free, warm", previous.vectors)):
            rows.append(_matrix_free(model, near, K, start, vals, full, name)[0])
        exact, full = _timed(lambda: asymmetry(jacobian(model, near, "jacrev")))
        rows.append(_row(d, "-", "asymmetry, full", full, full, d, -(-d // DEFAULT_CHUNK_SIZE), 0.0))
        estimate, seconds = _timed(lambda: asymmetry_estimate(model, near, probes))
        rows.append(_row(d, "-", f"asymmetry, {probes} probes", seconds, full, 2 * probes, 1, abs(estimate - exact) / exact))
    return rows


def along_path(model_file: str, path_file: str, K: int, n_points: int, sigma_max: float) -> list[dict]:
    """Full decompositions at every point first, then the matrix-free chain (each method's runs
    together, as a path analysis runs one of them)."""
    from lindiff.deep.models import FixedLevel
    from lindiff.deep.train import load_model
    from lindiff.studies.fig7 import analysis_points

    model, stored = load_model(model_file), np.load(path_file)
    chosen = analysis_points(stored["sigma"].T, n_points, sigma_max)
    points, sigma = stored["points"][chosen][:, 0].astype(np.float64), stored["sigma"][chosen][:, 0]
    label = int(stored["labels"][0]) if "labels" in stored.files else None
    guidance = float(stored["guidance"]) if "guidance" in stored.files else 0.0
    maps = [FixedLevel(model, float(level), label, guidance) if model.conditional else model for level in sigma]
    jacobian(maps[0], points[0], "jacrev")  # warm-up
    full = [_full(f, y) for f, y in zip(maps, points)]
    rows, previous = [], None
    for f, y, level, (vals, seconds) in zip(maps, points, sigma, full):
        rows.append(_full_row(len(y), f"{level:.3f}", seconds))
        row, previous = _matrix_free(f, y, K, previous, vals, seconds, "matrix-free, " + ("warm" if len(rows) > 1 else "cold"),
                                     f"{level:.3f}")
        rows.append(row)
    total_full, total_free = (sum(r["seconds"] for r in rows[i::2]) for i in (0, 1))
    print(f"path total: full {total_full:.2f} s, matrix-free {total_free:.2f} s, ratio {total_free / total_full:.2f}")
    return rows


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 32])
    parser.add_argument("--probes", type=int, default=32, help="directions of the asymmetry estimate")
    parser.add_argument("--model", help="a trained model.pt (with --path)")
    parser.add_argument("--path", help="its sample_path.npz")
    parser.add_argument("--n-points", type=int, default=30)
    parser.add_argument("--sigma-max", type=float, default=1.0)
    args = parser.parse_args(argv)
    if (args.model is None) != (args.path is None):
        parser.error("--model and --path go together")
    print(HEADER)
    if args.model:
        return along_path(args.model, args.path, args.K, args.n_points, args.sigma_max)
    return random_models(args.sizes, args.K, args.probes)


if __name__ == "__main__":
    main()
