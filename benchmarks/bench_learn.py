"""Benchmark: naive vs exact learn, against the eigendecomposition floor, in one run.

    python benchmarks/bench_learn.py                 # digits and MNIST (n=60000, d=784, T=65)
    python benchmarks/bench_learn.py --skip-mnist    # digits only
    python benchmarks/bench_learn.py --T 20          # shorter chains

For each data set it measures, in the same process and run:

* ``naive`` and ``exact`` learn (``lindiff.linear.learn.learn_bases``), the exact one with its
  default eigensolver (mixed precision at d >= 256) and with ``precision="double"``: wall
  seconds and peak memory allocated during the call (``tracemalloc``, which traces numpy's
  buffers); the naive learn once, the exact variants ``--repeats`` times each, alternately,
  best time kept;
* the eigh floor ``(T + 1) · eigh(d × d)``: full ``scipy.linalg.eigh`` of a noisy
  covariance of the same size, timed ``T + 1`` times;
* at d >= 256, the profile of one exact level: each kernel it needs timed alone (normal
  draws, ``syrk``, ``lauum``, Cholesky, the top-k eigh) and their sum against the measured
  per-level cost ``(exact − one-off data Gram) / T``;

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
from lindiff.linear.learn import data_moments, factor_from_gram, learn_bases
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


def kernel_profile(X: np.ndarray, k: int, sigma: float, repeats: int = 10, seed: int = 0) -> dict:
    """Milliseconds of each kernel one level of the exact learn needs, timed alone at this d.

    The level (``lindiff.linear.learn._GaussianWalk.step`` and ``top_eigh``) draws a
    ``d x d`` Gaussian and a Bartlett factor, forms ``syrk(F + H)`` and ``lauum`` of the
    factor, a Cholesky, and the top-``k`` eigenpairs; their sum is the floor of this
    algorithm, against which the measured per-level cost is set.
    """
    from lindiff.linear.learn import _bartlett_factor, lower_gram, top_eigh

    rng = np.random.default_rng(seed)
    n, d = X.shape
    factor = np.asfortranarray(np.linalg.cholesky(X.T @ X + n * sigma**2 * np.eye(d)))
    gram = lower_gram(factor)
    bartlett = _bartlett_factor(d, n - d, rng)

    def ms(fn) -> float:
        fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - start) / repeats * 1e3

    kernels = {
        "normals d x d (H)": lambda: rng.standard_normal((d, d)),
        "Bartlett factor (d(d-1)/2 normals)": lambda: _bartlett_factor(d, n - d, rng),
        "syrk (F + H)": lambda: lower_gram(factor),
        "lauum (Bartlett)": lambda: scipy.linalg.lapack.dlauum(bartlett, lower=1),
        "Cholesky": lambda: scipy.linalg.lapack.dpotrf(gram, lower=1, clean=1),
        f"top-{k} eigh, mixed": lambda: top_eigh(gram, k, precision="mixed"),
        f"top-{k} eigh, double": lambda: top_eigh(gram, k, precision="double"),
        "full eigh (the floor's unit)": lambda: scipy.linalg.eigh(gram, lower=True, check_finite=False),
    }
    return {name: ms(fn) for name, fn in kernels.items()}


def bench(name: str, X: np.ndarray, T: int, k: int, sigma_max: float, repeats: int = 2) -> dict:
    schedule = make_schedule("linear", T, sigma_max=sigma_max)
    row = {"data": name, "n": X.shape[0], "d": X.shape[1], "T": T, "k": k}
    row["floor_s"] = eigh_floor(X, T + 1, sigma_max)
    runs = {
        "naive": {"method": "naive"},
        "exact": {"method": "exact"},  # precision="auto": mixed where d >= 256
        "exact_double": {"method": "exact", "precision": "double"},
    }
    # the naive learn once (it is the slow reference); the two exact variants alternately,
    # `repeats` times each, best time kept (as timeit does: the least-disturbed run)
    order = ["naive"] + ["exact", "exact_double"] * repeats
    for label in order:
        seconds, peak, _ = measure(lambda: learn_bases(X, schedule, k, seed=0, **runs[label]))
        print(f"  {name:7s} {label:12s} {seconds:8.2f} s   peak {peak:8.1f} MiB", flush=True)
        row[f"{label}_s"] = min(seconds, row.get(f"{label}_s", np.inf))
        row[f"{label}_peak_mib"] = max(peak, row.get(f"{label}_peak_mib", 0.0))
    if X.shape[1] >= 256:  # the per-level kernels, where they dominate
        row["kernels_ms"] = kernel_profile(X, k, sigma_max / T)
        start = time.perf_counter()
        factor_from_gram(*data_moments(X, centered=False)[:2])
        row["one_off_s"] = time.perf_counter() - start  # the data's Gram and its factor
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
    parser.add_argument("--repeats", type=int, default=2, help="runs of each exact variant (best kept)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    rows = []
    print(f"bench_learn: T={args.T}, k={args.k}, linear schedule, sigma_max={args.sigma_max}")
    rows.append(bench("digits", load_digits().X, args.T, args.k, args.sigma_max, args.repeats))
    if not args.skip_mnist:
        mnist = load_mnist(args.mnist_dir, split="train")
        rows.append(bench("mnist", mnist.X, args.T, args.k, args.sigma_max, args.repeats))

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
    for r in rows:
        if "kernels_ms" not in r:
            continue
        kernels = r["kernels_ms"]
        names = list(kernels)
        level_ms = sum(kernels[name] for name in names[:5]) + kernels[names[5]]
        measured_ms = (r["exact_s"] - r["one_off_s"]) / r["T"] * 1e3
        print(f"\n{r['data']}: kernels of one exact level, timed alone (ms)")
        for name, value in kernels.items():
            print(f"  {name:36s} {value:7.1f}")
        print(f"  {'sum of a level (mixed eigh)':36s} {level_ms:7.1f}")
        print(
            f"  one-off (data Gram X^T X and its eigh) {r['one_off_s']:.2f} s; measured per level "
            f"(exact - one-off) / T = {measured_ms:.1f} ms = {measured_ms / level_ms:.2f}x the kernels' "
            f"sum; the kernels' sum = {level_ms / kernels[names[-1]]:.2f}x a full eigh of the same matrix"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
