"""What a workflow job costs besides its work (issue 17, part 2).

    python benchmarks/bench_jobs.py                      # the smoke and default sweeps
    python benchmarks/bench_jobs.py --sweeps smoke --cores 2
    python benchmarks/bench_jobs.py --overrides "wandb=disabled"   # the cost without W&B

Runs each sweep from scratch in a temporary working directory with the real ``snakemake`` CLI and
reports, per rule, the median of each job's wall time (Snakemake's ``benchmark:`` file, ``s``), its
set-up (interpreter start to the job's body: imports, W&B start; logged by ``rule_job``), its work
(the body) and the tracking after it (lineage, W&B finish), the fixed cost (wall − work), and the
share of the sweep's summed job time that is fixed cost.  Also the Snakemake wall time of the run.
All numbers come from the same run of the same machine; no target is asserted here.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SETUP = re.compile(r"set-up: ([0-9.]+) s")
WORK = re.compile(r"work: ([0-9.]+) s; tracking after it: ([0-9.]+) s")


def run_sweep(sweep: str, cores: int, workdir: Path, overrides: str = "") -> float:
    start = time.perf_counter()
    config = f"overrides=sweep={sweep} {overrides}".strip()
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(workdir), "--cores", str(cores), "--config", config],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"sweep={sweep} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def job_table(results: Path) -> pd.DataFrame:
    """One row per job: rule, wall (s), set-up, work and tracking (s) from its log."""
    rows = []
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        relative = tsv.relative_to(results / "benchmarks").with_suffix(".log")
        log = results / "logs" / relative
        text = log.read_text(errors="replace") if log.is_file() else ""
        setup, work = SETUP.search(text), WORK.search(text)
        rows.append({"rule": relative.parts[0], "wall": float(pd.read_csv(tsv, sep="\t")["s"].iloc[0]),
                     "setup": float(setup.group(1)) if setup else float("nan"),
                     "work": float(work.group(1)) if work else float("nan"),
                     "tracking": float(work.group(2)) if work else float("nan")})
    return pd.DataFrame(rows).assign(fixed=lambda t: t["wall"] - t["work"])


def report(sweep: str, wall: float, jobs: pd.DataFrame) -> str:
    per_rule = jobs.groupby("rule").agg(jobs=("wall", "size"), wall=("wall", "median"), setup=("setup", "median"),
                                        work=("work", "median"), tracking=("tracking", "median"),
                                        fixed=("fixed", "median"))
    lines = [f"## sweep={sweep}: {len(jobs)} jobs, Snakemake wall time {wall:.1f} s, "
             f"summed job time {jobs['wall'].sum():.1f} s of which fixed cost {jobs['fixed'].sum():.1f} s "
             f"({jobs['fixed'].sum() / jobs['wall'].sum():.0%}); median fixed cost per job {jobs['fixed'].median():.2f} s",
             "", "median seconds per job:", per_rule.round(3).to_string()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", nargs="+", default=["smoke", "default"])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--overrides", default="", help='more Hydra overrides, e.g. "wandb=disabled"')
    args = parser.parse_args(argv)
    for sweep in args.sweeps:
        with tempfile.TemporaryDirectory(prefix=f"bench_jobs_{sweep}_") as tmp:
            wall = run_sweep(sweep, args.cores, Path(tmp), args.overrides)
            print(report(sweep, wall, job_table(Path(tmp) / "results")), flush=True)
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
