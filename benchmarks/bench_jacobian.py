"""Benchmark: full Jacobians of a denoiser by the per-pixel loop vs batched methods, in one run.

    python benchmarks/bench_jacobian.py                    # default MNIST model + 8x32 BF-CNN, 28x28
    python benchmarks/bench_jacobian.py --model results/model.pt   # a trained model instead
    python benchmarks/bench_jacobian.py --skip-bfcnn --repeats 5

For each model and device (CPU always, CUDA when ``torch.cuda.is_available()``) it computes
the ``d × d`` Jacobian at the same point with

* ``loop``: one autograd backward per output pixel (the reference),
* ``jacrev``: ``torch.func.jacrev`` (all rows at once) and ``jacrev/<c>`` (``chunk_size=c``),
* ``jacfwd``: vmapped ``torch.func.jvp``,
* ``gated``: the frozen-ReLU batched forward (bias-free piecewise-linear nets only),

prints the best-of-``repeats`` seconds (after a warm-up call; ``--loop-repeats`` for the loop), the
ratios to the loop and to jacrev, and the largest absolute difference from the loop's
Jacobian, which must be <= 1e-5 (exit status 1 otherwise).

Models: the architecture of ``lindiff.deep.train.default_config("mnist")`` (random weights
with perturbed batch-norm statistics unless ``--model`` is given: the cost does not depend
on the weights) and, for comparison with numbers quoted elsewhere, an 8-layer 32-channel
BF-CNN.  Machines here are shared: compare the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from lindiff.deep.jacobian import jacobian, jacobian_loop, supports_gating
from lindiff.deep.models import (
    BFBatchNorm2d,
    DenoiserConfig,
    FlatDenoiser,
    build_denoiser,
    count_parameters,
)
from lindiff.deep.train import default_config, load_model

TOLERANCE = 1e-5


def random_model(cfg: DenoiserConfig, image_shape: tuple[int, int], seed: int = 0) -> FlatDenoiser:
    """Random weights, batch-norm statistics perturbed so that no layer is trivially scaled."""
    torch.manual_seed(seed)
    model = FlatDenoiser(build_denoiser(cfg), image_shape, cfg)
    for module in model.modules():
        if isinstance(module, BFBatchNorm2d):
            module.running_sd.uniform_(0.5, 2.0)
    return model.eval()


def time_best(fn, repeats: int) -> tuple[float, np.ndarray]:
    result = fn()  # warm-up (oneDNN primitive creation, vmap tracing)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_model(
    name: str, model: FlatDenoiser, device: str, repeats: int, loop_repeats: int, chunk: int, seed: int
) -> list[dict]:
    model = model.to(device).eval()
    rng = np.random.default_rng(seed)
    y = np.clip(0.5 + 0.3 * rng.standard_normal(model.d), 0, 1).astype(np.float32)
    loop_s, reference = time_best(lambda: jacobian_loop(model, y), loop_repeats)
    rows = [{"model": name, "device": device, "method": "loop", "seconds": loop_s, "max_abs_diff": 0.0}]
    methods = [("jacrev", "jacrev", None), (f"jacrev/{chunk}", "jacrev", chunk), ("jacfwd", "jacfwd", None)]
    if supports_gating(model):
        methods.append(("gated", "gated", None))
    for label, method, chunk_size in methods:
        seconds, J = time_best(lambda m=method, c=chunk_size: jacobian(model, y, m, c), repeats)
        rows.append({"model": name, "device": device, "method": label, "seconds": seconds,
                     "max_abs_diff": float(np.abs(J - reference).max())})
    jacrev_s = rows[1]["seconds"]
    for row in rows:
        row["vs_loop"] = loop_s / row["seconds"]
        row["vs_jacrev"] = jacrev_s / row["seconds"]
        row["params"] = count_parameters(model)
        row["d"] = model.d
    return rows


def print_rows(rows: list[dict]) -> None:
    head = f"{'model':<28} {'device':<6} {'method':<11} {'seconds':>8} {'loop/this':>9} {'jacrev/this':>11} {'max|ΔJ|':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['model']:<28} {r['device']:<6} {r['method']:<11} {r['seconds']:8.3f} {r['vs_loop']:9.2f} "
              f"{r['vs_jacrev']:11.2f} {r['max_abs_diff']:9.1e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved model (lindiff.deep.train.save_model) to use as the default model")
    parser.add_argument("--skip-bfcnn", action="store_true", help="skip the 8-layer 32-channel BF-CNN")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per batched method (best is kept)")
    parser.add_argument("--loop-repeats", type=int, default=2, help="timed calls of the per-pixel loop")
    parser.add_argument("--chunk", type=int, default=196, help="chunk_size of the chunked jacrev")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    shape = (28, 28)
    if args.model:
        default = load_model(args.model)
        shape = default.image_shape
    else:
        default = random_model(default_config("mnist").model, shape, args.seed)
    models = [(f"default-mnist ({default.config.kind})", default)]
    if not args.skip_bfcnn:
        models.append(("bfcnn-8x32", random_model(DenoiserConfig(kind="bfcnn", channels=32, depth=8), shape, args.seed)))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices {devices}, image {shape}")
    rows = []
    for device in devices:
        for name, model in models:
            rows += bench_model(name, model, device, args.repeats, args.loop_repeats, args.chunk, args.seed)
    print_rows(rows)
    if args.json:
        from lindiff.artifacts import write_json

        write_json(args.json, {"rows": rows})
    bad = [r for r in rows if r["max_abs_diff"] > TOLERANCE]
    if bad:
        print(f"FAIL: {len(bad)} Jacobian(s) differ from the loop's by more than {TOLERANCE}", file=sys.stderr)
        return 1
    print(f"all Jacobians agree with the loop to <= {TOLERANCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
