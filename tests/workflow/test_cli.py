"""The ``lindiff`` console command (lindiff.pipeline.cli)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from lindiff import __version__
from lindiff.pipeline.cli import main

LINDIFF = Path(sys.executable).with_name("lindiff")  # the entry point installed with the package


def test_config_prints_the_resolved_yaml(capsys):
    assert main(["config", "sweep=smoke", "learn.k=12"]) == 0
    resolved = yaml.safe_load(capsys.readouterr().out)
    assert resolved["learn"]["k"] == 12 and resolved["sweep"]["name"] == "smoke"
    assert resolved["schedules"]["linear"]["sigma_max"] == resolved["data"]["sigma_max"]  # interpolation resolved


def test_points_lists_every_level(capsys):
    assert main(["points", "sweep=default"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# 13 sweep points, 9 learn jobs, 1 deep models, 1 deep sampler runs, 1 Fig. 7 controls")
    levels = [line.split("\t")[0] for line in lines[1:]]
    assert levels.count("rank") == 13 and levels.count("deep") == 1 and levels.count("deep_sample") == 1
    assert "deep_control\tdigits/all/n1297_s0/deep_ddpmquick/ddpm_vplinear_T100/control_untrained" in lines
    assert "rank\tdigits/c3/n150_s0/linear_T50/r20" in lines


def test_bad_input_exits_2_naming_the_key(capsys):
    assert main(["points", "sweep=smoke", "sweep.rank=[0]"]) == 2
    assert "sweep.rank=0: must be >= 1" in capsys.readouterr().err


def test_the_installed_command():
    version = subprocess.run([str(LINDIFF), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"lindiff {__version__}"
    points = subprocess.run([str(LINDIFF), "points", "sweep=smoke"], capture_output=True, text=True, timeout=120)
    assert points.returncode == 0 and "rank\tdigits/all/n100_s0/linear_T5/r4" in points.stdout


def test_python_m_lindiff_is_the_same_command():
    """One CLI: ``python -m lindiff`` runs the ``lindiff`` command, whatever the subcommand."""
    for args in (["--version"], ["points", "sweep=smoke"]):
        installed = subprocess.run([str(LINDIFF), *args], capture_output=True, text=True, timeout=120)
        module = subprocess.run([sys.executable, "-m", "lindiff", *args], capture_output=True, text=True, timeout=120)
        assert module.returncode == installed.returncode == 0, module.stderr
        assert module.stdout == installed.stdout and module.stdout
