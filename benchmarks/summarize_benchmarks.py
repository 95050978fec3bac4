"""Aggregate Snakemake's ``benchmark:`` files of a run into one table per rule.

    python benchmarks/summarize_benchmarks.py results/benchmarks
    python benchmarks/summarize_benchmarks.py results/benchmarks --markdown table.md

Each rule job writes a TSV (``s, h:m:s, max_rss, max_vms, max_uss, max_pss, io_in, io_out,
mean_load, cpu_time``; memory in MB).  This prints, per rule, the number of jobs, the summed
and largest wall time, and the largest peak resident memory, and flags any job above the
2 GiB memory target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

MEMORY_TARGET_MB = 2048


def read_benchmarks(root: Path) -> pd.DataFrame:
    """One row per job: ``rule, job, s, max_rss`` (MB), ``cpu_time``."""
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t")
        rule = path.relative_to(root).parts[0]
        job = str(path.relative_to(root / rule).with_suffix(""))
        for _, row in table.iterrows():
            rows.append({"rule": rule, "job": job, "s": float(row["s"]),
                         "max_rss_mb": pd.to_numeric(row.get("max_rss"), errors="coerce"),
                         "cpu_time": pd.to_numeric(row.get("cpu_time"), errors="coerce")})
    if not rows:
        raise SystemExit(f"no benchmark files under {root}")
    return pd.DataFrame(rows)


def summarize(jobs: pd.DataFrame) -> pd.DataFrame:
    grouped = jobs.groupby("rule")
    table = pd.DataFrame({
        "jobs": grouped.size(),
        "total_s": grouped["s"].sum(),
        "max_s": grouped["s"].max(),
        "max_rss_mb": grouped["max_rss_mb"].max(),
    })
    table.loc["(all)"] = [len(jobs), jobs["s"].sum(), jobs["s"].max(), jobs["max_rss_mb"].max()]
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, nargs="?", default=Path("results/benchmarks"))
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args(argv)
    jobs = read_benchmarks(args.root)
    table = summarize(jobs)
    print(table.round(2).to_string())
    heavy = jobs[jobs["max_rss_mb"] > MEMORY_TARGET_MB]
    if len(heavy):
        print(f"\njobs above {MEMORY_TARGET_MB} MB peak memory:")
        print(heavy.sort_values("max_rss_mb", ascending=False).to_string(index=False))
    else:
        print(f"\nno job above {MEMORY_TARGET_MB} MB peak memory "
              f"(largest: {jobs['max_rss_mb'].max():.0f} MB, {jobs.loc[jobs['max_rss_mb'].idxmax(), 'job']})")
    if args.markdown:
        args.markdown.write_text(table.round(2).to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
