"""benchmarks/bench_jobs.py (issue 17): it runs a sweep and reads every job's wall, set-up and work
time back (the set-up and work lines ``rule_job`` logs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_jobs", REPO / "benchmarks/bench_jobs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_bench_jobs_times_every_job(tmp_path):
    bench = _bench()
    wall = bench.run_sweep("smoke", 2, tmp_path)
    jobs = bench.job_table(tmp_path / "results")
    assert {"data", "learn", "generate", "analyze", "aggregate"} <= set(jobs["rule"])
    assert jobs[["wall", "setup", "work", "tracking"]].notna().all().all(), jobs
    assert ((jobs["work"] >= 0) & (jobs["work"] <= jobs["wall"]) & (jobs["setup"] > 0)).all(), jobs
    assert wall >= jobs["wall"].max()
    text = bench.report("smoke", wall, jobs)
    assert "median fixed cost per job" in text and "generate" in text
