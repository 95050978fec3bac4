"""benchmarks/bench_dryrun.py (issue 17, part 3): the dry run and lindiff's set-up timed against
the number of jobs, on sweeps that really grow."""

from __future__ import annotations

import pytest
from helpers import load_script


@pytest.mark.slow
def test_bench_dryrun_measures_growing_sweeps(capsys):
    bench = load_script("benchmarks/bench_dryrun.py")
    rows = bench.main(["--seeds", "1", "3"])
    assert [r["seeds"] for r in rows] == [1, 3]
    assert rows[1]["points"] == 3 * rows[0]["points"]
    assert rows[1]["jobs"] > 2 * rows[0]["jobs"]  # a job count read from the real dry run
    assert all(r["dry_run"] > 0 and r["setup"] > 0 and r["peak"] > 0 for r in rows)
    assert "growth exponent" in capsys.readouterr().out
