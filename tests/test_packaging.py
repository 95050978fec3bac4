"""``pip install .`` (not editable) gives a working package: the configuration ships with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_non_editable_install_composes_the_configuration(tmp_path):
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(REPO)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    assert (target / "lindiff" / "conf" / "config.yaml").is_file()
    assert (target / "lindiff" / "conf" / "sweep" / "smoke.yaml").is_file()
    env = {k: v for k, v in os.environ.items() if k != "LINDIFF_CONF"}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run(
        [sys.executable, "-c", "import lindiff, sys; print(lindiff.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert run.stdout.strip().startswith(str(target)), run.stdout + run.stderr
    config = subprocess.run(
        [sys.executable, "-m", "lindiff.pipeline.config", "--points", "sweep=smoke"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert config.returncode == 0, config.stderr[-2000:]
    assert "digits/all/n100_s0/linear_T5/r4" in config.stdout
