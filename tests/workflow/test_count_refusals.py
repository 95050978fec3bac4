"""tools/count_refusals.py counts the refused cases of the ``bad_input`` tests, and says which were not."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO

TOOL = REPO / "tools" / "count_refusals.py"

CASES = '''
import pytest


@pytest.mark.bad_input
@pytest.mark.parametrize("value", [-1, 0, 3])
def test_a_check(value):
    with pytest.raises(ValueError):
        if value <= 0:
            raise ValueError(value)


def test_not_a_bad_input():
    pass
'''


def _count(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=300)


def test_it_counts_refused_cases_and_names_the_ones_that_were_not(tmp_path):
    (tmp_path / "test_cases.py").write_text(CASES)
    result = _count(str(tmp_path / "test_cases.py"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 of 3 bad inputs refused before any job" in result.stdout
    # node ids are relative to pytest's rootdir, which depends on where the clone and the temporary folder are
    unrefused = [line for line in result.stdout.splitlines() if line.startswith("not refused: ")]
    assert len(unrefused) == 1 and unrefused[0].endswith("test_cases.py::test_a_check[3]"), result.stdout
    listed = _count("--collect-only", str(tmp_path / "test_cases.py"))
    assert listed.returncode == 0 and "3 bad-input cases in 1 tests (not run)" in listed.stdout


def test_the_project_cases_it_runs_are_refused():
    """Two of the project's own cases, run for real: a FIFO as the data file and an oversized sweep."""
    result = _count("-k", "fifo or too_large_to_plan")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 of 2 bad inputs refused before any job" in result.stdout
