"""Large sweeps: Snakemake's dry run and lindiff's own set-up against the number of jobs (issue 17, part 3).

    python benchmarks/bench_dryrun.py                       # up to ~20 000 jobs (a few minutes)
    python benchmarks/bench_dryrun.py --seeds 1 4 16        # smaller

The default sweep (digits, 70 jobs per seed) is repeated over ``sweep.seed = [0 .. k−1]``. For each k
it reports, from one run on this machine:

* ``setup s``: lindiff's part of the Snakefile's set-up, in this process (config composition and
  checks, the data check, point expansion, the memory check: ``lindiff.pipeline.config.load`` and the
  sweep's points), and its time per point;
* ``dry run s`` and ``peak MiB``: ``snakemake -n`` on the whole workflow (the DAG of every job), its wall
  time and peak resident memory (``getrusage`` of the child), and its time per job.

The last lines give the growth exponent of each between the smallest and largest size (1.0 = linear).
"""

from __future__ import annotations

import argparse
import math
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JOBS = re.compile(r"^total\s+(\d+)$", re.M)


def overrides(seeds: int) -> str:
    return f"sweep.seed=[{','.join(str(s) for s in range(seeds))}] wandb=disabled"


def lindiff_setup(seeds: int) -> tuple[float, int]:
    """Seconds of lindiff's set-up for ``seeds`` seeds, and the number of sweep points."""
    from lindiff.pipeline import config, sweep

    start = time.perf_counter()
    cfg = config.load(overrides(seeds).split())
    points = sweep.sweep_points(cfg)
    return time.perf_counter() - start, len(points)


def dry_run(seeds: int, workdir: Path) -> tuple[float, float, int]:
    """``(wall s, peak MiB, jobs)`` of ``snakemake -n`` for ``seeds`` seeds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "-s", str(REPO / "Snakefile"),
                             "--directory", str(workdir), "--config", f"overrides={overrides(seeds)}"],
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"dry run with {seeds} seeds failed:\n{(result.stdout + result.stderr)[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    jobs = JOBS.search(result.stdout)
    return wall, max(peak, before) / 1024, int(jobs.group(1)) if jobs else -1


def exponent(x0: float, x1: float, y0: float, y1: float) -> float:
    return math.log(y1 / y0) / math.log(x1 / x0)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 10, 50, 100, 300])
    args = parser.parse_args(argv)
    rows = []
    print(f"{'seeds':>6} {'points':>7} {'jobs':>7} {'setup s':>8} {'ms/point':>9} {'dry run s':>10} "
          f"{'ms/job':>7} {'peak MiB':>9}")
    for seeds in args.seeds:
        setup, points = lindiff_setup(seeds)
        with tempfile.TemporaryDirectory(prefix="bench_dryrun_") as tmp:
            wall, peak, jobs = dry_run(seeds, Path(tmp))
        rows.append({"seeds": seeds, "points": points, "jobs": jobs, "setup": setup, "dry_run": wall, "peak": peak})
        print(f"{seeds:>6} {points:>7} {jobs:>7} {setup:>8.2f} {1e3 * setup / points:>9.2f} {wall:>10.1f} "
              f"{1e3 * wall / jobs:>7.2f} {peak:>9.0f}", flush=True)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"growth exponent from {first['jobs']} to {last['jobs']} jobs (1 = linear): "
              f"lindiff set-up {exponent(first['points'], last['points'], first['setup'], last['setup']):.2f}, "
              f"dry run {exponent(first['jobs'], last['jobs'], first['dry_run'], last['dry_run']):.2f}")
    return rows


if __name__ == "__main__":
    main()
