"""The code stays lint-clean: ruff on the Python code, snakefmt on the Snakefile and the rules, and
``snakemake --lint`` on the workflow (what ``make lint`` runs; settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", [
    [str(BIN / "ruff"), "check", "--no-cache", "."],
    [str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
    [sys.executable, "-m", "snakemake", "--lint"],
], ids=["ruff", "snakefmt", "snakemake-lint"])
def test_lint_is_clean(command):
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
