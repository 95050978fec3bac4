"""Benchmark: full Jacobians of a denoiser by the per-pixel loop vs batched methods, in one run.

    python benchmarks/bench_jacobian.py                    # MNIST blind UNet, 8x32 BF-CNN, MNIST DDPM UNet; 28x28
    python benchmarks/bench_jacobian.py --model results/model.pt   # a trained model instead
    python benchmarks/bench_jacobian.py --skip-bfcnn --repeats 5

For each model and device (CPU always, CUDA when ``torch.cuda.is_available()``) it computes
the ``d × d`` Jacobian at the same point with

* ``loop``: one autograd backward per output pixel (the reference),
* ``jacrev``: ``torch.func.jacrev`` in chunks of ``DEFAULT_CHUNK_SIZE`` rows (the default) and
  ``jacrev/all`` (all ``d`` rows in one batch, the default before chunking),
* ``jacfwd``: vmapped ``torch.func.jvp`` (chunked alike),
* ``gated``: the frozen-ReLU batched forward (bias-free piecewise-linear nets only) and ``gated/all``,

prints the best-of-``repeats`` seconds (after a warm-up call; ``--loop-repeats`` for the loop), the
ratios to the loop and to jacrev, and the largest absolute difference from the loop's
Jacobian, which must be <= 1e-5 (exit status 1 otherwise).

Models: the architecture of ``lindiff.deep.train.default_config("mnist")`` (random weights
with perturbed batch-norm statistics unless ``--model`` is given: the cost does not depend
on the weights), for comparison with numbers quoted elsewhere an 8-layer 32-channel
BF-CNN, and the class-conditional DDPM UNet of Fig. 7 on MNIST (``mnist_ddpm`` with 10 classes,
at σ = 0.3 and class 3; ``--skip-ddpm`` leaves it out).  Machines here are shared: compare the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from lindiff.deep.jacobian import DEFAULT_CHUNK_SIZE, jacobian, jacobian_loop, supports_gating
from lindiff.deep.models import (
    BFBatchNorm2d,
    DenoiserConfig,
    FixedLevel,
    FlatDenoiser,
    build_denoiser,
    count_parameters,
    wrap_denoiser,
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


def ddpm_model(image_shape: tuple[int, int], seed: int = 0) -> FixedLevel:
    """The class-conditional MNIST DDPM UNet (random weights) at σ = 0.3, class 3: a map (d,) -> (d,)."""
    torch.manual_seed(seed)
    cfg = default_config("mnist_ddpm").model
    model = wrap_denoiser(DenoiserConfig(**{**cfg.__dict__, "classes": 10}), image_shape)
    return FixedLevel(model.eval(), 0.3, 3).eval()


def time_best(fn, repeats: int) -> tuple[float, np.ndarray]:
    result = fn()  # warm-up (oneDNN primitive creation, vmap tracing)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_model(
    name: str, model: torch.nn.Module, d: int, device: str, repeats: int, loop_repeats: int, seed: int
) -> list[dict]:
    model = model.to(device).eval()
    rng = np.random.default_rng(seed)
    y = np.clip(0.5 + 0.3 * rng.standard_normal(d), 0, 1).astype(np.float32)
    loop_s, reference = time_best(lambda: jacobian_loop(model, y), loop_repeats)
    rows = [{"model": name, "device": device, "method": "loop", "seconds": loop_s, "max_abs_diff": 0.0}]
    methods = [("jacrev", "jacrev", DEFAULT_CHUNK_SIZE), ("jacrev/all", "jacrev", None),
               ("jacfwd", "jacfwd", DEFAULT_CHUNK_SIZE)]
    if supports_gating(model):
        methods += [("gated", "gated", DEFAULT_CHUNK_SIZE), ("gated/all", "gated", None)]
    for label, method, chunk_size in methods:
        seconds, J = time_best(lambda m=method, c=chunk_size: jacobian(model, y, m, c), repeats)
        rows.append({"model": name, "device": device, "method": label, "seconds": seconds,
                     "max_abs_diff": float(np.abs(J - reference).max())})
    jacrev_s = rows[1]["seconds"]
    for row in rows:
        row["vs_loop"] = loop_s / row["seconds"]
        row["vs_jacrev"] = jacrev_s / row["seconds"]
        row["params"] = count_parameters(model)
        row["d"] = d
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
    parser.add_argument("--skip-ddpm", action="store_true", help="skip the class-conditional MNIST DDPM UNet")
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
    if not args.skip_ddpm:
        models.append(("mnist-ddpm class-cond.", ddpm_model(shape, args.seed)))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices {devices}, image {shape}")
    rows = []
    for device in devices:
        for name, model in models:
            rows += bench_model(name, model, shape[0] * shape[1], device, args.repeats, args.loop_repeats, args.seed)
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
