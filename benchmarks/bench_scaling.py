"""Benchmark: how the learn scales with n, d and T (spiked data), measured in one run.

    python benchmarks/bench_scaling.py                     # n up to 10**6 (a few minutes)
    python benchmarks/bench_scaling.py --max-n 100000      # quicker
    python benchmarks/bench_scaling.py --plot scaling.png --json scaling.json

* **vs n** (d = 784): the exact learn from the data's Gram (``learn_bases_from_gram``) must
  stay flat: its per-level cost is O(d³) whatever n is.  The Gram itself is a one-off
  O(n d²) statistic, accumulated here in chunks (the 10**6 × 784 data never exists in
  memory at once) and timed separately; the naive learn is timed up to ``--naive-max-n``.
* **vs d** (n = 10**4) and **vs T** (d = 784, n = 10**4): the exact learn, with the eigh
  floor ``(T + 1) · eigh(d × d)`` measured alongside.

Ratios are printed relative to the first row of each table; machines here are noisy, so
compare ratios measured in the same run rather than absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.linalg

from lindiff.linear.learn import learn_bases, learn_bases_from_gram
from lindiff.linear.schedules import make_schedule

CHUNK = 50_000


def spiked_lambdas(rank: int = 30) -> np.ndarray:
    return 3.0 * 0.9 ** np.arange(rank)


def spiked_gram(d: int, n: int, floor: float = 0.1, seed: int = 0) -> tuple[np.ndarray, float]:
    """Gram ``Xᵀ X`` of spiked data (rank 30 + isotropic floor), accumulated in chunks.

    Returns ``(gram (d, d), seconds spent forming it)``; the random basis is fixed by ``seed``.
    """
    rng = np.random.default_rng(seed)
    lambdas = spiked_lambdas()
    basis = np.linalg.qr(rng.standard_normal((d, lambdas.size)))[0]
    gram = np.zeros((d, d))
    elapsed = 0.0
    for start in range(0, n, CHUNK):
        rows = min(CHUNK, n - start)
        chunk = (rng.standard_normal((rows, lambdas.size)) * lambdas) @ basis.T
        chunk += floor * rng.standard_normal((rows, d))
        tic = time.perf_counter()
        gram += chunk.T @ chunk
        elapsed += time.perf_counter() - tic
    return gram, elapsed


def spiked_data(d: int, n: int, floor: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lambdas = spiked_lambdas()
    basis = np.linalg.qr(rng.standard_normal((d, lambdas.size)))[0]
    return (rng.standard_normal((n, lambdas.size)) * lambdas) @ basis.T + floor * rng.standard_normal((n, d))


def timed(fn) -> float:
    tic = time.perf_counter()
    fn()
    return time.perf_counter() - tic


def eigh_floor(d: int, levels: int) -> float:
    a = np.random.default_rng(1).standard_normal((d, d))
    sym = a @ a.T
    scipy.linalg.eigh(sym)
    return timed(lambda: [scipy.linalg.eigh(sym) for _ in range(levels)])


def vs_n(ns, d, T, k, naive_max_n) -> list[dict]:
    schedule = make_schedule("linear", T, sigma_max=1.0)
    rows = []
    for n in ns:
        gram, gram_s = spiked_gram(d, n)
        exact_s = timed(lambda: learn_bases_from_gram(gram, n, schedule, k, seed=0))
        naive_s = float("nan")
        if n <= naive_max_n:
            X = spiked_data(d, n)
            naive_s = timed(lambda: learn_bases(X, schedule, k, method="naive", seed=0))
            del X
        rows.append({"n": n, "d": d, "T": T, "exact_s": exact_s, "gram_s": gram_s, "naive_s": naive_s})
        print(f"  n={n:>8d}  exact {exact_s:7.2f} s   gram {gram_s:7.2f} s   naive {naive_s:7.2f} s", flush=True)
    return rows


def vs_d(ds, n, T, k) -> list[dict]:
    schedule = make_schedule("linear", T, sigma_max=1.0)
    rows = []
    for d in ds:
        gram, _ = spiked_gram(d, n)
        exact_s = timed(lambda: learn_bases_from_gram(gram, n, schedule, min(k, d), seed=0))
        floor_s = eigh_floor(d, T + 1)
        rows.append({"n": n, "d": d, "T": T, "exact_s": exact_s, "floor_s": floor_s})
        print(f"  d={d:>5d}  exact {exact_s:7.2f} s   eigh floor {floor_s:7.2f} s", flush=True)
    return rows


def vs_T(Ts, n, d, k) -> list[dict]:
    gram, _ = spiked_gram(d, n)
    rows = []
    for T in Ts:
        schedule = make_schedule("linear", T, sigma_max=1.0)
        exact_s = timed(lambda: learn_bases_from_gram(gram, n, schedule, k, seed=0))
        rows.append({"n": n, "d": d, "T": T, "exact_s": exact_s, "per_level_ms": 1000 * exact_s / (T + 1)})
        print(f"  T={T:>5d}  exact {exact_s:7.2f} s   per level {1000 * exact_s / (T + 1):6.1f} ms", flush=True)
    return rows


def print_ratios(title: str, rows: list[dict], axis: str, column: str) -> None:
    base = rows[0][column]
    print(f"\n{title}: {column} relative to {axis}={rows[0][axis]}")
    for row in rows:
        print(f"  {axis}={row[axis]:>8}  {row[column] / base:6.2f}x")


def plot(results: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    from lindiff.plots import save_figure

    fig = Figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    n_rows = results["vs_n"]
    axes[0].loglog([r["n"] for r in n_rows], [r["exact_s"] for r in n_rows], "o-", label="exact learn (from Gram)")
    axes[0].loglog([r["n"] for r in n_rows], [r["gram_s"] for r in n_rows], "s--", label="Gram Xᵀ X (one-off)")
    naive = [r for r in n_rows if np.isfinite(r["naive_s"])]
    axes[0].loglog([r["n"] for r in naive], [r["naive_s"] for r in naive], "x-", label="naive learn")
    axes[0].set(xlabel="n", ylabel="seconds", title=f"vs n (d={n_rows[0]['d']}, T={n_rows[0]['T']})")
    d_rows = results["vs_d"]
    axes[1].loglog([r["d"] for r in d_rows], [r["exact_s"] for r in d_rows], "o-", label="exact learn")
    axes[1].loglog([r["d"] for r in d_rows], [r["floor_s"] for r in d_rows], "s--", label="(T+1)·eigh(d×d)")
    axes[1].set(xlabel="d", title=f"vs d (n={d_rows[0]['n']}, T={d_rows[0]['T']})")
    T_rows = results["vs_T"]
    axes[2].plot([r["T"] for r in T_rows], [r["exact_s"] for r in T_rows], "o-", label="exact learn")
    axes[2].set(xlabel="T", title=f"vs T (n={T_rows[0]['n']}, d={T_rows[0]['d']})")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=1_000_000)
    parser.add_argument("--naive-max-n", type=int, default=10_000)
    parser.add_argument("--T", type=int, default=20)
    parser.add_argument("--k", type=int, default=30)
    parser.add_argument("--plot", type=Path, help="write the scaling curves as a PNG")
    parser.add_argument("--json", type=Path, help="write the measurements as JSON")
    args = parser.parse_args(argv)

    ns = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= args.max_n]
    print(f"learn scaling (spiked data, rank 30 + floor, linear schedule, k={args.k})")
    print("vs n:")
    results = {"vs_n": vs_n(ns, 784, args.T, args.k, args.naive_max_n)}
    print("vs d:")
    results["vs_d"] = vs_d([64, 128, 256, 512, 784, 1024], 10_000, args.T, args.k)
    print("vs T:")
    results["vs_T"] = vs_T([10, 20, 40, 80, 160], 10_000, 784, args.k)

    print_ratios("exact learn vs n", results["vs_n"], "n", "exact_s")
    big = [r for r in results["vs_n"] if r["n"] >= 10_000]
    if len(big) >= 2:
        spread = max(r["exact_s"] for r in big) / min(r["exact_s"] for r in big)
        print(f"  max/min over n >= 10^4: {spread:.2f} (target: within 1.20)")
    print_ratios("exact learn vs d", results["vs_d"], "d", "exact_s")
    print_ratios("exact learn vs T", results["vs_T"], "T", "exact_s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.plot:
        plot(results, args.plot)
        print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
