"""Benchmark: the top-K eigenpairs of a denoiser's symmetrised Jacobian, full vs matrix-free, in one run.

    python benchmarks/bench_topk_jacobian.py                 # d = 784 (28x28) and 1024 (32x32), K = 20
    python benchmarks/bench_topk_jacobian.py --K 10 --sizes 28

For each image size: a random UNet of the MNIST preset's architecture (the cost does not depend on
the weights), the full Jacobian (``jacrev``) and ``eigh`` of its symmetric part, against
:func:`lindiff.deep.jacobian.top_symmetric_eigenpairs` from a random start and warm-started from the
eigenvectors of a nearby point (as along a sampling path). Prints seconds, the ratio to the full
method, the products spent and the eigenvalue error; ratios are what to compare.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lindiff.deep.jacobian import jacobian, symmetric_eigh, top_symmetric_eigenpairs
from lindiff.deep.models import BFBatchNorm2d, FlatDenoiser, build_denoiser
from lindiff.deep.train import default_config


def random_model(side: int, seed: int = 0) -> FlatDenoiser:
    torch.manual_seed(seed)
    cfg = default_config("mnist").model
    model = FlatDenoiser(build_denoiser(cfg), (side, side), cfg)
    for module in model.modules():
        if isinstance(module, BFBatchNorm2d):
            module.running_sd.uniform_(0.5, 2.0)
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 32])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'d':>5} {'method':<22} {'seconds':>8} {'ratio':>6} {'products':>9} {'max rel eigval err':>18}")
    for side in args.sizes:
        model, d = random_model(side), side * side
        y = rng.uniform(size=d).astype(np.float32)
        near = y + 0.01 * rng.standard_normal(d).astype(np.float32)
        jacobian(model, y, "jacrev")  # warm-up
        start = time.perf_counter()
        vals, _ = symmetric_eigh(jacobian(model, near, "jacrev"))
        full = time.perf_counter() - start
        print(f"{d:>5} {'full (jacrev + eigh)':<22} {full:>8.3f} {1.0:>6.2f} {2 * d:>9} {0.0:>18.1e}")
        previous = top_symmetric_eigenpairs(model, y, args.K)
        for name, kwargs in (("matrix-free, cold", {}), ("matrix-free, warm", {"start": previous.vectors})):
            start = time.perf_counter()
            top = top_symmetric_eigenpairs(model, near, args.K, **kwargs)
            seconds = time.perf_counter() - start
            error = float(np.max(np.abs(top.eigvals - vals[: args.K]) / np.abs(vals[: args.K])))
            print(f"{d:>5} {name:<22} {seconds:>8.3f} {seconds / full:>6.2f} {top.products:>9} {error:>18.1e}")


if __name__ == "__main__":
    main()
