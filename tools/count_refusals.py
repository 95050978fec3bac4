"""Count the bad inputs lindiff refuses before any job, by running the tests that try them.

Every test marked ``bad_input`` (``pytest -m bad_input``) feeds one bad input (an override, a
data file, a preset) to the config loader or to a real ``snakemake`` call, and passes only when it
is refused before any job, with a message naming the offending key or file. This script runs them
all and prints, per test, how many cases were refused, then the total::

    python tools/count_refusals.py               # run every case (about 3 minutes on 2 cores)
    python tools/count_refusals.py --collect-only # list and count the cases without running them
    python tools/count_refusals.py -k fifo       # extra arguments go to pytest

It exits 1 when a case was not refused (or errored), 0 otherwise.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _pytest(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-m", "bad_input", "-p", "no:cacheprovider", "-q", *args]


def _test_name(nodeid_or_name: str) -> str:
    """``test_x[case]`` -> ``test_x``: the test a parametrised case belongs to."""
    return re.sub(r"\[.*\]$", "", nodeid_or_name)


def collect(extra: list[str]) -> Counter:
    """The cases per test (``file::test``), from pytest's collection."""
    out = subprocess.run(_pytest(["--collect-only", *extra]), cwd=REPO, capture_output=True, text=True)
    ids = [line.strip() for line in out.stdout.splitlines() if "::" in line]
    if out.returncode not in (0, 5) or not ids:
        sys.exit(f"collecting the bad_input tests failed (pytest exit {out.returncode}):\n"
                 f"{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return Counter(_test_name(i) for i in ids)


def run(extra: list[str]) -> tuple[Counter, Counter, list[str]]:
    """Run the cases; return (cases per test, refused per test, the ids of the cases not refused)."""
    with tempfile.TemporaryDirectory(prefix="lindiff-refusals-") as tmp:
        report = Path(tmp) / "junit.xml"
        subprocess.run(_pytest([f"--junitxml={report}", *extra]), cwd=REPO, stdout=sys.stderr)
        if not report.is_file():
            sys.exit("pytest wrote no report: see its output above")
        cases, refused, failed = Counter(), Counter(), []
        for case in ET.parse(report).iter("testcase"):
            name = case.get("name", "")
            test = f"{case.get('classname', '').replace('.', '/')}.py::{_test_name(name)}"
            cases[test] += 1
            if case.find("failure") is None and case.find("error") is None and case.find("skipped") is None:
                refused[test] += 1
            else:
                failed.append(test + name[len(_test_name(name)):])
    return cases, refused, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collect-only", action="store_true", help="count the cases without running them")
    args, extra = parser.parse_known_args(argv)
    if args.collect_only:
        cases = collect(extra)
        for test, n in sorted(cases.items()):
            print(f"{n:4d}  {test}")
        print(f"{sum(cases.values())} bad-input cases in {len(cases)} tests (not run)")
        return 0
    cases, refused, failed = run(extra)
    if not cases:
        print("no bad_input case matched", file=sys.stderr)
        return 1
    for test in sorted(cases):
        print(f"{refused[test]:4d} of {cases[test]:4d}  {test}")
    print(f"{sum(refused.values())} of {sum(cases.values())} bad inputs refused before any job, naming the key or file")
    for case in failed:
        print(f"not refused: {case}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
