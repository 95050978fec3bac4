"""Shared pytest fixtures of lindiff's tests (the one fixtures module; helpers.py holds the
snakemake runner and path helpers).

Layout: ``unit/`` the library on arrays, ``workflow/`` the configuration and the Snakemake workflow
end to end, ``docs/`` the documentation, lint and packaging, ``benchmarks/`` the benchmark scripts.
End-to-end runs are module fixtures shared by the tests that read them; a test that changes a run
works on a copy (``helpers.copy_run``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import REPO, run_snakemake

SHARED_MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"


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
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        return workdir

    return run


@pytest.fixture(scope="session")
def digits():
    """The embedded scikit-learn digits (1797 x 64, labels, 8 x 8 images)."""
    from lindiff.data import load_digits

    return load_digits()
