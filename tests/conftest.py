"""Shared pytest fixtures for lindiff's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
