"""A small end-to-end study on the bundled scikit-learn digits (d = 64).

Run ``python -m lindiff.studies.demo [--out results/demo] [--quick]``.  It learns PCA denoisers
along a linear noise schedule and writes the paper's figures and their tables:

==========================  ============================================================
file                        content
==========================  ============================================================
``fig1_trajectory.png``     class-conditioned reverse trajectories (Fig. 1)
``fig2_sin_theta.png``      ``sin θ`` vs ``σ̄`` with theory overlays (Fig. 2)
``sin_theta.parquet``       its table (:func:`lindiff.linear.analysis.sin_theta_table`)
``fig3_dataset_size.png``   ``sin θ`` for several training sizes (Fig. 3)
``sin_theta_by_n.parquet``  its tables, with a column ``n``
``fig5_correlations.png``   basis correlations and partial products (Fig. 5)
``fig6_distributions.png``  Eq. 26 profiles with / without injected noise (Fig. 6)
``pc_distribution.parquet`` the profiles: ``source, T, injection, index, c_mean, c_std,
                            distance``
``power_iteration.png``     energy on ``u_0`` vs ``T``, chain vs power iteration
``power_iteration.parquet`` its table: ``T, schedule, chain_energy_u0, power_energy_u0,
                            power_rate, chain_rate, chain_retention_ratio``
``summary.json``            configuration and key numbers
==========================  ============================================================

This module only calls lindiff functions and writes files; it is the temporary
``make run`` job until the Snakemake workflow lands.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lindiff import plots
from lindiff.artifacts import write_json, write_parquet
from lindiff.data import load_digits, select_classes, subset
from lindiff.linear import analysis
from lindiff.linear.generate import injection_std, run_chain
from lindiff.linear.learn import learn_bases, learn_per_class
from lindiff.linear.schedules import make_schedule

log = logging.getLogger("lindiff.studies.demo")

OUTPUT_FILES = (
    "fig1_trajectory.png",
    "fig2_sin_theta.png",
    "sin_theta.parquet",
    "fig3_dataset_size.png",
    "sin_theta_by_n.parquet",
    "fig5_correlations.png",
    "fig6_distributions.png",
    "pc_distribution.parquet",
    "power_iteration.png",
    "power_iteration.parquet",
    "summary.json",
)


@dataclass(frozen=True)
class DemoConfig:
    """Settings of the demo study (defaults: the full run)."""

    schedule: str = "linear"
    sigma_max: float = 10.0  # makes x_T noise dominated on digits
    T: int = 50
    k: int = 20
    rank: int = 20
    method: str = "exact"
    centered: bool = False
    seed: int = 0
    fig1_classes: tuple[int, ...] = (0, 2, 3, 5, 7)
    fig1_per_class: int = 1
    fig1_steps: int = 11
    fig3_sizes: tuple[int, ...] = (100, 400, 1797)
    fig3_indices: tuple[int, ...] = (0, 5, 10)
    fig5_taus: tuple[int, ...] = (0, 10, 25, 49)
    T_values: tuple[int, ...] = (10, 25, 50, 100)
    n_samples: int = 1000

    @classmethod
    def quick(cls) -> DemoConfig:
        """A few-second variant for tests."""
        return cls(
            T=12,
            fig1_classes=(0, 3),
            fig1_steps=5,
            fig3_sizes=(100, 400),
            fig5_taus=(0, 11),
            T_values=(4, 12),
            n_samples=200,
        )


# --------------------------------------------------------------------------- writers


def _write_parquet(table: pd.DataFrame, path: Path) -> None:
    write_parquet(path, table)
    log.info("wrote %s (%d rows)", path, len(table))


def _write_figure(fig, path: Path) -> None:
    plots.save_figure(fig, path)
    log.info("wrote %s", path)


def _write_json(data: dict, path: Path) -> None:
    write_json(path, data)
    log.info("wrote %s", path)


# --------------------------------------------------------------------------- study parts


def _schedule(cfg: DemoConfig, T: int):
    return make_schedule(cfg.schedule, T, sigma_max=cfg.sigma_max)


def _learn(cfg: DemoConfig, X: np.ndarray, schedule):
    return learn_bases(X, schedule, cfg.k, method=cfg.method, centered=cfg.centered, seed=cfg.seed)


def _fig1(cfg: DemoConfig, data, out: Path) -> None:
    """Class-conditioned trajectories from pure noise."""
    chosen = select_classes(data, list(cfg.fig1_classes))
    per_class = learn_per_class(
        chosen.X, chosen.labels, _schedule(cfg, cfg.T), cfg.k, seed=cfg.seed,
        method=cfg.method, centered=cfg.centered,
    )
    trajectories, labels = [], []
    for c, bases in per_class.items():
        result = run_chain(bases, cfg.fig1_per_class, rank=cfg.rank, seed=[cfg.seed, c],
                           n_trajectory=cfg.fig1_per_class)
        trajectories.append(result.trajectory)
        labels += [f"class {c}"] * cfg.fig1_per_class
    fig = plots.fig1_trajectory_grid(
        np.concatenate(trajectories, axis=1), data.image_shape,
        n_columns=cfg.fig1_steps, n_steps=cfg.fig1_steps, row_labels=labels, positive_final=True,
    )
    _write_figure(fig, out / "fig1_trajectory.png")


def _fig3(cfg: DemoConfig, data, schedule, out: Path) -> dict[int, pd.DataFrame]:
    """Learn on nested training sizes; one sin θ table per n."""
    tables = {}
    for n in cfg.fig3_sizes:
        n = min(n, data.n)
        part = subset(data, n, seed=cfg.seed)
        tables[n] = analysis.sin_theta_table(_learn(cfg, part.X, schedule))
        log.info("fig3: learned on n=%d", n)
    _write_parquet(pd.concat([t.assign(n=n) for n, t in tables.items()], ignore_index=True),
                   out / "sin_theta_by_n.parquet")
    _write_figure(plots.fig3_dataset_size(tables, cfg.fig3_indices, xscale="log"), out / "fig3_dataset_size.png")
    return tables


def _fig6_and_power(cfg: DemoConfig, X: np.ndarray, reference, out: Path) -> dict:
    """Chains for several T (learned once per T): Eq. 26 profiles and power iteration."""
    natural = analysis.pc_distribution(X, reference)
    profiles = {"none": {}, "increment": {}}
    rows, power_rows = [], []
    for T in cfg.T_values:
        schedule = _schedule(cfg, T)
        bases = _learn(cfg, X, schedule)
        for injection in profiles:
            noise = None if injection == "none" else injection_std(schedule.sigma, injection)
            chain = run_chain(bases, cfg.n_samples, rank=cfg.rank, noise_std=noise, seed=cfg.seed)
            profile = analysis.pc_distribution(chain.samples, reference, bases.mean)
            profiles[injection][T] = profile
            distance = analysis.distribution_distance(profile, natural)
            rows.append(profile.assign(source="generated", T=T, injection=injection, distance=distance))
            if injection == "none":
                power_rows.append({"T": T, "schedule": cfg.schedule, **analysis.power_iteration_comparison(
                    bases, cfg.rank, chain.initial_noise, chain.samples)})
        # Theorem 4.3's schedule: constant increments sigma / T.
        constant = make_schedule("constant", T, step=cfg.sigma_max / T)
        cbases = _learn(cfg, X, constant)
        chain = run_chain(cbases, cfg.n_samples, rank=cfg.rank, seed=cfg.seed)
        power_rows.append({"T": T, "schedule": "constant", **analysis.power_iteration_comparison(
            cbases, cfg.rank, chain.initial_noise, chain.samples)})
        log.info("fig6 / power iteration: T=%d done", T)

    table = pd.concat(rows + [natural.assign(source="natural", T=pd.NA, injection="", distance=np.nan)],
                      ignore_index=True)
    table["T"] = table["T"].astype("Int64")
    table = table[["source", "T", "injection", "index", "c_mean", "c_std", "distance"]]
    _write_parquet(table, out / "pc_distribution.parquet")

    configs = table[table["source"] == "generated"].drop_duplicates(["T", "injection"])
    best = configs.loc[configs["distance"].idxmin()]
    best_T, best_injection = int(best["T"]), str(best["injection"])
    label = f"T = {best_T}, " + ("injected noise" if best_injection != "none" else "no injected noise")
    fig = plots.fig6_distributions(profiles["none"], profiles["increment"],
                                   profiles[best_injection][best_T], natural, label)
    _write_figure(fig, out / "fig6_distributions.png")

    power = pd.DataFrame(power_rows)
    _write_parquet(power, out / "power_iteration.parquet")
    _write_figure(plots.power_iteration_convergence(power), out / "power_iteration.png")
    return {
        "best_T": best_T,
        "best_injection": best_injection,
        "best_distance": float(best["distance"]),
        "distances": {f"T={r.T},{r.injection}": float(r.distance) for r in configs.itertuples()},
        "power_iteration": power.to_dict(orient="records"),
    }


def run_demo(cfg: DemoConfig, out: Path) -> dict:
    """Run the whole study, write every file of :data:`OUTPUT_FILES` into ``out``.

    Returns the summary written to ``summary.json``.
    """
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    data = load_digits()
    X = data.X
    log.info("data: %r", data)
    schedule = _schedule(cfg, cfg.T)
    bases = _learn(cfg, X, schedule)
    log.info("learned %d levels, k=%d", bases.T + 1, bases.k)

    _fig1(cfg, data, out)

    sin_table = analysis.sin_theta_table(bases)
    _write_parquet(sin_table, out / "sin_theta.parquet")
    _write_figure(plots.fig2_sin_theta(sin_table, xscale="log"), out / "fig2_sin_theta.png")
    slopes = analysis.small_noise_slopes(bases)

    _fig3(cfg, data, schedule, out)

    taus = [tau for tau in cfg.fig5_taus if tau < cfg.T]
    pairs = analysis.basis_correlations(bases, cfg.rank, taus)
    _write_figure(plots.fig5_correlations(pairs), out / "fig5_correlations.png")

    fig6 = _fig6_and_power(cfg, X, bases.U[0], out)

    last = sin_table[sin_table["t"] == cfg.T].set_index("index")["sin_theta"]
    summary = {
        "config": asdict(cfg),
        "data": {"name": data.name, "n": data.n, "d": data.d},
        "clean_eigvals": bases.eigvals[0].tolist(),
        "sin_theta_at_sigma_max": last.tolist(),
        "small_noise_slope_ratio": slopes["ratio"].tolist(),
        **fig6,
        "runtime_s": time.perf_counter() - start,
    }
    _write_json(summary, out / "summary.json")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m lindiff.studies.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/demo"), help="output directory")
    parser.add_argument("--quick", action="store_true", help="few T values and samples (seconds)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(args.log_level)

    cfg = DemoConfig.quick() if args.quick else DemoConfig()
    summary = run_demo(cfg, args.out)
    print(f"lindiff demo finished in {summary['runtime_s']:.1f} s; outputs in {args.out.resolve()}:")
    for name in OUTPUT_FILES:
        print(f"  {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
