"""Benchmark: naive vs exact learn, against the eigendecomposition floor, in one run.

    python benchmarks/bench_learn.py                 # digits and MNIST (n=60000, d=784, T=65)
    python benchmarks/bench_learn.py --skip-mnist    # digits only
    python benchmarks/bench_learn.py --T 20          # shorter chains

For each data set it measures, in the same process and run:

* ``naive`` and ``exact`` learn (``lindiff.linear.learn.learn_bases``), the exact one with its
  default eigensolver (mixed precision at d >= 256) and with ``precision="double"``: wall
  seconds and peak memory allocated during the call (``tracemalloc``, which traces numpy's
  buffers);
* the eigh floor ``(T + 1) · eigh(d × d)``: full ``scipy.linalg.eigh`` of a noisy
  covariance of the same size, timed ``T + 1`` times;

and prints the ratios (naive / exact time, exact / floor, exact / naive memory).  Machines
here are noisy: compare the ratios, not the absolute seconds.

MNIST is read from ``--mnist-dir`` (default: ``$LINDIFF_MNIST_DIR``, else the project's
``../shared/data/mnist`` when present, else the download cache).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.linalg

from lindiff.data import load_digits, load_mnist
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule


def default_mnist_dir() -> Path | None:
    if os.environ.get("LINDIFF_MNIST_DIR"):
        return Path(os.environ["LINDIFF_MNIST_DIR"])
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
    return shared if shared.is_dir() else None


def measure(fn) -> tuple[float, float, object]:
    """(seconds, peak MiB allocated during the call, result)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def eigh_floor(X: np.ndarray, levels: int, sigma: float, seed: int = 0) -> float:
    """Seconds for ``levels`` full eigendecompositions of a d x d noisy covariance.

    Uses ``scipy.linalg.eigh`` (LAPACK ``syevd``), the library lindiff's learn calls.
    """
    rng = np.random.default_rng(seed)
    n, d = X.shape
    noise = rng.standard_normal((d, d))
    cov = X.T @ X / n + sigma**2 * (noise @ noise.T) / d
    scipy.linalg.eigh(cov)  # warm up
    start = time.perf_counter()
    for _ in range(levels):
        scipy.linalg.eigh(cov)
    return time.perf_counter() - start


def bench(name: str, X: np.ndarray, T: int, k: int, sigma_max: float) -> dict:
    schedule = make_schedule("linear", T, sigma_max=sigma_max)
    row = {"data": name, "n": X.shape[0], "d": X.shape[1], "T": T, "k": k}
    row["floor_s"] = eigh_floor(X, T + 1, sigma_max)
    runs = {
        "naive": {"method": "naive"},
        "exact": {"method": "exact"},  # precision="auto": mixed where d >= 256
        "exact_double": {"method": "exact", "precision": "double"},
    }
    for label, kwargs in runs.items():
        seconds, peak, _ = measure(lambda: learn_bases(X, schedule, k, seed=0, **kwargs))
        row[f"{label}_s"], row[f"{label}_peak_mib"] = seconds, peak
        print(f"  {name:7s} {label:12s} {seconds:8.2f} s   peak {peak:8.1f} MiB", flush=True)
    row["speedup"] = row["naive_s"] / row["exact_s"]
    row["speedup_double"] = row["naive_s"] / row["exact_double_s"]
    row["exact_over_floor"] = row["exact_s"] / row["floor_s"]
    row["memory_ratio"] = row["exact_peak_mib"] / row["naive_peak_mib"]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=65)
    parser.add_argument("--k", type=int, default=30)
    parser.add_argument("--sigma-max", type=float, default=10.0)
    parser.add_argument("--mnist-dir", type=Path, default=default_mnist_dir())
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    rows = []
    print(f"bench_learn: T={args.T}, k={args.k}, linear schedule, sigma_max={args.sigma_max}")
    rows.append(bench("digits", load_digits().X, args.T, args.k, args.sigma_max))
    if not args.skip_mnist:
        mnist = load_mnist(args.mnist_dir, split="train")
        rows.append(bench("mnist", mnist.X, args.T, args.k, args.sigma_max))

    print()
    header = (
        f"{'data':7s} {'n':>6s} {'d':>4s} {'naive s':>8s} {'exact s':>8s} {'double s':>8s} {'floor s':>8s} "
        f"{'naive/exact':>11s} {'(double)':>8s} {'exact/floor':>11s} {'naive MiB':>9s} {'exact MiB':>9s} "
        f"{'mem ratio':>9s}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['data']:7s} {r['n']:6d} {r['d']:4d} {r['naive_s']:8.2f} {r['exact_s']:8.2f} "
            f"{r['exact_double_s']:8.2f} {r['floor_s']:8.2f} {r['speedup']:11.1f} {r['speedup_double']:8.1f} "
            f"{r['exact_over_floor']:11.2f} "
            f"{r['naive_peak_mib']:9.1f} {r['exact_peak_mib']:9.1f} {r['memory_ratio']:9.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
