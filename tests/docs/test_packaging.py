"""``pip install .`` (not editable) gives a working package: the configuration ships with it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from helpers import REPO


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
        [sys.executable, "-m", "lindiff", "points", "sweep=smoke"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert config.returncode == 0, config.stderr[-2000:]
    assert "rank\tdigits/all/n100_s0/linear_T5/r4" in config.stdout
    # the console entry point, the version written once, the licence shipped
    points = subprocess.run([str(target / "bin" / "lindiff"), "points", "sweep=smoke"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert points.returncode == 0 and "rank\tdigits/all/n100_s0/linear_T5/r4" in points.stdout, points.stderr
    from lindiff import __version__

    (dist,) = target.glob("lindiff-*.dist-info")
    assert dist.name == f"lindiff-{__version__}.dist-info"
    assert "License-Expression: MIT" in (dist / "METADATA").read_text()
    assert (dist / "licenses" / "LICENSE").read_text() == (REPO / "LICENSE").read_text()


def test_the_core_dependencies_leave_out_the_workflow_stack():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[<>=\[ ]", dep)[0].lower() for dep in project["dependencies"]}
    assert not core & {"torch", "snakemake", "hydra-core", "omegaconf", "wandb", "snakemake-executor-plugin-slurm"}
    extras = project["optional-dependencies"]
    assert any(dep.startswith("torch==") for dep in extras["deep"])  # pinned: the CPU build
    assert {"deep", "workflow", "slurm", "test", "all"} <= set(extras)
    assert "version" in project["dynamic"] and "version" not in project


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "snakemake", "hydra", "omegaconf", "wandb"}:
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
import numpy as np
from lindiff.data import load_digits
from lindiff.linear.generate import run_chain
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule
from lindiff.linear import analysis, spectral, theory
from lindiff import plots
from lindiff.studies import generalization
X = load_digits().X[:200]
bases = learn_bases(X, make_schedule("linear", 5, sigma_max=10.0), 8, seed=0)
samples = run_chain(bases, 20, rank=4, seed=0).samples
assert samples.shape == (20, 64) and np.isfinite(samples).all()
print("ok")
"""


def test_the_maths_runs_without_torch_or_the_workflow_stack():
    run = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
