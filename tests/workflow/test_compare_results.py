"""tools/compare_results.py: identical trees pass; one changed number, a missing file or a
changed key fails; timings, timestamps and W&B runs are ignored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import REPO

TOOL = REPO / "tools" / "compare_results.py"


def _tree(root: Path, value: float = 1.0, seconds: float = 3.0) -> Path:
    (root / "a/b").mkdir(parents=True)
    np.savez(root / "a/b/samples.npz", x=np.array([0.5, value, np.nan]), n=np.int64(3))
    pd.DataFrame({"t": [0, 1], "loss": [0.1, value], "seconds": [seconds, seconds]}).to_parquet(root / "a/t.parquet")
    (root / "a/metrics.json").write_text(json.dumps({"distance": value, "train_seconds": seconds,
                                                     "created": str(seconds), "nested": {"k": [1, 2]}}))
    (root / "wandb/x").mkdir(parents=True)
    (root / "wandb/x/run.json").write_text(json.dumps({"id": str(seconds)}))
    return root


def _compare(a: Path, b: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), str(a), str(b)], capture_output=True, text=True, timeout=120)


def test_identical_trees_up_to_timings(tmp_path):
    result = _compare(_tree(tmp_path / "a"), _tree(tmp_path / "b", seconds=9.0))
    assert result.returncode == 0, result.stdout
    assert "compared 3 files" in result.stdout and "identical" in result.stdout


def test_one_changed_number_fails_naming_the_files(tmp_path):
    result = _compare(_tree(tmp_path / "a"), _tree(tmp_path / "b", value=1.0 + 1e-15))
    assert result.returncode == 1
    for name in ("a/b/samples.npz: x", "a/t.parquet", "a/metrics.json"):
        assert name in result.stdout, result.stdout


def test_a_missing_file_or_array_fails(tmp_path):
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    (b / "a/t.parquet").unlink()
    np.savez(b / "a/b/samples.npz", x=np.array([0.5, 1.0, np.nan]))
    result = _compare(a, b)
    assert result.returncode == 1
    assert "only in" in result.stdout and "keys" in result.stdout
