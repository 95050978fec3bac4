"""benchmarks/bench_samplers.py (issue 15): it times the closed form, a design and the Monte Carlo
and prints each against its target."""

from __future__ import annotations

from helpers import load_script


def test_bench_samplers_reports_every_target(capsys):
    bench = load_script("benchmarks/bench_samplers.py")
    out = bench.main(["--quick", "--d", "64", "--T", "100", "--samples", "2000"])
    assert set(out) == {"closed_form", "design", "monte_carlo", "rng_floor"} and all(v > 0 for v in out.values())
    text = capsys.readouterr().out
    for name in ("closed form", "design", "Monte Carlo", "floor"):
        assert name in text
    assert text.count("ratio") == 3
