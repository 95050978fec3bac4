"""Shared pytest fixtures for lindiff's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import run_snakemake

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Directory holding the real MNIST IDX files; skips the test when there is none.

    ``$LINDIFF_MNIST_DIR`` wins when set; otherwise ``<repo>/../shared/data/mnist``.
    """
    env = os.environ.get("LINDIFF_MNIST_DIR")
    candidate = Path(env).expanduser() if env else SHARED_MNIST_DIR
    if not candidate.is_dir():
        source = "LINDIFF_MNIST_DIR" if env else "the shared data dir"
        pytest.skip(f"no MNIST directory: {candidate} ({source}) does not exist")
    return candidate


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory):
    """A factory: ``workflow_run(overrides, *args)`` runs the workflow with ``--cores 2`` in a fresh
    temporary directory, asserts that it succeeded and returns the directory."""

    def run(overrides: str, *args: str, name: str = "run") -> Path:
        workdir = tmp_path_factory.mktemp(name)
        result = run_snakemake(workdir, overrides, "--cores", "2", *args)
        assert result.returncode == 0, result.stderr[-3000:]
        return workdir

    return run
