"""The samplers' closed form, schedule design and Monte Carlo, against their targets (issue 15).

    python benchmarks/bench_samplers.py            # d = 784, T = 1000, 10⁴ samples (a few minutes)
    python benchmarks/bench_samplers.py --quick    # smaller Monte Carlo (the test runs this)

Prints, from one run on this machine: the closed form (784 components, T = 1000; target ≤ 10 ms),
one design run (T = 50, 300 Adam steps; target ≤ 30 s) and the Monte Carlo of DDPM with the Wiener
denoiser in its eigenbasis (diagonal; target ≤ 5 s for 10⁴ samples, T = 1000).  For the Monte
Carlo it also measures this machine's Gaussian draws per second: the Monte Carlo needs
``n · T · d`` of them, a floor no sampler code can go under.  Each line gives the measured time
and its ratio to the target (< 1 meets it).  The spectrum is MNIST-like: ``λ_i ∝ i^{-1.5}``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lindiff.diffusion.denoisers import DiagonalWiener
from lindiff.diffusion.design import design_levels
from lindiff.diffusion.samplers import Sampler, sample
from lindiff.diffusion.schedules import noise_levels
from lindiff.diffusion.transfer import transfer_function

TARGETS = {"closed_form": 0.010, "design": 30.0, "monte_carlo": 5.0}


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--d", type=int, default=784)
    parser.add_argument("--T", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="Monte Carlo of 500 samples (scaled to 10⁴ in the ratio)")
    args = parser.parse_args(argv)
    d, T = args.d, args.T
    eigvals = 5.0 * np.arange(1, d + 1, dtype=np.float64) ** -1.5
    sigma_bar = noise_levels("vplinear", T).sigma_bar
    ddpm = Sampler("ddpm")
    out = {}

    out["closed_form"] = best_of(lambda: transfer_function(ddpm, sigma_bar, eigvals), 20)

    start = time.perf_counter()
    design = design_levels(eigvals, 50, ddpm, steps=300)
    out["design"] = time.perf_counter() - start

    n_mc = 500 if args.quick else args.samples
    rng = np.random.default_rng(0)
    draws = n_mc * d
    out["rng_floor"] = best_of(lambda: rng.standard_normal((n_mc, d)), 5) * T * args.samples / n_mc
    denoiser = DiagonalWiener(mean=np.zeros(d), eigvals=eigvals)
    start = time.perf_counter()
    samples = sample(denoiser, sigma_bar, ddpm, n_mc, d, seed=1).samples
    measured = time.perf_counter() - start
    out["monte_carlo"] = measured * args.samples / n_mc
    closed = transfer_function(ddpm, sigma_bar, eigvals)
    worst = float(np.max(np.abs(samples.var(axis=0, ddof=1) / closed.variance - 1)[:50]))

    print(f"closed form, d={d}, T={T}: {out['closed_form'] * 1e3:.2f} ms "
          f"(target {TARGETS['closed_form'] * 1e3:.0f} ms; ratio {out['closed_form'] / TARGETS['closed_form']:.2f})")
    print(f"design, T=50, 300 steps: {out['design']:.2f} s (target {TARGETS['design']:.0f} s; ratio "
          f"{out['design'] / TARGETS['design']:.3f}); W2² {design.loss_initial:.4g} -> {design.loss_final:.4g}")
    scaled = "" if n_mc == args.samples else f" (measured {measured:.2f} s for {n_mc} samples, scaled)"
    print(f"Monte Carlo, DDPM T={T}, {args.samples} samples x d={d}: {out['monte_carlo']:.1f} s{scaled} "
          f"(target {TARGETS['monte_carlo']:.0f} s; ratio {out['monte_carlo'] / TARGETS['monte_carlo']:.1f}); "
          f"largest |v/v_closed − 1| over the top 50 components {worst:.3f}")
    print(f"  floor: {args.samples * T * d / 1e9:.2f}·10⁹ Gaussian draws at this machine's "
          f"{draws / (out['rng_floor'] / T / (args.samples / n_mc)) / 1e6:.0f} M/s = {out['rng_floor']:.1f} s "
          f"(sampler time / draw time = {out['monte_carlo'] / out['rng_floor']:.2f})")
    return out


if __name__ == "__main__":
    main()
